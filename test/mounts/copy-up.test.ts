// Copy-up (spec 6.2; edge cases 57–62). Runs as root in a temp dir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNotExistingFile, copyUp, imageVolumePath } from '../../src/mounts/copy-up.js';

const isRoot = process.getuid?.() === 0;
const hasAttr = (() => {
  try {
    execFileSync('setfattr', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let work = '';
const OLD = new Date('2020-01-02T03:04:05Z');

function fresh(name: string): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** An image directory like `/data` in an image: every kind of entry. */
function buildImageDir(src: string, outside: string): void {
  mkdirSync(join(src, 'a', 'b', 'c'), { recursive: true });
  mkdirSync(join(src, 'empty'));
  mkdirSync(join(src, 'sticky'));
  chmodSync(join(src, 'sticky'), 0o1777);
  writeFileSync(join(src, 'a', 'b', 'c', 'deep.txt'), 'deep\n');
  writeFileSync(join(src, 'file.txt'), 'hello from the image\n');
  chmodSync(join(src, 'file.txt'), 0o640);
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(src, 'run.sh'), 0o4755);
  writeFileSync(join(src, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  linkSync(join(src, 'file.txt'), join(src, 'hard.txt'));
  symlinkSync('a/b/c/deep.txt', join(src, 'rel-link'));
  symlinkSync('/etc', join(src, 'etc-link'));
  symlinkSync(outside, join(src, 'out-link'));
  symlinkSync('../../..', join(src, 'a', 'up-link'));
  symlinkSync('/', join(src, 'root-link'));
  execFileSync('mkfifo', [join(src, 'fifo')]);
  if (isRoot) {
    execFileSync('mknod', [join(src, 'null'), 'c', '1', '3']);
    chownSync(join(src, 'file.txt'), 1000, 1000);
    chownSync(join(src, 'a'), 1001, 1002);
    lchownSync(join(src, 'rel-link'), 1000, 1000);
    chownSync(src, 1000, 1000);
  }
  if (hasAttr) execFileSync('setfattr', ['-n', 'user.berth', '-v', 'kept', join(src, 'file.txt')]);
  utimesSync(join(src, 'file.txt'), OLD, OLD);
  utimesSync(join(src, 'a', 'b'), OLD, OLD);
  chmodSync(src, 0o750);
  utimesSync(src, OLD, OLD);
}

before(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'berth-copyup-')));
});

after(() => rmSync(work, { recursive: true, force: true }));

test('copyUp: copies the whole tree into an empty volume and gives _data the image dir mode and owner', async () => {
  const src = fresh('t1/image/data');
  const outside = fresh('t1/outside');
  const dst = fresh('t1/volumes/v/_data');
  buildImageDir(src, outside);

  assert.equal(await copyUp(src, dst), true);

  // the volume directory itself (edge 57: 0750 and the owner of the image dir)
  const d = statSync(dst);
  assert.equal(d.mode & 0o7777, 0o750);
  if (isRoot) {
    assert.equal(d.uid, 1000);
    assert.equal(d.gid, 1000);
  }
  assert.equal(d.mtime.getTime(), OLD.getTime());

  // files, nested dirs, contents, modes, owners, times
  assert.equal(readFileSync(join(dst, 'a/b/c/deep.txt'), 'utf8'), 'deep\n');
  assert.equal(readFileSync(join(dst, 'file.txt'), 'utf8'), 'hello from the image\n');
  assert.equal(readFileSync(join(dst, 'big.bin')).length, 3 * 1024 * 1024);
  assert.equal(statSync(join(dst, 'file.txt')).mode & 0o7777, 0o640);
  assert.equal(statSync(join(dst, 'run.sh')).mode & 0o7777, 0o4755);
  assert.equal(statSync(join(dst, 'sticky')).mode & 0o7777, 0o1777);
  assert.equal(statSync(join(dst, 'file.txt')).mtime.getTime(), OLD.getTime());
  assert.equal(statSync(join(dst, 'a/b')).mtime.getTime(), OLD.getTime());
  assert.ok(statSync(join(dst, 'empty')).isDirectory());
  if (isRoot) {
    assert.equal(statSync(join(dst, 'file.txt')).uid, 1000);
    assert.deepEqual([statSync(join(dst, 'a')).uid, statSync(join(dst, 'a')).gid], [1001, 1002]);
    assert.equal(lstatSync(join(dst, 'rel-link')).uid, 1000);
    const nul = lstatSync(join(dst, 'null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, statSync(join(src, 'null')).rdev);
  }

  // hard links stay linked
  assert.equal(statSync(join(dst, 'hard.txt')).ino, statSync(join(dst, 'file.txt')).ino);
  assert.notEqual(statSync(join(dst, 'file.txt')).ino, statSync(join(src, 'file.txt')).ino);

  // symlinks are copied as links, never followed
  for (const [name, target] of [
    ['rel-link', 'a/b/c/deep.txt'],
    ['etc-link', '/etc'],
    ['out-link', outside],
    ['a/up-link', '../../..'],
    ['root-link', '/'],
  ] as const) {
    assert.ok(lstatSync(join(dst, name)).isSymbolicLink(), `${name} is a symlink`);
    assert.equal(readlinkSync(join(dst, name)), target);
  }
  assert.deepEqual(readdirSync(outside), [], 'nothing written through a link');

  // special files
  assert.ok(lstatSync(join(dst, 'fifo')).isFIFO());

  // xattrs
  if (hasAttr) {
    const v = execFileSync('getfattr', ['--only-values', '-n', 'user.berth', join(dst, 'file.txt')], { encoding: 'utf8' });
    assert.equal(v, 'kept');
  }

  // the source is untouched
  assert.equal(statSync(src).mode & 0o7777, 0o750);
  assert.equal(readFileSync(join(src, 'file.txt'), 'utf8'), 'hello from the image\n');
});

test('copyUp: a non-empty volume is left alone (edge 58)', async () => {
  const src = fresh('t2/image/data');
  writeFileSync(join(src, 'image-file'), 'img');
  chmodSync(src, 0o700);
  const dst = fresh('t2/_data');
  chmodSync(dst, 0o755);
  writeFileSync(join(dst, 'mine'), 'keep');
  assert.equal(await copyUp(src, dst), false);
  assert.deepEqual(readdirSync(dst), ['mine']);
  assert.equal(statSync(dst).mode & 0o7777, 0o755);
});

test('copyUp: a hidden file is enough to make the volume non-empty', async () => {
  const src = fresh('t3/image/data');
  writeFileSync(join(src, 'x'), 'x');
  const dst = fresh('t3/_data');
  writeFileSync(join(dst, '.keep'), '');
  assert.equal(await copyUp(src, dst), false);
  assert.equal(existsSync(join(dst, 'x')), false);
});

test('copyUp: emptying the volume makes the next copy-up copy again (edge 59)', async () => {
  const src = fresh('t4/image/data');
  writeFileSync(join(src, 'x'), 'v1');
  const dst = fresh('t4/_data');
  assert.equal(await copyUp(src, dst), true);
  assert.equal(await copyUp(src, dst), false);
  rmSync(join(dst, 'x'));
  assert.equal(await copyUp(src, dst), true);
  assert.equal(readFileSync(join(dst, 'x'), 'utf8'), 'v1');
});

test('copyUp: a path missing from the image copies nothing, no error (edge 61)', async () => {
  const dst = fresh('t5/_data');
  assert.equal(await copyUp(join(work, 't5/image/nope'), dst), false);
  assert.equal(await copyUp(join(work, 't5/image/nope/deeper'), dst), false);
  assert.deepEqual(readdirSync(dst), []);
});

test("copyUp: a file or an unresolved symlink at the image path fails over an empty volume with dockerd's text, and is not copied into one with data", async () => {
  const img = fresh('t6/image');
  writeFileSync(join(img, 'file'), 'x');
  mkdirSync(join(img, 'real'));
  writeFileSync(join(img, 'real', 'y'), 'y');
  symlinkSync('real', join(img, 'link'));
  const dst = fresh('t6/_data');
  await assert.rejects(copyUp(join(img, 'file'), dst), { name: 'SystemError', message: `source ${join(img, 'file')} is not directory` });
  await assert.rejects(copyUp(join(img, 'link'), dst), { name: 'SystemError', message: `source ${join(img, 'link')} is not directory` });
  assert.deepEqual(readdirSync(dst), []);
  writeFileSync(join(dst, 'mine'), 'keep');
  assert.equal(await copyUp(join(img, 'file'), dst), false);
  assert.deepEqual(readdirSync(dst), ['mine']);
});

test('copyUp: a missing volume directory is a SystemError', async () => {
  const src = fresh('t7/image/data');
  writeFileSync(join(src, 'x'), 'x');
  await assert.rejects(copyUp(src, join(work, 't7/nope/_data')), { name: 'SystemError' });
});

test('assertNotExistingFile: image VOLUME over a file (edge 62)', async () => {
  const rootfs = fresh('t8/rootfs');
  writeFileSync(join(rootfs, 'data'), 'a file');
  mkdirSync(join(rootfs, 'dir'));
  await assert.rejects(assertNotExistingFile(join(rootfs, 'data')), {
    name: 'SystemError',
    message: `cannot mount volume over existing file, file exists ${join(rootfs, 'data')}`,
  });
  await assertNotExistingFile(join(rootfs, 'dir'));
  await assertNotExistingFile(join(rootfs, 'missing'));
});

test('imageVolumePath: resolves symlinks inside the rootfs, then checks for a file', async () => {
  const rootfs = fresh('t9/rootfs');
  mkdirSync(join(rootfs, 'var', 'data'), { recursive: true });
  symlinkSync('/var/data', join(rootfs, 'data'));
  symlinkSync('/etc/hostname', join(rootfs, 'hostlink'));
  mkdirSync(join(rootfs, 'etc'));
  writeFileSync(join(rootfs, 'etc', 'hostname'), 'img');
  assert.equal(await imageVolumePath(rootfs, '/data'), join(rootfs, 'var/data'));
  assert.equal(await imageVolumePath(rootfs, '/missing/dir'), join(rootfs, 'missing/dir'));
  await assert.rejects(imageVolumePath(rootfs, '/hostlink'), {
    message: `cannot mount volume over existing file, file exists ${join(rootfs, 'etc/hostname')}`,
  });
  // copy-up from the resolved path
  writeFileSync(join(rootfs, 'var', 'data', 'f'), 'f');
  const dst = fresh('t9/_data');
  assert.equal(await copyUp(await imageVolumePath(rootfs, '/data'), dst), true);
  assert.equal(readFileSync(join(dst, 'f'), 'utf8'), 'f');
});

test('copyUp: a volume path that is a symlink is followed once, to the real directory', async () => {
  const src = fresh('t10/image/data');
  writeFileSync(join(src, 'x'), 'x');
  const real = fresh('t10/real_data');
  symlinkSync(real, join(work, 't10/_data'));
  assert.equal(await copyUp(src, join(work, 't10/_data')), true);
  assert.ok(lstatSync(join(work, 't10/_data')).isSymbolicLink());
  assert.equal(readFileSync(join(real, 'x'), 'utf8'), 'x');
});

test('copyUp: a volume path that is a file is a SystemError', async () => {
  const src = fresh('t11/image/data');
  writeFileSync(join(src, 'x'), 'x');
  writeFileSync(join(work, 't11/_data'), '');
  await assert.rejects(copyUp(src, join(work, 't11/_data')), { name: 'SystemError' });
});
