// Hijacked streams for attach and exec: an HTTP upgrade (`Connection:
// Upgrade`, `Upgrade: tcp`) turns the connection into a raw duplex stream.
// Output is demultiplexed without a TTY and copied raw with one; stdin is
// forwarded and half-closed at EOF; a local terminal goes to raw mode with -t.
import { execFileSync } from 'node:child_process';
import type { Duplex, Readable } from 'node:stream';
import type { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { Demuxer } from './stdcopy.js';

export interface HijackedConn {
  /** Output from the daemon. */
  output: Readable;
  /** Where stdin goes; undefined when the daemon answered without an upgrade. */
  input?: Duplex;
  /** Bytes that arrived with the upgrade response. */
  head: Buffer;
  close(): void;
}

/** POSTs to `path` asking for an upgrade and hands back the raw connection. */
export async function hijack(
  client: ApiClient,
  path: string,
  query: Record<string, string | undefined>,
  body?: unknown,
): Promise<HijackedConn> {
  const version = await client.apiVersion();
  return new Promise((resolvePromise, reject) => {
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp' };
    if (body === undefined) headers['Content-Type'] = 'text/plain';
    const req = client.open('POST', `/v${version}${path}`, { query, headers, body }, (res) => {
      const status = res.statusCode ?? 500;
      if (status !== 200) {
        // The docker client's hijack accepts only 101 (or a pre-upgrade 200) and drops the body.
        res.resume();
        reject(new CliError(`unable to upgrade to tcp, received ${status}`));
        return;
      }
      // A daemon that answers 200 and then streams (no upgrade).
      resolvePromise({ output: res, head: Buffer.alloc(0), close: () => res.destroy() });
    });
    req.on('upgrade', (_res, socket, head) => {
      resolvePromise({ output: socket, input: socket, head, close: () => socket.destroy() });
    });
    req.on('error', reject);
    if (body !== undefined) req.end(JSON.stringify(body));
    else req.end();
  });
}

export interface StreamOptions {
  tty: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Forward this to the connection and half-close at its end. */
  stdin?: NodeJS.ReadableStream & { setRawMode?: (raw: boolean) => unknown; isTTY?: boolean };
  /** Put a terminal stdin into raw mode while streaming (docker does this with -t). */
  rawTerminal?: boolean;
  /** ctrl-p ctrl-q by default; detaching ends the stream without an error. */
  detachKeys?: number[];
}

export interface StreamHandle {
  /** Resolves when the output ends (or on detach); rejects on a stream error. */
  done: Promise<{ detached: boolean }>;
  /** Stops forwarding and restores the terminal. */
  stop(): void;
}

const DEFAULT_DETACH = [0x10, 0x11]; // ctrl-p, ctrl-q

/**
 * moby/term's MakeRaw (cfmakeraw) on the terminal behind stdin, output
 * post-processing included: libuv's raw mode keeps ONLCR, which would turn
 * the container's "\r\n" into "\r\r\n". Returns the restore function.
 */
function makeRaw(stdin: { setRawMode?: (raw: boolean) => unknown }): () => void {
  const tty = { stdio: ['inherit', 'pipe', 'ignore'] as ['inherit', 'pipe', 'ignore'] };
  try {
    const saved = execFileSync('stty', ['-g'], tty).toString().trim();
    execFileSync('stty', ['raw', '-echo', '-echonl', '-iexten', 'cs8', '-parenb', 'min', '1', 'time', '0'], tty);
    return () => {
      try {
        execFileSync('stty', [saved], tty);
      } catch {
        // the terminal went away
      }
    };
  } catch {
    if (!stdin.setRawMode) return () => undefined;
    stdin.setRawMode(true);
    return () => {
      stdin.setRawMode?.(false);
    };
  }
}

/** Pumps a hijacked connection to the local stdio. */
export function pumpStreams(conn: HijackedConn, opts: StreamOptions): StreamHandle {
  const stdout = opts.stdout;
  const stderr = opts.stderr;
  const write = (w: NodeJS.WritableStream | undefined, c: Buffer): void => {
    if (w) w.write(c);
  };
  const demux = opts.tty ? undefined : new Demuxer({ stdout: (c) => write(stdout, c), stderr: (c) => write(stderr, c) });

  let restoreTerminal = (): void => undefined;
  let stopInput = (): void => undefined;
  let settle: ((v: { detached: boolean }) => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  const done = new Promise<{ detached: boolean }>((res, rej) => {
    settle = res;
    fail = rej;
  });
  let finished = false;
  const finish = (detached: boolean, err?: Error): void => {
    if (finished) return;
    finished = true;
    stopInput();
    restoreTerminal();
    if (err) fail!(err);
    else settle!({ detached });
  };

  const onData = (c: Buffer): void => {
    try {
      if (demux) demux.push(c);
      else write(stdout, c);
    } catch (e) {
      conn.close();
      finish(false, e as Error);
    }
  };
  // A closed pipe on our side ends the session as docker's does: "write /dev/stdout: broken pipe".
  for (const [w, name] of [[stdout, 'stdout'], [stderr, 'stderr']] as const) {
    w?.on?.('error', (e: NodeJS.ErrnoException) => {
      conn.close();
      finish(false, new Error(e.code === 'EPIPE' ? `write /dev/${name}: broken pipe` : `write /dev/${name}: ${e.message}`));
    });
  }
  if (conn.head.length > 0) onData(conn.head);
  conn.output.on('data', onData);
  conn.output.on('end', () => finish(false));
  conn.output.on('close', () => finish(false));
  conn.output.on('error', (e) => finish(false, e));

  const stdin = opts.stdin;
  if (stdin && conn.input) {
    const input = conn.input;
    if (opts.rawTerminal && stdin.isTTY) restoreTerminal = makeRaw(stdin);
    const keys = opts.detachKeys ?? (opts.tty ? DEFAULT_DETACH : []);
    let matched = 0;
    const onInput = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (keys.length > 0) {
        for (let i = 0; i < buf.length; i++) {
          if (buf[i] === keys[matched]) {
            matched++;
            if (matched === keys.length) {
              // Send what came before the sequence, then detach.
              const before = buf.subarray(0, Math.max(0, i + 1 - keys.length));
              if (before.length > 0) input.write(before);
              conn.close();
              finish(true);
              return;
            }
          } else {
            matched = buf[i] === keys[0] ? 1 : 0;
          }
        }
      }
      input.write(buf);
    };
    const onEnd = (): void => {
      // CloseWrite: the daemon sees stdin EOF, output keeps flowing.
      if (!finished) input.end();
    };
    stdin.on('data', onInput);
    stdin.on('end', onEnd);
    stdin.resume();
    stopInput = () => {
      stdin.removeListener('data', onInput);
      stdin.removeListener('end', onEnd);
      stdin.pause();
    };
  }

  return {
    done,
    stop: () => {
      finish(false);
    },
  };
}
