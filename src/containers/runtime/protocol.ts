// The shim's unix-socket protocol, shared by the shim and its clients.
//
// Every connection starts with one request line (JSON + "\n") from the
// client, answered by one response line from the shim. Control requests
// (ping, start, resize, wait, kill, close-stdin, shutdown) end there. An
// `attach` connection then carries streams:
//   shim -> client: the container's output. Without a TTY, in Docker's
//     multiplexed format (8-byte header: stream type 1=stdout 2=stderr, three
//     zero bytes, big-endian uint32 payload length; then the payload), so a
//     daemon can copy it verbatim to a hijacked `docker attach` connection.
//     With a TTY: raw bytes, no headers (as Docker).
//   client -> shim: raw stdin bytes; the client half-closing its side is
//     stdin EOF (closes the container's stdin when the container has StdinOnce).
// The shim ends the connection once the container has exited and all output
// was sent.
import { openSync, closeSync } from 'node:fs';
import { dirname, basename } from 'node:path';
import type { Socket } from 'node:net';

export const SOCKET_NAME = 'shim.sock';
export const SHIM_PID_NAME = 'shim.pid';
export const SHIM_CONFIG_NAME = 'shim.json';
export const SHIM_LOG_NAME = 'shim.log';
export const EXIT_NAME = 'exit.json';
export const RUNC_PID_NAME = 'runc.pid';
export const RUNC_LOG_NAME = 'runc.log';

export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;

export type ShimRequest =
  | { op: 'ping' }
  | { op: 'start' }
  | { op: 'attach'; stdin?: boolean; stdout?: boolean; stderr?: boolean }
  | { op: 'resize'; height: number; width: number }
  | { op: 'wait' }
  | { op: 'kill'; signal: string }
  | { op: 'close-stdin' }
  | { op: 'shutdown' };

export type ShimState = 'created' | 'starting' | 'running' | 'exited';

/** The container's exit, as the shim writes it to exit.json. */
export interface ExitStatus {
  /** Docker's exit code: the process's status, or 128+N when killed by signal N. */
  exitCode: number;
  /** The signal name when the exit code says "killed by a signal" (exitCode > 128), e.g. "SIGKILL". */
  signal?: string;
  /** RFC3339Nano, UTC. */
  finishedAt: string;
  /** Never detected by berth (no cgroup OOM events watched); kept for Docker's State.OOMKilled. */
  oomKilled: boolean;
  /** When the container was running: its pid and start time. */
  pid?: number;
  startedAt?: string;
  /** Set when the runtime failed to start the process (exitCode 126/127/128, as Docker). */
  error?: string;
}

export interface ShimStatus {
  id: string;
  state: ShimState;
  /** The shim's own pid. */
  shimPid: number;
  /** The runtime process (`runc run`/`runc exec`) pid, once started. */
  runtimePid?: number;
  /** The container's (init or exec'd) process pid, as runc wrote it to the pid file. */
  pid?: number;
  startedAt?: string;
  tty: boolean;
  openStdin: boolean;
  exit?: ExitStatus;
}

/** Docker's stdcopy frame header for `payloadLength` bytes of `stream`. */
export function frameHeader(stream: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payloadLength, 4);
  return h;
}

/** Incrementally splits a Docker multiplexed stream into (stream, payload) frames. */
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

  get pending(): number {
    return this.buf.length;
  }
}

/**
 * Reads one "\n"-terminated JSON line from a socket. Bytes after the newline
 * are put back (unshift) for the next reader.
 */
export function readJsonLine<T>(sock: Socket, maxBytes = 1024 * 1024): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = (): void => {
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl === -1) {
        if (buf.length > maxBytes) {
          cleanup();
          reject(new Error('protocol line too long'));
        }
        return;
      }
      cleanup();
      sock.pause();
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) sock.unshift(rest);
      try {
        resolve(JSON.parse(buf.subarray(0, nl).toString('utf8')) as T);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(Object.assign(new Error('connection closed before a complete line'), { code: 'ECONNRESET' }));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    sock.once('error', onError);
    sock.resume();
  });
}

// sun_path holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH = 100;

/**
 * Runs `fn` with a path usable for bind()/connect() to `socketPath`: the path
 * itself when short enough, else `/proc/self/fd/<dirfd>/<name>` through an
 * fd of the socket's directory (long state dirs exceed sun_path).
 */
export async function withSocketPath<T>(socketPath: string, fn: (usable: string) => Promise<T>): Promise<T> {
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH) return fn(socketPath);
  const fd = openSync(dirname(socketPath), 'r');
  try {
    return await fn(`/proc/self/fd/${fd}/${basename(socketPath)}`);
  } finally {
    closeSync(fd);
  }
}
