// A tree copied into another directory with the same fidelity as an
// export/import round trip: file data by FICLONE where the filesystem can
// share blocks (XFS reflink, btrfs), else copy_file_range over the data
// extents only, so holes stay holes.
import { closeSync, constants, ftruncateSync, linkSync, mkdirSync, openSync, readlinkSync, symlinkSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { dataExtents } from '../fs/extents.js';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../fs/nodes.js';
import { joinPath } from '../fs/path.js';
import { reflink } from '../fs/reflink.js';
import { check, libcFunction } from '../util/libc.js';
import { applyFileMeta, applyPathMeta, PendingDirectories } from './tree-write.js';
import { scanTree, type ScannedEntry } from './tree-scan.js';
import type { TreeProgress } from './tree.js';

export interface CloneOptions {
  onProgress?: (p: TreeProgress) => void;
  signal?: AbortSignal;
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

/** Copies the tree at `src` into the existing empty directory `dst`. */
export async function cloneTree(src: string, dst: string, opts: CloneOptions = {}): Promise<TreeProgress & { reflinked: boolean }> {
  const progress: TreeProgress = { bytes: 0, files: 0 };
  const root = Buffer.from(dst);
  const dirs = new PendingDirectories();
  let canReflink = true;
  let anyFile = false;
  let count = 0;
  for (const e of scanTree(src)) {
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
  return { ...progress, reflinked: anyFile && canReflink };
}
