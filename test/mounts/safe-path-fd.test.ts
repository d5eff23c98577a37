// openInside / bindOpened / mkdirAllInRoot: paths opened by fd, so a
// component swapped for a symlink after the check changes nothing (issue 6,
// items 1 and 2).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindOpened, mkdirAllInRoot, openInside, unbindOpened } from '../../src/mounts/safe-path.js';
import { copyUp } from '../../src/mounts/copy-up.js';
import { NotFound } from '../../src/errors.js';

let work = '';
let outside = '';

before(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'berth-safepath-fd-')));
  outside = join(work, 'host-dir');
  mkdirSync(outside);
  writeFileSync(join(outside, 'marker'), 'host\n');
});

after(() => {
  rmSync(work, { recursive: true, force: true });
});

test('the subpath that was resolved is what gets mounted, even if it is swapped for a link to a host dir', async (t) => {
  const vol = join(work, 'vol1');
  mkdirSync(join(vol, 'a', 'sub'), { recursive: true });
  writeFileSync(join(vol, 'a', 'sub', 'marker'), 'original\n');
  const target = join(work, 'mnt1');
  t.after(() => {
    unbindOpened(target);
  });
  const opened = await openInside(vol, 'a/sub');
  try {
    // The container's move: the checked directory becomes a link to the host.
    renameSync(join(vol, 'a', 'sub'), join(vol, 'a', 'moved'));
    symlinkSync(outside, join(vol, 'a', 'sub'));
    bindOpened(opened, target);
  } finally {
    opened.close();
  }
  assert.equal(readFileSync(join(target, 'marker'), 'utf8'), 'original\n');
  writeFileSync(join(target, 'written'), 'w');
  assert.equal(existsSync(join(outside, 'written')), false, 'nothing written to the host dir');
  assert.equal(readFileSync(join(vol, 'a', 'moved', 'written'), 'utf8'), 'w');
  assert.equal(unbindOpened(target), true);
  assert.deepEqual(readdirSync(target), [], 'unmounted');
});

test('a subpath that is a link to outside the volume is refused; a missing one is NotFound', async () => {
  const vol = join(work, 'vol2');
  mkdirSync(vol);
  symlinkSync(outside, join(vol, 'out'));
  symlinkSync('../host-dir', join(vol, 'rel-out'));
  await assert.rejects(openInside(vol, 'out'), /path concatenation escapes the base directory/);
  await assert.rejects(openInside(vol, 'rel-out'), /path concatenation escapes the base directory/);
  await assert.rejects(openInside(vol, 'missing'), (e: unknown) => e instanceof NotFound && /cannot access path/.test((e as Error).message));
});

test('a file subpath is mounted on a file', async (t) => {
  const vol = join(work, 'vol3');
  mkdirSync(vol);
  writeFileSync(join(vol, 'f'), 'file content\n');
  const target = join(work, 'mnt3');
  t.after(() => {
    unbindOpened(target);
  });
  const opened = await openInside(vol, 'f');
  bindOpened(opened, target);
  opened.close();
  assert.equal(readFileSync(target, 'utf8'), 'file content\n');
});

test('mkdirAllInRoot resolves planted links (absolute or ../) inside the root', () => {
  const root = join(work, 'rootfs');
  mkdirSync(join(root, 'etc'), { recursive: true });
  symlinkSync(outside, join(root, 'abs'));
  symlinkSync(`../../../../..${outside}`, join(root, 'rel'));
  mkdirAllInRoot(root, '/abs/wd/deeper');
  mkdirAllInRoot(root, 'rel/wd2');
  assert.deepEqual(readdirSync(outside), ['marker'], 'nothing created on the host');
  assert.equal(existsSync(join(root, outside.slice(1), 'wd', 'deeper')), true);
  assert.equal(existsSync(join(root, outside.slice(1), 'wd2')), true);
});

test('copy-up writes into the directory it opened, not where a swapped path now points', async () => {
  const image = join(work, 'image-dir');
  mkdirSync(image);
  writeFileSync(join(image, 'from-image'), 'img\n');
  const vol = join(work, 'vol4');
  mkdirSync(join(vol, 'sub'), { recursive: true });
  const opened = await openInside(vol, 'sub');
  try {
    renameSync(join(vol, 'sub'), join(vol, 'sub-moved'));
    symlinkSync(outside, join(vol, 'sub'));
    assert.equal(await copyUp(image, opened), true);
  } finally {
    opened.close();
  }
  assert.deepEqual(readdirSync(outside), ['marker'], 'nothing copied to the host');
  assert.equal(readFileSync(join(vol, 'sub-moved', 'from-image'), 'utf8'), 'img\n');
});
