import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRootfs } from '../../src/images/rootfs-path.js';
import { makeStore, makeSaveArchive, makeTar, streamOf } from './helpers.js';

test('resolveInRootfs keeps symlinks and .. inside the rootfs', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-rootfs-path-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'etc', 'passwd'), 'x');
  writeFileSync(join(root, 'bin', 'busybox'), 'x');
  symlinkSync('busybox', join(root, 'bin', 'sh'));
  symlinkSync('/etc', join(root, 'abs'));
  symlinkSync('../../../../../../..', join(root, 'up'));
  symlinkSync('loop', join(root, 'loop'));
  assert.equal(await resolveInRootfs(root, '/bin/sh'), join(root, 'bin', 'busybox'));
  assert.equal(await resolveInRootfs(root, '/bin/sh', { followSymlinks: false }), join(root, 'bin', 'sh'));
  assert.equal(await resolveInRootfs(root, '/abs/passwd'), join(root, 'etc', 'passwd'));
  assert.equal(await resolveInRootfs(root, '/up/etc/passwd'), join(root, 'etc', 'passwd'));
  assert.equal(await resolveInRootfs(root, '../../../etc'), join(root, 'etc'));
  assert.equal(await resolveInRootfs(root, '/up'), root);
  assert.equal(await resolveInRootfs(root, '/missing/dir/../x'), join(root, 'missing', 'x'));
  await assert.rejects(resolveInRootfs(root, '/loop/x'), { name: 'InvalidParameter', message: /too many levels/ });
});

test('a failed mount does not pin the image; empty archives are refused', async (t) => {
  const { store, dir } = makeStore(t);
  await store.load(streamOf(makeSaveArchive([{ layers: [makeTar([{ path: 'f', content: 'x' }])], repoTags: ['m:1'] }])));
  // A comma in the directory cannot be expressed in overlay mount options.
  await assert.rejects(store.prepareRootfs('c1', 'm:1', join(dir, 'bad,dir')), { name: 'InvalidParameter' });
  await assert.rejects(store.prepareRootfs('../evil', 'm:1', join(dir, 'c')), { name: 'InvalidParameter', message: /invalid container id/ });
  await assert.rejects(store.prepareRootfs('c2', 'nope', join(dir, 'c')), { name: 'NotFound' });
  const out = await store.remove('m:1');
  assert.equal(out.length, 3, 'untagged, deleted image and its layer');
  await assert.rejects(store.importRootfs(streamOf(Buffer.alloc(0))), { name: 'InvalidParameter', message: 'empty archive' });
  await assert.rejects(store.load(streamOf(Buffer.alloc(0))), { name: 'InvalidParameter', message: 'empty archive' });
});
