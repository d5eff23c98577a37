// What the kernel knows of a Node unix socket connection: its descriptor, and
// whether the peer has read everything sent to it so far.
//
// Why the second: docker-py (docker-compose 1.x, the Python SDK) reads a
// hijacked response's "101 UPGRADED" head through a buffered reader and then
// takes the raw socket underneath it, so stream bytes that arrived with the
// head sit in that buffer and are lost: `exec -T` exits 0 with no output when
// the client was slow to read the head (a loaded machine). On a unix socket
// SIOCOUTQ counts the bytes the peer has not yet read, so the stream can wait
// until the head is gone before it sends anything.
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { check, libcFunction } from './libc.js';

const SIOCOUTQ = 0x5411;
type IoctlIntFn = (fd: number, request: number, value: Int32Array) => number;
let ioctlInt: IoctlIntFn | undefined;

/** The descriptor under a Node unix socket, or undefined (TCP, TLS, another stream, closed). */
export function unixSocketFd(socket: Duplex): number | undefined {
  if (!(socket instanceof Socket) || socket.destroyed || socket.remoteAddress !== undefined) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Bytes written on a unix socket that its peer has not read yet (Node's own buffer included). */
export function unreadByPeer(socket: Duplex, fd: number): number {
  ioctlInt ??= libcFunction<IoctlIntFn>('int ioctl(int fd, unsigned long request, _Out_ int32_t *value)');
  const value = new Int32Array(1);
  check(ioctlInt(fd, SIOCOUTQ, value), 'ioctl(SIOCOUTQ)');
  return value[0]! + socket.writableLength;
}

/**
 * Resolves once the peer of a unix socket has read all that was written to
 * it, the socket closed, or `limitMs` passed (a peer that never reads must
 * not hold the stream back for good). Resolves at once for other sockets,
 * whose kernel cannot tell.
 */
export function whenPeerHasRead(socket: Duplex, limitMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve) => {
    let delay = 1;
    const poll = (): void => {
      let done = true;
      try {
        const fd = unixSocketFd(socket);
        done = fd === undefined || unreadByPeer(socket, fd) === 0 || Date.now() - started >= limitMs;
      } catch {
        // The kernel will not say: send as dockerd does.
      }
      if (done) {
        resolve();
        return;
      }
      // A reader that is awake takes well under a millisecond; a loaded one is polled less often.
      setTimeout(poll, delay).unref();
      delay = Math.min(delay * 2, 20);
    };
    poll();
  });
}
