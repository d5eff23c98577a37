// The two calls an atomic directory replacement needs: renameat2 with
// RENAME_EXCHANGE swaps two paths in one step (no moment where neither
// exists), and syncfs makes the new tree durable before it is swapped in.
import { closeSync, openSync } from 'node:fs';
import { AT_FDCWD, check, libcFunction } from '../util/libc.js';
import { cPath, type FsPath } from './path.js';

const RENAME_EXCHANGE = 2;

type Renameat2Fn = (olddirfd: number, oldpath: string | Buffer, newdirfd: number, newpath: string | Buffer, flags: number) => number;
type SyncfsFn = ((fd: number) => number) & { async: (fd: number, cb: (err: unknown, rc: number) => void) => void };
let renameat2Fn: Renameat2Fn | undefined;
let syncfsFn: SyncfsFn | undefined;

/** Atomically swaps `a` and `b` (both must exist, on one filesystem). */
export function exchangePaths(a: FsPath, b: FsPath): void {
  renameat2Fn ??= libcFunction<Renameat2Fn>('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)');
  check(renameat2Fn(AT_FDCWD, cPath(a), AT_FDCWD, cPath(b), RENAME_EXCHANGE), 'renameat2', a);
}

/** Flushes the whole filesystem holding `path` to stable storage. */
export function syncFilesystem(path: FsPath): void {
  syncfsFn ??= libcFunction<SyncfsFn>('int syncfs(int fd)');
  const fd = openSync(path, 'r');
  try {
    check(syncfsFn(fd), 'syncfs', path);
  } finally {
    closeSync(fd);
  }
}

/**
 * syncfs(2) of the filesystem holding the open `fd`, on the thread pool:
 * its writeback runs while the caller goes on. Rejects when it fails: the
 * error it reports is reported once, a later syncfs may not see it again.
 */
export function syncFilesystemInBackground(fd: number): Promise<void> {
  syncfsFn ??= libcFunction<SyncfsFn>('int syncfs(int fd)');
  const fn = syncfsFn;
  return new Promise((resolve, reject) => {
    fn.async(fd, (err, rc) => {
      if (err) return reject(err as Error);
      // errno belongs to the pool thread that made the call: only the failure is known here.
      if (rc < 0) return reject(Object.assign(new Error('syncfs: the filesystem failed to write data to disk'), { code: 'EIO', syscall: 'syncfs' }));
      resolve();
    });
  });
}
