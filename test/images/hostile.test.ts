// Hostile archives: every case must be refused with InvalidParameter (or, for
// absolute paths and symlinks at the final name, neutralised) and nothing may
// appear outside the image store. Each test plants a sentinel directory next
// to the store and checks it afterwards.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ImageService } from '../../src/images/service.js';
import { makeStore, makeSaveArchive, makeTar, streamOf, sha256, type RawEntry } from './helpers.js';

interface Fixture {
  store: ImageService;
  dir: string;
  /** Sentinel directory outside the store, holding `secret`. */
  outside: string;
  /** Relative path from a layer's unpack directory (<root>/tmp/layer-x/diff) up to `dir`. */
  up: string;
}

function fixture(t: TestContext): Fixture {
  const { store, dir } = makeStore(t);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'secret\n');
  // diff → layer-x → tmp → image → dir
  return { store, dir, outside, up: '../../../..' };
}

function assertNothingEscaped(f: Fixture): void {
  assert.deepEqual(readdirSync(f.outside), ['secret'], 'nothing written to the sentinel dir');
  assert.equal(readFileSync(join(f.outside, 'secret'), 'utf8'), 'secret\n');
  assert.equal(lstatSync(join(f.outside, 'secret')).nlink, 1, 'no hardlink to the sentinel');
  assert.deepEqual(readdirSync(f.dir).sort(), ['image', 'outside'], 'nothing next to the store');
  assert.deepEqual(readdirSync(join(f.store.root, 'tmp')), [], 'temp unpack removed');
}

async function refusedImport(f: Fixture, entries: RawEntry[], message: RegExp): Promise<void> {
  await assert.rejects(f.store.importRootfs(streamOf(makeTar(entries))), (e: Error & { kind?: string }) => {
    assert.equal(e.name, 'InvalidParameter', `${e.name}: ${e.message}`);
    assert.equal(e.kind, 'invalid-parameter');
    assert.match(e.message, message);
    return true;
  });
  assert.deepEqual(readdirSync(join(f.store.root, 'layers')), [], 'no layer kept');
  assert.deepEqual(f.store.list(), [], 'no image created');
  assertNothingEscaped(f);
}

test('hostile: entry path with .. components is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(f, [{ path: 'ok.txt' }, { path: `${f.up}/outside/pwned`, content: 'x' }], /contains '\.\.'/);
});

test('hostile: .. in the middle of an entry path is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(f, [{ path: `a/b/../../../${f.up}/outside/pwned`, content: 'x' }], /contains '\.\.'/);
});

test('hostile: .. smuggled in a PAX path record is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(f, [{ path: 'harmless', content: 'x', pax: { path: `${f.up}/outside/pwned` } }], /contains '\.\.'/);
});

test('hostile: .. smuggled in a GNU long name is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(f, [{ path: 'harmless', content: 'x', gnuLongName: `${f.up}/outside/pwned` }], /contains '\.\.'/);
});

test('hostile: a NUL byte in a path is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(f, [{ path: 'harmless', content: 'x', pax: { path: 'a\0b' } }], /NUL/);
});

test('hostile: absolute entry paths are written inside the layer (leading / stripped, as docker)', async (t) => {
  const f = fixture(t);
  const abs = join(f.outside, 'abs-file');
  const rec = await f.store.importRootfs(streamOf(makeTar([{ path: abs, content: 'inside\n' }])));
  assert.ok(!existsSync(abs), 'not written at the absolute path');
  const layer = f.store.layerDir(rec.layers[0]!)!;
  assert.equal(readFileSync(join(layer, abs.slice(1)), 'utf8'), 'inside\n');
  assertNothingEscaped(f);
});

test('hostile: writing through a symlink (a -> outside dir, then a/pwned) is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(
    f,
    [
      { path: 'a', type: 'symlink', linkpath: f.outside },
      { path: 'a/pwned', content: 'x' },
    ],
    /parent "a" is a symlink/,
  );
});

test('hostile: writing through a relative escaping symlink is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(
    f,
    [
      { path: 'up', type: 'symlink', linkpath: f.up },
      { path: 'up/outside/pwned', content: 'x' },
    ],
    /parent "up" is a symlink/,
  );
});

test('hostile: a directory replaced by a symlink cannot be written through', async (t) => {
  const f = fixture(t);
  await refusedImport(
    f,
    [
      { path: 'd/', type: 'dir' },
      { path: 'd/x', content: 'x' },
      { path: 'd', type: 'symlink', linkpath: f.outside },
      { path: 'd/pwned', content: 'x' },
    ],
    /parent "d" is a symlink/,
  );
});

test('hostile: a directory entry below a symlink is refused (no mkdir through links)', async (t) => {
  const f = fixture(t);
  await refusedImport(
    f,
    [
      { path: 'a', type: 'symlink', linkpath: f.outside },
      { path: 'a/newdir/', type: 'dir' },
    ],
    /parent "a" is a symlink/,
  );
});

test('hostile: a symlink at the final name is replaced, never followed', async (t) => {
  const f = fixture(t);
  const rec = await f.store.importRootfs(
    streamOf(
      makeTar([
        { path: 'f', type: 'symlink', linkpath: join(f.outside, 'secret') },
        { path: 'f', content: 'overwritten\n', mode: 0o4755 },
        { path: 'g', type: 'symlink', linkpath: f.outside },
        { path: 'g/', type: 'dir' },
      ]),
    ),
  );
  const layer = f.store.layerDir(rec.layers[0]!)!;
  assert.ok(lstatSync(join(layer, 'f')).isFile());
  assert.equal(readFileSync(join(layer, 'f'), 'utf8'), 'overwritten\n');
  assert.equal(lstatSync(join(layer, 'f')).mode & 0o7777, 0o4755, 'setuid kept (chmod after chown)');
  assert.ok(lstatSync(join(layer, 'g')).isDirectory());
  assertNothingEscaped(f);
});

test('hostile: symlinks whose targets escape are kept verbatim inside the layer', async (t) => {
  const f = fixture(t);
  const rec = await f.store.importRootfs(
    streamOf(
      makeTar([
        { path: 'etc-link', type: 'symlink', linkpath: '/etc' },
        { path: 'up', type: 'symlink', linkpath: '../../../../..' },
      ]),
    ),
  );
  const layer = f.store.layerDir(rec.layers[0]!)!;
  assert.ok(lstatSync(join(layer, 'etc-link')).isSymbolicLink());
  assertNothingEscaped(f);
});

test('hostile: hardlink with a .. target is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(f, [{ path: 'h', type: 'hardlink', linkpath: `${f.up}/outside/secret` }], /contains '\.\.'/);
});

test('hostile: hardlink to an absolute path outside the layer is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(f, [{ path: 'h', type: 'hardlink', linkpath: join(f.outside, 'secret') }], /target is not in the layer/);
});

test('hostile: hardlink through a symlink is refused', async (t) => {
  const f = fixture(t);
  await refusedImport(
    f,
    [
      { path: 'a', type: 'symlink', linkpath: f.outside },
      { path: 'h', type: 'hardlink', linkpath: 'a/secret' },
    ],
    /target is not in the layer/,
  );
});

test('hostile: hardlink to the symlink itself links the symlink, not its target', async (t) => {
  const f = fixture(t);
  const rec = await f.store.importRootfs(
    streamOf(
      makeTar([
        { path: 'a', type: 'symlink', linkpath: join(f.outside, 'secret') },
        { path: 'h', type: 'hardlink', linkpath: 'a' },
      ]),
    ),
  );
  const layer = f.store.layerDir(rec.layers[0]!)!;
  assert.ok(lstatSync(join(layer, 'h')).isSymbolicLink());
  assertNothingEscaped(f);
});

test('hostile: a whiteout below a symlink is refused (no mknod over outside files)', async (t) => {
  const f = fixture(t);
  await refusedImport(
    f,
    [
      { path: 'a', type: 'symlink', linkpath: f.outside },
      { path: 'a/.wh.secret' },
    ],
    /parent "a" is a symlink/,
  );
});

test('hostile: an opaque marker below a symlink is refused (no xattr on outside dirs)', async (t) => {
  const f = fixture(t);
  await refusedImport(
    f,
    [
      { path: 'a', type: 'symlink', linkpath: f.outside },
      { path: 'a/.wh..wh..opq' },
    ],
    /parent "a" is a symlink/,
  );
});

test('hostile: invalid whiteout names (.wh.. and .wh...) are refused', async (t) => {
  const f = fixture(t);
  await refusedImport(f, [{ path: 'd/.wh...' }], /invalid whiteout/);
  await refusedImport(f, [{ path: '.wh..' }], /invalid whiteout/);
});

test('hostile: corrupt and truncated archives are refused', async (t) => {
  const f = fixture(t);
  const good = makeTar([{ path: 'file', content: 'x'.repeat(5000) }]);
  const badSum = Buffer.from(good);
  badSum[10] = 0x41;
  await assert.rejects(f.store.importRootfs(streamOf(badSum)), { name: 'InvalidParameter', message: /bad checksum/ });
  await assert.rejects(f.store.importRootfs(streamOf(good.subarray(0, 2048))), { name: 'InvalidParameter', message: /unexpected end/ });
  await assert.rejects(f.store.importRootfs(streamOf(gzipSync(good).subarray(0, 40))), { kind: 'invalid-parameter', message: /gzip data is corrupt or truncated/ });
  await assert.rejects(f.store.importRootfs(streamOf(makeTar([{ path: 'x', type: 'file' }]).fill(0x53, 156, 157))), {
    name: 'InvalidParameter',
  });
  assert.deepEqual(readdirSync(join(f.store.root, 'layers')), []);
  assertNothingEscaped(f);
});

// ---- docker load

const LAYER = makeTar([{ path: 'hello', content: 'hello\n' }]);

async function refusedLoad(f: Fixture, archive: Buffer, message: RegExp): Promise<void> {
  await assert.rejects(f.store.load(streamOf(archive)), (e: Error) => {
    assert.equal(e.name, 'InvalidParameter', `${e.name}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
  assert.deepEqual(readdirSync(join(f.store.root, 'layers')), [], 'no layer kept');
  assert.deepEqual(readdirSync(join(f.store.root, 'imagedb')), [], 'no config kept');
  assert.deepEqual(f.store.list(), []);
  assertNothingEscaped(f);
}

test('hostile load: a layer whose sha256 does not match diff_ids is refused', async (t) => {
  const f = fixture(t);
  const other = makeTar([{ path: 'evil', content: 'evil\n' }]);
  await refusedLoad(f, makeSaveArchive([{ layers: [LAYER], repoTags: ['x:latest'] }], { diffIds: [`sha256:${sha256(other)}`] }), /layer digest mismatch/);
  // Gzip-compressed layers are checked after decompression.
  await refusedLoad(
    f,
    makeSaveArchive([{ layers: [LAYER], repoTags: ['x:latest'] }], { diffIds: [`sha256:${sha256(other)}`], gzipLayers: true }),
    /layer digest mismatch/,
  );
});

test('hostile load: a layer writing through a symlink is refused like an import', async (t) => {
  const f = fixture(t);
  const evil = makeTar([
    { path: 'a', type: 'symlink', linkpath: f.outside },
    { path: 'a/pwned', content: 'x' },
  ]);
  await refusedLoad(f, makeSaveArchive([{ layers: [LAYER, evil], repoTags: ['x:latest'] }]), /parent "a" is a symlink/);
});

test('hostile load: a second, mismatching layer rolls back the first', async (t) => {
  const f = fixture(t);
  const second = makeTar([{ path: 'two', content: '2' }]);
  await refusedLoad(
    f,
    makeSaveArchive([{ layers: [LAYER, second], repoTags: ['x:latest'] }], { diffIds: [`sha256:${sha256(LAYER)}`, `sha256:${'0'.repeat(64)}`] }),
    /layer digest mismatch/,
  );
});

test('hostile load: manifest Config pointing outside the archive is refused', async (t) => {
  const f = fixture(t);
  await refusedLoad(
    f,
    makeSaveArchive([{ layers: [LAYER] }], { editManifest: (m) => void (m[0]!.Config = '../../../outside/secret') }),
    /points outside the archive/,
  );
  await refusedLoad(
    f,
    makeSaveArchive([{ layers: [LAYER] }], { editManifest: (m) => void (m[0]!.Config = join(f.outside, 'secret')) }),
    /points outside the archive/,
  );
});

test('hostile load: manifest layer paths outside the archive are refused', async (t) => {
  const f = fixture(t);
  await refusedLoad(f, makeSaveArchive([{ layers: [LAYER] }], { editManifest: (m) => void (m[0]!.Layers[0] = '/etc/passwd') }), /points outside the archive/);
  await refusedLoad(
    f,
    makeSaveArchive([{ layers: [LAYER] }], { editManifest: (m) => void (m[0]!.Layers[0] = 'a/../../etc/passwd') }),
    /points outside the archive/,
  );
});

test('hostile load: symlinks inside the archive cannot lead a manifest path outside', async (t) => {
  const f = fixture(t);
  for (const linkpath of [join(f.outside, 'secret'), '../../../outside/secret', '../x/../../y']) {
    await refusedLoad(
      f,
      makeSaveArchive([{ layers: [LAYER] }], {
        editManifest: (m) => void (m[0]!.Layers[0] = 'evil/layer.tar'),
        extra: [{ path: 'evil/layer.tar', type: 'symlink', linkpath }],
      }),
      /points outside the archive/,
    );
  }
  // A symlink loop is refused too.
  await refusedLoad(
    f,
    makeSaveArchive([{ layers: [LAYER] }], {
      editManifest: (m) => void (m[0]!.Layers[0] = 'loop'),
      extra: [{ path: 'loop', type: 'symlink', linkpath: 'loop' }],
    }),
    /too many levels/,
  );
});

test('hostile load: archive entries with .. and hardlinks escaping are refused', async (t) => {
  const f = fixture(t);
  await refusedLoad(f, makeSaveArchive([{ layers: [LAYER] }], { extra: [{ path: '../../outside/pwned', content: 'x' }] }), /contains '\.\.'/);
  await refusedLoad(
    f,
    makeSaveArchive([{ layers: [LAYER] }], { extra: [{ path: 'h', type: 'hardlink', linkpath: '../../outside/secret' }] }),
    /contains '\.\.'/,
  );
});

test('hostile load: OCI blobs whose content does not match their digest are refused', async (t) => {
  const f = fixture(t);
  const archive = makeSaveArchive([{ layers: [LAYER], repoTags: ['o:1'] }], {
    layout: 'oci',
    omitManifestJson: true,
    editManifest: () => {},
  });
  // Corrupt the config blob in place (same length, different bytes) and fix the tar checksum.
  const tampered = tamperJsonBlob(archive);
  await refusedLoad(f, tampered, /digest mismatch/);
});

test('hostile load: invalid manifest, config and tags are refused before any layer is unpacked', async (t) => {
  const f = fixture(t);
  await refusedLoad(f, makeTar([{ path: 'manifest.json', content: '{"not":"an array"}' }]), /manifest\.json/);
  await refusedLoad(f, makeTar([{ path: 'hello', content: 'x' }]), /no manifest\.json or index\.json/);
  await refusedLoad(f, makeSaveArchive([{ layers: [LAYER], repoTags: ['UPPER:case'] }]), /invalid reference format/);
  await refusedLoad(
    f,
    makeSaveArchive([{ layers: [LAYER] }], { editManifest: (m) => void m[0]!.Layers.push(m[0]!.Layers[0]!) }),
    /1 diff_ids but the manifest lists 2 layers/,
  );
});

/** Flips bytes inside the first blob whose content is the image config, keeping the tar valid. */
function tamperJsonBlob(tar: Buffer): Buffer {
  const out = Buffer.from(tar);
  let off = 0;
  while (off + 512 <= out.length) {
    const h = out.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const body = out.subarray(off + 512, off + 512 + size);
    if (body.includes('"rootfs"')) {
      const i = body.indexOf('"os":"linux"');
      body.write('"os":"LINUX"', i, 'latin1');
      return out;
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error('no config blob');
}
