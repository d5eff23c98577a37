// The non-terminal progress modes: json objects, plain lines, nothing for
// none and for auto off a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ProgressDisplay } from '../../src/cli/progress.js';

function sink(): { out: PassThrough & { isTTY?: boolean }; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
}

test('json mode ends with one object carrying the final counts and totals', () => {
  const { out, text } = sink();
  const p = new ProgressDisplay('json', 'Exporting', 'Exported', 'vol', out);
  p.update({ totalBytes: 1000, totalFiles: 10 });
  p.update({ bytes: 400, files: 4 });
  p.finish(true, { bytes: 1000, files: 10 });
  p.finish(true, { bytes: 5, files: 5 });
  const lines = text().trim().split('\n');
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(rec).sort(), ['bytes', 'files', 'rate', 'totalBytes', 'totalFiles']);
  assert.equal(rec.bytes, 1000);
  assert.equal(rec.files, 10);
  assert.equal(rec.totalBytes, 1000);
  assert.equal(rec.totalFiles, 10);
  assert.equal(typeof rec.rate, 'number');
});

test('json mode reports unknown totals as null', () => {
  const { out, text } = sink();
  const p = new ProgressDisplay('json', 'Importing', 'Imported', 'vol', out);
  p.update({ bytes: 7, files: 1 });
  p.finish(true);
  const rec = JSON.parse(text().trim()) as Record<string, unknown>;
  assert.equal(rec.totalBytes, null);
  assert.equal(rec.totalFiles, null);
  assert.equal(rec.bytes, 7);
});

test('plain mode ends with a summary line, and a failure says so', () => {
  const ok = sink();
  const p = new ProgressDisplay('plain', 'Exporting', 'Exported', 'vol', ok.out);
  p.update({ bytes: 2_000_000, files: 3, totalBytes: 2_000_000, totalFiles: 3 });
  p.finish(true);
  assert.match(ok.text(), /^Exported vol: 2MB, 3 files in \d+s \([^)]+\/s\)\n$/);

  const bad = sink();
  const q = new ProgressDisplay('plain', 'Importing', 'Imported', 'vol', bad.out);
  q.update({ bytes: 10, files: 1 });
  q.finish(false);
  assert.match(bad.text(), /^Importing failed: vol: 10B, 1 files in/);
});

test('none, and auto off a terminal, print nothing', () => {
  for (const mode of ['none', 'auto'] as const) {
    const { out, text } = sink();
    const p = new ProgressDisplay(mode, 'Cloning', 'Cloned', 'a to b', out);
    p.update({ bytes: 1, files: 1, totalBytes: 2, totalFiles: 2 });
    p.finish(true);
    assert.equal(text(), '', mode);
  }
});
