// mount(2)/umount2(2) without mount(8): a tmpfs with its data string, a bind
// made read-only by the remount mount(8) would do, propagation, and errors
// in Go's errno words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mount, unmount, readMountInfo, MountError } from '../../src/util/mount.js';

const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_BIND = 0x1000;

function scratch(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-mount-'));
  t.after(async () => {
    for (const m of readMountInfo().filter((x) => x.mountPoint.startsWith(dir)).reverse()) await unmount(m.mountPoint, { lazy: true });
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const infoOf = (path: string) => readMountInfo().filter((m) => m.mountPoint === path).at(-1);

test('a tmpfs gets its flags and data string; unmount twice is fine', async (t) => {
  const dir = scratch(t);
  await mount('tmpfs', dir, 'tmpfs', MS_NOSUID, 'size=1m,mode=0700');
  const m = infoOf(dir)!;
  assert.equal(m.fsType, 'tmpfs');
  assert.match(m.options, /nosuid/);
  assert.match(m.superOptions, /size=1024k/);
  assert.match(m.superOptions, /mode=700/);
  await unmount(dir);
  assert.equal(infoOf(dir), undefined);
  await unmount(dir);
});

test('a read-only bind is bound then remounted read-only, and propagation applied', async (t) => {
  const dir = scratch(t);
  const src = join(dir, 'src');
  const dst = join(dir, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  writeFileSync(join(src, 'f'), 'x');
  await mount(src, dst, '', MS_BIND | MS_RDONLY, '', ['private']);
  const m = infoOf(dst)!;
  assert.match(m.options, /^ro[,$]/);
  assert.throws(() => writeFileSync(join(dst, 'g'), 'y'), /EROFS/);
  await unmount(dst, { lazy: true });
});

test('failures carry the errno words Go prints', async (t) => {
  const dir = scratch(t);
  await assert.rejects(mount('none', join(dir, 'missing'), 'tmpfs', 0), (e) => e instanceof MountError && e.errnoText === 'no such file or directory');
  await assert.rejects(mount('x', dir, 'no-such-fs', 0), (e) => e instanceof MountError && e.errnoText === 'no such device');
});
