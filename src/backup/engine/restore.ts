// Restoring a snapshot into an empty staging directory (docs/backups.md,
// "Restore"), with the fidelity of a volume import. This thread walks the
// snapshot's trees and makes directories, links and special files; the data
// is read pack by pack (a run of needed boxes at a time) and written by
// restore threads, each owning the files of the directories dealt to it:
// every blob is checked against its ID when opened, every piece written is
// read back and compared with it, every file's size checked, then its
// metadata applied. Directories get theirs last, deepest first. Names come from trees whose
// decoder refuses '/', '.', '..' and repeats; everything is created anew
// (O_EXCL, mkdir, mknod, symlink) beneath directories this restore made,
// and nothing is followed, so nothing lands outside the staging directory.
import { closeSync, constants, ftruncateSync, linkSync, mkdirSync, openSync, readdirSync, symlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { applyFileMeta, applyPathMeta, PendingDirectories, type EntryMeta } from '../../archive/tree-write.js';
import { InvalidParameter } from '../../errors.js';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../../fs/nodes.js';
import { joinPath } from '../../fs/path.js';
import { StateWaiters } from '../../util/state-waiters.js';
import { fromWorkerError, ownedBuffer, startWorker, terminateWorker } from '../../util/worker.js';
import { idKey, type BlobLocation } from '../repo/blob-index.js';
import { shortId } from '../repo/blob.js';
import { RepositoryCorrupt } from '../repo/errors.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import { dataExtentsOf, type FileNode, type TreeNode } from '../repo/tree.js';
import type { BlobJob, BlobWrite, FileSpec, Piece, RestoreMessage, RestoreReply, RestoreWorkerInit } from './restore-worker.js';
import { TreeReader, walkSnapshot } from './tree-reader.js';

export interface RestoreProgress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

export interface RestoreOptions {
  onProgress?: (p: RestoreProgress) => void;
  signal?: AbortSignal;
  /** Restore threads (default: the cores, at most 4). */
  threads?: number;
}

export interface RestoreResult {
  snapshot: SnapshotRecord;
  files: number;
  bytes: number;
}

/** The boxes of `blobs` copied out of `data` into a buffer of their own, with their positions moved to match. */
function compactCopy(data: Buffer, blobs: BlobJob[]): { data: Buffer; blobs: BlobJob[] } {
  const out = Buffer.allocUnsafeSlow(blobs.reduce((n, b) => n + b.length, 0));
  let at = 0;
  const moved = blobs.map((b) => {
    data.copy(out, at, b.at, b.at + b.length);
    const m = { ...b, at };
    at += b.length;
    return m;
  });
  return { data: out, blobs: moved };
}

/** Boxes closer than this in a pack are read together (reading a gap is cheaper than another request). */
const READ_GAP = 1 << 20;
const MAX_READ = 32 << 20;
const PARALLEL_READS = 3;
/** Pack bytes read and not yet written: the bound on what a restore holds in memory. */
const MAX_IN_FLIGHT = 64 << 20;

function metaOf(n: TreeNode): EntryMeta {
  return { type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, mtimeNs: n.mtimeNs, xattrs: n.xattrs };
}

interface RestoreFile {
  spec: FileSpec;
  /** The restore thread that owns the file (the one its directory was dealt to). */
  thread: number;
  /** Whether its spec went out with an earlier write. */
  specSent: boolean;
}

/** One blob a restore needs, and the writes it makes. */
interface NeededBlob {
  loc: BlobLocation;
  writes: Array<{ file: number; pieces: Piece[] }>;
}

/** Where each of a file's blobs goes in it: its data extents cut at the blob boundaries. */
function piecesOf(n: FileNode, locs: BlobLocation[], path: Buffer): Piece[][] {
  const extents = dataExtentsOf(n);
  const out: Piece[][] = [];
  let x = 0;
  let inExtent = 0;
  for (const loc of locs) {
    const pieces: Piece[] = [];
    let blobOffset = 0;
    while (blobOffset < loc.rawLength) {
      const ext = extents[x];
      if (!ext) throw new RepositoryCorrupt(`file ${path.toString()}: its blobs hold more data than its extents`);
      const length = Math.min(ext.length - inExtent, loc.rawLength - blobOffset);
      pieces.push([ext.offset + inExtent, blobOffset, length]);
      blobOffset += length;
      inExtent += length;
      if (inExtent === ext.length) {
        x++;
        inExtent = 0;
      }
    }
    out.push(pieces);
  }
  if (x !== extents.length) throw new RepositoryCorrupt(`file ${path.toString()}: its blobs hold less data than its extents`);
  return out;
}

class RestoreThreads {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, number>();
  private seq = 0;
  readonly state = new StateWaiters();
  /** Pack bytes read and not yet restored. */
  inFlight = 0;

  constructor(
    count: number,
    init: RestoreWorkerInit,
    private readonly onReply: (r: Extract<RestoreReply, { done: number }>) => void,
  ) {
    this.workers = Array.from({ length: count }, () => {
      const worker = startWorker(import.meta.url, 'restore-worker', init);
      worker.on('message', (m: RestoreReply) => {
        if ('error' in m) return this.state.fail(fromWorkerError(m.error));
        this.inFlight -= this.pending.get(m.done) ?? 0;
        this.pending.delete(m.done);
        try {
          this.onReply(m);
        } catch (e) {
          this.state.fail(e as Error);
        }
        this.state.wake();
      });
      worker.on('error', (e) => this.state.fail(e));
      worker.on('exit', (code) => {
        if (this.pending.size > 0) this.state.fail(new Error(`a restore thread exited with code ${code}`));
      });
      return worker;
    });
  }

  /** Sends blobs to one thread; `bytes` count against the in-flight bound until it answers. */
  send(thread: number, data: Uint8Array, packKey: Buffer, blobs: BlobJob[], bytes: number, transfer: ArrayBuffer[]): void {
    this.state.check();
    const seq = ++this.seq;
    this.pending.set(seq, bytes);
    this.inFlight += bytes;
    this.workers[thread]!.postMessage({ seq, data, packKey, blobs } satisfies RestoreMessage, transfer);
  }

  get idle(): boolean {
    return this.pending.size === 0;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => terminateWorker(w)));
  }
}

class Restorer {
  private readonly dirs = new PendingDirectories();
  private readonly links = new Map<string, Buffer>();
  /** The restore thread each directory (by path) was dealt to. */
  private readonly dirThreads = new Map<string, number>();
  readonly files: RestoreFile[] = [];
  private readonly needed = new Map<string, Map<string, NeededBlob>>();
  readonly progress: RestoreProgress = { files: 0, bytes: 0, totalFiles: 0, totalBytes: 0 };

  constructor(
    private readonly repo: Repository,
    private readonly root: Buffer,
    private readonly threads: number,
  ) {}

  /** Makes one node (the data of regular files is planned, not written). */
  add(rel: Buffer, node: TreeNode): void {
    const abs = rel.length === 0 ? this.root : joinPath(this.root, rel);
    const meta = metaOf(node);
    this.progress.totalFiles++;
    switch (node.type) {
      case 'directory':
        if (rel.length > 0) mkdirSync(abs, { mode: 0o700 });
        this.dirs.set(abs, meta);
        this.dirThreads.set(abs.toString('latin1'), this.dirThreads.size % this.threads);
        this.progress.files++;
        return;
      case 'file':
        this.addFile(abs, node, meta);
        return;
      case 'symlink':
        symlinkSync(node.target, abs);
        break;
      case 'fifo':
        mknod(abs, S_IFIFO, 0o600);
        break;
      case 'chardev':
      case 'blockdev':
        mknod(abs, node.type === 'chardev' ? S_IFCHR : S_IFBLK, 0o600, node.major, node.minor);
        break;
    }
    applyPathMeta(abs, meta);
    this.progress.files++;
  }

  private addFile(abs: Buffer, node: FileNode, meta: EntryMeta): void {
    this.progress.totalBytes += node.size;
    const groupKey = node.links > 1 ? node.inode.toString() : undefined;
    const first = groupKey !== undefined ? this.links.get(groupKey) : undefined;
    if (first) {
      // Another name of an inode restored already: the same file, its data and metadata come with the first.
      linkSync(first, abs);
      this.progress.files++;
      return;
    }
    if (groupKey !== undefined) this.links.set(groupKey, abs);
    const locs = node.content.map((id) => {
      const loc = this.repo.index.get(id);
      if (!loc || loc.type !== 'data') throw new RepositoryCorrupt(`file ${abs.toString()}: data blob ${shortId(id)} is not in the repository's index`);
      return loc;
    });
    const pieces = piecesOf(node, locs, abs);
    // The first name of a link group is made here, so the others can be linked to it before its data comes.
    if (groupKey !== undefined || locs.length === 0) {
      const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        if (locs.length === 0) {
          ftruncateSync(fd, node.size);
          applyFileMeta(fd, abs, meta);
          this.progress.files++;
          return;
        }
      } finally {
        closeSync(fd);
      }
    }
    const index = this.files.length;
    const slash = abs.lastIndexOf(0x2f);
    const thread = this.dirThreads.get(abs.subarray(0, slash).toString('latin1')) ?? 0;
    this.files.push({
      spec: { path: abs, size: node.size, writes: locs.length, exists: groupKey !== undefined, truncate: node.extents !== undefined, meta },
      thread,
      specSent: false,
    });
    locs.forEach((loc, i) => {
      let blobs = this.needed.get(loc.pack.name);
      if (!blobs) this.needed.set(loc.pack.name, (blobs = new Map()));
      const key = idKey(loc.id);
      let need = blobs.get(key);
      if (!need) blobs.set(key, (need = { loc, writes: [] }));
      need.writes.push({ file: index, pieces: pieces[i]! });
    });
  }

  /** The reads to make: runs of needed boxes, pack by pack in the order they were first needed. */
  *reads(): Generator<{ pack: BlobLocation['pack']; offset: number; length: number; blobs: NeededBlob[] }> {
    for (const blobs of this.needed.values()) {
      const sorted = [...blobs.values()].sort((a, b) => a.loc.offset - b.loc.offset);
      let run: NeededBlob[] = [];
      const flush = function* (): Generator<{ pack: BlobLocation['pack']; offset: number; length: number; blobs: NeededBlob[] }> {
        if (run.length === 0) return;
        const first = run[0]!.loc;
        const last = run[run.length - 1]!.loc;
        yield { pack: first.pack, offset: first.offset, length: last.offset + last.length - first.offset, blobs: run };
        run = [];
      };
      for (const b of sorted) {
        const start = run[0]?.loc.offset;
        const end = run.length > 0 ? run[run.length - 1]!.loc.offset + run[run.length - 1]!.loc.length : 0;
        if (start !== undefined && (b.loc.offset - end > READ_GAP || b.loc.offset + b.loc.length - start > MAX_READ)) yield* flush();
        run.push(b);
      }
      yield* flush();
    }
  }

  /**
   * The jobs of a run for each thread: its blobs with the writes of the
   * files that thread owns (a file's description goes with its first write).
   */
  jobsByThread(offset: number, packName: string, blobs: NeededBlob[]): Map<number, BlobJob[]> {
    const out = new Map<number, BlobJob[]>();
    for (const b of blobs) {
      const perThread = new Map<number, BlobWrite[]>();
      for (const w of b.writes) {
        const f = this.files[w.file]!;
        const write: BlobWrite = { file: w.file, pieces: w.pieces };
        if (!f.specSent) {
          write.spec = f.spec;
          f.specSent = true;
        }
        perThread.set(f.thread, [...(perThread.get(f.thread) ?? []), write]);
      }
      for (const [thread, writes] of perThread) {
        const l = b.loc;
        const job: BlobJob = { at: l.offset - offset, length: l.length, type: l.type, id: l.id, compressed: l.compressed, rawLength: l.rawLength, pack: packName, writes };
        out.set(thread, [...(out.get(thread) ?? []), job]);
      }
    }
    return out;
  }

  finishDirectories(): void {
    this.dirs.applyAll();
  }
}

/**
 * Restores snapshot `snapshotId` (an ID or a unique prefix) into `dir`, an
 * existing empty directory. Any error leaves `dir` partly written: the
 * caller discards it (it is a staging directory).
 */
export async function restoreSnapshot(repo: Repository, snapshotId: string, dir: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  repo.requireRead('restore');
  if (readdirSync(dir).length > 0) throw new InvalidParameter(`${dir} is not empty: a restore fills an empty staging directory`);
  const lock = await repo.lock('shared', 'restore');
  let threads: RestoreThreads | undefined;
  try {
    await repo.loadIndex();
    const snapshot = await repo.loadSnapshot(snapshotId);
    const threadCount = Math.max(1, Math.min(opts.threads ?? availableParallelism(), 4));
    const restorer = new Restorer(repo, Buffer.from(dir), threadCount);
    const reader = new TreeReader(repo);
    const abortCheck = (): void => {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('restore aborted');
    };
    let n = 0;
    for await (const { rel, node } of walkSnapshot(reader, Buffer.from(snapshot.tree, 'hex'))) {
      restorer.add(rel, node);
      if (++n % 1024 === 0) abortCheck();
    }
    const report = (): void => opts.onProgress?.({ ...restorer.progress });
    let completed = 0;
    threads = new RestoreThreads(threadCount, { aead: repo.config.aead, blobIdKey: repo.secrets.write.blobId }, (reply) => {
      restorer.progress.bytes += reply.bytes;
      restorer.progress.files += reply.completed;
      completed += reply.completed;
      report();
    });
    const t = threads;
    const reads = new Set<Promise<void>>();
    for (const r of restorer.reads()) {
      abortCheck();
      await t.state.until(() => t.inFlight + r.length <= MAX_IN_FLIGHT || t.inFlight === 0);
      while (reads.size >= PARALLEL_READS) await Promise.race(reads);
      t.inFlight += r.length;
      const job = repo.target.getRange('data', r.pack.name, r.offset, r.length).then((data) => {
        const jobs = restorer.jobsByThread(r.offset, r.pack.name, r.blobs);
        const packKey = repo.packKey(r.pack);
        // The run goes whole to the thread with most of it; the others get copies of just their boxes.
        const share = (blobs: BlobJob[]): number => blobs.reduce((n, b) => n + b.length, 0);
        const [main, ...others] = [...jobs].sort((a, b) => share(b[1]) - share(a[1]));
        // The copies first: handing the run over detaches it.
        const pieces = others.map(([thread, blobs]) => ({ thread, ...compactCopy(data, blobs) }));
        pieces.push({ thread: main![0], data: ownedBuffer(data), blobs: main![1] });
        for (const p of pieces) t.send(p.thread, p.data, packKey, p.blobs, p.data.length, [p.data.buffer as ArrayBuffer]);
        t.inFlight -= r.length;
      });
      reads.add(job);
      void job.finally(() => reads.delete(job)).catch(() => undefined);
    }
    await Promise.all(reads);
    await t.state.until(() => t.idle);
    if (completed !== restorer.files.length) throw new Error(`restore: ${restorer.files.length - completed} files were not completed`);
    restorer.finishDirectories();
    report();
    return { snapshot, files: restorer.progress.files, bytes: restorer.progress.bytes };
  } finally {
    await threads?.terminate();
    await lock.release();
  }
}
