// conmon's k8s-file log read back as Docker's json-file entries, on files
// only: records written here as conmon writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readLogs, parseRecord, MAX_PARTIAL_LINE, type LogEntry, type ReadLogsOptions } from '../../../src/containers/runtime/container-log.js';
import { formatRFC3339Nano, formatRFC3339NanoFixed, parseRFC3339Nano, toNs } from '../../../src/go/timestamps.js';
import { waitFor } from '../../helpers/wait.js';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctrlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function all(path: string, opts: Partial<ReadLogsOptions> = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(path, { finished: () => true, ...opts })) out.push(e);
  return out;
}

const T0 = 1_700_000_000_000_000_000n; // 2023-11-14T22:13:20Z

/** conmon's timestamp: local time with a numeric offset, nine fraction digits. */
function conmonTime(ns: bigint, offsetMinutes = 120): string {
  const local = formatRFC3339NanoFixed(ns + BigInt(offsetMinutes) * 60_000_000_000n).replace(/Z$/, '');
  const h = String(Math.floor(offsetMinutes / 60)).padStart(2, '0');
  const m = String(offsetMinutes % 60).padStart(2, '0');
  return `${local}+${h}:${m}`;
}

/** One record as conmon writes it: F for a line's end (without its "\n"), P for a piece. */
function record(stream: 'stdout' | 'stderr', text: string, ns: bigint, partial = false): string {
  return `${conmonTime(ns)} ${stream} ${partial ? 'P' : 'F'} ${text}\n`;
}

test('RFC3339Nano as Go formats it: trailing zeros trimmed; fixed width for docker logs -t', () => {
  assert.equal(formatRFC3339Nano(T0), '2023-11-14T22:13:20Z');
  assert.equal(formatRFC3339Nano(T0 + 120_000_000n), '2023-11-14T22:13:20.12Z');
  assert.equal(formatRFC3339Nano(T0 + 1n), '2023-11-14T22:13:20.000000001Z');
  assert.equal(formatRFC3339NanoFixed(T0 + 120_000_000n), '2023-11-14T22:13:20.120000000Z');
  assert.equal(parseRFC3339Nano('2023-11-14T22:13:20.12Z'), T0 + 120_000_000n);
  assert.equal(parseRFC3339Nano('2023-11-14T23:13:20.000000001+01:00'), T0 + 1n);
  assert.equal(toNs(1_700_000_000.5), T0 + 500_000_000n);
  assert.equal(toNs('1700000000.000000007'), T0 + 7n);
  assert.equal(toNs(new Date(1_700_000_000_000)), T0);
  assert.equal(toNs('2023-11-14T22:13:20Z'), T0);
});

test('records: stream, tag, text (an empty line too), local time with its offset; anything else is not a record', () => {
  const r = parseRecord(Buffer.from(record('stderr', 'a b  c', T0 + 5n).trimEnd()));
  assert.deepEqual(r && { ...r, text: r.text.toString() }, { stream: 'stderr', timeNs: T0 + 5n, partial: false, text: 'a b  c' });
  assert.equal(parseRecord(Buffer.from(record('stdout', '', T0).slice(0, -1)))?.text.length, 0);
  assert.equal(parseRecord(Buffer.from(`${conmonTime(T0)} stdin F x`)), null);
  assert.equal(parseRecord(Buffer.from(`${conmonTime(T0)} stdout X x`)), null);
  assert.equal(parseRecord(Buffer.from('garbage')), null);
});

test('pieces of a line are joined per stream; the entry has the time of the record that ends it', async (t) => {
  const path = join(tmp(t), 'c.log');
  writeFileSync(
    path,
    record('stdout', 'one', T0) +
      record('stdout', 'tw', T0 + 1n, true) +
      record('stderr', 'err', T0 + 2n) +
      record('stdout', 'o', T0 + 3n) +
      record('stderr', '☃', T0 + 4n) +
      record('stdout', '', T0 + 5n) +
      record('stdout', 'four', T0 + 6n, true),
  );
  const entries = await all(path);
  assert.deepEqual(
    entries.map((e) => [e.stream, e.log, e.timeNs - T0]),
    [
      ['stdout', 'one\n', 0n],
      ['stderr', 'err\n', 2n],
      ['stdout', 'two\n', 3n],
      ['stderr', '☃\n', 4n],
      ['stdout', '\n', 5n],
      // What the exit left unfinished: a partial entry, as Docker writes it at the exit.
      ['stdout', 'four', 6n],
    ],
  );
  // While the container runs, an unfinished line is not an entry yet (Docker's copier still holds it).
  assert.deepEqual((await all(path, { finished: () => false })).map((e) => e.log), ['one\n', 'err\n', 'two\n', '☃\n', '\n']);
});

test('a line longer than the partial limit becomes entries of that size without a newline, as Docker cuts it', async (t) => {
  const path = join(tmp(t), 'c.log');
  const piece = 'x'.repeat(8192);
  writeFileSync(path, record('stdout', piece, T0, true) + record('stdout', piece, T0, true) + record('stdout', 'x'.repeat(10), T0, true) + record('stdout', 'y', T0));
  const entries = await all(path);
  assert.deepEqual(entries.map((e) => e.log.length), [MAX_PARTIAL_LINE, 12]);
  assert.equal(entries[1]!.log, 'x'.repeat(10) + 'y\n');
});

function writeSample(path: string, n: number): void {
  let text = '';
  for (let i = 0; i < n; i++) text += record(i % 3 === 2 ? 'stderr' : 'stdout', `line ${i} ${'.'.repeat(i % 50)}`, T0 + BigInt(i) * 1_000_000_000n);
  writeFileSync(path, text);
}

test('readLogs: all, stream filters, since/until, timestamps', async (t) => {
  const path = join(tmp(t), 'c.log');
  writeSample(path, 10);
  const every = await all(path);
  assert.equal(every.length, 10);
  assert.equal(every[0]!.line, 'line 0 \n');
  assert.equal((await all(path, { stderr: false })).length, 7);
  assert.deepEqual(
    (await all(path, { stdout: false })).map((e) => e.log.split(' ')[1]),
    ['2', '5', '8'],
  );
  const window = await all(path, { since: toNs(T0 + 3_000_000_000n), until: T0 + 5_000_000_000n });
  assert.deepEqual(window.map((e) => e.log.split(' ')[1]), ['3', '4', '5']);
  const since = await all(path, { since: 1_700_000_008 });
  assert.deepEqual(since.map((e) => e.log.split(' ')[1]), ['8', '9']);
  const stamped = await all(path, { timestamps: true, tail: 1 });
  assert.equal(stamped[0]!.line, `${formatRFC3339NanoFixed(T0 + 9_000_000_000n)} line 9 .........\n`);
});

test('readLogs: tail across read spans, with filters and pieces of lines; tail 0; missing file', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'c.log');
  writeSample(path, 5000); // ~400 KB: several 64 KiB spans
  const last = await all(path, { tail: 3 });
  assert.deepEqual(last.map((e) => e.log.split(' ')[1]), ['4997', '4998', '4999']);
  const errs = await all(path, { tail: 2, stdout: false });
  assert.deepEqual(errs.map((e) => e.log.split(' ')[1]), ['4994', '4997']);
  const many = await all(path, { tail: 4000 });
  assert.equal(many.length, 4000);
  assert.equal(many[0]!.log.split(' ')[1], '1000');
  assert.equal((await all(path, { tail: 0 })).length, 0);
  assert.equal((await all(path, { tail: 10_000 })).length, 5000);
  assert.deepEqual(await all(join(dir, 'none.log')), []);
  // A long line, in conmon's 8 KiB pieces: Docker's 16 KiB entries, however the span cuts the file.
  appendFileSync(path, record('stdout', 'a'.repeat(8192), T0, true).repeat(9) + record('stdout', 'end', T0));
  assert.deepEqual((await all(path, { tail: 2 })).map((e) => e.log.length), [MAX_PARTIAL_LINE, 8192 + 4]);
  const six = await all(path, { tail: 6 });
  assert.deepEqual(six.map((e) => e.log.length), ['line 4999 '.length + 49 + 1, ...Array(4).fill(MAX_PARTIAL_LINE), 8192 + 4]);
  assert.equal(six.at(-1)!.log, 'a'.repeat(8192) + 'end\n');
});

test('readLogs follow: waits while the container runs, ends once it has finished; abort stops it', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'c.log');
  writeFileSync(path, record('stdout', 'before', T0));
  let finished = false;
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLogs(path, { follow: true, pollMs: 20, finished: () => finished })) got.push(e.log);
  })();
  await waitFor(() => got.length === 1, 'the existing entry');
  appendFileSync(path, record('stdout', 'dur', T0, true) + record('stdout', 'ing', T0));
  await waitFor(() => got.length === 2, 'the entry written while following');
  appendFileSync(path, record('stderr', 'last', T0) + record('stdout', 'unfinished', T0, true));
  finished = true;
  await reader;
  assert.deepEqual(got, ['before\n', 'during\n', 'last\n', 'unfinished']);

  // Abort ends a follow that would otherwise wait.
  const ac = new AbortController();
  // A failing assertion must not leave the follow running (the test process would never end).
  t.after(() => ac.abort());
  const seen: string[] = [];
  const r2 = (async () => {
    for await (const e of readLogs(path, { follow: true, tail: 1, pollMs: 20, signal: ac.signal, finished: () => false })) seen.push(e.log);
  })();
  // Appended once the tail is out: appended earlier, it could be part of what the tail reads.
  await waitFor(() => seen.length === 1, 'the tail');
  appendFileSync(path, record('stdout', ' and fresh', T0));
  await waitFor(() => seen.length === 2, 'the tail and the fresh entry');
  ac.abort();
  await r2;
  assert.deepEqual(seen, ['last\n', 'unfinished and fresh\n']);
});

test('rotated generations are read oldest first (gzip ones too, N.gz over N), with tail across them', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'c.log');
  const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => record('stdout', `l${from + i}`, T0 + BigInt(from + i))).join('');
  writeFileSync(`${log}.2.gz`, gzipSync(lines(1, 3)));
  // A gzip that just replaced its plain twin: the plain one is not read again.
  writeFileSync(`${log}.1.gz`, gzipSync(lines(4, 6)));
  writeFileSync(`${log}.1`, lines(4, 6));
  writeFileSync(log, lines(7, 8));
  writeFileSync(`${log}.notes`, 'not a generation\n');
  assert.deepEqual((await all(log)).map((e) => e.log), ['l1\n', 'l2\n', 'l3\n', 'l4\n', 'l5\n', 'l6\n', 'l7\n', 'l8\n']);
  assert.deepEqual((await all(log, { tail: 4 })).map((e) => e.log), ['l5\n', 'l6\n', 'l7\n', 'l8\n']);
  assert.deepEqual((await all(log, { tail: 0 })).map((e) => e.log), []);
});

test('a follower reads on across a rotation: the rest of the renamed file, then the new one', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'c.log');
  writeFileSync(log, record('stdout', 'one', T0));
  let finished = false;
  const seen: string[] = [];
  const reading = (async () => {
    for await (const e of readLogs(log, { follow: true, finished: () => finished, pollMs: 20 })) seen.push(e.log);
  })();
  await waitFor(() => seen.length === 1, 'the first entry');
  // A rotation: the file moves to generation 1 (conmon still appends to it), then a new file takes the path.
  renameSync(log, `${log}.1`);
  appendFileSync(`${log}.1`, record('stdout', 'two', T0 + 1n));
  writeFileSync(log, record('stdout', 'three', T0 + 2n));
  await waitFor(() => seen.length === 3, 'the entries after the rotation');
  finished = true;
  await reading;
  assert.deepEqual(seen, ['one\n', 'two\n', 'three\n']);
});
