import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeStore, makeSaveArchive, makeTar, standardBusyboxLayer, streamOf, sha256, mountedUnder, type RawEntry } from './helpers.js';
import { inspectJson, summaries } from './views.js';

/** Second layer: whites out /data/gone, makes /opq opaque (only c visible), adds /hello.txt. */
function topLayer(): Buffer {
  return makeTar([
    { path: 'data/.wh.gone' },
    { path: 'opq/', type: 'dir', mode: 0o755 },
    { path: 'opq/.wh..wh..opq' },
    { path: 'opq/c', content: 'c\n' },
    { path: 'hello.txt', content: 'hello from layer 2\n', mode: 0o640, uid: 1000, gid: 1000 },
    { path: 'bin/hello-link', type: 'hardlink', linkpath: 'hello.txt' },
    { path: 'dev/', type: 'dir' },
    { path: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
    { path: 'xattr-file', content: 'x', pax: { 'SCHILY.xattr.user.berth': 'yes', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
  ]);
}

test('docker-save archive with two layers (whiteout + opaque dir) loads and mounts as an overlay', async (t) => {
  const { store, dir } = makeStore(t);
  const base = standardBusyboxLayer();
  const top = topLayer();
  const archive = makeSaveArchive([{ layers: [base, top], repoTags: ['busybox:latest'], config: { WorkingDir: '/data', Labels: { a: 'b' } } }]);
  const progress: string[] = [];
  const lines = await store.load(streamOf(archive), (l) => progress.push(l));
  assert.deepEqual(lines, ['Loaded image: busybox:latest']);
  assert.ok(progress.includes('Loaded image: busybox:latest'));
  assert.equal(progress.filter((l) => l.startsWith('Loading layer')).length, 2);

  const ins = inspectJson(store, 'busybox');
  assert.deepEqual(ins.RootFS.Layers, [`sha256:${sha256(base)}`, `sha256:${sha256(top)}`]);
  assert.equal(ins.Created, '2024-05-01T12:00:00.123456789Z');
  assert.equal(ins.Config.WorkingDir, '/data');
  assert.deepEqual(ins.Config.Cmd, ['sh']);
  assert.deepEqual({ ...ins.Config.Labels }, { a: 'b' });
  assert.equal(ins.GraphDriver.Data?.UpperDir, store.layerDir(`sha256:${sha256(top)}`));
  assert.equal(ins.GraphDriver.Data?.LowerDir, store.layerDir(`sha256:${sha256(base)}`));
  assert.deepEqual({ ...summaries(store)[0]?.Labels }, { a: 'b' });
  assert.equal(summaries(store)[0]?.Created, Math.floor(Date.parse('2024-05-01T12:00:00Z') / 1000));

  // The top layer as unpacked: overlay whiteout, opaque xattr, ownership, hardlink, device, xattrs.
  const topDir = store.layerDir(`sha256:${sha256(top)}`)!;
  const wh = lstatSync(join(topDir, 'data', 'gone'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is a 0/0 char device');
  assert.ok(!existsSync(join(topDir, 'data', '.wh.gone')));
  assert.ok(!existsSync(join(topDir, 'opq', '.wh..wh..opq')));
  assert.match(execFileSync('getfattr', ['--absolute-names', '-n', 'trusted.overlay.opaque', join(topDir, 'opq')], { encoding: 'utf8' }), /trusted.overlay.opaque="y"/);
  const hello = lstatSync(join(topDir, 'hello.txt'));
  assert.equal(hello.mode & 0o777, 0o640);
  assert.equal(hello.uid, 1000);
  assert.equal(hello.nlink, 2, 'hardlink shares the inode');
  assert.equal(lstatSync(join(topDir, 'bin', 'hello-link')).ino, hello.ino);
  const devnull = lstatSync(join(topDir, 'dev', 'null'));
  assert.ok(devnull.isCharacterDevice());
  assert.equal(devnull.rdev, (1 << 8) | 3);
  const attrs = execFileSync('getfattr', ['--absolute-names', '-d', '-m', '-', join(topDir, 'xattr-file')], { encoding: 'utf8' });
  assert.match(attrs, /user.berth="yes"/);
  assert.doesNotMatch(attrs, /overlay/, 'archive cannot set trusted.overlay.* xattrs');

  // Mount and look at it from the host.
  const cdir = join(dir, 'containers', 'c1');
  const { rootfs } = await store.prepareRootfs('c1', ins.Id, cdir);
  t.after(() => store.removeRootfs(cdir));
  assert.equal(rootfs, join(cdir, 'rootfs'));
  assert.deepEqual(mountedUnder(dir), [rootfs]);
  const ls = (p: string): string[] => execFileSync('ls', ['-A', join(rootfs, p)], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(ls('data'), ['image-file'], 'whited-out file is gone');
  assert.deepEqual(ls('opq'), ['c'], 'opaque dir hides the lower a and b');
  assert.equal(execFileSync('cat', [join(rootfs, 'hello.txt')], { encoding: 'utf8' }), 'hello from layer 2\n');
  assert.equal(readFileSync(join(rootfs, 'data', 'image-file'), 'utf8'), 'from the image\n');
  // And from inside, with the image's own busybox.
  const out = execFileSync('chroot', [rootfs, '/bin/sh', '-c', 'cat /hello.txt; ls /opq; test -e /data/gone || echo gone-ok'], { encoding: 'utf8' });
  assert.equal(out, 'hello from layer 2\nc\ngone-ok\n');

  // Writes land in the container's upper dir, never in a layer.
  writeFileSync(join(rootfs, 'data', 'new'), 'new\n');
  assert.ok(existsSync(join(cdir, 'upper', 'data', 'new')));
  assert.ok(!existsSync(join(topDir, 'data', 'new')));

  // Idempotent prepare; release unmounts; prepare mounts again with the upper kept.
  await store.prepareRootfs('c1', ins.Id, cdir);
  assert.deepEqual(mountedUnder(dir), [rootfs]);
  await store.releaseRootfs(cdir);
  assert.deepEqual(mountedUnder(dir), []);
  await store.prepareRootfs('c1', ins.Id, cdir);
  assert.equal(readFileSync(join(rootfs, 'data', 'new'), 'utf8'), 'new\n');

  // Path resolution without the mount.
  assert.equal(await store.lowerPath('busybox', '/data/gone'), null);
  assert.deepEqual(await store.lowerPath('busybox', '/hello.txt'), { type: 'file', paths: [join(topDir, 'hello.txt')] });
  const baseDir = store.layerDir(`sha256:${sha256(base)}`)!;
  assert.deepEqual(await store.lowerPath('busybox', '/data/image-file'), { type: 'file', paths: [join(baseDir, 'data', 'image-file')] });
  assert.deepEqual(await store.lowerPath('busybox', '/opq'), { type: 'directory', paths: [join(topDir, 'opq')] });
  assert.deepEqual(await store.lowerPath('busybox', 'data'), { type: 'directory', paths: [join(topDir, 'data'), join(baseDir, 'data')] });
  assert.equal((await store.lowerPath('busybox', '/opq/a')), null);
  assert.deepEqual(await store.lowerPath('busybox', '/bin/sh'), { type: 'symlink', paths: [join(baseDir, 'bin', 'sh')] });
  assert.deepEqual(await store.lowerPath('busybox', '/bin/sh', { followSymlinks: true }), { type: 'file', paths: [join(baseDir, 'bin', 'busybox')] });
  assert.deepEqual(await store.lowerPath('busybox', '/../../data/../hello.txt'), { type: 'file', paths: [join(topDir, 'hello.txt')] });

  // The image is in use by the rootfs: rmi by ID refuses, even without an inUse callback.
  await assert.rejects(store.remove(ins.Id), { name: 'Conflict', message: /image is being used by stopped container c1/ });

  await store.removeRootfs(cdir);
  assert.deepEqual(mountedUnder(dir), []);
  assert.ok(!existsSync(join(cdir, 'upper')) && !existsSync(join(cdir, 'rootfs')) && !existsSync(join(cdir, 'work')));
  const removed = await store.remove(ins.Id);
  assert.deepEqual(removed.slice(0, 2), [{ Untagged: 'busybox:latest' }, { Deleted: ins.Id }]);
  assert.equal(readdirSync(join(store.root, 'layers')).length, 0);
});

test('OCI layout (index.json, blobs/sha256, gzip layers) loads; untagged images report their ID', async (t) => {
  const { store, dir } = makeStore(t);
  const base = standardBusyboxLayer();
  const top = topLayer();
  const oci = makeSaveArchive([{ layers: [base, top], repoTags: ['docker.io/library/ocibox:1.2'] }], { layout: 'oci', gzipLayers: true, omitManifestJson: true });
  const lines = await store.load(streamOf(gzipSync(oci)));
  assert.deepEqual(lines, ['Loaded image: ocibox:1.2']);
  const ins = inspectJson(store, 'ocibox:1.2');
  assert.deepEqual(ins.RootFS.Layers, [`sha256:${sha256(base)}`, `sha256:${sha256(top)}`], 'diff_ids are of the uncompressed layers');

  // Same layers, no tags: shared, not re-extracted.
  const untagged = makeSaveArchive([{ layers: [base], config: { Cmd: ['true'] } }]);
  const progress: string[] = [];
  const lines2 = await store.load(streamOf(untagged), (l) => progress.push(l));
  assert.equal(lines2.length, 1);
  assert.match(lines2[0]!, /^Loaded image ID: sha256:[a-f0-9]{64}$/);
  assert.equal(progress.filter((l) => l.startsWith('Loading layer')).length, 0, 'existing layer is not unpacked again');
  assert.equal(store.layerRefCount(`sha256:${sha256(base)}`), 2);
  assert.equal(store.layerRefCount(`sha256:${sha256(top)}`), 1);

  // Loading another image under an existing tag moves the tag; the old image is kept, dangling.
  const other = makeSaveArchive([{ layers: [base], repoTags: ['ocibox:1.2'], config: { Cmd: ['other'] } }]);
  const progress2: string[] = [];
  await store.load(streamOf(other), (l) => progress2.push(l));
  assert.ok(progress2.some((l) => l === `The image ocibox:1.2 already exists, renaming the old one with ID ${ins.Id} to empty string`));
  assert.deepEqual(inspectJson(store, ins.Id).RepoTags, []);
  assert.deepEqual(inspectJson(store, 'ocibox:1.2').Config.Cmd, ['other']);
  assert.equal(store.list().length, 3);

  const cdir = join(dir, 'c2');
  const { rootfs } = await store.prepareRootfs('c2', ins.Id, cdir);
  t.after(() => store.removeRootfs(cdir));
  assert.equal(readFileSync(join(rootfs, 'hello.txt'), 'utf8'), 'hello from layer 2\n');
  await store.removeRootfs(cdir);
  assert.deepEqual(mountedUnder(dir), []);
});

test('multi-image legacy archive with a symlinked duplicate layer (older docker save)', async (t) => {
  const { store } = makeStore(t);
  const base = standardBusyboxLayer();
  const extra = makeTar([{ path: 'etc/motd', content: 'hi\n' }]);
  const extraEntries: RawEntry[] = [{ path: 'dup/', type: 'dir' }];
  const archive = makeSaveArchive([{ layers: [base], repoTags: ['one:latest'] }, { layers: [base, extra], repoTags: ['two:latest', 'two:alias'] }], {
    editManifest: (m) => {
      // The second image reaches the first image's layer.tar through a symlink.
      extraEntries.push({ path: 'dup/layer.tar', type: 'symlink', linkpath: `../${m[0]!.Layers[0]!}` });
      m[1]!.Layers[0] = 'dup/layer.tar';
    },
    extra: extraEntries,
  });
  const lines = await store.load(streamOf(archive));
  assert.deepEqual(lines, ['Loaded image: one:latest', 'Loaded image: two:latest', 'Loaded image: two:alias']);
  assert.equal(store.layerRefCount(`sha256:${sha256(base)}`), 2);
  assert.deepEqual(store.resolve('two').repoTags, ['two:alias', 'two:latest']);
  assert.equal(readdirSync(join(store.root, 'tmp')).length, 0, 'staging is cleaned up');
});
