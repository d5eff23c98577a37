// Client connections to SOCK_SEQPACKET unix sockets (conmon's attach socket),
// which Node's net module cannot open. The socket is made and connected
// through libc, then handed to libuv as a pipe: libuv reads and writes it
// with read(2)/write(2), which keep packet boundaries, so each read is one
// packet and each write is one packet.
//
// One libuv rule does not fit packets: when the peer has closed (POLLHUP)
// and a read did not fill the buffer, libuv takes the stream to be drained
// and reports EOF, true of a byte stream but not of queued packets. So at
// that EOF the packets still queued are read here, before the close. A
// failed write (EPIPE: the process exited while stdin was being sent) makes
// Node close the socket at once; the packets queued then are read through a
// second descriptor of the socket kept for that.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { openSync, closeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import koffi from 'koffi';
import { check, close, dupCloexec, libcFunction } from './libc.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
/** sun_path holds 108 bytes, the terminating NUL included. */
const SUN_PATH_MAX = 107;

const MSG_DONTWAIT = 0x40;
/** More than any packet conmon sends (8 KiB of output and its stream byte). */
const MAX_PACKET = 64 * 1024;

type SocketFn = (domain: number, type: number, protocol: number) => number;
type ConnectFn = (fd: number, addr: { sun_family: number; sun_path: string }, len: number) => number;
type RecvFn = (fd: number, buf: Buffer, len: number, flags: number) => number;

let fns: { socket: SocketFn; connect: ConnectFn; recv: RecvFn } | undefined;

function bindings(): { socket: SocketFn; connect: ConnectFn; recv: RecvFn } {
  if (!fns) {
    koffi.struct('berth_sockaddr_un', { sun_family: 'uint16_t', sun_path: koffi.array('char', 108) });
    fns = {
      socket: libcFunction<SocketFn>('int socket(int domain, int type, int protocol)'),
      connect: libcFunction<ConnectFn>('int connect(int fd, const berth_sockaddr_un *addr, uint32_t len)'),
      recv: libcFunction<RecvFn>('long recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)'),
    };
  }
  return fns;
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
 * A connection to a SOCK_SEQPACKET socket: 'packet' events (one Buffer per
 * packet, in order), then one 'close' when the peer closed or destroy() was
 * called; 'error' for a failed connection.
 */
export class SeqpacketConnection extends EventEmitter {
  private closed = false;
  /** The socket's second descriptor, open until the connection is finished: the queued packets stay readable after libuv closed its own. */
  private spareFd: number;

  private constructor(
    private readonly socket: net.Socket,
    fd: number,
  ) {
    super();
    this.spareFd = dupCloexec(fd);
    socket.on('data', (packet: Buffer) => this.emit('packet', packet));
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    socket.on('error', (e) => this.emit('error', e));
  }

  /** Connects to the socket at `path` (any length); throws a Node-style error (ENOENT, ECONNREFUSED) when nothing listens there. */
  static connect(path: string): SeqpacketConnection {
    const fd = connectFd(path);
    // The one internal binding that wraps an fd of a type libuv does not guess (net.Socket({fd}) refuses it).
    const { Pipe, constants } = (process as unknown as { binding(name: 'pipe_wrap'): PipeBinding }).binding('pipe_wrap');
    const handle = new Pipe(constants.SOCKET);
    const rc = handle.open(fd);
    if (rc !== 0) {
      close(fd);
      throw Object.assign(new Error(`cannot open the connection to ${path} (${rc})`), { code: 'EINVAL' });
    }
    const socket = new net.Socket({ handle, readable: true, writable: true, allowHalfOpen: true } as net.SocketConstructorOpts);
    return new SeqpacketConnection(socket, fd);
  }

  /** Sends `data` as one packet; `written` once it is. */
  send(data: Buffer, written: () => void): void {
    if (this.closed) return;
    this.socket.write(data, () => written());
  }

  /** Shuts down the sending side: the peer reads EOF, packets keep coming. */
  shutdownSend(): void {
    if (!this.closed && !this.socket.writableEnded) this.socket.end();
  }

  get sendingEnded(): boolean {
    return this.socket.writableEnded;
  }

  /** Closes the connection; what the peer sent and was not read yet is dropped. */
  destroy(): void {
    this.socket.destroy();
    this.finish({ drain: false });
  }

  /** The packets libuv left queued when it took the peer's close (or a failed write) for the end (see the top of this file). */
  private drainQueued(): void {
    const { recv } = bindings();
    const buf = Buffer.alloc(MAX_PACKET);
    for (;;) {
      const n = Number(recv(this.spareFd, buf, buf.length, MSG_DONTWAIT));
      if (n <= 0) return;
      this.emit('packet', Buffer.from(buf.subarray(0, n)));
    }
  }

  private finish(opts: { drain: boolean } = { drain: true }): void {
    if (this.closed) return;
    this.closed = true;
    if (opts.drain) this.drainQueued();
    close(this.spareFd);
    this.socket.destroy();
    this.emit('close');
  }
}
