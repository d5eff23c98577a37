// copy_file_range(2): bytes copied from one file to another inside the
// kernel (no trip through this process's memory). Where the kernel cannot
// (files on different filesystems before Linux 5.19, filesystems without
// support), the same copy through one reused buffer.
import { readSync, writeSync } from 'node:fs';
import { check, libcFunction } from '../util/libc.js';

type CopyFileRangeFn = (inFd: number, inOff: number[], outFd: number, outOff: number[] | null, length: number, flags: number) => number | bigint;
let copyFileRange: CopyFileRangeFn | undefined;
let appendFileRange: CopyFileRangeFn | undefined;
type SendfileFn = (outFd: number, inFd: number, inOff: number[], length: number) => number | bigint;
let sendfileFn: SendfileFn | undefined;
let kernelCannot = false;

/** Declares this module's libc functions now (see src/fs/native.ts). */
export function loadCopyBindings(): void {
  copyFileRange ??= libcFunction<CopyFileRangeFn>(
    'int64_t copy_file_range(int inFd, _Inout_ int64_t *inOff, int outFd, _Inout_ int64_t *outOff, size_t length, unsigned int flags)',
  );
  appendFileRange ??= libcFunction<CopyFileRangeFn>(
    'int64_t copy_file_range(int inFd, _Inout_ int64_t *inOff, int outFd, int64_t *outOff, size_t length, unsigned int flags)',
  );
  sendfileFn ??= libcFunction<SendfileFn>('int64_t sendfile(int outFd, int inFd, _Inout_ int64_t *inOff, size_t length)');
}
const CANNOT = new Set(['EXDEV', 'EINVAL', 'ENOSYS', 'EOPNOTSUPP', 'ENOTSUP', 'EBADF']);

let buffer: Buffer | undefined;

function copyThroughBuffer(inFd: number, inOff: number, outFd: number, outOff: number, length: number): void {
  buffer ??= Buffer.allocUnsafe(256 << 10);
  while (length > 0) {
    const n = readSync(inFd, buffer, 0, Math.min(buffer.length, length), inOff);
    if (n === 0) throw Object.assign(new Error('unexpected end of file while copying'), { code: 'EIO' });
    for (let w = 0; w < n; ) w += writeSync(outFd, buffer, w, n - w, outOff + w);
    inOff += n;
    outOff += n;
    length -= n;
  }
}

/** Copies `length` bytes at `inOff` of `inFd` to `outOff` of `outFd`; throws on a short source. */
export function copyRange(inFd: number, inOff: number, outFd: number, outOff: number, length: number): void {
  loadCopyBindings();
  const src = [inOff];
  const dst = [outOff];
  while (length > 0 && !kernelCannot) {
    let n: number;
    try {
      n = check(copyFileRange!(inFd, src, outFd, dst, length, 0), 'copy_file_range');
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (!CANNOT.has(code)) throw e;
      kernelCannot = code === 'ENOSYS';
      break;
    }
    if (n === 0) throw Object.assign(new Error('unexpected end of file while copying'), { code: 'EIO' });
    length -= n;
  }
  if (length > 0) copyThroughBuffer(inFd, src[0]!, outFd, dst[0]!, length);
}

/**
 * Copies up to `length` bytes at `inOff` of `inFd` to `outFd` at its own
 * file offset, which moves on as write(2) would (the descriptor's other
 * writes stay in order). Returns the bytes copied: fewer only when the
 * source ends early. With `share`, through copy_file_range(2), which on a
 * filesystem with reflinks (XFS, btrfs) shares the blocks when both
 * offsets are block-aligned; without, through sendfile(2), a plain copy in
 * the kernel that does not first try (and for a small range, pay the locks
 * and copy-on-write tail of) a reflink.
 */
export function appendRange(inFd: number, inOff: number, outFd: number, length: number, share = true): number {
  loadCopyBindings();
  const src = [inOff];
  let done = 0;
  while (done < length && !kernelCannot) {
    let n: number;
    try {
      n = share
        ? check(appendFileRange!(inFd, src, outFd, null, length - done, 0), 'copy_file_range')
        : check(sendfileFn!(outFd, inFd, src, length - done), 'sendfile');
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (!CANNOT.has(code)) throw e;
      kernelCannot = code === 'ENOSYS';
      break;
    }
    if (n === 0) return done;
    done += n;
  }
  buffer ??= Buffer.allocUnsafe(256 << 10);
  while (done < length) {
    const n = readSync(inFd, buffer, 0, Math.min(buffer.length, length - done), inOff + done);
    if (n === 0) return done;
    for (let w = 0; w < n; ) w += writeSync(outFd, buffer, w, n - w);
    done += n;
  }
  return done;
}
