// TarCounter against archives GNU tar writes: members and file-data bytes,
// whatever the chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TarCounter } from '../../src/cli/tar-count.js';

function fixture(t: { after: (fn: () => void) => void }): { dir: string; files: number; bytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tarcount-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const deep = join(root, 'd'.repeat(90), 'e'.repeat(90));
  mkdirSync(deep, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < 20; i++) {
    const data = Buffer.alloc(i * 997, i);
    writeFileSync(join(deep, `f${i}-${'n'.repeat(120)}`), data);
    bytes += data.length;
  }
  const big = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
  writeFileSync(join(root, 'big'), big);
  bytes += big.length;
  linkSync(join(root, 'big'), join(root, 'big-link'));
  symlinkSync('x'.repeat(200), join(root, 'long-symlink'));
  // root, two dirs, 20 files, big, its hard link, the symlink
  return { dir, files: 1 + 2 + 20 + 1 + 1 + 1, bytes };
}

for (const format of ['posix', 'gnu']) {
  test(`counts members and data bytes of a GNU tar --format=${format} archive in odd chunks`, (t) => {
    const f = fixture(t);
    const archive = join(f.dir, 'a.tar');
    execFileSync('tar', [`--format=${format}`, '-C', join(f.dir, 'root'), '-cf', archive, '.']);
    const data = readFileSync(archive);
    for (const step of [1, 511, 513, 65536, data.length]) {
      const c = new TarCounter();
      for (let i = 0; i < data.length; i += step) c.push(data.subarray(i, i + step));
      assert.equal(c.files, f.files, `files, step ${step}`);
      assert.equal(c.bytes, f.bytes, `bytes, step ${step}`);
    }
  });
}

test('a sparse member counts its apparent size, as the daemon totals do, and the next member is still found', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tarcount-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  mkdirSync(root);
  execFileSync('truncate', ['-s', '64M', join(root, 'holes')]);
  execFileSync('dd', ['if=/dev/urandom', `of=${join(root, 'holes')}`, 'bs=4096', 'count=3', 'seek=100', 'conv=notrunc'], { stdio: 'ignore' });
  writeFileSync(join(root, 'after'), 'tail\n');
  const archive = join(dir, 's.tar');
  execFileSync('tar', ['--format=posix', '-S', '-C', root, '-cf', archive, '.']);
  const c = new TarCounter();
  c.push(readFileSync(archive));
  assert.equal(c.files, 3);
  assert.equal(c.bytes, 64 * 1024 * 1024 + 5);
});
