// Restoring a snapshot into an empty staging directory (docs/backups.md,
// "Restore"), with the fidelity of a volume import. This thread walks the
// snapshot's trees and makes directories, links and special files; the data
// is read pack by pack (a run of needed boxes at a time) and written by
// restore threads that check every blob against its ID, read each file
// back once it is written and check it again, then apply its metadata.
// Directories get theirs last, deepest first. Names come from trees whose
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
import { fromWorkerError, ownedBuffer, startWorker } from '../../util/worker.js';
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

/** Boxes closer than this in a pack are read together (reading a gap is cheaper than another request). */
const READ_GAP = 1 << 20;
const MAX_READ = 32 << 20;
const PARALLEL_READS = 3;
/** Pack bytes read and not yet written: the bound on what a restore holds in memory. */
const MAX_IN_FLIGHT = 96 << 20;

function metaOf(n: TreeNode): EntryMeta {
  return { type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, mtimeNs: n.mtimeNs, xattrs: n.xattrs };
}

interface RestoreFile {
  spec: FileSpec;
  /** Blob writes not yet acknowledged. */
  remaining: number;
  /** Written by one blob, completed by the thread that wrote it. */
  whole: boolean;
}

interface NeededBlob {
  loc: BlobLocation;
  writes: BlobWrite[];
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
  private readonly workers: Array<{ worker: Worker; queued: number }>;
  private readonly pending = new Map<number, { bytes: number; worker: { queued: number } }>();
  private seq = 0;
  private failure: Error | undefined;
  private waiters: Array<() => void> = [];
  inFlight = 0;

  constructor(
    count: number,
    init: RestoreWorkerInit,
    private readonly onReply: (r: Extract<RestoreReply, { done: number }>) => void,
  ) {
    this.workers = Array.from({ length: count }, () => {
      const worker = startWorker(import.meta.url, 'restore-worker', init);
      const w = { worker, queued: 0 };
      worker.on('message', (m: RestoreReply) => {
        if ('error' in m) return this.fail(fromWorkerError(m.error));
        const job = this.pending.get(m.done);
        this.pending.delete(m.done);
        if (job) {
          job.worker.queued -= job.bytes;
          this.inFlight -= job.bytes;
        }
        try {
          this.onReply(m);
        } catch (e) {
          this.fail(e as Error);
        }
        this.wake();
      });
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (this.pending.size > 0 && !this.failure) this.fail(new Error(`a restore thread exited with code ${code}`));
      });
      return w;
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Waits until `condition` holds (re-tested at every reply) or a thread fails. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) {
      this.check();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.check();
  }

  send(m: RestoreMessage, bytes: number, transfer: ArrayBuffer[] = []): void {
    this.check();
    const w = this.workers.reduce((a, b) => (b.queued < a.queued ? b : a));
    w.queued += bytes;
    this.inFlight += bytes;
    this.pending.set(m.seq, { bytes, worker: w });
    w.worker.postMessage(m, transfer);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  get idle(): boolean {
    return this.pending.size === 0;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

class Restorer {
  private readonly dirs = new PendingDirectories();
  private readonly links = new Map<string, Buffer>();
  readonly files: RestoreFile[] = [];
  private readonly needed = new Map<string, Map<string, NeededBlob>>();
  readonly progress: RestoreProgress = { files: 0, bytes: 0, totalFiles: 0, totalBytes: 0 };

  constructor(
    private readonly repo: Repository,
    private readonly root: Buffer,
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
    const spec: FileSpec = {
      path: abs,
      size: node.size,
      truncate: node.extents !== undefined,
      meta,
      blobs: locs.map((loc, i) => ({ id: loc.id, pieces: pieces[i]! })),
    };
    // One blob and no other name to link first: a restore thread makes the whole file.
    const whole = locs.length === 1 && groupKey === undefined;
    if (!whole) {
      const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        if (locs.length === 0) {
          ftruncateSync(fd, node.size);
          applyFileMeta(fd, abs, meta);
          this.progress.files++;
          return;
        }
        ftruncateSync(fd, node.size);
      } finally {
        closeSync(fd);
      }
    }
    const index = this.files.length;
    this.files.push({ spec, remaining: locs.length, whole });
    locs.forEach((loc, i) => {
      let blobs = this.needed.get(loc.pack.name);
      if (!blobs) this.needed.set(loc.pack.name, (blobs = new Map()));
      const key = idKey(loc.id);
      let need = blobs.get(key);
      if (!need) blobs.set(key, (need = { loc, writes: [] }));
      need.writes.push({ file: index, path: abs, pieces: pieces[i]!, ...(whole ? { whole: spec } : {}) });
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
    const restorer = new Restorer(repo, Buffer.from(dir));
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
    const finishing: FileSpec[] = [];
    threads = new RestoreThreads(
      Math.max(1, Math.min(opts.threads ?? availableParallelism(), 4)),
      { aead: repo.config.aead, blobIdKey: repo.secrets.write.blobId },
      (reply) => {
        restorer.progress.bytes += reply.bytes;
        for (const [file, count] of reply.written) {
          const f = restorer.files[file]!;
          f.remaining -= count;
          if (f.remaining > 0) continue;
          if (f.whole) restorer.progress.files++;
          else finishing.push(f.spec);
        }
        report();
      },
    );
    const t = threads;
    const sendFinishing = (): void => {
      if (finishing.length === 0) return;
      const files = finishing.splice(0);
      t.send({ op: 'finish', seq: t.nextSeq(), files }, 0);
      restorer.progress.files += files.length;
    };
    const reads = new Set<Promise<void>>();
    for (const r of restorer.reads()) {
      abortCheck();
      await t.until(() => t.inFlight + r.length <= MAX_IN_FLIGHT || t.inFlight === 0);
      while (reads.size >= PARALLEL_READS) await Promise.race(reads);
      t.inFlight += r.length;
      const job = repo.target.getRange('data', r.pack.name, r.offset, r.length).then((data) => {
        t.inFlight -= r.length;
        const blobs: BlobJob[] = r.blobs.map((b) => ({
          at: b.loc.offset - r.offset,
          length: b.loc.length,
          type: b.loc.type,
          id: b.loc.id,
          compressed: b.loc.compressed,
          rawLength: b.loc.rawLength,
          pack: r.pack.name,
          writes: b.writes,
        }));
        const own = ownedBuffer(data);
        t.send({ op: 'blobs', seq: t.nextSeq(), data: own, packKey: repo.packKey(r.pack), blobs }, own.length, [own.buffer as ArrayBuffer]);
        sendFinishing();
      });
      reads.add(job);
      void job.finally(() => reads.delete(job)).catch(() => undefined);
    }
    await Promise.all(reads);
    await t.until(() => t.idle);
    sendFinishing();
    await t.until(() => t.idle);
    restorer.finishDirectories();
    report();
    return { snapshot, files: restorer.progress.files, bytes: restorer.progress.bytes };
  } finally {
    await threads?.terminate();
    await lock.release();
  }
}
