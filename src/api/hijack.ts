// Docker's connection hijack for attach and exec start: answer "101 UPGRADED"
// (or 200 without an Upgrade header) and hand over the raw socket.
import { PassThrough, type Duplex } from 'node:stream';
import type { Attachment } from '../containers/runtime/attach-hub.js';
import type { RequestContext } from './http.js';
import { commonHeaders } from './server.js';
import { whenPeerHasRead } from '../util/unix-socket.js';

export interface Hijacked {
  /** Bytes to the client. */
  out: NodeJS.WritableStream & { end(): void };
  /** Bytes from the client (stdin), or null when the connection was not upgraded. */
  input: Duplex | null;
  close(): void;
  onClose(fn: () => void): void;
}

export function hijack(ctx: RequestContext, contentType: string): Hijacked {
  const extra = Object.entries(commonHeaders())
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (ctx.upgrade) {
    const socket = ctx.upgrade.socket;
    // A client that goes away mid-stream (EPIPE, ECONNRESET) just ends the session.
    socket.on('error', () => socket.destroy());
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${extra}\r\n`);
    if (ctx.upgrade.head.length > 0) socket.unshift(ctx.upgrade.head);
    // The stream waits (in `out`, backpressure reaching the container) until
    // the client has read the head: see whenPeerHasRead for the client that
    // would lose what came with it.
    const out = new PassThrough();
    void whenPeerHasRead(socket).then(() => out.pipe(socket));
    return {
      out,
      input: socket,
      close: () => socket.destroy(),
      onClose: (fn) => socket.once('close', fn),
    };
  }
  const res = ctx.res;
  res.on('error', () => res.destroy());
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  return {
    out: res,
    input: null,
    close: () => res.destroy(),
    onClose: (fn) => res.once('close', fn),
  };
}

/**
 * Joins a container attachment and a hijacked connection: output to the
 * client until the container's side ends, client bytes to stdin when stdin
 * was attached (the client half-closing closes stdin).
 */
export function splice(attachment: Attachment, h: Hijacked, opts: { endWithAttachment?: boolean } = {}): void {
  // pipe() forwards no errors: each side needs its own listener. Stdin
  // failing (the process closed it) only stops forwarding input.
  if (attachment.stdin) {
    const stdin = attachment.stdin;
    stdin.on('error', () => {
      if (h.input) h.input.unpipe(stdin);
    });
  }
  attachment.output.pipe(h.out, { end: false });
  if (opts.endWithAttachment !== false) void attachment.done.then(() => h.out.end());
  if (h.input && attachment.stdin) h.input.pipe(attachment.stdin);
  h.onClose(() => attachment.close());
}
