// Errors as Go prints them, for the messages dockerd and the docker CLI
// build around an *os.PathError: "lstat /a/b: no such file or directory".
// Go's errno texts are glibc's strerror with a lower-case first letter;
// Node's own texts are libuv's, which differ for several (EEXIST "file
// already exists", ELOOP "too many symbolic links encountered"...). No FFI
// here: the CLI uses this too.
import { errorText } from '../errors.js';

const GO_ERRNO_TEXT: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted system call',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'cannot allocate memory',
  EACCES: 'permission denied',
  ENOTBLK: 'block device required',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  EMFILE: 'too many open files',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  ENAMETOOLONG: 'file name too long',
  ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
  EOPNOTSUPP: 'operation not supported',
  EDQUOT: 'disk quota exceeded',
};

/** Go's text for the errno of a Node or libc error ("no such file or directory"); else the text its message gives. */
export function goErrnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const known = code !== undefined ? GO_ERRNO_TEXT[code] : undefined;
  if (known) return known;
  // "ENODEV: no such device, mount '/x'" (Node's and libc.ts's shape): the middle.
  const m = /^E[A-Z0-9]+: ([^,]+),/.exec(errorText(e));
  return m ? m[1]! : errorText(e);
}

/**
 * An *os.PathError's text: "OP PATH: ERRNO". `op` and `path` default to the
 * error's own syscall and path.
 */
export function goPathError(e: unknown, op?: string, path?: string): string {
  const x = e as NodeJS.ErrnoException | undefined;
  const syscall = op ?? x?.syscall;
  const where = path ?? x?.path;
  if (syscall === undefined || where === undefined) return goErrnoText(e);
  return `${syscall} ${where}: ${goErrnoText(e)}`;
}
