// The json-file log writer and reader, on files only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  JsonLogWriter,
  readLogs,
  formatRFC3339Nano,
  formatRFC3339NanoFixed,
  parseRFC3339Nano,
  toNs,
  encodeLogLine,
  MAX_PARTIAL_LINE,
  type LogEntry,
  type ReadLogsOptions,
} from '../../../src/containers/runtime/json-log.js';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-jsonlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function lines(path: string): Array<{ log: string; stream: string; time: string }> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
}

async function all(path: string, opts: ReadLogsOptions = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(path, opts)) out.push(e);
  return out;
}

/** Polls `cond` until true (fails the test after `ms`). */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const T0 = 1_700_000_000_000_000_000n; // 2023-11-14T22:13:20Z

test("RFC3339Nano as Go formats it: trailing zeros trimmed; fixed width for docker logs -t", () => {
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

test('lines are encoded as Docker does (HTML-safe escapes, control characters)', () => {
  assert.equal(
    encodeLogLine('stdout', 'a<b>&"c"\t\u2028\n', T0),
    '{"log":"a\\u003cb\\u003e\\u0026\\"c\\"\\t\\u2028\\n","stream":"stdout","time":"2023-11-14T22:13:20Z"}\n',
  );
});

test('the writer splits output into lines per stream, keeps partial lines until completed or flushed', (t) => {
  const path = join(tmp(t), 'c-json.log');
  const w = new JsonLogWriter(path);
  w.write('stdout', Buffer.from('one\ntw'), T0);
  w.write('stderr', Buffer.from('err\n'), T0 + 1n);
  w.write('stdout', Buffer.from('o\nthree\nfour'), T0 + 2n);
  // A multi-byte character split across chunks stays intact.
  const snow = Buffer.from('☃\n');
  w.write('stderr', snow.subarray(0, 1), T0 + 3n);
  w.write('stderr', snow.subarray(1), T0 + 4n);
  w.close();
  assert.deepEqual(
    lines(path).map((l) => [l.stream, l.log]),
    [
      ['stdout', 'one\n'],
      ['stderr', 'err\n'],
      ['stdout', 'two\n'],
      ['stdout', 'three\n'],
      ['stderr', '☃\n'],
      ['stdout', 'four'],
    ],
  );
});

test('a line longer than the partial limit is logged in pieces without a newline', (t) => {
  const path = join(tmp(t), 'c-json.log');
  const w = new JsonLogWriter(path);
  w.write('stdout', Buffer.from('x'.repeat(MAX_PARTIAL_LINE + 10)), T0);
  w.write('stdout', Buffer.from('y\n'), T0);
  w.close();
  const ls = lines(path);
  assert.equal(ls.length, 2);
  assert.equal(ls[0]!.log, 'x'.repeat(MAX_PARTIAL_LINE + 10));
  assert.equal(ls[1]!.log, 'y\n');
});

function writeSample(path: string, n: number): void {
  const w = new JsonLogWriter(path);
  for (let i = 0; i < n; i++) {
    w.write(i % 3 === 2 ? 'stderr' : 'stdout', Buffer.from(`line ${i} ${'.'.repeat(i % 50)}\n`), T0 + BigInt(i) * 1_000_000_000n);
  }
  w.close();
}

test('readLogs: all, stream filters, since/until, timestamps', async (t) => {
  const path = join(tmp(t), 'c-json.log');
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
  assert.equal(stamped[0]!.time, '2023-11-14T22:13:29Z');
});

test('readLogs: tail across read blocks, with filters; tail 0; missing file', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'c-json.log');
  writeSample(path, 5000); // ~500 KB: several 64 KiB blocks
  const last = await all(path, { tail: 3 });
  assert.deepEqual(last.map((e) => e.log.split(' ')[1]), ['4997', '4998', '4999']);
  const errs = await all(path, { tail: 2, stdout: false });
  assert.deepEqual(errs.map((e) => e.log.split(' ')[1]), ['4994', '4997']);
  const many = await all(path, { tail: 4000 });
  assert.equal(many.length, 4000);
  assert.equal(many[0]!.log.split(' ')[1], '1000');
  assert.equal((await all(path, { tail: 0 })).length, 0);
  assert.equal((await all(path, { tail: 10_000 })).length, 5000);
  assert.deepEqual(await all(join(dir, 'none-json.log')), []);
});

test('readLogs follow ends after the existing entries when no shim is alive (and no exit.json)', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'c-json.log');
  writeSample(path, 2);
  writeFileSync(join(dir, 'shim.pid'), '999999999\n'); // no such process
  const got: string[] = [];
  for await (const e of readLogs(path, { follow: true, tail: 1, pollMs: 20, stateDir: dir })) got.push(e.log);
  assert.deepEqual(got, ['line 1 .\n']);
});

test('readLogs follow: waits while the writer is alive, ends after exit.json; abort stops it', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'c-json.log');
  // A stand-in for a live shim: the reader checks shim.pid's cmdline for "shim-main".
  const { spawn } = await import('node:child_process');
  const fakeShim = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 60000)', 'shim-main'], { stdio: 'ignore' });
  t.after(() => fakeShim.kill('SIGKILL'));
  await new Promise((r) => fakeShim.once('spawn', r));
  writeFileSync(join(dir, 'shim.pid'), `${fakeShim.pid}\n`);
  const w = new JsonLogWriter(path);
  w.write('stdout', Buffer.from('before\n'));
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of readLogs(path, { follow: true, pollMs: 20 })) got.push(e.log);
  })();
  await until(() => got.length === 1);
  w.write('stdout', Buffer.from('during\n'));
  await until(() => got.length === 2);
  assert.deepEqual(got, ['before\n', 'during\n']);
  w.write('stderr', Buffer.from('last\n'));
  w.close();
  writeFileSync(join(dir, 'exit.json'), '{"exitCode":0}\n');
  await reader;
  assert.deepEqual(got, ['before\n', 'during\n', 'last\n']);

  // Abort ends a follow that would otherwise wait.
  rmSync(join(dir, 'exit.json'));
  const ac = new AbortController();
  const seen: string[] = [];
  const r2 = (async () => {
    for await (const e of readLogs(path, { follow: true, pollMs: 20, signal: ac.signal })) seen.push(e.log);
  })();
  // Whether the reader meets 'fresh' as an existing entry or while following, it sees it once.
  appendFileSync(path, encodeLogLine('stdout', 'fresh\n', T0));
  await until(() => seen.length === 4);
  ac.abort();
  await r2;
  assert.deepEqual(seen, ['before\n', 'during\n', 'last\n', 'fresh\n']);
});
