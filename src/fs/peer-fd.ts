// A file descriptor taken from the process at the other end of a unix socket
// connection, with pidfd_getfd(2): the berth CLI on the same host names its
// open archive file and berthd reads or writes it directly, so the data does
// not cross the socket twice. The peer is the process that connected
// (SO_PEERPIDFD where the kernel has it, else SO_PEERCRED's pid), so a client
// can only hand over descriptors of its own.
import type { Socket } from 'node:net';
import { check, close, libcFunction } from '../util/libc.js';
import { unixSocketFd } from '../util/unix-socket.js';

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const SO_PEERPIDFD = 77;
// The generic syscall table numbers, shared by x86_64 and arm64.
const SYS_pidfd_open = 434;
const SYS_pidfd_getfd = 438;

type GetsockoptFn = (fd: number, level: number, name: number, value: Buffer, length: number[]) => number;
type SyscallFn = (nr: number, ...args: unknown[]) => number | bigint;
let getsockopt: GetsockoptFn | undefined;
let syscall: SyscallFn | undefined;

/** A pidfd for the connected peer: its own (SO_PEERPIDFD), or opened from its pid. */
function peerPidfd(sock: number): number {
  getsockopt ??= libcFunction<GetsockoptFn>('int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *length)');
  syscall ??= libcFunction<SyscallFn>('long syscall(long number, ...)');
  const value = Buffer.alloc(12);
  if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, value, [4]) === 0) return value.readInt32LE(0);
  check(getsockopt(sock, SOL_SOCKET, SO_PEERCRED, value, [12]), 'getsockopt(SO_PEERCRED)');
  const pid = value.readInt32LE(0);
  if (pid <= 0) throw Object.assign(new Error('the peer has no process id in this pid namespace'), { code: 'ESRCH' });
  return check(syscall(SYS_pidfd_open, 'int', pid, 'unsigned int', 0), 'pidfd_open');
}

/**
 * A duplicate (close-on-exec) of descriptor `fd` of the process connected on
 * `socket`; throws when the socket is not a local unix one, the peer is gone,
 * or it has no such descriptor.
 */
export function takePeerFd(socket: Socket, fd: number): number {
  const sock = unixSocketFd(socket);
  if (sock === undefined) {
    throw Object.assign(new Error('descriptors can only be handed over a local unix socket'), { code: 'EOPNOTSUPP' });
  }
  const pidfd = peerPidfd(sock);
  try {
    return check(syscall!(SYS_pidfd_getfd, 'int', pidfd, 'int', fd, 'unsigned int', 0), 'pidfd_getfd');
  } finally {
    close(pidfd);
  }
}
