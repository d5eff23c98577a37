// Captures under the freeze: small files into the memory-backed area within
// its limits, everything else (and everything once the area is full) into
// the capture directory; content, holes and size kept either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureDirectory, SmallCaptureArea } from '../../../src/backup/engine/capture.js';
import { mount, unmount } from '../../../src/util/mount.js';

function tree(t: { after: (fn: () => unknown) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-capture-'));
  const src = join(dir, 'src');
  const area = join(dir, 'area');
  mkdirSync(src);
  mkdirSync(area);
  t.after(async () => {
    await unmount(area, { lazy: true });
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, src, area, captureDir: join(dir, 'capture') };
}

test('small files go to the area, larger ones and those over the budget to the capture directory', (t) => {
  const { src, area, captureDir } = tree(t);
  mkdirSync(captureDir);
  writeFileSync(join(src, 'a'), 'small');
  writeFileSync(join(src, 'b'), Buffer.alloc(8192, 7));
  writeFileSync(join(src, 'big'), Buffer.alloc(20_000, 1));
  writeFileSync(join(src, 'sparse'), '');
  truncateSync(join(src, 'sparse'), 1 << 20);
  // 16 KiB files at most, 20 KiB in all: 'a' (one page and an inode) and 'b' (two and one) use 20 KiB between them.
  const small = new SmallCaptureArea(area, 16 * 1024, 20 * 1024);
  const c = new CaptureDirectory(captureDir, small);
  const a = c.capture(Buffer.from(join(src, 'a')));
  const b = c.capture(Buffer.from(join(src, 'b')));
  const big = c.capture(Buffer.from(join(src, 'big')));
  const sparse = c.capture(Buffer.from(join(src, 'sparse')));
  assert.ok(a.path.startsWith(area + '/') && b.path.startsWith(area + '/'), `${a.path} ${b.path}`);
  assert.ok(big.path.startsWith(captureDir + '/'), big.path);
  assert.ok(sparse.path.startsWith(captureDir + '/'), 'over the per-file limit');
  assert.equal(readFileSync(a.path, 'utf8'), 'small');
  assert.deepEqual(readFileSync(b.path), Buffer.alloc(8192, 7));
  assert.deepEqual(readFileSync(big.path), Buffer.alloc(20_000, 1));
  assert.equal(statSync(sparse.path).size, 1 << 20);
  assert.equal(statSync(sparse.path).blocks, 0, 'holes stay holes');
  assert.equal(a.stat.size, 5n);
  c.discardSmall();
  assert.throws(() => statSync(a.path), { code: 'ENOENT' });
});

test('an area that fills up before its budget says so is given up, and nothing is lost', async (t) => {
  const { src, area, captureDir } = tree(t);
  mkdirSync(captureDir);
  await mount('tmpfs', area, 'tmpfs', 0, 'size=64k');
  for (let i = 0; i < 8; i++) writeFileSync(join(src, `f${i}`), Buffer.alloc(12_000, i));
  // A budget the tmpfs cannot honour: the copy that meets ENOSPC goes to the capture directory.
  const small = new SmallCaptureArea(area, 1 << 20, 1 << 30);
  const c = new CaptureDirectory(captureDir, small);
  const paths = Array.from({ length: 8 }, (_, i) => c.capture(Buffer.from(join(src, `f${i}`))).path);
  const inArea = paths.filter((p) => p.startsWith(area + '/')).length;
  assert.ok(inArea >= 1 && inArea < 8, `${inArea} in the area`);
  assert.ok(paths.slice(inArea).every((p) => p.startsWith(captureDir + '/')), 'after the first refusal, every capture goes to the directory');
  paths.forEach((p, i) => assert.deepEqual(readFileSync(p), Buffer.alloc(12_000, i)));
});
