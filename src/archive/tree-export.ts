// A directory tree as a PAX tar stream. The work is synchronous syscalls in
// bounded slices: each read() of the stream fills one chunk (1 MiB or 512
// members, whichever comes first) and returns to the event loop, which is
// faster than one async call per syscall and keeps the daemon responsive.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { dataExtents, type Extent } from '../fs/extents.js';
import { encodeMember, END_OF_ARCHIVE, memberPadding, type TarMember } from './tar/writer.js';
import { memberName, scanTree, type ScannedEntry } from './tree-scan.js';
import type { TreeProgress } from './tree.js';
import { fromWorkerError, startWorker, type WorkerError } from '../util/worker.js';

const CHUNK = 1 << 20;
const MEMBERS_PER_SLICE = 512;

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
   * is exported as its one member under this name.
   */
  topName?: string;
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

class ChunkBuffer {
  buf = Buffer.allocUnsafe(CHUNK);
  pos = 0;

  get space(): number {
    return this.buf.length - this.pos;
  }

  /** Copies `b` in, handing full chunks to `emit`. */
  put(b: Buffer, emit: (c: Buffer) => void): void {
    let off = 0;
    while (off < b.length) {
      const n = Math.min(this.space, b.length - off);
      b.copy(this.buf, this.pos, off, off + n);
      this.pos += n;
      off += n;
      if (this.space === 0) emit(this.take());
    }
  }

  zeros(n: number, emit: (c: Buffer) => void): void {
    while (n > 0) {
      const k = Math.min(this.space, n);
      this.buf.fill(0, this.pos, this.pos + k);
      this.pos += k;
      n -= k;
      if (this.space === 0) emit(this.take());
    }
  }

  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    return out;
  }
}

function shrank(e: ScannedEntry): Error {
  return new Error(
    `file ./${e.rel.toString()} shrank while it was exported (it is being written to); stop the containers using the volume and retry`,
  );
}

/** Reads `length` bytes at `offset` of `fd` into the chunk buffer. */
function copyRange(fd: number, offset: number, length: number, out: ChunkBuffer, emit: (c: Buffer) => void, e: ScannedEntry): number {
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const want = Math.min(out.space, end - pos);
    const n = readSync(fd, out.buf, out.pos, want, pos);
    if (n === 0) throw shrank(e);
    out.pos += n;
    pos += n;
    if (out.space === 0) emit(out.take());
  }
  return length;
}

/**
 * Generates the archive in chunks; each `next()` does a bounded slice of
 * work. Progress counts file data bytes and members.
 */
export function* tarChunks(root: string, topName: string, progress: TreeProgress, onProgress?: (p: TreeProgress) => void): Generator<Buffer[]> {
  const top = Buffer.from(topName);
  const out = new ChunkBuffer();
  let ready: Buffer[] = [];
  const emit = (c: Buffer): void => {
    ready.push(c);
  };
  let members = 0;
  for (const e of scanTree(root)) {
    const m = toMember(e, top);
    if (m.type === 'file') {
      const fd = openSync(e.abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NOCTTY);
      try {
        // The walk's stat may be stale: the open file decides what is read.
        if (fstatSync(fd, { bigint: true }).ino !== e.stat.ino) throw new Error(`file ./${e.rel.toString()} was replaced while it was exported`);
        const sparse = holesOf(fd, e);
        if (sparse) m.sparse = sparse;
        out.put(encodeMember(m), emit);
        if (sparse) for (const x of sparse) progress.bytes += copyRange(fd, x.offset, x.length, out, emit, e);
        else progress.bytes += copyRange(fd, 0, m.size, out, emit, e);
        out.zeros(memberPadding(m), emit);
      } finally {
        closeSync(fd);
      }
    } else {
      out.put(encodeMember(m), emit);
    }
    progress.files++;
    members++;
    if (ready.length > 0 || members >= MEMBERS_PER_SLICE) {
      members = 0;
      if (ready.length === 0) ready.push(out.take());
      onProgress?.({ ...progress });
      const batch = ready;
      ready = [];
      yield batch;
    }
  }
  out.put(END_OF_ARCHIVE, emit);
  if (out.pos > 0) ready.push(out.take());
  onProgress?.({ ...progress });
  yield ready;
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
      void worker.terminate();
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
    if ('end' in m) {
      ended = true;
      stream.push(null);
      void worker.terminate();
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
