// Typed bindings to the few libc calls Node has no API for (openat2, mount,
// umount2, chroot, ...), through koffi. Every call throws a Node-style error
// (`code` 'ENOENT', `errno`, `syscall`, `path`) instead of returning -1.
import koffi from 'koffi';
import { getSystemErrorName } from 'node:util';

export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

/** openat2(2) `resolve` flags. */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

export const AT_FDCWD = -100;

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;

export const MNT_FORCE = 0x1;
export const MNT_DETACH = 0x2;

// The generic syscall table number, shared by x86_64 and arm64.
const SYS_openat2 = 437;

export interface OpenHow {
  flags: number;
  mode?: number;
  resolve?: number;
}

export interface LibcError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
}

type Bindings = {
  syscall: (...args: unknown[]) => number | bigint;
  openat: (dirfd: number, path: string, flags: number, mode: number) => number;
  close: (fd: number) => number;
  mount: (source: string | null, target: string, fstype: string | null, flags: number, data: string | null) => number;
  umount2: ((target: string, flags: number) => number) & { async: (target: string, flags: number, cb: (err: unknown, rc: number) => void) => void };
  chroot: (path: string) => number;
  chdir: (path: string) => number;
  fchdir: (fd: number) => number;
  mkdirat: (dirfd: number, path: string, mode: number) => number;
  strerror: (errnum: number) => string;
  openHowType: unknown;
};

let bindings: Bindings | undefined;

/** Declares the libc functions of this module now (see src/fs/native.ts). */
export function loadLibcBindings(): void {
  lib();
  fcntlFn ??= libcFunction<(fd: number, cmd: number, ...typedArgs: unknown[]) => number>('int fcntl(int fd, int cmd, ...)');
}

function lib(): Bindings {
  if (bindings) return bindings;
  const c = (libcHandle ??= koffi.load('libc.so.6'));
  const openHowType = koffi.struct('berth_open_how', { flags: 'uint64_t', mode: 'uint64_t', resolve: 'uint64_t' });
  bindings = {
    syscall: c.func('long syscall(long number, ...)') as Bindings['syscall'],
    openat: c.func('int openat(int dirfd, const char *path, int flags, uint32_t mode)') as Bindings['openat'],
    close: c.func('int close(int fd)') as Bindings['close'],
    mount: c.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)') as Bindings['mount'],
    umount2: c.func('int umount2(const char *target, int flags)') as Bindings['umount2'],
    chroot: c.func('int chroot(const char *path)') as Bindings['chroot'],
    chdir: c.func('int chdir(const char *path)') as Bindings['chdir'],
    fchdir: c.func('int fchdir(int fd)') as Bindings['fchdir'],
    mkdirat: c.func('int mkdirat(int dirfd, const char *path, uint32_t mode)') as Bindings['mkdirat'],
    strerror: c.func('const char *strerror(int errnum)') as Bindings['strerror'],
    openHowType,
  };
  return bindings;
}

/** One more libc function by its C declaration, from the same loaded library (src/fs uses this). */
export function libcFunction<F extends (...args: never[]) => unknown>(declaration: string): F {
  libcHandle ??= koffi.load('libc.so.6');
  return libcHandle.func(declaration) as unknown as F;
}
let libcHandle: ReturnType<typeof koffi.load> | undefined;

function fail(syscall: string, rawPath?: string | Buffer): never {
  throw errnoError(koffi.errno(), syscall, rawPath);
}

/** A Node-style error (`code` 'ENOENT', `errno`, `syscall`, `path`) for error number `errno` of `syscall`. */
export function errnoError(errno: number, syscall: string, rawPath?: string | Buffer): LibcError {
  const path = rawPath === undefined || typeof rawPath === 'string' ? rawPath : rawPath.toString();
  let code = 'EUNKNOWN';
  try {
    code = getSystemErrorName(-errno);
  } catch {
    // keep EUNKNOWN
  }
  const text = lib().strerror(errno).toLowerCase();
  const e = new Error(`${code}: ${text}, ${syscall}${path !== undefined ? ` '${path}'` : ''}`) as LibcError;
  e.code = code;
  e.errno = -errno;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  return e;
}

/** Turns a libc return value into the value or a thrown Node-style error (errno read right after the call). */
export function check(rc: number | bigint, syscall: string, path?: string | Buffer): number {
  const n = Number(rc);
  if (n < 0) fail(syscall, path);
  return n;
}

/** openat2(2): opens `path` relative to `dirfd` under the `resolve` rules; returns the fd. */
export function openat2(dirfd: number, path: string, how: OpenHow): number {
  const l = lib();
  const st = { flags: how.flags, mode: how.mode ?? 0, resolve: how.resolve ?? 0 };
  const rc = l.syscall(SYS_openat2, 'int', dirfd, 'const char *', path, koffi.pointer(l.openHowType as never), st, 'size_t', 24);
  return check(rc, 'openat2', path);
}

export function openat(dirfd: number, path: string, flags: number, mode = 0): number {
  return check(lib().openat(dirfd, path, flags | O_CLOEXEC, mode), 'openat', path);
}

export function close(fd: number): void {
  check(lib().close(fd), 'close');
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check(lib().mount(source, target, fstype, flags, data), 'mount', target);
}

export function umount2(target: string, flags = 0): void {
  check(lib().umount2(target, flags), 'umount2', target);
}

/**
 * umount2 on the thread pool (an overlay's unmount waits for a journal
 * commit of its upper filesystem). Resolves false when it failed: errno
 * belongs to the pool thread, so the caller asks again synchronously to learn why.
 */
export function umount2InBackground(target: string, flags = 0): Promise<boolean> {
  const fn = lib().umount2;
  return new Promise((resolve, reject) => fn.async(target, flags, (err, rc) => (err ? reject(err as Error) : resolve(rc === 0))));
}

export function chroot(path: string): void {
  check(lib().chroot(path), 'chroot', path);
}

export function chdir(path: string): void {
  check(lib().chdir(path), 'chdir', path);
}

export function fchdir(fd: number): void {
  check(lib().fchdir(fd), 'fchdir');
}

export function mkdirat(dirfd: number, path: string, mode: number): void {
  check(lib().mkdirat(dirfd, path, mode), 'mkdirat', path);
}

const F_DUPFD_CLOEXEC = 1030;
const F_GETFL = 3;
const O_ACCMODE = 0o3;
/** fcntl(2), variadic: koffi takes each extra argument as its type, then its value. */
let fcntlFn: ((fd: number, cmd: number, ...typedArgs: unknown[]) => number) | undefined;

function fcntl(fd: number, cmd: number, ...typedArgs: unknown[]): number {
  fcntlFn ??= libcFunction<(fd: number, cmd: number, ...typedArgs: unknown[]) => number>('int fcntl(int fd, int cmd, ...)');
  return check(fcntlFn(fd, cmd, ...typedArgs), 'fcntl');
}

/** How `fd` is open: O_RDONLY, O_WRONLY or O_RDWR. */
export function accessMode(fd: number): number {
  return fcntl(fd, F_GETFL) & O_ACCMODE;
}

/** A second descriptor of what `fd` refers to, closed on exec. */
export function dupCloexec(fd: number): number {
  return fcntl(fd, F_DUPFD_CLOEXEC, 'int', 0);
}

/** The path that names an open fd (a mount(2) source or target that cannot be swapped). */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}
