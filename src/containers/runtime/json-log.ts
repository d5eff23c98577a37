// Docker's json-file log format: one JSON object per line,
//   {"log":"hello\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
// The writer (used by the shim) splits container output into lines the way
// Docker's log copier does; the reader (used by `docker logs`) filters by
// stream and time, tails, and follows until the container's exit status file
// appears.
import { openSync, writeSync, closeSync, existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SystemError } from '../../errors.js';

export type StreamName = 'stdout' | 'stderr';

export interface LogEntry {
  stream: StreamName;
  /** The entry's time as stored (RFC3339Nano, UTC). */
  time: string;
  /** The same time in nanoseconds since the epoch. */
  timeNs: bigint;
  /** The logged text, including its trailing "\n" (absent for a partial line). */
  log: string;
  /** What `docker logs` prints for this entry: `log`, prefixed by the fixed-width time and a space when `timestamps`. */
  line: string;
}

// ---------------------------------------------------------------------------
// Time

const epochAnchorNs = BigInt(Date.now()) * 1_000_000n;
const hrAnchor = process.hrtime.bigint();

/** Wall-clock time with nanosecond resolution (monotonic offsets from one Date.now() anchor). */
export function nowNs(): bigint {
  return epochAnchorNs + (process.hrtime.bigint() - hrAnchor);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Go's time.RFC3339Nano in UTC: fraction with trailing zeros trimmed (none if zero). */
export function formatRFC3339Nano(ns: bigint): string {
  return formatTime(ns, false);
}

/** Docker's RFC3339NanoFixed (always 9 fraction digits), used by `docker logs -t`. */
export function formatRFC3339NanoFixed(ns: bigint): string {
  return formatTime(ns, true);
}

function formatTime(ns: bigint, fixed: boolean): string {
  let secs = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    secs -= 1n;
  }
  const d = new Date(Number(secs) * 1000);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  let f = frac.toString().padStart(9, '0');
  if (!fixed) f = f.replace(/0+$/, '');
  return f === '' ? `${base}Z` : `${base}.${f}Z`;
}

/** Parses an RFC3339 time (any fraction length, Z or ±hh:mm) into epoch nanoseconds. */
export function parseRFC3339Nano(s: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new SystemError(`invalid RFC3339 time: ${s}`);
  const [, y, mo, d, h, mi, se, fr, tz] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (tz && tz !== 'Z' && tz !== 'z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const [th, tm] = tz.slice(1).split(':');
    ms -= sign * (Number(th) * 60 + Number(tm)) * 60_000;
  }
  return BigInt(ms) * 1_000_000n + BigInt((fr ?? '').padEnd(9, '0') || '0');
}

/** A `since`/`until` bound: a Date, epoch seconds (may be fractional), epoch nanoseconds (bigint) or an RFC3339 string. */
export type TimeBound = Date | number | bigint | string;

export function toNs(t: TimeBound): bigint {
  if (typeof t === 'bigint') return t;
  if (t instanceof Date) return BigInt(t.getTime()) * 1_000_000n;
  if (typeof t === 'number') {
    const secs = Math.floor(t);
    return BigInt(secs) * 1_000_000_000n + BigInt(Math.round((t - secs) * 1e9));
  }
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(t);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return parseRFC3339Nano(t);
}

// ---------------------------------------------------------------------------
// Encoding

/** JSON string encoding as Go's encoder writes it (HTML-safe escapes for < > &, U+2028/2029). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function encodeLogLine(stream: StreamName, log: string, timeNs: bigint): string {
  return `{"log":${goJsonString(log)},"stream":"${stream}","time":"${formatRFC3339Nano(timeNs)}"}\n`;
}

/** Docker's log copier flushes a line that grew past this many bytes without a newline. */
export const MAX_PARTIAL_LINE = 16 * 1024;

const utf8 = new TextDecoder('utf-8');

/**
 * Appends container output to a json-file log. Writes are synchronous (one
 * write(2) per chunk of output) so that everything received is on disk, in
 * order, before the shim publishes the exit status.
 */
export class JsonLogWriter {
  private fd: number | null;
  private readonly partial: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  private readonly partialLen: Record<StreamName, number> = { stdout: 0, stderr: 0 };

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o640);
  }

  /** Logs a chunk of a stream's output received at `timeNs`. */
  write(stream: StreamName, chunk: Buffer, timeNs: bigint = nowNs()): void {
    if (this.fd === null || chunk.length === 0) return;
    let out = '';
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl + 1);
      out += encodeLogLine(stream, this.takePartial(stream, piece), timeNs);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.partial[stream].push(Buffer.from(rest));
      this.partialLen[stream] += rest.length;
      if (this.partialLen[stream] >= MAX_PARTIAL_LINE) {
        out += encodeLogLine(stream, this.takePartial(stream, Buffer.alloc(0)), timeNs);
      }
    }
    if (out) this.append(out);
  }

  /** Writes out any unterminated lines (as Docker does when the container exits). */
  flush(timeNs: bigint = nowNs()): void {
    let out = '';
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partialLen[stream] > 0) out += encodeLogLine(stream, this.takePartial(stream, Buffer.alloc(0)), timeNs);
    }
    if (out) this.append(out);
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }

  private takePartial(stream: StreamName, tail: Buffer): string {
    const parts = this.partial[stream];
    let buf = tail;
    if (parts.length > 0) {
      buf = Buffer.concat([...parts, tail]);
      this.partial[stream] = [];
      this.partialLen[stream] = 0;
    }
    return utf8.decode(buf);
  }

  private append(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd!, buf, off, buf.length - off);
  }
}

// ---------------------------------------------------------------------------
// Reading

export interface ReadLogsOptions {
  /** Keep reading new entries until the container exits (exit.json appears or its shim is gone). */
  follow?: boolean;
  since?: TimeBound;
  until?: TimeBound;
  /** Only the last N entries (after stream/time filtering); undefined or negative = all. */
  tail?: number;
  /** Which streams; both default to true. */
  stdout?: boolean;
  stderr?: boolean;
  /** Prefix `line` with the entry's time (RFC3339NanoFixed) and a space. */
  timestamps?: boolean;
  /** The container's state dir (exit.json, shim.pid); default: the log file's directory. */
  stateDir?: string;
  /** Stops following (and reading) when aborted. */
  signal?: AbortSignal;
  /** Poll interval while following, in ms (a file watch wakes the reader earlier). */
  pollMs?: number;
}

function parseLine(text: string, timestamps: boolean): LogEntry | null {
  if (!text) return null;
  let obj: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    obj = JSON.parse(text) as typeof obj;
  } catch {
    return null;
  }
  if (typeof obj.log !== 'string' || typeof obj.time !== 'string') return null;
  const stream: StreamName = obj.stream === 'stderr' ? 'stderr' : 'stdout';
  let timeNs: bigint;
  try {
    timeNs = parseRFC3339Nano(obj.time);
  } catch {
    return null;
  }
  const line = timestamps ? `${formatRFC3339NanoFixed(timeNs)} ${obj.log}` : obj.log;
  return { stream, time: obj.time, timeNs, log: obj.log, line };
}

/** True when the shim recorded in `<stateDir>/shim.pid` is gone (or never wrote one). */
function shimGone(stateDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(stateDir, 'shim.pid'), 'utf8').trim());
  } catch {
    return true;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shim-main');
  } catch {
    return true;
  }
}

/** Reads complete lines backwards from `end` until `want` lines pass `accept` (or the file starts). */
async function tailEntries(
  path: string,
  end: number,
  want: number,
  accept: (e: LogEntry) => boolean,
  timestamps: boolean,
): Promise<LogEntry[]> {
  const fh = await open(path, 'r');
  try {
    const found: LogEntry[] = [];
    let pos = end;
    let carry = Buffer.alloc(0);
    const block = 64 * 1024;
    while (pos > 0 && found.length < want) {
      const size = Math.min(block, pos);
      pos -= size;
      const buf = Buffer.alloc(size);
      await fh.read(buf, 0, size, pos);
      let data = Buffer.concat([buf, carry]);
      // Everything before the first newline may be the end of an earlier line.
      let lines: Buffer[];
      if (pos > 0) {
        const first = data.indexOf(0x0a);
        if (first === -1) {
          carry = data;
          continue;
        }
        carry = data.subarray(0, first + 1);
        data = data.subarray(first + 1);
      } else {
        carry = Buffer.alloc(0);
      }
      lines = splitLines(data);
      for (let i = lines.length - 1; i >= 0 && found.length < want; i--) {
        const e = parseLine(lines[i]!.toString('utf8'), timestamps);
        if (e && accept(e)) found.push(e);
      }
    }
    if (carry.length > 0 && found.length < want) {
      const lines = splitLines(carry);
      for (let i = lines.length - 1; i >= 0 && found.length < want; i--) {
        const e = parseLine(lines[i]!.toString('utf8'), timestamps);
        if (e && accept(e)) found.push(e);
      }
    }
    return found.reverse();
  } finally {
    await fh.close();
  }
}

function splitLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl === -1) break;
    if (nl > start) out.push(data.subarray(start, nl));
    start = nl + 1;
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

/**
 * Entries of a json-file log, as `docker logs` shows them. With `follow`, the
 * generator keeps waiting for new entries until the container's exit status
 * is written (the shim writes all output before it), its shim is gone,
 * `until` has passed, or `signal` aborts.
 */
export async function* readLogs(logPath: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
  const wantStdout = opts.stdout ?? true;
  const wantStderr = opts.stderr ?? true;
  const since = opts.since !== undefined ? toNs(opts.since) : null;
  const until = opts.until !== undefined ? toNs(opts.until) : null;
  const timestamps = opts.timestamps ?? false;
  const stateDir = opts.stateDir ?? dirname(logPath);
  const exitPath = join(stateDir, 'exit.json');
  const pollMs = opts.pollMs ?? 250;
  const signal = opts.signal;
  const accept = (e: LogEntry): boolean =>
    (e.stream === 'stdout' ? wantStdout : wantStderr) && (since === null || e.timeNs >= since) && (until === null || e.timeNs <= until);

  let size = 0;
  try {
    size = (await stat(logPath)).size;
  } catch {
    size = 0;
  }
  let pos = 0;
  const tail = opts.tail !== undefined && opts.tail >= 0 ? opts.tail : null;
  if (tail !== null) {
    if (tail > 0 && size > 0) {
      for (const e of await tailEntries(logPath, size, tail, accept, timestamps)) {
        if (signal?.aborted) return;
        yield e;
      }
    }
    // The tail ends at a line boundary only if the file does; find it.
    pos = await lastLineEnd(logPath, size);
  }

  let carry = Buffer.alloc(0);
  // Reads from `pos` to the current end of the file, yielding complete lines.
  async function* drain(): AsyncGenerator<LogEntry | 'past-until'> {
    let fh;
    try {
      fh = await open(logPath, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(256 * 1024);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        const lastNl = data.lastIndexOf(0x0a);
        if (lastNl === -1) {
          carry = data;
          continue;
        }
        carry = Buffer.from(data.subarray(lastNl + 1));
        for (const l of splitLines(data.subarray(0, lastNl + 1))) {
          const e = parseLine(l.toString('utf8'), timestamps);
          if (!e) continue;
          if (until !== null && e.timeNs > until) {
            yield 'past-until';
            return;
          }
          if (accept(e)) yield e;
        }
      }
    } finally {
      await fh.close();
    }
  }

  if (tail === null || opts.follow) {
    // Without tail: everything from the start. With tail + follow: what came after the tail.
    for await (const e of drain()) {
      if (e === 'past-until') return;
      if (signal?.aborted) return;
      yield e;
    }
  }
  if (!opts.follow) return;

  let watcher: FSWatcher | null = null;
  let wake: (() => void) | null = null;
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    try {
      watcher = watch(logPath, { persistent: false }, () => wake?.());
    } catch {
      watcher = null;
    }
    for (;;) {
      if (signal?.aborted) return;
      const finished = existsSync(exitPath) || shimGone(stateDir);
      for await (const e of drain()) {
        if (e === 'past-until') return;
        if (signal?.aborted) return;
        yield e;
      }
      if (finished) return;
      if (until !== null && nowNs() > until) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    watcher?.close();
  }
}

async function lastLineEnd(path: string, size: number): Promise<number> {
  if (size === 0) return 0;
  const fh = await open(path, 'r');
  try {
    let pos = size;
    const buf = Buffer.alloc(4096);
    while (pos > 0) {
      const n = Math.min(buf.length, pos);
      pos -= n;
      await fh.read(buf, 0, n, pos);
      const i = buf.subarray(0, n).lastIndexOf(0x0a);
      if (i !== -1) return pos + i + 1;
    }
    return 0;
  } finally {
    await fh.close();
  }
}
