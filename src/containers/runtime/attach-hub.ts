// berthd's side of a monitored process's stdio: one connection to conmon's
// attach socket, shared by every attach client. conmon sends each chunk of
// output as one packet (a stream byte, 2 stdout or 3 stderr, then the data)
// and takes each packet it receives as stdin; a connection that shuts down
// its sending side is stdin EOF, and conmon then closes the process's stdin
// unless it runs with --leave-stdin-open. A connection that closes does the
// same, which is why clients do not get connections of their own: a client
// that attached without stdin must be able to leave without closing it.
//
// Each client gets the output in Docker's format: multiplexed frames (an
// 8-byte header: stream 1 or 2, three zero bytes, big-endian length), or the
// raw bytes with a TTY. The connection is kept while clients are attached,
// and for a StdinOnce process also until its stdin was closed.
import { PassThrough, Writable, type Readable } from 'node:stream';
import { SeqpacketConnection } from '../../util/seqpacket.js';
import { CONMON_STDERR, CONMON_STDOUT } from './conmon.js';

export interface AttachRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** One client's view of a process's stdio. */
export interface Attachment {
  tty: boolean;
  /**
   * The output the client asked for: Docker's multiplexed frames, or raw
   * bytes with a TTY. Ends when the process's stdio closes or on close().
   */
  output: Readable;
  /** Writes go to the process's stdin; `end()` is the client closing its stdin. Null without stdin. */
  stdin: Writable | null;
  /** Resolves when `output` has ended. */
  done: Promise<void>;
  /** Detaches (the process keeps running). */
  close(): void;
}

/** Docker's stdcopy frame header for `payloadLength` bytes of `stream` (1 stdout, 2 stderr). */
export function frameHeader(stream: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payloadLength, 4);
  return h;
}

/** Splits a Docker multiplexed stream into (stream, payload) frames. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      const stream = this.buf[0]!;
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.onFrame(stream, payload);
    }
  }
}

/** conmon reads up to 32 KiB per packet; a longer one would be cut. */
const MAX_STDIN_PACKET = 32 * 1024;
/** A client that stops reading is dropped once this much output waits for it. */
const MAX_CLIENT_BACKLOG = 64 * 1024 * 1024;

interface Client {
  req: AttachRequest;
  output: PassThrough;
}

export interface AttachHubOptions {
  /** conmon's attach socket. */
  socketPath: string;
  tty: boolean;
  /** The process has a stdin attach clients write to (conmon -i). */
  openStdin: boolean;
  /** Closing stdin once: the first client to end its stdin closes the process's (conmon without --leave-stdin-open). */
  stdinOnce: boolean;
  /** Reports what goes wrong on the connection (berthd's log). */
  warn: (message: string) => void;
}

export class AttachHub {
  private conn: SeqpacketConnection | null = null;
  private readonly clients = new Set<Client>();
  /** The process's stdio is closed (it exited): attaches get an ended stream. */
  private finished = false;
  private stdinClosed = false;
  /** stdin chunks waiting for the previous packet to be written (one packet per write). */
  private readonly stdinQueue: Buffer[] = [];
  private writing = false;

  constructor(private readonly opts: AttachHubOptions) {}

  /**
   * Connects now and keeps the connection until the process's stdin is
   * closed: for a StdinOnce process, so that no client's leaving closes it
   * before its own stdin ends. Call before the process starts.
   */
  holdStdin(): void {
    if (this.opts.openStdin && this.opts.stdinOnce) this.connection();
  }

  attach(req: AttachRequest): Attachment {
    const output = new PassThrough();
    const done = new Promise<void>((resolve) => {
      output.once('close', resolve);
      output.once('end', resolve);
    });
    output.on('error', () => undefined);
    const client: Client = { req, output };
    const leave = (): void => {
      if (!this.clients.delete(client)) return;
      this.releaseIfIdle();
    };
    output.once('close', leave);
    let stdin: Writable | null = null;
    if (req.stdin && this.opts.openStdin) {
      stdin = new Writable({
        write: (chunk: Buffer, _enc, cb) => {
          this.writeStdin(chunk);
          cb();
        },
        final: (cb) => {
          // Docker's StdinOnce: the first client's stdin EOF closes the process's stdin.
          if (this.opts.stdinOnce) this.closeStdin();
          cb();
        },
      });
    }
    if (this.finished || !this.connection()) {
      output.end();
      return { tty: this.opts.tty, output, stdin, done, close: () => output.destroy() };
    }
    this.clients.add(client);
    return {
      tty: this.opts.tty,
      output,
      stdin,
      done,
      close: () => {
        leave();
        output.destroy();
      },
    };
  }

  /** Closes the process's stdin (with a TTY, after the terminal's EOF character, as a shell needs it). */
  closeStdin(): void {
    if (this.stdinClosed || !this.opts.openStdin) return;
    this.stdinClosed = true;
    if (this.opts.tty) this.stdinQueue.push(Buffer.from([0x04]));
    this.flushStdin();
  }

  /**
   * The process exited: no new attaches. conmon closes its connections
   * after sending the last output and before it records the exit, so an open
   * connection is left to deliver what it still holds and end by itself.
   */
  finish(): void {
    this.finished = true;
    if (!this.conn) this.endClients();
  }

  /** Drops everything now (the container is being removed). */
  destroy(): void {
    this.finished = true;
    this.conn?.destroy();
    this.conn = null;
    this.endClients();
  }

  private endClients(): void {
    for (const c of this.clients) c.output.end();
    this.clients.clear();
  }

  private writeStdin(data: Buffer): void {
    if (this.stdinClosed || this.finished) return;
    for (let off = 0; off < data.length; off += MAX_STDIN_PACKET) this.stdinQueue.push(Buffer.from(data.subarray(off, off + MAX_STDIN_PACKET)));
    this.flushStdin();
  }

  /** Writes queued stdin one packet at a time: libuv would join queued writes into one writev, one packet. */
  private flushStdin(): void {
    if (this.writing) return;
    const conn = this.connection();
    if (!conn) return;
    const next = this.stdinQueue.shift();
    if (!next) {
      // Shutting down the sending side is stdin EOF to conmon; output keeps coming.
      if (this.stdinClosed) conn.shutdownSend();
      return;
    }
    this.writing = true;
    conn.send(next, () => {
      this.writing = false;
      this.flushStdin();
    });
  }

  /** The connection, made when first needed; null when conmon is gone. */
  private connection(): SeqpacketConnection | null {
    if (this.conn) return this.conn;
    if (this.finished) return null;
    let conn: SeqpacketConnection;
    try {
      conn = SeqpacketConnection.connect(this.opts.socketPath);
    } catch {
      // No socket: the process has exited (conmon removes it) or was never started.
      return null;
    }
    this.conn = conn;
    conn.on('packet', (packet: Buffer) => this.deliver(packet));
    conn.on('error', (e: Error) => this.opts.warn(`attach connection: ${e.message}`));
    // conmon closes its readers when the process has exited and its output is sent.
    conn.on('close', () => {
      if (this.conn !== conn) return;
      this.conn = null;
      this.finished = true;
      this.endClients();
    });
    return conn;
  }

  private deliver(packet: Buffer): void {
    if (packet.length < 2) return;
    const stream = packet[0] === CONMON_STDERR ? 'stderr' : packet[0] === CONMON_STDOUT ? 'stdout' : null;
    if (!stream) return;
    const data = packet.subarray(1);
    const framed = this.opts.tty ? Buffer.from(data) : Buffer.concat([frameHeader(stream === 'stdout' ? 1 : 2, data.length), data]);
    for (const c of this.clients) {
      if (!c.req[stream]) continue;
      if (c.output.writableLength > MAX_CLIENT_BACKLOG) {
        this.opts.warn('dropping an attach client that stopped reading');
        c.output.destroy();
        continue;
      }
      c.output.write(framed);
    }
  }

  /** Drops the connection once no client needs it (and, for StdinOnce, stdin is closed). */
  private releaseIfIdle(): void {
    if (this.clients.size > 0 || !this.conn) return;
    if (this.opts.openStdin && this.opts.stdinOnce && !this.stdinClosed) return;
    if (this.writing || this.stdinQueue.length > 0) return;
    const conn = this.conn;
    this.conn = null;
    conn.destroy();
  }
}
