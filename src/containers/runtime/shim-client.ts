// berthd's side of the shim: spawn one per container start (or exec), talk to
// it over <stateDir>/shim.sock, and find it again after a berthd restart.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, rmSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { processArgv, processStartTime } from '../../util/proc.js';
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { BerthError, Conflict, InvalidParameter, NotFound, SystemError, Unavailable, errorText, type ErrorKind } from '../../errors.js';
import type { ShimConfig } from './shim.js';
import { Runc } from './runc.js';
import {
  SOCKET_NAME,
  SHIM_PID_NAME,
  SHIM_CONFIG_NAME,
  SHIM_LOG_NAME,
  EXIT_NAME,
  RUNC_PID_NAME,
  RUNC_LOG_NAME,
  STREAM_STDERR,
  FrameDecoder,
  readJsonLine,
  withSocketPath,
  type ExitStatus,
  type ShimRequest,
  type ShimStatus,
} from './protocol.js';

export type { ExitStatus, ShimStatus } from './protocol.js';

export interface SpawnShimOptions {
  /** Container id (runc id). */
  id: string;
  /** Per-container (or per-exec) state directory; created if missing. */
  stateDir: string;
  /** 'run' (default): `runc run` of `bundle`. 'exec': `runc exec` of `process` / `processFile`. */
  mode?: 'run' | 'exec';
  bundle?: string;
  /** exec: a process.json object, written to <stateDir>/process.json. */
  process?: object;
  /** exec: an existing process.json. */
  processFile?: string;
  /** The runtime: a Runc instance or its settings. */
  runtime: Runc | { binary?: string; root: string; systemdCgroup?: boolean };
  tty?: boolean;
  openStdin?: boolean;
  stdinOnce?: boolean;
  /** json-file log. Default: <stateDir>/<id>-json.log for 'run', none for 'exec'. null: no log. */
  logPath?: string | null;
  /**
   * Initial terminal size (TTY). Give the spec the same (SpecInput.consoleSize
   * / process.consoleSize): runc sizes the container's console from the spec
   * at creation and then from the shim's pty. Defaults to the spec's.
   */
  consoleSize?: { height: number; width: number };
  /** Start immediately rather than on ShimHandle.start(). */
  autoStart?: boolean;
  /** Node binary for the shim (default: this process's). */
  nodePath?: string;
  /** The shim entry script (default: shim-main.js beside this module). */
  shimEntry?: string;
  /** How long to wait for the shim's socket, ms (default 10 s). */
  readyTimeoutMs?: number;
  /** Take an already started shim process from this pool instead of spawning one. */
  pool?: ShimPool;
}

interface Standby {
  child: ReturnType<typeof spawn>;
  pipe: Readable & { write(s: string): boolean };
}

/**
 * Keeps one shim process started ahead of time, waiting for its config: Node's
 * start-up (~100 ms) then happens while nobody waits for it, not during
 * `docker start`. A standby whose pool goes away exits on its own when it
 * reads EOF; one that cannot (stopped, starved) is found through its record
 * in `recordDir` (pid and start time) and ended by the next daemon.
 */
export class ShimPool {
  private spare: Standby | null = null;
  private closed = false;

  constructor(private readonly opts: { logPath: string; recordDir?: string; nodePath?: string; shimEntry?: string }) {}

  /** A standby shim (or null if none could be had); a new one is started behind it. */
  take(): Standby | null {
    if (this.closed) return null;
    const s = this.spare && this.spare.child.exitCode === null && this.spare.child.signalCode === null ? this.spare : null;
    // Taken: from now on it is a container's shim, which no daemon start may end.
    if (s) this.forget(s);
    this.spare = this.spawn();
    return s;
  }

  /** Starts the first standby. */
  warm(): void {
    if (!this.spare && !this.closed) this.spare = this.spawn();
  }

  close(): void {
    this.closed = true;
    // Closing the pipe makes the standby exit.
    if (this.spare) this.forget(this.spare);
    this.spare?.pipe.destroy();
    this.spare = null;
  }

  /**
   * Ends the standbys a previous daemon on this data root left behind (it was
   * killed before they could exit). Only a process whose pid, start time and
   * argv all match its record is signalled: a reused pid is never ours.
   */
  endOrphans(): number[] {
    const dir = this.opts.recordDir;
    if (!dir) return [];
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    const ended: number[] = [];
    for (const name of names) {
      const path = join(dir, name);
      let rec: { pid?: unknown; startTime?: unknown } = {};
      try {
        rec = JSON.parse(readFileSync(path, 'utf8')) as typeof rec;
      } catch {
        /* torn or foreign file: just drop it */
      }
      const pid = typeof rec.pid === 'number' ? rec.pid : 0;
      if (pid > 0 && pid !== process.pid && typeof rec.startTime === 'string' && processStartTime(pid) === rec.startTime && (processArgv(pid) ?? []).includes('--standby')) {
        try {
          process.kill(pid, 'SIGKILL');
          ended.push(pid);
        } catch {
          /* gone meanwhile */
        }
      }
      rmSync(path, { force: true });
    }
    return ended;
  }

  private recordPath(pid: number): string | null {
    return this.opts.recordDir ? join(this.opts.recordDir, String(pid)) : null;
  }

  private forget(s: Standby): void {
    const path = s.child.pid ? this.recordPath(s.child.pid) : null;
    if (path) rmSync(path, { force: true });
  }

  /** Writes the standby's record; false when it could not be written. */
  private remember(pid: number): boolean {
    const path = this.recordPath(pid);
    if (!path) return true;
    const startTime = processStartTime(pid);
    if (!startTime) return false;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, JSON.stringify({ pid, startTime }), { mode: 0o600 });
      return true;
    } catch {
      rmSync(path, { force: true });
      return false;
    }
  }

  private spawn(): Standby | null {
    const entry = this.opts.shimEntry ?? defaultShimEntry();
    if (!existsSync(entry)) return null;
    let logFd: number;
    try {
      logFd = openSync(this.opts.logPath, 'a', 0o640);
    } catch {
      return null;
    }
    try {
      const child = spawn(this.opts.nodePath ?? process.execPath, [entry, '--standby', '--ready-fd', '3'], {
        detached: true,
        stdio: ['ignore', logFd, logFd, 'pipe'],
        cwd: '/',
        env: process.env,
      });
      child.on('error', () => undefined);
      const pipe = child.stdio[3] as Readable & { write(s: string): boolean };
      pipe.on('error', () => undefined);
      // An untracked standby could outlive a killed daemon unnoticed: do without it.
      if (!child.pid || !this.remember(child.pid)) {
        child.kill('SIGKILL');
        pipe.destroy();
        return null;
      }
      const standby = { child, pipe };
      child.once('exit', () => {
        if (this.spare === standby) this.forget(standby);
      });
      child.unref();
      (pipe as unknown as { unref?: () => void }).unref?.();
      return standby;
    } catch {
      return null;
    } finally {
      closeSync(logFd);
    }
  }
}

export interface AttachOptions {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /**
   * true: hand back the raw socket only (Docker's multiplexed frames, or raw
   * bytes with a TTY), e.g. to splice into a hijacked HTTP connection.
   * false (default): demultiplexed `stdout`/`stderr` streams.
   */
  raw?: boolean;
}

export interface Attachment {
  tty: boolean;
  /**
   * The connection: container output in, stdin out (`socket.end()` = close
   * stdin). In raw mode it is handed back paused: pipe it or resume() it.
   */
  socket: net.Socket;
  /** Writes go to the container's stdin; `end()` closes it (StdinOnce). Null when stdin was not requested. */
  stdin: Writable | null;
  /** Demultiplexed output (null in raw mode). With a TTY everything arrives on stdout. */
  stdout: Readable | null;
  stderr: Readable | null;
  /** Resolves when the shim ended the stream (the container exited) or the connection dropped. */
  done: Promise<void>;
  /** Detaches (drops the connection; the container keeps running). */
  close(): void;
}

function errorFromKind(kind: string | undefined, message: string): BerthError {
  switch (kind as ErrorKind | undefined) {
    case 'invalid-parameter':
      return new InvalidParameter(message);
    case 'not-found':
      return new NotFound(message);
    case 'conflict':
      return new Conflict(message);
    case 'unavailable':
      return new Unavailable(message);
    default:
      return new SystemError(message);
  }
}

function connect(stateDir: string, timeoutMs: number): Promise<net.Socket> {
  return withSocketPath(
    join(stateDir, SOCKET_NAME),
    (path) =>
      new Promise<net.Socket>((resolve, reject) => {
        const sock = net.createConnection({ path, allowHalfOpen: true });
        const timer = timeoutMs > 0 ? setTimeout(() => {
          sock.destroy();
          reject(Object.assign(new Error('timed out connecting to the shim'), { code: 'ETIMEDOUT' }));
        }, timeoutMs) : null;
        sock.once('connect', () => {
          if (timer) clearTimeout(timer);
          sock.off('error', reject);
          resolve(sock);
        });
        sock.once('error', (e) => {
          if (timer) clearTimeout(timer);
          reject(e);
        });
      }),
  );
}

interface Reply {
  ok: boolean;
  error?: string;
  kind?: string;
  [k: string]: unknown;
}

/** One request/response exchange. timeoutMs 0 = wait as long as it takes (for `wait`). */
async function request(stateDir: string, req: ShimRequest, timeoutMs = 10_000): Promise<Reply> {
  const sock = await connect(stateDir, timeoutMs || 10_000);
  try {
    sock.write(`${JSON.stringify(req)}\n`);
    const p = readJsonLine<Reply>(sock);
    if (timeoutMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const t = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Unavailable(`shim did not answer ${req.op} in ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return await Promise.race([p, t]);
      } finally {
        clearTimeout(timer);
      }
    }
    return await p;
  } finally {
    sock.destroy();
  }
}

function isConnectError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

/** The exit status a shim wrote, or null if there is none (yet). */
export async function readExitStatus(stateDir: string): Promise<ExitStatus | null> {
  try {
    return JSON.parse(await readFile(join(stateDir, EXIT_NAME), 'utf8')) as ExitStatus;
  } catch {
    return null;
  }
}

/** True when a shim answers on the state dir's socket. */
export async function isShimAlive(stateDir: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const r = await request(stateDir, { op: 'ping' }, timeoutMs);
    return r.ok;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ShimHandle {
  readonly id: string;
  readonly stateDir: string;
  readonly tty: boolean;
  readonly openStdin: boolean;
  readonly logPath: string | null;
  readonly mode: 'run' | 'exec';
  /** The shim's pid (as it recorded it). */
  readonly shimPid: number | null;

  constructor(config: ShimConfig, shimPid: number | null) {
    this.id = config.id;
    this.stateDir = config.stateDir;
    this.tty = config.tty;
    this.openStdin = config.openStdin;
    this.logPath = config.logPath ?? null;
    this.mode = config.mode;
    this.shimPid = shimPid;
  }

  private async call(req: ShimRequest, timeoutMs?: number): Promise<Reply> {
    let r: Reply;
    try {
      r = await request(this.stateDir, req, timeoutMs);
    } catch (e) {
      if (e instanceof BerthError) throw e;
      if (isConnectError(e)) {
        const exit = await readExitStatus(this.stateDir);
        throw new Conflict(
          exit ? `container ${this.id} has exited (status ${exit.exitCode})` : `the shim of container ${this.id} is not running`,
          { cause: e },
        );
      }
      throw new SystemError(`shim of ${this.id}: ${errorText(e)}`, { cause: e });
    }
    if (!r.ok) throw errorFromKind(r.kind, r.error ?? 'shim request failed');
    return r;
  }

  async status(): Promise<ShimStatus> {
    return (await this.call({ op: 'ping' })).status as ShimStatus;
  }

  /** True when the shim answers. */
  alive(): Promise<boolean> {
    return isShimAlive(this.stateDir);
  }

  /**
   * Starts the container; resolves with its pid once runc has started it.
   * Rejects when the runtime fails (InvalidParameter for a missing or
   * non-executable command, as Docker, else SystemError); the exit status
   * (127/126/128) is written anyway.
   */
  async start(): Promise<{ pid: number }> {
    const r = await this.call({ op: 'start' }, 120_000);
    return { pid: r.pid as number };
  }

  async resize(height: number, width: number): Promise<void> {
    await this.call({ op: 'resize', height, width });
  }

  /** Signals the runtime process, which forwards the signal to the container's (or exec's) process. */
  async kill(signal: NodeJS.Signals | string = 'SIGTERM'): Promise<void> {
    await this.call({ op: 'kill', signal });
  }

  async closeStdin(): Promise<void> {
    await this.call({ op: 'close-stdin' });
  }

  /** Makes a shim that was never started exit. */
  async shutdown(): Promise<void> {
    await this.call({ op: 'shutdown' });
  }

  /** The exit status: resolves when the container has exited (at once if it already had). */
  async wait(): Promise<ExitStatus> {
    const existing = await readExitStatus(this.stateDir);
    if (existing) return existing;
    try {
      const r = await request(this.stateDir, { op: 'wait' }, 0);
      if (r.ok && r.status) return r.status as ExitStatus;
      if (!r.ok) throw errorFromKind(r.kind, r.error ?? 'wait failed');
    } catch (e) {
      if (e instanceof BerthError) throw e;
      // Connection refused or dropped: the shim is gone or going.
    }
    // The shim writes exit.json before it stops serving; allow for the race.
    for (let i = 0; i < 100; i++) {
      const st = await readExitStatus(this.stateDir);
      if (st) return st;
      await sleep(20);
    }
    throw new SystemError(`the shim of container ${this.id} exited without recording an exit status`);
  }

  /** Attaches to the container's stdio (see AttachOptions). */
  async attach(opts: AttachOptions = {}): Promise<Attachment> {
    let sock: net.Socket;
    try {
      sock = await connect(this.stateDir, 10_000);
    } catch (e) {
      if (isConnectError(e)) throw new Conflict(`cannot attach: container ${this.id} is not running`, { cause: e });
      throw e;
    }
    const req: ShimRequest = { op: 'attach', stdin: opts.stdin ?? false, stdout: opts.stdout ?? true, stderr: opts.stderr ?? true };
    sock.write(`${JSON.stringify(req)}\n`);
    let r: Reply;
    try {
      r = await readJsonLine<Reply>(sock);
    } catch (e) {
      sock.destroy();
      throw new Conflict(`cannot attach: container ${this.id} is not running`, { cause: e });
    }
    if (!r.ok) {
      sock.destroy();
      throw errorFromKind(r.kind, r.error ?? 'attach failed');
    }
    const tty = r.tty === true;
    const done = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => {
      /* surfaced as close */
    });
    // The shim ends its side after the container's exit: end ours too.
    sock.on('end', () => {
      if (!sock.writableEnded) sock.end();
    });

    let stdin: Writable | null = null;
    if (opts.stdin) {
      stdin = new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (sock.destroyed || sock.writableEnded) {
            cb();
            return;
          }
          sock.write(chunk, () => cb());
        },
        final(cb) {
          if (!sock.destroyed && !sock.writableEnded) sock.end();
          cb();
        },
      });
    } else {
      // Nothing to send: half-close so the shim sees no stdin.
      sock.end();
    }

    if (opts.raw) {
      return { tty, socket: sock, stdin, stdout: null, stderr: null, done, close: () => sock.destroy() };
    }
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (tty) {
      sock.on('data', (d: Buffer) => stdout.write(d));
    } else {
      const dec = new FrameDecoder((stream, payload) => (stream === STREAM_STDERR ? stderr : stdout).write(Buffer.from(payload)));
      sock.on('data', (d: Buffer) => dec.push(d));
    }
    void done.then(() => {
      stdout.end();
      stderr.end();
    });
    sock.resume();
    if (r.exited === true) sock.end();
    return { tty, socket: sock, stdin, stdout, stderr, done, close: () => sock.destroy() };
  }
}

function specConsoleSize(path: string): { height: number; width: number } | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as { consoleSize?: { height: number; width: number }; process?: { consoleSize?: { height: number; width: number } } };
    const cs = o.process?.consoleSize ?? o.consoleSize;
    return cs && cs.height > 0 && cs.width > 0 ? { height: cs.height, width: cs.width } : undefined;
  } catch {
    return undefined;
  }
}

function defaultShimEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, 'shim-main.js');
}

/**
 * Spawns a detached shim for one container start (or exec) and waits until
 * its socket is ready. The container is started by `handle.start()` (or at
 * once with `autoStart`), so attach clients can connect first and see all
 * output.
 */
export async function spawnShim(opts: SpawnShimOptions): Promise<ShimHandle> {
  const mode = opts.mode ?? 'run';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.id)) throw new InvalidParameter(`invalid container id: ${opts.id}`);
  if (mode === 'run' && !opts.bundle) throw new InvalidParameter('spawnShim: bundle is required');
  if (mode === 'exec' && !opts.process && !opts.processFile) throw new InvalidParameter('spawnShim: process is required for an exec');
  const stateDir = opts.stateDir;
  mkdirSync(stateDir, { recursive: true, mode: 0o711 });
  if (await isShimAlive(stateDir, 1000)) throw new Conflict(`a shim is already running in ${stateDir}`);
  for (const f of [EXIT_NAME, RUNC_PID_NAME, RUNC_LOG_NAME, SOCKET_NAME, SHIM_PID_NAME]) rmSync(join(stateDir, f), { force: true });

  let processFile = opts.processFile;
  if (mode === 'exec' && !processFile) {
    processFile = join(stateDir, 'process.json');
    let proc = opts.process as { terminal?: boolean; consoleSize?: unknown };
    if (proc.terminal && opts.consoleSize && !proc.consoleSize) proc = { ...proc, consoleSize: { ...opts.consoleSize } };
    writeFileSync(processFile, JSON.stringify(proc), { mode: 0o600 });
  }
  let consoleSize = opts.consoleSize;
  if (!consoleSize && (opts.tty ?? false)) {
    // Size the pty as the spec sizes the container's console, so both agree from the start.
    consoleSize = specConsoleSize(mode === 'run' ? join(opts.bundle!, 'config.json') : processFile!);
  }
  const runtime =
    opts.runtime instanceof Runc
      ? { binary: opts.runtime.binary, root: opts.runtime.root, systemdCgroup: opts.runtime.systemdCgroup }
      : opts.runtime;
  const tty = opts.tty ?? false;
  const config: ShimConfig = {
    id: opts.id,
    stateDir,
    mode,
    bundle: opts.bundle,
    processFile,
    runtime: { binary: runtime.binary ?? 'runc', root: runtime.root, systemdCgroup: runtime.systemdCgroup },
    tty,
    openStdin: opts.openStdin ?? false,
    stdinOnce: opts.stdinOnce ?? false,
    logPath: opts.logPath === undefined ? (mode === 'run' ? join(stateDir, `${opts.id}-json.log`) : null) : opts.logPath,
    consoleSize,
    autoStart: opts.autoStart ?? false,
  };
  const configPath = join(stateDir, SHIM_CONFIG_NAME);
  writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });

  const entry = opts.shimEntry ?? defaultShimEntry();
  if (!existsSync(entry)) throw new SystemError(`shim entry script not found: ${entry}`);
  const shimLog = join(stateDir, SHIM_LOG_NAME);
  let child;
  let ready: Readable;
  const standby = opts.pool?.take() ?? null;
  if (standby) {
    child = standby.child;
    ready = standby.pipe;
    (ready as unknown as { ref?: () => void }).ref?.();
    standby.pipe.write(`${configPath}\n`);
  } else {
    const logFd = openSync(shimLog, 'a', 0o640);
    try {
      child = spawn(opts.nodePath ?? process.execPath, [entry, '--config', configPath, '--ready-fd', '3'], {
        detached: true,
        stdio: ['ignore', logFd, logFd, 'pipe'],
        cwd: '/',
        env: process.env,
      });
    } finally {
      closeSync(logFd);
    }
    ready = child.stdio[3] as Readable;
  }
  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  const msg = await new Promise<{ ready: boolean; pid?: number; error?: string }>((resolve) => {
    let buf = '';
    const timer = setTimeout(() => resolve({ ready: false, error: `no ready signal within ${timeoutMs} ms` }), timeoutMs);
    const finish = (m: { ready: boolean; pid?: number; error?: string }): void => {
      clearTimeout(timer);
      resolve(m);
    };
    ready.setEncoding('utf8');
    ready.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl !== -1) {
        try {
          finish(JSON.parse(buf.slice(0, nl)) as { ready: boolean; pid?: number });
        } catch {
          finish({ ready: false, error: `bad ready line: ${buf.slice(0, nl)}` });
        }
      }
    });
    ready.on('end', () => finish({ ready: false, error: 'the shim exited before it was ready' }));
    ready.on('error', (e) => finish({ ready: false, error: errorText(e) }));
    child.once('error', (e) => finish({ ready: false, error: errorText(e) }));
  });
  ready.destroy();
  if (!msg.ready) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    let tail = '';
    try {
      tail = readFileSync(shimLog, 'utf8').trim().split('\n').slice(-5).join('\n');
    } catch {
      /* none */
    }
    throw new SystemError(`shim for ${opts.id} failed to start: ${msg.error ?? 'unknown error'}${tail ? `\n${tail}` : ''}`);
  }
  child.unref();
  return new ShimHandle(config, msg.pid ?? child.pid ?? null);
}

/**
 * Finds the shim of a container again (after a berthd restart). Returns a
 * handle when the shim is alive, or when it is gone but left an exit status
 * (handle.wait() then resolves at once). Throws Unavailable otherwise.
 */
export async function connectShim(stateDir: string): Promise<ShimHandle> {
  let config: ShimConfig;
  try {
    config = JSON.parse(readFileSync(join(stateDir, SHIM_CONFIG_NAME), 'utf8')) as ShimConfig;
  } catch (e) {
    throw new NotFound(`no shim state in ${stateDir}`, { cause: e });
  }
  let pid: number | null = null;
  try {
    pid = Number(readFileSync(join(stateDir, SHIM_PID_NAME), 'utf8').trim()) || null;
  } catch {
    pid = null;
  }
  if (await isShimAlive(stateDir)) return new ShimHandle(config, pid);
  if (await readExitStatus(stateDir)) return new ShimHandle(config, pid);
  throw new Unavailable(`the shim of container ${config.id} is not running and left no exit status`);
}

export interface StopOptions {
  /** First signal (the image's StopSignal); default SIGTERM. */
  signal?: NodeJS.Signals | string;
  /** Seconds to wait before SIGKILL (Docker's default 10); negative waits forever. */
  timeoutSec?: number;
  /** Called after each signal is sent (a paused container is thawed then, so the signal takes effect). */
  afterSignal?: (signal: NodeJS.Signals | string) => Promise<void>;
}

/**
 * Docker's stop: the stop signal, then SIGKILL after the timeout; resolves
 * with the exit status. A container that is already gone just yields its
 * recorded status.
 */
export async function stopContainer(handle: ShimHandle, runc: Runc, opts: StopOptions = {}): Promise<ExitStatus> {
  const waiting = handle.wait();
  const timeoutSec = opts.timeoutSec ?? 10;
  const send = async (sig: NodeJS.Signals | string): Promise<void> => {
    try {
      if (handle.mode === 'exec') await handle.kill(sig);
      else await runc.kill(handle.id, sig);
    } catch (e) {
      if (e instanceof NotFound || e instanceof Conflict) return; // already exited
      throw e;
    }
    await opts.afterSignal?.(sig);
  };
  if (timeoutSec !== 0) {
    await send(opts.signal ?? 'SIGTERM');
    if (timeoutSec < 0) return waiting;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((r) => {
      timer = setTimeout(() => r(null), timeoutSec * 1000);
    });
    const first = await Promise.race([waiting, timedOut]);
    clearTimeout(timer);
    if (first) return first;
  }
  await send('SIGKILL');
  return waiting;
}
