// A tree copied into another directory with the same fidelity as an
// export/import round trip: file data by FICLONE where the filesystem can
// share blocks (XFS reflink, btrfs), else copy_file_range over the data
// extents only, so holes stay holes.
import { closeSync, constants, ftruncateSync, linkSync, mkdirSync, openSync, readlinkSync, symlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { dataExtents } from '../fs/extents.js';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../fs/nodes.js';
import { joinPath } from '../fs/path.js';
import { reflink } from '../fs/reflink.js';
import { check, libcFunction } from '../util/libc.js';
import { startWorker, terminateWorker } from '../util/worker.js';
import { applyFileMeta, applyPathMeta, PendingDirectories } from './tree-write.js';
import { scanTree, type ScannedEntry } from './tree-scan.js';
import { planTree } from './tree-plan.js';
import type { TreeProgress, TreeTotals } from './tree.js';

export interface CloneOptions {
  onProgress?: (p: TreeProgress) => void;
  signal?: AbortSignal;
  /** Hears what the clone will copy (the tree's totals) once it is measured, before any copying. */
  onPlanned?: (totals: TreeTotals) => void;
  /** Threads that copy (default: the machine's parallelism, at most MAX_WAYS). */
  parallelism?: number;
}

/** What one share of a clone did. */
export interface ShareResult {
  progress: TreeProgress;
  anyFile: boolean;
  canReflink: boolean;
}

type CopyFileRangeFn = (fdIn: number, offIn: [number], fdOut: number, offOut: [number], len: number, flags: number) => number | bigint;
let copyFileRangeFn: CopyFileRangeFn | undefined;

/** Copies `length` bytes at `offset` in the kernel. */
function copyRange(src: number, dst: number, offset: number, length: number, e: ScannedEntry): void {
  copyFileRangeFn ??= libcFunction<CopyFileRangeFn>(
    'long copy_file_range(int fd_in, _Inout_ int64_t *off_in, int fd_out, _Inout_ int64_t *off_out, size_t len, unsigned int flags)',
  );
  let done = 0;
  while (done < length) {
    const offIn: [number] = [offset + done];
    const offOut: [number] = [offset + done];
    const n = check(copyFileRangeFn(src, offIn, dst, offOut, length - done, 0), 'copy_file_range', e.abs);
    if (n === 0) throw new Error(`file ${e.abs.toString()} shrank while it was cloned`);
    done += n;
  }
}

const SLICE = 256;
/** More threads than this gain nothing: the filesystem's own locks take over. */
const MAX_WAYS = 4;
/** Below this many entries a thread's start costs more than it saves. */
const PARALLEL_MIN_FILES = 2048;

/**
 * Copies the tree at `src` into the existing empty directory `dst`. Large
 * trees are split into shares of top-level entries (tree-plan.ts) copied by
 * worker threads beside this one: creating files is syscall-bound, and the
 * kernel creates them in parallel. The root's own metadata is applied last.
 */
export async function cloneTree(src: string, dst: string, opts: CloneOptions = {}): Promise<TreeProgress & { reflinked: boolean }> {
  const ways = Math.max(1, Math.min(opts.parallelism ?? availableParallelism(), MAX_WAYS));
  const plan = await planTree(src, ways);
  opts.onPlanned?.(plan.totals);
  if (plan.shares.length <= 1 || plan.totals.files < PARALLEL_MIN_FILES) {
    const r = await cloneShare(src, dst, undefined, opts);
    return { ...r.progress, reflinked: r.anyFile && r.canReflink };
  }
  const walk = scanTree(src);
  const rootEntry = walk.next().value as ScannedEntry;
  walk.return(undefined);
  const shareProgress: TreeProgress[] = plan.shares.map(() => ({ bytes: 0, files: 0 }));
  // The root itself is one entry, copied by none of the shares.
  const total = (): TreeProgress => ({
    bytes: shareProgress.reduce((n, p) => n + p.bytes, 0),
    files: shareProgress.reduce((n, p) => n + p.files, 1),
  });
  const report = (): void => opts.onProgress?.(total());
  // One share failing stops the others: its error is the one reported.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(opts.signal?.reason ?? new Error('clone aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const runs = plan.shares.map((names, i) => {
      const onProgress = (p: TreeProgress): void => {
        shareProgress[i] = p;
        report();
      };
      const run = i === 0 ? cloneShare(src, dst, names, { onProgress, signal: stop.signal }) : cloneInWorker(src, dst, names, onProgress, stop.signal);
      return run.catch((e: unknown) => {
        if (!stop.signal.aborted) stop.abort(e);
        throw e;
      });
    });
    const settled = await Promise.allSettled(runs);
    if (stop.signal.aborted) throw stop.signal.reason;
    const results = settled.map((r) => (r as PromiseFulfilledResult<ShareResult>).value);
    results.forEach((r, i) => (shareProgress[i] = r.progress));
    const dirs = new PendingDirectories();
    dirs.set(Buffer.from(dst), rootEntry);
    dirs.applyAll();
    report();
    const anyFile = results.some((r) => r.anyFile);
    return { ...total(), reflinked: anyFile && results.every((r) => !r.anyFile || r.canReflink) };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs cloneShare in a worker thread; terminating it is how it is stopped. */
function cloneInWorker(src: string, dst: string, names: Buffer[], onProgress: (p: TreeProgress) => void, signal: AbortSignal): Promise<ShareResult> {
  const worker = startWorker(import.meta.url, 'tree-clone-worker', { src, dst, names });
  return new Promise((resolve, reject) => {
    let result: ShareResult | undefined;
    let failure: unknown;
    const abort = (): void => void terminateWorker(worker);
    signal.addEventListener('abort', abort, { once: true });
    worker.on('message', (m: { progress?: TreeProgress; done?: ShareResult }) => {
      if (m.progress) onProgress(m.progress);
      if (m.done) result = m.done;
    });
    worker.on('error', (e) => (failure = e));
    worker.on('exit', (code) => {
      signal.removeEventListener('abort', abort);
      if (result) resolve(result);
      else reject(failure ?? (signal.aborted ? signal.reason : new Error(`clone worker exited with code ${code}`)));
    });
  });
}

/** Clones the top-level entries `topLevel` of `src` (all of it, root included, when undefined) into `dst`. */
export async function cloneShare(src: string, dst: string, topLevel: Buffer[] | undefined, opts: Pick<CloneOptions, 'onProgress' | 'signal'>): Promise<ShareResult> {
  const progress: TreeProgress = { bytes: 0, files: 0 };
  const root = Buffer.from(dst);
  const dirs = new PendingDirectories();
  let canReflink = true;
  let anyFile = false;
  let count = 0;
  for (const e of scanTree(src, undefined, topLevel)) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('clone aborted');
    const target = e.rel.length === 0 ? root : joinPath(root, e.rel);
    progress.files++;
    if (e.hardlinkTo) {
      linkSync(joinPath(root, e.hardlinkTo), target);
    } else if (e.type === 'directory') {
      if (e.rel.length > 0) mkdirSync(target, { mode: 0o700 });
      dirs.set(target, e);
    } else if (e.type === 'file') {
      const s = openSync(e.abs, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const d = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          if (e.size > 0) {
            anyFile = true;
            if (!(canReflink && reflink(d, s))) {
              canReflink = false;
              const extents = e.stat.blocks * 512n < e.stat.size ? dataExtents(s, e.size) : [{ offset: 0, length: e.size }];
              for (const x of extents) copyRange(s, d, x.offset, x.length, e);
              ftruncateSync(d, e.size);
            }
          }
          progress.bytes += e.size;
          applyFileMeta(d, target, e);
        } finally {
          closeSync(d);
        }
      } finally {
        closeSync(s);
      }
    } else if (e.type === 'symlink') {
      symlinkSync(readlinkSync(e.abs, { encoding: 'buffer' }), target);
      applyPathMeta(target, e);
    } else {
      const kind = e.type === 'fifo' ? S_IFIFO : e.type === 'chardev' ? S_IFCHR : S_IFBLK;
      mknod(target, kind, 0o600, e.devmajor, e.devminor);
      applyPathMeta(target, e);
    }
    if (++count % SLICE === 0) {
      opts.onProgress?.({ ...progress });
      await yieldToLoop();
    }
  }
  dirs.applyAll();
  opts.onProgress?.({ ...progress });
  return { progress, anyFile, canReflink };
}
