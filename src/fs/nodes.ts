// Special files and nanosecond timestamps, which Node cannot make: mknod(2)
// for devices and FIFOs, utimensat(2) for times on symlinks and to the
// nanosecond (Node's utimes takes a double, which cannot hold today's
// seconds with nine decimals).
import koffi from 'koffi';
import { AT_FDCWD, check, libcFunction } from '../util/libc.js';
import { cPath, type FsPath } from './path.js';

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_OMIT = (1 << 30) - 2;

type MknodFn = (path: string | Buffer, mode: number, dev: bigint) => number;
type UtimensatFn = (dirfd: number, path: string | Buffer, times: unknown, flags: number) => number;
type FutimensFn = (fd: number, times: unknown) => number;

let fns: { mknod: MknodFn; utimensat: UtimensatFn; futimens: FutimensFn } | undefined;

/** Declares this module's libc functions now (see src/fs/native.ts). */
export function loadNodeBindings(): void {
  libc();
}

function libc(): NonNullable<typeof fns> {
  if (!fns) {
    const timespec = koffi.struct('berth_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
    koffi.struct('berth_timespec_pair', { atime: timespec, mtime: timespec });
    fns = {
      mknod: libcFunction<MknodFn>('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
      utimensat: libcFunction<UtimensatFn>('int utimensat(int dirfd, const char *path, const berth_timespec_pair *times, int flags)'),
      futimens: libcFunction<FutimensFn>('int futimens(int fd, const berth_timespec_pair *times)'),
    };
  }
  return fns;
}

/** glibc's makedev(3). */
export function makeDev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export function devMajor(dev: bigint): number {
  return Number(((dev >> 32n) & 0xfffff000n) | ((dev >> 8n) & 0xfffn));
}

export function devMinor(dev: bigint): number {
  return Number(((dev >> 12n) & 0xffffff00n) | (dev & 0xffn));
}

/** Creates a FIFO or device node; `type` is S_IFIFO, S_IFCHR or S_IFBLK. */
export function mknod(path: FsPath, type: number, permissions: number, major = 0, minor = 0): void {
  check(libc().mknod(cPath(path), type | (permissions & 0o7777), makeDev(major, minor)), 'mknod', path);
}

function timespec(ns: bigint): { tv_sec: bigint; tv_nsec: bigint } {
  // Floor division, so times before 1970 keep 0 <= tv_nsec < 1e9.
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { tv_sec: sec, tv_nsec: nsec };
}

function pair(mtimeNs: bigint, atimeNs: bigint | undefined): unknown {
  return {
    atime: atimeNs === undefined ? { tv_sec: 0n, tv_nsec: BigInt(UTIME_OMIT) } : timespec(atimeNs),
    mtime: timespec(mtimeNs),
  };
}

/** Sets the modification time (and the access time when given) of `path` itself, never a symlink's target. */
export function setTimes(path: FsPath, mtimeNs: bigint, atimeNs?: bigint): void {
  check(libc().utimensat(AT_FDCWD, cPath(path), pair(mtimeNs, atimeNs), AT_SYMLINK_NOFOLLOW), 'utimensat', path);
}

export function setTimesFd(fd: number, mtimeNs: bigint, atimeNs?: bigint): void {
  check(libc().futimens(fd, pair(mtimeNs, atimeNs)), 'futimens');
}
