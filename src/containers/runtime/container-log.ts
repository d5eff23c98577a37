// A container's log as conmon writes it (the CRI "k8s-file" format), read
// back as Docker's json-file driver would have stored it, so `docker logs`
// prints the same. One record per line:
//   2024-05-01T10:00:00.123456789+02:00 stdout F hello
// F ends a line (the record's text is the line without its "\n"), P is a
// piece of a line conmon read without its end. Docker's log copier keeps a
// line's pieces until the line ends or 16 KiB have gathered, and at the
// container's exit writes what is left as a partial entry: the reader joins
// pieces the same way, per stream, and takes an entry's time from the record
// that completes it.
import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { formatRFC3339NanoFixed, nowNs, parseRFC3339Nano, toNs, type TimeBound } from '../../go/timestamps.js';

export type StreamName = 'stdout' | 'stderr';

export interface LogEntry {
  stream: StreamName;
  /** The entry's time in nanoseconds since the epoch. */
  timeNs: bigint;
  /** The logged text, including its trailing "\n" (absent for a partial line). */
  log: string;
  /** What `docker logs` prints for this entry: `log`, prefixed by the fixed-width time and a space when `timestamps`. */
  line: string;
}

/** Docker's log copier writes out a line that grew past this many bytes without a newline. */
export const MAX_PARTIAL_LINE = 16 * 1024;

export interface ReadLogsOptions {
  /** Keep reading new entries until `finished()` says the container's output is complete. */
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
  /**
   * True once the container has exited and its monitor wrote all its output
   * (conmon writes the log before the exit file). Ends a follow; pieces of an
   * unfinished line are shown only then, as Docker flushes them at the exit.
   */
  finished: () => boolean;
  /** Stops following (and reading) when aborted. */
  signal?: AbortSignal;
  /** Poll interval while following, in ms (a file watch wakes the reader earlier). */
  pollMs?: number;
}

interface LogRecord {
  stream: StreamName;
  timeNs: bigint;
  /** P: a piece of a line; F: the end of one. */
  partial: boolean;
  text: Buffer;
}

/** One line of the file (without its "\n"), or null when it is not a record. */
export function parseRecord(line: Buffer): LogRecord | null {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  if (s2 < 0 || line.length < s2 + 2) return null;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tag = line[s2 + 1];
  if (tag !== 0x46 && tag !== 0x50) return null; // F, P
  let timeNs: bigint;
  try {
    timeNs = parseRFC3339Nano(line.toString('latin1', 0, s1));
  } catch {
    return null;
  }
  // "F hello" or "F " (an empty line): the text starts after the tag's space.
  const text = line.length > s2 + 2 ? line.subarray(s2 + 3) : Buffer.alloc(0);
  return { stream, timeNs, partial: tag === 0x50, text };
}

const utf8 = new TextDecoder('utf-8');

/**
 * Turns records into entries the way Docker's copier cuts output: a line's
 * pieces are held per stream until the line ends or MAX_PARTIAL_LINE bytes
 * have gathered.
 */
export class EntryAssembler {
  private readonly pending: Record<StreamName, { parts: Buffer[]; length: number; timeNs: bigint } | null> = { stdout: null, stderr: null };
  /** Streams whose first entry may have begun before the records seen (a tail read from the middle of the file). */
  private readonly unanchored: Set<StreamName>;

  constructor(
    private readonly timestamps: boolean,
    opts: { fromMiddle?: boolean } = {},
  ) {
    this.unanchored = new Set(opts.fromMiddle ? ['stdout', 'stderr'] : []);
  }

  private entry(stream: StreamName, data: Buffer, timeNs: bigint): LogEntry {
    const log = utf8.decode(data);
    return { stream, timeNs, log, line: this.timestamps ? `${formatRFC3339NanoFixed(timeNs)} ${log}` : log };
  }

  /** The entries `r` completes (none, one, or a 16 KiB partial). */
  push(r: LogRecord): LogEntry[] {
    if (this.unanchored.has(r.stream)) {
      // What came before this stream's first line end may be the tail of a line read only in part.
      if (!r.partial) this.unanchored.delete(r.stream);
      return [];
    }
    const p = this.pending[r.stream] ?? { parts: [], length: 0, timeNs: r.timeNs };
    p.parts.push(r.text);
    p.length += r.text.length;
    p.timeNs = r.timeNs;
    if (r.partial) {
      if (p.length < MAX_PARTIAL_LINE) {
        this.pending[r.stream] = p;
        return [];
      }
      this.pending[r.stream] = null;
      return [this.entry(r.stream, Buffer.concat(p.parts), p.timeNs)];
    }
    this.pending[r.stream] = null;
    p.parts.push(Buffer.from('\n'));
    return [this.entry(r.stream, Buffer.concat(p.parts), p.timeNs)];
  }

  /** The pieces of unfinished lines, as the partial entries Docker writes at the container's exit. */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.pending[stream];
      if (p) out.push(this.entry(stream, Buffer.concat(p.parts), p.timeNs));
      this.pending[stream] = null;
    }
    return out.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  }
}

function splitLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl === -1) break;
    out.push(data.subarray(start, nl));
    start = nl + 1;
  }
  return out;
}

/** The offset just past the file's last "\n" (records after it are still being written). */
async function lastLineEnd(fh: FileHandle, size: number): Promise<number> {
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
}

async function readRange(fh: FileHandle, start: number, end: number): Promise<Buffer> {
  const buf = Buffer.alloc(end - start);
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return buf.subarray(0, off);
}

/**
 * The last `want` accepted entries before `end` (a line boundary): records
 * are read backwards in growing spans, each parsed forward from its first
 * full line, until enough entries start inside the span. Returns the
 * assembler that parsed them, holding the pieces of lines still open at `end`.
 */
async function tailEntries(
  fh: FileHandle,
  end: number,
  want: number,
  accept: (e: LogEntry) => boolean,
  timestamps: boolean,
): Promise<{ entries: LogEntry[]; assembler: EntryAssembler }> {
  for (let span = 64 * 1024; ; span *= 4) {
    let start = Math.max(0, end - span);
    let data = await readRange(fh, start, end);
    if (start > 0) {
      // Begin at a record: past the first "\n" of the span.
      const nl = data.indexOf(0x0a);
      data = nl === -1 ? Buffer.alloc(0) : data.subarray(nl + 1);
      start = end - data.length;
    }
    const assembler = new EntryAssembler(timestamps, { fromMiddle: start > 0 });
    const entries: LogEntry[] = [];
    for (const line of splitLines(data)) {
      const r = parseRecord(line);
      if (r) for (const e of assembler.push(r)) if (accept(e)) entries.push(e);
    }
    if (entries.length >= want || start === 0) return { entries: entries.slice(Math.max(0, entries.length - want)), assembler };
  }
}

/** Parses whole records of `data` into `assembler`'s entries. */
function* entriesOf(data: Buffer, assembler: EntryAssembler): Generator<LogEntry> {
  for (const line of splitLines(data)) {
    const r = parseRecord(line);
    if (r) yield* assembler.push(r);
  }
}

/** The file at `path` held open, with its inode (a rotation puts another file at the path). */
interface OpenLog {
  fh: FileHandle;
  ino: number;
}

async function openLog(path: string): Promise<OpenLog | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  return { fh, ino: (await fh.stat()).ino };
}

/** Whether another file than `cur` is at `path` now (conmon reopened the log after a rotation). */
async function replaced(path: string, cur: OpenLog): Promise<boolean> {
  try {
    return (await stat(path)).ino !== cur.ino;
  } catch {
    // Renamed away, not reopened yet: conmon still writes to the one held.
    return false;
  }
}

const gunzipAsync = promisify(gunzip);

/**
 * The rotated generations of a log, oldest first: `<log>.N` or `<log>.N.gz`
 * (log-rotation.ts), N.gz taken over N when both are there for an instant.
 */
export function logGenerations(logPath: string): string[] {
  const name = basename(logPath);
  const byNumber = new Map<number, string>();
  let entries: string[];
  try {
    entries = readdirSync(dirname(logPath));
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!e.startsWith(`${name}.`)) continue;
    const m = /^(\d+)(\.gz)?$/.exec(e.slice(name.length + 1));
    if (!m) continue;
    const n = Number(m[1]);
    if (!byNumber.has(n) || m[2]) byNumber.set(n, e);
  }
  return [...byNumber.entries()].sort((a, b) => b[0] - a[0]).map(([, e]) => join(dirname(logPath), e));
}

/** A generation's records (a rotation moved it away since it was listed: none). */
async function readGeneration(path: string): Promise<Buffer> {
  try {
    const data = await readFile(path);
    return path.endsWith('.gz') ? await gunzipAsync(data) : data;
  } catch {
    return Buffer.alloc(0);
  }
}

/**
 * Entries of a container's log, as `docker logs` shows them. With `follow`,
 * keeps waiting for new ones until `finished()`, `until` has passed, or
 * `signal` aborts.
 */
export async function* readLogs(logPath: string, opts: ReadLogsOptions): AsyncGenerator<LogEntry> {
  const wantStdout = opts.stdout ?? true;
  const wantStderr = opts.stderr ?? true;
  const since = opts.since !== undefined ? toNs(opts.since) : null;
  const until = opts.until !== undefined ? toNs(opts.until) : null;
  const timestamps = opts.timestamps ?? false;
  const pollMs = opts.pollMs ?? 250;
  const signal = opts.signal;
  const accept = (e: LogEntry): boolean =>
    (e.stream === 'stdout' ? wantStdout : wantStderr) && (since === null || e.timeNs >= since) && (until === null || e.timeNs <= until);
  // Read before the file: whatever the log holds then is all the output there will be.
  let done = opts.finished();
  // Oldest first: the generations a rotation left, then the file being written (opened
  // first: a rotation in between makes it generation 1, which is then not read twice).
  let current = await openLog(logPath);
  const generations: string[] = [];
  for (const g of logGenerations(logPath)) {
    const ino = await stat(g).then((st) => st.ino, () => -1);
    if (ino !== -1 && ino !== current?.ino) generations.push(g);
  }
  try {
    yield* follow();
  } finally {
    await current?.fh.close();
  }

  async function* follow(): AsyncGenerator<LogEntry> {
    const size = current ? (await current.fh.stat()).size : 0;
    let pos = 0;
    let assembler = new EntryAssembler(timestamps);
    const tail = opts.tail !== undefined && opts.tail >= 0 ? opts.tail : null;
    if (tail !== null) {
      pos = current ? await lastLineEnd(current.fh, size) : 0;
      let last: LogEntry[];
      if (tail === 0) {
        last = [];
        // Nothing of what is there now: pieces of an open line begin mid-entry.
        assembler = new EntryAssembler(timestamps, { fromMiddle: pos > 0 || generations.length > 0 });
      } else if (generations.length === 0) {
        if (pos > 0 && current) {
          const t = await tailEntries(current.fh, pos, tail, accept, timestamps);
          assembler = t.assembler;
          last = t.entries;
        } else {
          last = [];
        }
      } else {
        // Rotated logs are bounded (max-size x max-file): read through, keeping the last N.
        last = [];
        const keep = (e: LogEntry) => {
          if (!accept(e)) return;
          last.push(e);
          if (last.length > tail) last.shift();
        };
        for (const g of generations) for (const e of entriesOf(await readGeneration(g), assembler)) keep(e);
        if (current && pos > 0) for (const e of entriesOf(await readRange(current.fh, 0, pos), assembler)) keep(e);
      }
      if (tail > 0) {
        const held = done ? assembler.flush().filter(accept) : [];
        // A partial entry the exit left counts among the last N.
        for (const e of [...last, ...held].slice(-tail)) {
          if (signal?.aborted) return;
          yield e;
        }
      }
      if (!opts.follow || done) return;
    } else {
      for (const g of generations) {
        for (const e of entriesOf(await readGeneration(g), assembler)) {
          if (until !== null && e.timeNs > until) return;
          if (signal?.aborted) return;
          if (accept(e)) yield e;
        }
      }
    }

    let carry = Buffer.alloc(0);
    // Records from `pos` to the current end of the file, across a rotation; 'past-until' once an entry is newer than `until`.
    async function* drain(): AsyncGenerator<LogEntry | 'past-until'> {
      if (!current) {
        current = await openLog(logPath);
        pos = 0;
        if (!current) return;
      }
      const buf = Buffer.alloc(256 * 1024);
      for (;;) {
        const { bytesRead } = await current.fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) {
          if (!(await replaced(logPath, current))) return;
          // conmon wrote its last records to the old file before it put the new one in place: read those first.
          const { size: oldSize } = await current.fh.stat();
          if (oldSize > pos) continue;
          await current.fh.close();
          current = await openLog(logPath);
          pos = 0;
          carry = Buffer.alloc(0);
          if (!current) return;
          continue;
        }
        pos += bytesRead;
        const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        const lastNl = data.lastIndexOf(0x0a);
        if (lastNl === -1) {
          carry = data;
          continue;
        }
        carry = Buffer.from(data.subarray(lastNl + 1));
        for (const e of entriesOf(data.subarray(0, lastNl + 1), assembler)) {
          if (until !== null && e.timeNs > until) {
            yield 'past-until';
            return;
          }
          if (accept(e)) yield e;
        }
      }
    }

    let watcher: FSWatcher | null = null;
    let wake: (() => void) | null = null;
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      if (opts.follow && !done) {
        // The directory: a rotation replaces the file.
        const name = basename(logPath);
        try {
          watcher = watch(dirname(logPath), { persistent: false }, (_event, file) => {
            if (file === name) wake?.();
          });
          watcher.on('error', () => undefined);
        } catch {
          watcher = null;
        }
      }
      for (;;) {
        if (signal?.aborted) return;
        for await (const e of drain()) {
          if (e === 'past-until') return;
          if (signal?.aborted) return;
          yield e;
        }
        if (done) {
          for (const e of assembler.flush()) if (accept(e) && (until === null || e.timeNs <= until)) yield e;
          return;
        }
        if (!opts.follow) return;
        if (until !== null && nowNs() > until) return;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
        done = opts.finished();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      watcher?.close();
    }
  }
}
