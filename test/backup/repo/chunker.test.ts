// The chunker: content-defined cuts within min/max that survive an
// insertion, depend on the secret key, and fixed blocks for large files
// whose size sticks across backups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { CdcCutter, chunkingFor, gearTable } from '../../../src/backup/repo/chunker.js';
import { DEFAULT_CHUNKER } from '../../../src/backup/repo/config.js';

/** The chunks of `data` fed in pieces of `piece` bytes (as a reader hands them over). */
function cutAll(cutter: CdcCutter, data: Buffer, piece: number): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  let end = 0;
  cutter.reset();
  while (start < data.length) {
    end = Math.min(data.length, end + piece);
    for (;;) {
      const n = cutter.next(data, start, end, end === data.length);
      if (n === 0) break;
      chunks.push(data.subarray(start, start + n));
      start += n;
      if (start >= end) break;
    }
  }
  return chunks;
}

const small = { min: 4096, avg: 16384, max: 65536 };
const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('cuts lie within min and max, cover the data, and do not depend on how it is handed over', () => {
  const data = randomBytes(2 << 20);
  const cutter = new CdcCutter(gearTable(randomBytes(32)), small);
  const whole = cutAll(cutter, data, data.length);
  assert.ok(Buffer.concat(whole).equals(data));
  whole.slice(0, -1).forEach((c) => assert.ok(c.length >= small.min && c.length <= small.max, `chunk of ${c.length}`));
  const average = data.length / whole.length;
  assert.ok(average > small.min && average < small.max, `average ${average}`);
  assert.deepEqual(cutAll(cutter, data, 1000).map(digest), whole.map(digest));
});

test('an insertion near the start changes only the chunks around it', () => {
  const key = randomBytes(32);
  const data = randomBytes(4 << 20);
  const edited = Buffer.concat([data.subarray(0, 100_000), Buffer.from('inserted bytes'), data.subarray(100_000)]);
  const cutter = new CdcCutter(gearTable(key), small);
  const before = new Set(cutAll(cutter, data, 1 << 20).map(digest));
  const after = cutAll(cutter, edited, 1 << 20).map(digest);
  const fresh = after.filter((d) => !before.has(d));
  assert.ok(fresh.length <= 3, `${fresh.length} of ${after.length} chunks changed`);
});

test('the cut points depend on the repository key', () => {
  const data = randomBytes(2 << 20);
  const a = cutAll(new CdcCutter(gearTable(randomBytes(32)), small), data, data.length).map((c) => c.length);
  const b = cutAll(new CdcCutter(gearTable(randomBytes(32)), small), data, data.length).map((c) => c.length);
  assert.notDeepEqual(a, b);
});

test('the chunking of a file by its data size, fixed blocks sticking to the parent', () => {
  const p = DEFAULT_CHUNKER;
  assert.deepEqual(chunkingFor(100, p), { kind: 'whole' });
  assert.deepEqual(chunkingFor(p.min, p), { kind: 'cdc' });
  assert.deepEqual(chunkingFor(p.fixedFrom - 1, p), { kind: 'cdc' });
  // A 2 GiB file: 16 KiB blocks; larger files get larger blocks, up to the maximum.
  assert.deepEqual(chunkingFor(2 ** 31, p), { kind: 'fixed', block: 16 << 10 });
  assert.deepEqual(chunkingFor(2 ** 33, p), { kind: 'fixed', block: 32 << 10 });
  assert.deepEqual(chunkingFor(2 ** 40, p), { kind: 'fixed', block: p.fixedBlockMax });
  // Grown past its size class, a file keeps the parent's block size (its blocks keep their IDs).
  assert.deepEqual(chunkingFor(2 ** 33, p, 16 << 10), { kind: 'fixed', block: 16 << 10 });
  // Far beyond it, the block size is chosen again.
  assert.deepEqual(chunkingFor(2 ** 36, p, 16 << 10), { kind: 'fixed', block: 256 << 10 });
});
