// A foreground runtime process (`runc run` / `runc exec`) with its stdio, in
// one of two shapes:
//  - pipes: runc gets a stdin pipe (or /dev/null), and stdout/stderr pipes.
//    In the foreground runc copies between these and the container's own
//    pipes.
//  - pty: for process.terminal=true. A foreground runc insists on a host
//    terminal (it takes the container's pty master itself, puts the host
//    terminal in raw mode, copies both ways and forwards SIGWINCH as a
//    resize). So runc runs on a pseudo-terminal from node-pty; resizing that
//    pty makes the kernel send runc SIGWINCH, and runc resizes the container's
//    console to match.
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { existsSync } from 'node:fs';
import { SystemError } from '../../errors.js';

export interface RuntimeExit {
  /** runc's exit code (for a container process: its status, or 128+N if killed by signal N). */
  code: number | null;
  /** Set when runc itself was killed by a signal. */
  signal: NodeJS.Signals | null;
}

export interface RuntimeProcess {
  readonly pid: number;
  readonly tty: boolean;
  onOutput(cb: (stream: 'stdout' | 'stderr', data: Buffer) => void): void;
  writeStdin(data: Buffer): void;
  /** Closes the process's stdin (EOF). With a TTY, sends the terminal's EOF character (^D) instead. */
  closeStdin(): void;
  resize(height: number, width: number): void;
  kill(signal: NodeJS.Signals | number): void;
  /** Resolves once the process exited and all of its output was delivered. */
  readonly exited: Promise<RuntimeExit>;
}

export interface SpawnRuntimeOptions {
  tty: boolean;
  /** Give the process a stdin pipe (otherwise /dev/null). Always true with a TTY. */
  stdin: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Initial terminal size (TTY only). */
  height?: number;
  width?: number;
}

export function signalName(sig: number): NodeJS.Signals | undefined {
  for (const [name, num] of Object.entries(osConstants.signals)) {
    if (num === sig) return name as NodeJS.Signals;
  }
  return undefined;
}

export function signalNumber(sig: NodeJS.Signals | string | number): number {
  if (typeof sig === 'number') return sig;
  const s = sig.toUpperCase();
  if (/^[0-9]+$/.test(s)) return Number(s);
  const name = (s.startsWith('SIG') ? s : `SIG${s}`) as NodeJS.Signals;
  const n = osConstants.signals[name];
  if (n === undefined) throw new SystemError(`invalid signal: ${sig}`);
  return n;
}

export function spawnRuntime(binary: string, args: string[], opts: SpawnRuntimeOptions): Promise<RuntimeProcess> {
  return opts.tty ? spawnPty(binary, args, opts) : spawnPipes(binary, args, opts);
}

async function spawnPipes(binary: string, args: string[], opts: SpawnRuntimeOptions): Promise<RuntimeProcess> {
  const child = spawn(binary, args, {
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? '/',
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new SystemError(`cannot run ${binary}: ${e.message}`, { cause: e })));
  });
  const listeners: Array<(stream: 'stdout' | 'stderr', data: Buffer) => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    for (const l of listeners) l('stdout', d);
  });
  child.stderr!.on('data', (d: Buffer) => {
    for (const l of listeners) l('stderr', d);
  });
  child.stdin?.on('error', () => {
    /* EPIPE once the container closed its stdin: ignore */
  });
  const exited = new Promise<RuntimeExit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let stdinClosed = false;
  return {
    pid: child.pid!,
    tty: false,
    onOutput: (cb) => listeners.push(cb),
    writeStdin: (data) => {
      if (!stdinClosed && child.stdin && !child.stdin.destroyed) child.stdin.write(data);
    },
    closeStdin: () => {
      if (stdinClosed) return;
      stdinClosed = true;
      child.stdin?.end();
    },
    resize: () => {
      /* no terminal */
    },
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch {
        /* already gone */
      }
    },
    exited,
  };
}

// The subset of node-pty used here (loaded lazily: only TTY containers need it).
interface PtyLike {
  readonly pid: number;
  onData(cb: (data: Buffer | string) => void): unknown;
  onExit(cb: (e: { exitCode: number; signal?: number }) => void): unknown;
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
}
interface PtyModule {
  spawn(
    file: string,
    args: string[],
    opts: { name?: string; cols?: number; rows?: number; cwd?: string; env?: NodeJS.ProcessEnv; encoding?: string | null },
  ): PtyLike;
}

let ptyModule: Promise<PtyModule> | null = null;

async function loadPty(): Promise<PtyModule> {
  if (!ptyModule) {
    const name = 'node-pty';
    ptyModule = import(name).then(
      (m: { default?: PtyModule } & PtyModule) => (typeof m.spawn === 'function' ? m : (m.default as PtyModule)),
      (e: unknown) => {
        ptyModule = null;
        throw new SystemError('containers with a TTY need the npm package node-pty, which is not installed or not built', {
          cause: e,
        });
      },
    );
  }
  return ptyModule;
}

/** Turns every "\n" not preceded by "\r" into "\r\n" (state carried across chunks). */
export class CrlfNormalizer {
  private lastCR = false;

  push(chunk: Buffer): Buffer {
    const startCR = this.lastCR;
    let extra = 0;
    let prev = startCR;
    for (const b of chunk) {
      if (b === 0x0a && !prev) extra++;
      prev = b === 0x0d;
    }
    this.lastCR = prev;
    if (extra === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + extra);
    let o = 0;
    prev = startCR;
    for (const b of chunk) {
      if (b === 0x0a && !prev) out[o++] = 0x0d;
      out[o++] = b;
      prev = b === 0x0d;
    }
    return out;
  }
}

const STTY = ['/usr/bin/stty', '/bin/stty'].find((p) => existsSync(p));

async function spawnPty(binary: string, args: string[], opts: SpawnRuntimeOptions): Promise<RuntimeProcess> {
  const pty = await loadPty();
  // Newline handling between the two terminals. runc clears ONLCR on the
  // container's console (from its side, asynchronously: a process that
  // starts fast, like an exec'd shell, can capture and later restore the
  // ONLCR it began with) and sets the host terminal "raw but with OPOST", so
  // that the *host* terminal turns "\n" into "\r\n". Depending on that race
  // the output carries "\r\n" or "\r\r\n". Instead: the host pty is made
  // raw before runc starts, with -onlcr (runc's OPOST then changes nothing,
  // and input is never echoed by the host side), and the shim turns a bare
  // "\n" into "\r\n" itself (CrlfNormalizer): "\r\n" either way, as Docker.
  let file = binary;
  let argv = args;
  if (STTY && existsSync('/bin/sh')) {
    file = '/bin/sh';
    argv = ['-c', `${STTY} raw -echo -onlcr 2>/dev/null; exec "$0" "$@"`, binary, ...args];
  }
  let term: PtyLike;
  try {
    term = pty.spawn(file, argv, {
      name: 'xterm',
      cols: opts.width && opts.width > 0 ? opts.width : 80,
      rows: opts.height && opts.height > 0 ? opts.height : 24,
      cwd: opts.cwd ?? '/',
      env: opts.env ?? process.env,
      encoding: null,
    });
  } catch (e) {
    throw new SystemError(`cannot run ${binary} on a pseudo-terminal: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  const listeners: Array<(stream: 'stdout' | 'stderr', data: Buffer) => void> = [];
  const crlf = new CrlfNormalizer();
  term.onData((d) => {
    const buf = crlf.push(typeof d === 'string' ? Buffer.from(d, 'utf8') : d);
    for (const l of listeners) l('stdout', buf);
  });
  // node-pty emits exit only after the pty's output was read to its end.
  const exited = new Promise<RuntimeExit>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      resolve({ code: signal ? null : exitCode, signal: signal ? (signalName(signal) ?? null) : null });
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  return {
    pid: term.pid,
    tty: true,
    onOutput: (cb) => listeners.push(cb),
    writeStdin: (data) => {
      if (!gone) term.write(data);
    },
    closeStdin: () => {
      if (!gone) term.write('\x04');
    },
    resize: (height, width) => {
      if (!gone && height > 0 && width > 0) term.resize(width, height);
    },
    kill: (signal) => {
      if (gone) return;
      try {
        process.kill(term.pid, signal);
      } catch {
        /* already gone */
      }
    },
    exited,
  };
}
