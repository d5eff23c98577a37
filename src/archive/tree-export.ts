// A directory tree as a PAX tar stream. The work is synchronous syscalls in
// bounded slices: each read() of the stream fills one chunk (1 MiB or 512
// members, whichever comes first) and returns to the event loop, which is
// faster than one async call per syscall and keeps the daemon responsive.
import { closeSync, constants, fdatasync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { appendRange } from '../fs/copy-range.js';
import { dataExtents, type Extent } from '../fs/extents.js';
import { ALIGN_DATA_FROM, encodeMember, END_OF_ARCHIVE, memberPadding, type TarMember } from './tar/writer.js';
import { memberName, scanTree, type ScannedEntry } from './tree-scan.js';
import type { TreeProgress } from './tree.js';
import { fromWorkerError, startWorker, terminateWorker, type WorkerError } from '../util/worker.js';

const CHUNK = 1 << 20;
const MEMBERS_PER_SLICE = 512;
/** The most file data one step of the encoder copies. */
const PIECE = 16 << 20;
/** A file export's one buffer: small enough to stay in the CPU's cache, large enough for few syscalls. */
const WRITE_BUFFER = 256 << 10;
/** File data at least this long goes from file to file with copy_file_range (shorter: through the buffer, batched with its neighbours). */
const DIRECT_COPY = 16 << 10;
/** File data exported before background flushes start (ExportOptions.writeback). */
const WRITEBACK_FROM = 16 << 20;

export interface ExportOptions {
  onProgress?: (p: TreeProgress) => void;
  signal?: AbortSignal;
  /**
   * Read and encode on a worker thread, so that reading files overlaps with
   * whatever consumes the stream (a socket): worth its start-up for large trees.
   */
  worker?: boolean;
  /**
   * The root's member name; what is below it is named "topName/...". The
   * default "." gives "./" and "./..."; docker cp names a directory's tree
   * after its basename. A root that is not a directory (a file, a symlink)
   * is exported as its one member under this name. An empty name gives the
   * tree's members bare names ("bin/sh") and the root none, as docker export.
   */
  topName?: string;
  /**
   * exportTreeToFd on a worker: the caller flushes the file when it is done
   * (fsync), so writeback is kept going while the archive is written
   * (fdatasync on the thread pool, one after another, from WRITEBACK_FROM
   * bytes of data on): the final flush finds little left. A write error
   * one of them reports fails the export.
   */
  writeback?: boolean;
}

function toMember(e: ScannedEntry, top: Buffer): TarMember {
  const m: TarMember = {
    path: memberName(e.rel, top),
    type: e.hardlinkTo ? 'hardlink' : e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.hardlinkTo ? 0 : e.size,
    mtimeNs: e.mtimeNs,
    xattrs: e.xattrs,
  };
  if (e.acls) m.acls = e.acls;
  if (e.hardlinkTo) m.linkpath = memberName(e.hardlinkTo, top);
  else if (e.linkTarget) m.linkpath = e.linkTarget;
  if (e.devmajor !== undefined) {
    m.devmajor = e.devmajor;
    m.devminor = e.devminor ?? 0;
  }
  return m;
}

/** A file's extents when it has holes, else undefined (stored whole). */
function holesOf(fd: number, e: ScannedEntry): Extent[] | undefined {
  if (e.size === 0 || e.stat.blocks * 512n >= e.stat.size) return undefined;
  const extents = dataExtents(fd, e.size);
  const data = extents.reduce((n, x) => n + x.length, 0);
  if (data >= e.size) return undefined;
  // A hole at the end is a final empty extent at the real size: GNU tar sizes the file by its last extent.
  const last = extents[extents.length - 1];
  if (!last || last.offset + last.length < e.size) extents.push({ offset: e.size, length: 0 });
  return extents;
}

/** Where the encoder puts the archive: chunks handed on (a stream), or writes into a file. */
interface TarSink {
  /** Bytes of the archive so far: where the next put() lands. */
  readonly offset: number;
  put(b: Buffer): void;
  zeros(n: number): void;
  /** Reads `length` bytes at `offset` of `fd` (the file `e`) into the archive. */
  copyFrom(fd: number, offset: number, length: number, e: ScannedEntry): void;
}

function shrank(e: ScannedEntry): Error {
  return new Error(
    `file ./${e.rel.toString()} shrank while it was exported (it is being written to); stop the containers using the volume and retry`,
  );
}

/** Fills fresh 1 MiB chunks and hands each full one to `emit` (the chunks leave: they cannot be reused). */
class ChunkBuffer implements TarSink {
  buf = Buffer.allocUnsafe(CHUNK);
  pos = 0;
  /** Bytes in the chunks taken so far. */
  private taken = 0;

  get offset(): number {
    return this.taken + this.pos;
  }

  constructor(private readonly emit: (c: Buffer) => void) {}

  private get space(): number {
    return this.buf.length - this.pos;
  }

  put(b: Buffer): void {
    let off = 0;
    while (off < b.length) {
      const n = Math.min(this.space, b.length - off);
      b.copy(this.buf, this.pos, off, off + n);
      this.pos += n;
      off += n;
      if (this.space === 0) this.emit(this.take());
    }
  }

  zeros(n: number): void {
    while (n > 0) {
      const k = Math.min(this.space, n);
      this.buf.fill(0, this.pos, this.pos + k);
      this.pos += k;
      n -= k;
      if (this.space === 0) this.emit(this.take());
    }
  }

  copyFrom(fd: number, offset: number, length: number, e: ScannedEntry): void {
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const n = readSync(fd, this.buf, this.pos, Math.min(this.space, end - pos), pos);
      if (n === 0) throw shrank(e);
      this.pos += n;
      pos += n;
      if (this.space === 0) this.emit(this.take());
    }
  }

  take(): Buffer {
    this.taken += this.pos;
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    return out;
  }
}

/**
 * Writes the archive into a file descriptor through one buffer that is used
 * again and again: no garbage, and the same few pages stay in the cache.
 */
class FdWriter implements TarSink {
  private readonly buf = Buffer.allocUnsafe(WRITE_BUFFER);
  private pos = 0;
  /** Bytes in the file so far (flushed or copied). */
  private written = 0;

  constructor(private readonly fd: number) {}

  get offset(): number {
    return this.written + this.pos;
  }

  put(b: Buffer): void {
    let off = 0;
    while (off < b.length) {
      const n = Math.min(this.buf.length - this.pos, b.length - off);
      b.copy(this.buf, this.pos, off, off + n);
      this.pos += n;
      off += n;
      if (this.pos === this.buf.length) this.flush();
    }
  }

  zeros(n: number): void {
    while (n > 0) {
      const k = Math.min(this.buf.length - this.pos, n);
      this.buf.fill(0, this.pos, this.pos + k);
      this.pos += k;
      n -= k;
      if (this.pos === this.buf.length) this.flush();
    }
  }

  copyFrom(fd: number, offset: number, length: number, e: ScannedEntry): void {
    if (length >= DIRECT_COPY) {
      // File to file inside the kernel: one copy instead of two, and no trip through this thread.
      // Data that encodeMember aligned is shared (reflinked) where the filesystem can.
      this.flush();
      if (appendRange(fd, offset, this.fd, length, e.size >= ALIGN_DATA_FROM) < length) throw shrank(e);
      this.written += length;
      return;
    }
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const n = readSync(fd, this.buf, this.pos, Math.min(this.buf.length - this.pos, end - pos), pos);
      if (n === 0) throw shrank(e);
      this.pos += n;
      pos += n;
      if (this.pos === this.buf.length) this.flush();
    }
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.written += this.pos;
    this.pos = 0;
  }
}

/** Encodes the tree into `sink`, a member (or a piece of a large file) per step; progress counts file data bytes and members. */
function* encodeTree(root: string, topName: string, sink: TarSink, progress: TreeProgress): Generator<void> {
  const top = Buffer.from(topName);
  for (const e of scanTree(root)) {
    if (top.length === 0 && e.rel.length === 0) continue;
    const m = toMember(e, top);
    if (m.type === 'file') {
      const fd = openSync(e.abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NOCTTY);
      try {
        // The walk's stat may be stale: the open file decides what is read.
        if (fstatSync(fd, { bigint: true }).ino !== e.stat.ino) throw new Error(`file ./${e.rel.toString()} was replaced while it was exported`);
        const sparse = holesOf(fd, e);
        if (sparse) m.sparse = sparse;
        sink.put(encodeMember(m, sink.offset));
        for (const x of sparse ?? [{ offset: 0, length: m.size }]) {
          // A large file is copied in pieces, a step each: progress moves while it is read.
          for (let off = 0; off < x.length; off += PIECE) {
            if (off > 0) yield;
            const n = Math.min(PIECE, x.length - off);
            sink.copyFrom(fd, x.offset + off, n, e);
            progress.bytes += n;
          }
        }
        // Progress counts a sparse file's holes too, as the totals (measureTree) do.
        if (sparse) progress.bytes += m.size - sparse.reduce((k, x) => k + x.length, 0);
        sink.zeros(memberPadding(m));
      } finally {
        closeSync(fd);
      }
    } else {
      sink.put(encodeMember(m));
    }
    progress.files++;
    yield;
  }
  sink.put(END_OF_ARCHIVE);
}

/**
 * Generates the archive in chunks; each `next()` does a bounded slice of
 * work (a full chunk, or 512 members).
 */
export function* tarChunks(root: string, topName: string, progress: TreeProgress, onProgress?: (p: TreeProgress) => void): Generator<Buffer[]> {
  let ready: Buffer[] = [];
  const out = new ChunkBuffer((c) => ready.push(c));
  let steps = 0;
  for (const _ of encodeTree(root, topName, out, progress)) {
    if (ready.length > 0 || ++steps >= MEMBERS_PER_SLICE) {
      steps = 0;
      if (ready.length === 0) ready.push(out.take());
      onProgress?.({ ...progress });
      const batch = ready;
      ready = [];
      yield batch;
    }
  }
  if (out.pos > 0) ready.push(out.take());
  onProgress?.({ ...progress });
  yield ready;
}

/**
 * Writes the archive of `root` into `fd` (an open file), synchronously,
 * calling `onSlice` every 512 members or 16 MiB: the body of a worker export to a file.
 */
export function writeTarTo(root: string, topName: string, fd: number, progress: TreeProgress, onSlice: () => void): void {
  const out = new FdWriter(fd);
  let steps = 0;
  let bytes = 0;
  for (const _ of encodeTree(root, topName, out, progress)) {
    if (++steps >= MEMBERS_PER_SLICE || progress.bytes - bytes >= PIECE) {
      steps = 0;
      bytes = progress.bytes;
      onSlice();
    }
  }
  out.flush();
}

/** A plain PAX tar of the tree at `root`, member names "./..." (or below `topName`); errors (destroys) on any unreadable file. */
export function exportTree(root: string, opts: ExportOptions = {}): Readable {
  if (opts.worker) return exportInWorker(root, opts);
  const progress: TreeProgress = { bytes: 0, files: 0 };
  let gen: Generator<Buffer[]> | undefined;
  const stream = new Readable({
    highWaterMark: 4 * CHUNK,
    read(): void {
      try {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('export aborted');
        gen ??= tarChunks(root, opts.topName ?? '.', progress, opts.onProgress);
        for (;;) {
          const r = gen.next();
          if (r.done) {
            this.push(null);
            return;
          }
          let more = true;
          for (const c of r.value) if (c.length > 0) more = this.push(c);
          if (r.value.some((c) => c.length > 0) || !more) return;
        }
      } catch (e) {
        this.destroy(e as Error);
      }
    },
    destroy(err, cb): void {
      try {
        gen?.return(undefined as never);
      } catch {
        // closing the walk's open file failed: nothing left to do
      }
      cb(err);
    },
  });
  return stream;
}

/** Batches a worker may send ahead of what the stream has taken. */
const BATCHES_AHEAD = 4;

export type ExportWorkerMessage =
  | { batch: Uint8Array[]; progress: TreeProgress }
  | { progress: TreeProgress }
  | { end: true; progress: TreeProgress }
  | { error: WorkerError };

/** exportTree on a worker thread: batches arrive as transferred buffers, one credit per batch taken. */
function exportInWorker(root: string, opts: ExportOptions): Readable {
  const worker = startWorker(import.meta.url, 'tree-export-worker', { root, topName: opts.topName ?? '.', credits: BATCHES_AHEAD });
  let owed = 0;
  let ended = false;
  const stream = new Readable({
    highWaterMark: 4 * CHUNK,
    read(): void {
      if (owed > 0) {
        worker.postMessage(owed);
        owed = 0;
      }
    },
    destroy(err, cb): void {
      void terminateWorker(worker);
      cb(err);
    },
  });
  const onAbort = (): void => void stream.destroy(opts.signal?.reason ?? new Error('export aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => opts.signal?.removeEventListener('abort', onAbort));
  worker.on('message', (m: ExportWorkerMessage) => {
    if ('error' in m) {
      stream.destroy(fromWorkerError(m.error));
      return;
    }
    opts.onProgress?.(m.progress);
    if (!('batch' in m) && !('end' in m)) return;
    if ('end' in m) {
      ended = true;
      stream.push(null);
      void terminateWorker(worker);
      return;
    }
    let more = true;
    for (const c of m.batch) more = stream.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    if (more) worker.postMessage(1);
    else owed++;
  });
  worker.on('error', (e) => stream.destroy(e));
  worker.on('exit', (code) => {
    if (!ended && !stream.destroyed) stream.destroy(new Error(`the export thread exited with code ${code}`));
  });
  return stream;
}

/**
 * Writes the archive of `root` into `fd` (a regular file the caller owns and
 * closes), on a worker thread when `worker`, else here in bounded slices.
 * Resolves with what was written; rejects on an unreadable file or a write
 * error (a full disk), with the file then holding a partial archive.
 */
export function exportTreeToFd(root: string, fd: number, opts: ExportOptions = {}): Promise<TreeProgress> {
  const progress: TreeProgress = { bytes: 0, files: 0 };
  if (!opts.worker) {
    return new Promise((resolve, reject) => {
      const out = new FdWriter(fd);
      const steps = encodeTree(root, opts.topName ?? '.', out, progress);
      const slice = (): void => {
        try {
          for (let i = 0; i < MEMBERS_PER_SLICE; i++) {
            if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('export aborted');
            if (steps.next().done) {
              out.flush();
              opts.onProgress?.({ ...progress });
              resolve({ ...progress });
              return;
            }
          }
          opts.onProgress?.({ ...progress });
          setImmediate(slice);
        } catch (e) {
          steps.return(undefined);
          reject(e as Error);
        }
      };
      slice();
    });
  }
  if (opts.signal?.aborted) return Promise.reject(opts.signal.reason ?? new Error('export aborted'));
  return new Promise((resolve, reject) => {
    const worker = startWorker(import.meta.url, 'tree-export-worker', { root, topName: opts.topName ?? '.', fd });
    let settled = false;
    // Writeback of the archive kept going while it is written (fdatasync on the thread pool, one after another).
    let flushing = false;
    let flushFailure: Error | undefined;
    let flushesDone: () => void = () => undefined;
    const flush = (): void => {
      flushing = true;
      fdatasync(fd, (err) => {
        flushing = false;
        // A write error is reported once: the caller's final flush would not see it again.
        if (err) flushFailure ??= err;
        if (!settled && !flushFailure) flush();
        else flushesDone();
      });
    };
    const finish = (e?: Error, result?: TreeProgress): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      void terminateWorker(worker);
      // The descriptor stays in use until the flush under way returns.
      void new Promise<void>((r) => (flushing ? (flushesDone = r) : r())).then(() => {
        const err = e ?? flushFailure;
        if (err) reject(err);
        else resolve(result!);
      });
    };
    const onAbort = (): void => finish(opts.signal?.reason ?? new Error('export aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: ExportWorkerMessage) => {
      if ('error' in m) return finish(fromWorkerError(m.error));
      opts.onProgress?.(m.progress);
      if ('end' in m) finish(undefined, m.progress);
      else if (opts.writeback && !flushing && !flushFailure && m.progress.bytes >= WRITEBACK_FROM) flush();
    });
    worker.on('error', (e) => finish(e));
    worker.on('exit', (code) => finish(new Error(`the export thread exited with code ${code}`)));
  });
}
