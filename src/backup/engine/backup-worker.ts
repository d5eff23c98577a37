// A backup thread (file-readers.ts): reads the files it is sent into
// segment buffers, cuts their data into blobs (docs/backup-format.md,
// "Chunking"), hashes each, and asks the main thread which blobs the
// repository lacks (one question a segment); it seals those into its open
// pack and hands each full pack back. Questions in flight are bounded, so
// a thread holds a few segments at most.
import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { dataExtents, type Extent } from '../../fs/extents.js';
import { blobId } from '../repo/blob.js';
import { CdcCutter, chunkingFor, gearTable, type Chunking } from '../repo/chunker.js';
import type { ChunkerParams } from '../repo/config.js';
import type { Aead } from '../repo/crypto.js';
import { PackWriter, type PackedBlob } from '../repo/pack.js';
import { toWorkerError, type WorkerError } from '../../util/worker.js';

export interface BackupWorkerInit {
  aead: Aead;
  publicKey: Uint8Array;
  level: number;
  packSize: number;
  chunkerKey: Uint8Array;
  blobIdKey: Uint8Array;
  chunker: ChunkerParams;
}

export interface FileJob {
  job: number;
  path: Uint8Array;
  /** The block size the file had in the parent snapshot, when it was cut in fixed blocks. */
  parentBlock?: number;
  /**
   * A part of a large file without holes cut in fixed blocks: `length`
   * bytes from `start` (a multiple of `block`), so several threads read
   * one file. The file must still be `size` bytes without holes, or the
   * part reports it changed.
   */
  part?: { start: number; length: number; size: number; block: number };
}

/** The stat fields a file's node and the recheck need (a stat crosses threads as plain fields). */
export interface FileStat {
  dev: bigint;
  ino: bigint;
  mode: bigint;
  nlink: bigint;
  uid: bigint;
  gid: bigint;
  size: bigint;
  blocks: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export type FileOutcome =
  | { job: number; read: { stat: FileStat; readAtNs: bigint; ids: Uint8Array[]; extents?: Extent[]; chunking: Chunking } }
  /** Gone (or no longer a regular file) when it was opened. */
  | { job: number; gone: true }
  /** Shorter than its size while it was read: being written to. */
  | { job: number; shrank: true };

export type BackupWorkerMessage =
  | { op: 'files'; jobs: FileJob[] }
  | { op: 'decision'; segment: number; store: boolean[] }
  | { op: 'flush'; seq: number }
  /** A pack's buffer back from the main thread once it was uploaded: the next pack is built in it. */
  | { op: 'recycle'; buffer: ArrayBuffer };

export interface PackMessage {
  name: string;
  ephemeral: Uint8Array;
  size: number;
  bytes: Uint8Array;
  blobs: PackedBlob[];
}

export type BackupWorkerReply =
  | { op: 'ids'; segment: number; ids: Uint8Array[] }
  | { op: 'outcomes'; outcomes: FileOutcome[] }
  | { op: 'pack'; pack: PackMessage }
  | { op: 'flushed'; seq: number }
  | { op: 'error'; error: WorkerError };

/** A segment holds the largest chunk plus one read. */
const SEGMENT_BYTES = 12 << 20;
const READ_BYTES = 4 << 20;
/** Segments whose question is unanswered, before the thread waits (one: the answer comes while the next is read). */
const MAX_AWAITING = 1;
/** Answered segments kept for reuse. */
const SPARE_SEGMENTS = 1;

class FileShrank extends Error {}

const init = workerData as BackupWorkerInit;
const blobIdKey = Buffer.from(init.blobIdKey);
const publicKey = Buffer.from(init.publicKey);
const cutter = new CdcCutter(gearTable(Buffer.from(init.chunkerKey)), init.chunker);
const post = (m: BackupWorkerReply, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);

interface Slice {
  offset: number;
  length: number;
  id: Buffer;
}

class Segments {
  private seg: Buffer = Buffer.allocUnsafeSlow(SEGMENT_BYTES);
  private readonly free: Buffer[] = [];
  filled = 0;
  private slices: Slice[] = [];
  private next = 0;
  private readonly awaiting = new Map<number, { buf: Buffer; slices: Slice[] }>();
  private wake: (() => void) | undefined;
  private pack: PackWriter | undefined;
  /** Buffers of uploaded packs, to build packs in. */
  readonly packBuffers: Buffer[] = [];
  outcomes: FileOutcome[] = [];

  get buffer(): Buffer {
    return this.seg;
  }

  room(): number {
    return this.seg.length - this.filled;
  }

  emit(start: number, end: number, ids: Buffer[]): void {
    const id = blobId(blobIdKey, this.seg.subarray(start, end));
    ids.push(id);
    this.slices.push({ offset: start, length: end - start, id });
  }

  /**
   * Asks about the segment's blobs and moves on to a fresh segment that
   * starts with the bytes from `keepFrom` on (a chunk still being cut);
   * returns where that chunk now starts (0).
   */
  async roll(keepFrom: number): Promise<number> {
    const next = this.free.pop() ?? Buffer.allocUnsafeSlow(SEGMENT_BYTES);
    this.seg.copy(next, 0, keepFrom, this.filled);
    this.filled -= keepFrom;
    if (this.slices.length > 0) {
      const segment = ++this.next;
      this.awaiting.set(segment, { buf: this.seg, slices: this.slices });
      this.sendOutcomes();
      post({ op: 'ids', segment, ids: this.slices.map((s) => s.id) });
    } else {
      this.release(this.seg);
    }
    this.seg = next;
    this.slices = [];
    // Let answers in, and wait while too many are outstanding.
    await yieldToLoop();
    while (this.awaiting.size > MAX_AWAITING) await new Promise<void>((r) => (this.wake = r));
    return 0;
  }

  /** Keeps a segment for reuse, or lets it go (memory stays bounded by the segments in use). */
  private release(buf: Buffer): void {
    if (this.free.length < SPARE_SEGMENTS) this.free.push(buf);
  }

  sendOutcomes(): void {
    if (this.outcomes.length === 0) return;
    post({ op: 'outcomes', outcomes: this.outcomes });
    this.outcomes = [];
  }

  /** The main thread's answer: packs the blobs to store, frees the segment. */
  decide(segment: number, store: boolean[]): void {
    const s = this.awaiting.get(segment);
    if (!s) throw new Error(`an answer for unknown segment ${segment}`);
    this.awaiting.delete(segment);
    s.slices.forEach((slice, i) => {
      if (!store[i]) return;
      this.pack ??= new PackWriter(init.aead, publicKey, init.level, init.packSize + (init.packSize >> 3), this.packBuffers.pop());
      this.pack.add('data', slice.id, s.buf.subarray(slice.offset, slice.offset + slice.length));
      if (this.pack.size >= init.packSize) this.sealPack();
    });
    this.release(s.buf);
    this.wake?.();
    this.wake = undefined;
  }

  private sealPack(): void {
    if (!this.pack || this.pack.count === 0) return;
    const sealed = this.pack.seal();
    this.pack = undefined;
    const bytes = sealed.bytes;
    post({ op: 'pack', pack: { name: sealed.name, ephemeral: sealed.ephemeral, size: sealed.size, bytes, blobs: sealed.blobs } }, [bytes.buffer as ArrayBuffer]);
  }

  /** Asks about what is left, waits for every answer, seals the open pack. */
  async flush(): Promise<void> {
    await this.roll(this.filled);
    while (this.awaiting.size > 0) await new Promise<void>((r) => (this.wake = r));
    this.sealPack();
  }
}

const segments = new Segments();

const openFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NOCTTY | constants.O_NONBLOCK;

/** Opens a file to read it without moving its atime (O_NOATIME, where allowed); undefined when it is gone. */
function openForReading(path: Buffer): number | undefined {
  try {
    try {
      return openSync(path, openFlags | constants.O_NOATIME);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      return openSync(path, openFlags);
    }
  } catch (e) {
    // Gone, or replaced by a symlink or a special file since the walk saw it.
    if (['ENOENT', 'ELOOP', 'ENXIO'].includes((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
}

/** A file's data extents, and whether it has holes. */
function extentsOf(fd: number, st: BigIntStats): { extents: Extent[]; sparse: boolean } {
  const size = Number(st.size);
  if (size === 0) return { extents: [], sparse: false };
  if (st.blocks * 512n >= st.size) return { extents: [{ offset: 0, length: size }], sparse: false };
  const extents = dataExtents(fd, size);
  const data = extents.reduce((n, x) => n + x.length, 0);
  return data < size ? { extents, sparse: true } : { extents: [{ offset: 0, length: size }], sparse: false };
}

/** Cuts the complete chunks from `chunkStart` on; returns where the unfinished one starts. */
function cut(chunkStart: number, chunking: Chunking, eof: boolean, ids: Buffer[]): number {
  const filled = segments.filled;
  switch (chunking.kind) {
    case 'whole':
      if (eof && filled > chunkStart) {
        segments.emit(chunkStart, filled, ids);
        return filled;
      }
      return chunkStart;
    case 'fixed':
      while (filled - chunkStart >= chunking.block || (eof && filled > chunkStart)) {
        const end = Math.min(chunkStart + chunking.block, filled);
        segments.emit(chunkStart, end, ids);
        chunkStart = end;
      }
      return chunkStart;
    case 'cdc':
      while (chunkStart < filled) {
        const length = cutter.next(segments.buffer, chunkStart, filled, eof);
        if (length === 0) break;
        segments.emit(chunkStart, chunkStart + length, ids);
        chunkStart += length;
      }
      return chunkStart;
  }
}

async function readData(fd: number, extents: Extent[], chunking: Chunking): Promise<Buffer[]> {
  const ids: Buffer[] = [];
  cutter.reset();
  let chunkStart = segments.filled;
  for (let xi = 0; xi < extents.length; xi++) {
    const x = extents[xi]!;
    let pos = x.offset;
    let left = x.length;
    while (left > 0) {
      if (segments.room() < Math.min(left, READ_BYTES)) chunkStart = await segments.roll(chunkStart);
      const n = readSync(fd, segments.buffer, segments.filled, Math.min(left, READ_BYTES, segments.room()), pos);
      if (n === 0) {
        // What was read of it is dropped: the bytes stay in the segment, unnamed.
        throw new FileShrank();
      }
      segments.filled += n;
      pos += n;
      left -= n;
      chunkStart = cut(chunkStart, chunking, xi === extents.length - 1 && left === 0, ids);
    }
  }
  return ids;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

async function readFile(job: FileJob): Promise<FileOutcome> {
  const readAtNs = nowNs();
  const fd = openForReading(Buffer.from(job.path.buffer, job.path.byteOffset, job.path.byteLength));
  if (fd === undefined) return { job: job.job, gone: true };
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) return { job: job.job, gone: true };
    const part = job.part;
    if (part && (st.size !== BigInt(part.size) || st.blocks * 512n < st.size)) return { job: job.job, shrank: true };
    const { extents, sparse } = part ? { extents: [{ offset: part.start, length: part.length }], sparse: false } : extentsOf(fd, st);
    const chunking: Chunking = part ? { kind: 'fixed', block: part.block } : chunkingFor(extents.reduce((n, x) => n + x.length, 0), init.chunker, job.parentBlock);
    let ids: Buffer[];
    try {
      ids = await readData(fd, extents, chunking);
    } catch (e) {
      if (e instanceof FileShrank) return { job: job.job, shrank: true };
      throw e;
    }
    const stat: FileStat = { dev: st.dev, ino: st.ino, mode: st.mode, nlink: st.nlink, uid: st.uid, gid: st.gid, size: st.size, blocks: st.blocks, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
    return { job: job.job, read: { stat, readAtNs, ids, chunking, ...(sparse ? { extents } : {}) } };
  } finally {
    closeSync(fd);
  }
}

const jobs: FileJob[] = [];
const flushes: number[] = [];
let running = false;
let failed = false;

async function run(): Promise<void> {
  running = true;
  try {
    while (jobs.length > 0 || flushes.length > 0) {
      while (jobs.length > 0) {
        // Awaited before the array is looked up: sending outcomes meanwhile replaces it.
        const outcome = await readFile(jobs.shift()!);
        segments.outcomes.push(outcome);
      }
      segments.sendOutcomes();
      if (flushes.length > 0) {
        await segments.flush();
        segments.sendOutcomes();
        for (const seq of flushes.splice(0)) post({ op: 'flushed', seq });
      }
    }
  } catch (e) {
    failed = true;
    post({ op: 'error', error: toWorkerError(e) });
  } finally {
    running = false;
  }
}

parentPort!.on('message', (m: BackupWorkerMessage) => {
  if (failed) return;
  try {
    if (m.op === 'decision') segments.decide(m.segment, m.store);
    else if (m.op === 'recycle') {
      if (segments.packBuffers.length < 2) segments.packBuffers.push(Buffer.from(m.buffer));
    } else {
      if (m.op === 'files') jobs.push(...m.jobs);
      else flushes.push(m.seq);
      if (!running) void run();
    }
  } catch (e) {
    failed = true;
    post({ op: 'error', error: toWorkerError(e) });
  }
});
