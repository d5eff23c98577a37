// Client connections to SOCK_SEQPACKET unix sockets (conmon's attach socket),
// which Node's net module cannot open. The socket is made and connected
// through libc, then handed to libuv as a pipe: libuv reads and writes it
// with read(2)/write(2), which keep packet boundaries, so each 'data' event
// is one packet as long as the stream is consumed in flowing mode, and each
// write is one packet.
import net from 'node:net';
import { openSync, closeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import koffi from 'koffi';
import { check, close, libcFunction } from './libc.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
/** sun_path holds 108 bytes, the terminating NUL included. */
const SUN_PATH_MAX = 107;

type SocketFn = (domain: number, type: number, protocol: number) => number;
type ConnectFn = (fd: number, addr: { sun_family: number; sun_path: string }, len: number) => number;

let socketFn: SocketFn | undefined;
let connectFn: ConnectFn | undefined;

function bindings(): { socket: SocketFn; connect: ConnectFn } {
  if (!socketFn || !connectFn) {
    koffi.struct('berth_sockaddr_un', { sun_family: 'uint16_t', sun_path: koffi.array('char', 108) });
    socketFn = libcFunction<SocketFn>('int socket(int domain, int type, int protocol)');
    connectFn = libcFunction<ConnectFn>('int connect(int fd, const berth_sockaddr_un *addr, uint32_t len)');
  }
  return { socket: socketFn, connect: connectFn };
}

interface PipeHandle {
  open(fd: number): number;
}
type PipeBinding = { Pipe: new (type: number) => PipeHandle; constants: { SOCKET: number } };

/** Connects the socket at `path` (any length: a long one is reached through its directory's descriptor). */
function connectFd(path: string): number {
  const { socket, connect } = bindings();
  // Blocking while it connects (a full listen backlog waits instead of failing); libuv makes it non-blocking.
  const fd = check(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), 'socket');
  let dirFd: number | undefined;
  try {
    let target = path;
    if (Buffer.byteLength(path) > SUN_PATH_MAX) {
      dirFd = openSync(dirname(path), 'r');
      target = `/proc/self/fd/${dirFd}/${basename(path)}`;
    }
    // sun_family (2 bytes) + the path and its NUL.
    check(connect(fd, { sun_family: AF_UNIX, sun_path: target }, 2 + Buffer.byteLength(target) + 1), 'connect', path);
    return fd;
  } catch (e) {
    close(fd);
    throw e;
  } finally {
    if (dirFd !== undefined) closeSync(dirFd);
  }
}

/**
 * A connection to the SOCK_SEQPACKET socket at `path`, as a net.Socket
 * (allowHalfOpen: `end()` shuts down only the sending side). Throws a
 * Node-style error (ENOENT, ECONNREFUSED) when nothing listens there.
 */
export function connectSeqpacket(path: string): net.Socket {
  const fd = connectFd(path);
  // The one internal binding that wraps an fd of a type libuv does not guess (net.Socket({fd}) refuses it).
  const { Pipe, constants } = (process as unknown as { binding(name: 'pipe_wrap'): PipeBinding }).binding('pipe_wrap');
  const handle = new Pipe(constants.SOCKET);
  const rc = handle.open(fd);
  if (rc !== 0) {
    close(fd);
    throw Object.assign(new Error(`cannot open the connection to ${path} (${rc})`), { code: 'EINVAL' });
  }
  return new net.Socket({ handle, readable: true, writable: true, allowHalfOpen: true } as net.SocketConstructorOpts);
}
