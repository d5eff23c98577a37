// Sockets in another network namespace, made from berthd's own thread: the
// thread enters the namespace (setns), creates the sockets, and comes back,
// all in one synchronous call, so no JavaScript runs while it is away. A
// socket stays in the namespace it was created in, which is how berthd
// configures a container's interfaces (rtnetlink) and serves its DNS at
// 127.0.0.11 (UDP and TCP sockets Node then adopts by descriptor).
import { closeSync, openSync } from 'node:fs';
import { check, libcFunction } from '../util/libc.js';
import { Netlink } from './netlink.js';

const CLONE_NEWNET = 0x40000000;
const AF_INET = 2;
const AF_NETLINK = 16;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;

type Setns = (fd: number, nstype: number) => number;
type Unshare = (flags: number) => number;
type Socket = (domain: number, type: number, protocol: number) => number;
type Bind = (fd: number, addr: Buffer, len: number) => number;
type Listen = (fd: number, backlog: number) => number;
type Setsockopt = (fd: number, level: number, name: number, value: Buffer, len: number) => number;
type Close = (fd: number) => number;

let calls: { setns: Setns; unshare: Unshare; socket: Socket; bind: Bind; listen: Listen; setsockopt: Setsockopt; close: Close } | undefined;
function libc(): NonNullable<typeof calls> {
  calls ??= {
    setns: libcFunction<Setns>('int setns(int fd, int nstype)'),
    unshare: libcFunction<Unshare>('int unshare(int flags)'),
    socket: libcFunction<Socket>('int socket(int domain, int type, int protocol)'),
    bind: libcFunction<Bind>('int bind(int fd, const void *addr, uint32_t len)'),
    listen: libcFunction<Listen>('int listen(int fd, int backlog)'),
    setsockopt: libcFunction<Setsockopt>('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    close: libcFunction<Close>('int close(int fd)'),
  };
  return calls;
}

/** The network namespace of process `pid`, as a path setns and IFLA_NET_NS_FD can open. */
export function netnsOfPid(pid: number): string {
  return `/proc/${pid}/ns/net`;
}

/**
 * Runs `fn` with the calling thread in the network namespace at `nsPath`,
 * then returns the thread to its own. `fn` must be synchronous.
 */
export function inNetworkNamespace<T>(nsPath: string, fn: () => T): T {
  const own = openSync('/proc/thread-self/ns/net', 'r');
  let target: number | undefined;
  try {
    target = openSync(nsPath, 'r');
    check(libc().setns(target, CLONE_NEWNET), 'setns', nsPath);
    try {
      return fn();
    } finally {
      returnTo(own);
    }
  } finally {
    if (target !== undefined) closeSync(target);
    closeSync(own);
  }
}

/** Runs `fn` with the calling thread in a new network namespace, then returns the thread to its own. `fn` must be synchronous. */
export function inNewNetworkNamespace<T>(fn: () => T): T {
  const own = openSync('/proc/thread-self/ns/net', 'r');
  try {
    check(libc().unshare(CLONE_NEWNET), 'unshare');
    try {
      return fn();
    } finally {
      returnTo(own);
    }
  } finally {
    closeSync(own);
  }
}

function returnTo(own: number): void {
  // Failing to come back would leave berthd's thread in a container's namespace: nothing can go on.
  if (libc().setns(own, CLONE_NEWNET) !== 0) {
    process.stderr.write('berthd: cannot return to its own network namespace\n');
    process.abort();
  }
}

/** An rtnetlink socket in the namespace at `nsPath`. */
export function netlinkIn(nsPath: string): Netlink {
  return Netlink.fromFd(inNetworkNamespace(nsPath, () => check(libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0), 'socket')));
}

function sockaddrIn(address: number, port: number): Buffer {
  const sa = Buffer.alloc(16);
  sa.writeUInt16LE(AF_INET, 0);
  sa.writeUInt16BE(port, 2);
  sa.writeUInt32BE(address >>> 0, 4);
  return sa;
}

/** A bound, non-blocking UDP socket and a listening TCP socket on address:port in the namespace at `nsPath`. */
export function listenersIn(nsPath: string, address: number, port: number): { udp: number; tcp: number } {
  const { socket, bind, listen, setsockopt, close } = libc();
  return inNetworkNamespace(nsPath, () => {
    const made: number[] = [];
    try {
      const udp = check(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 'socket');
      made.push(udp);
      const tcp = check(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 'socket');
      made.push(tcp);
      const one = Buffer.alloc(4);
      one.writeInt32LE(1);
      for (const fd of made) check(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4), 'setsockopt');
      const sa = sockaddrIn(address, port);
      check(bind(udp, sa, sa.length), 'bind');
      check(bind(tcp, sa, sa.length), 'bind');
      check(listen(tcp, 128), 'listen');
      return { udp, tcp };
    } catch (e) {
      for (const fd of made) close(fd);
      throw e;
    }
  });
}

/** A non-blocking TCP socket, not yet connected, in the namespace at `nsPath` (tests reach published ports from berthd's namespace with it). */
export function tcpSocketIn(nsPath: string): number {
  return inNetworkNamespace(nsPath, () => check(libc().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 'socket'));
}
