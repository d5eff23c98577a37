// A layer from an overlay upper directory (commit's diff): members named as
// moby names them, overlay whiteouts and opaque directories as .wh. files,
// runtime placeholders left out, hard links kept; and the diff unpacked by
// the store gives back the overlay form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteReader, readTar } from '../../src/archive/tar/reader.js';
import { layerDiff } from '../../src/images/archive/layer-diff-writer.js';
import { mknod, S_IFCHR } from '../../src/fs/nodes.js';
import { getXattr, setXattr } from '../../src/fs/xattrs.js';
import { makeStore } from './helpers.js';

async function members(chunks: AsyncIterable<Buffer>): Promise<Array<{ path: string; type: string; size: number; linkpath: string }>> {
  const out: Array<{ path: string; type: string; size: number; linkpath: string }> = [];
  for await (const e of readTar(new ByteReader(chunks))) {
    out.push({ path: e.header.path, type: e.header.type, size: e.header.size, linkpath: e.header.linkpath });
    for await (const _ of e.body()) void _;
  }
  return out;
}

test('an upper directory becomes moby\'s layer tar: whiteouts, opaque directories, links; placeholders left out', async (t) => {
  const { dir, store } = makeStore(t);
  const upper = join(dir, 'upper');
  mkdirSync(join(upper, 'etc'), { recursive: true });
  mkdirSync(join(upper, 'data', 'replaced'), { recursive: true });
  mkdirSync(join(upper, 'newvol'));
  mkdirSync(join(upper, 'proc'));
  writeFileSync(join(upper, 'etc', 'hosts'), '');
  writeFileSync(join(upper, 'etc', 'hostname'), '');
  writeFileSync(join(upper, 'etc', 'resolv.conf'), '');
  writeFileSync(join(upper, 'data', 'replaced', 'only-new'), 'new\n');
  writeFileSync(join(upper, 'file'), 'hello\n');
  linkSync(join(upper, 'file'), join(upper, 'file-link'));
  symlinkSync('/file', join(upper, 'sym'));
  mknod(join(upper, 'data', 'deleted'), S_IFCHR, 0o600, 0, 0);
  setXattr(join(upper, 'data', 'replaced'), 'trusted.overlay.opaque', Buffer.from('y'));
  // etc/ was copied up (overlay marks it with its origin) for the placeholders only: it goes with them.
  setXattr(join(upper, 'etc'), 'trusted.overlay.origin', Buffer.from([0, 1]));

  const diff = layerDiff(upper, { placeholders: new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'proc']) });
  assert.equal(diff.empty, false);
  const list = await members(diff.chunks);
  assert.deepEqual(
    list.map((m) => `${m.type} ${m.path}${m.linkpath ? ` -> ${m.linkpath}` : ''}`),
    [
      'directory data/',
      'file data/.wh.deleted',
      'directory data/replaced/',
      'file data/replaced/.wh..wh..opq',
      'file data/replaced/only-new',
      'file file',
      'hardlink file-link -> file',
      'directory newvol/',
      'symlink sym -> /file',
    ],
  );

  // The store unpacks it back into overlay's form.
  const again = layerDiff(upper, { placeholders: new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'proc']) });
  const hex = await store.ingestArchive(again.chunks, null, 'test diff');
  const layer = store.layerDir(`sha256:${hex}`)!;
  assert.ok(lstatSync(join(layer, 'data', 'deleted')).isCharacterDevice());
  assert.equal(getXattr(join(layer, 'data', 'replaced'), 'trusted.overlay.opaque')?.toString(), 'y');
  assert.equal(lstatSync(join(layer, 'file')).ino, lstatSync(join(layer, 'file-link')).ino);
  assert.equal(store.blobsOf(hex)[0]?.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  // Released and unused: the layer goes, with its blob.
  const blob = store.blobPath(store.blobsOf(hex)[0]!.digest);
  await store.releaseLayers([hex]);
  assert.equal(store.layerDir(`sha256:${hex}`), null);
  assert.equal(existsSync(blob), false);
});

test('an upper directory holding only placeholders is an empty diff', (t) => {
  const { dir } = makeStore(t);
  const upper = join(dir, 'upper');
  mkdirSync(join(upper, 'etc'), { recursive: true });
  setXattr(join(upper, 'etc'), 'trusted.overlay.origin', Buffer.from([0]));
  writeFileSync(join(upper, 'etc', 'hosts'), '');
  mkdirSync(join(upper, 'sys'));
  assert.equal(layerDiff(upper, { placeholders: new Set(['etc/hosts', 'sys']) }).empty, true);
  // A placeholder path with content is a real change and stays.
  writeFileSync(join(upper, 'etc', 'hosts'), '127.0.0.1 changed\n');
  assert.equal(layerDiff(upper, { placeholders: new Set(['etc/hosts', 'sys']) }).empty, false);
});
