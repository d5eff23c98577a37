// FICLONE: the destination shares the source's blocks (XFS with reflink,
// btrfs); callers fall back to a copy where the filesystem cannot.
import { check, libcFunction } from '../util/libc.js';

const FICLONE = 0x40049409;
const CANNOT = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EXDEV', 'EINVAL', 'ENOTTY', 'EPERM']);

type IoctlFn = (fd: number, request: number, ...args: unknown[]) => number;
let ioctlFn: IoctlFn | undefined;

/** Declares this module's libc functions now (see src/fs/native.ts). */
export function loadReflinkBindings(): void {
  ioctlFn ??= libcFunction<IoctlFn>('int ioctl(int fd, unsigned long request, ...)');
}

/** Makes `dstFd` a reflinked copy of `srcFd`; false when the filesystem cannot (nothing was changed). */
export function reflink(dstFd: number, srcFd: number): boolean {
  ioctlFn ??= libcFunction<IoctlFn>('int ioctl(int fd, unsigned long request, ...)');
  try {
    check(ioctlFn(dstFd, FICLONE, 'int', srcFd), 'ioctl(FICLONE)');
    return true;
  } catch (e) {
    if (CANNOT.has((e as { code?: string }).code ?? '')) return false;
    throw e;
  }
}
