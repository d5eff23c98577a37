// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing a file's
// dirty pages to disk without waiting for them. A long write that kicks it
// every few MiB keeps the disk busy while it goes on, so the fsync(2) or
// syncfs(2) that makes it durable at the end has little left to wait for.
// Only a head start: durability still comes from that final flush.
import { libcFunction } from '../util/libc.js';

const SYNC_FILE_RANGE_WRITE = 2;

type SyncFileRangeFn = (fd: number, offset: number, nbytes: number, flags: number) => number;
let syncFileRange: SyncFileRangeFn | undefined;
let unsupported = false;

/** Starts writeback of `fd`'s dirty pages (all of them: `length` 0 means to the end); best effort, never throws. */
export function startWriteback(fd: number, offset = 0, length = 0): void {
  if (unsupported) return;
  try {
    syncFileRange ??= libcFunction<SyncFileRangeFn>('int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags)');
    // A failure (a pipe, a filesystem without it) only loses the head start; the final flush reports real errors.
    syncFileRange(fd, offset, length, SYNC_FILE_RANGE_WRITE);
  } catch {
    unsupported = true;
  }
}
