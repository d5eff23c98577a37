// The per-container supervisor ("shim"). One shim process runs per container
// start (or per exec), detached from berthd (own session, stdio on files), so
// the container keeps its stdio, log and exit status across a berthd restart.
//
// Life of a shim:
//   1. listens on <stateDir>/shim.sock (see protocol.ts) in state "created";
//      attach clients may connect before the start;
//   2. on `start`, runs `runc run --bundle B --pid-file P <id>` (or
//      `runc exec --process F ...`) in the foreground: runc reaps the
//      container and exits with its status (128+N when killed by signal N);
//      the start is answered once runc wrote the pid file (or failed);
//   3. copies the container's output to the json-file log and to every attach
//      client, and attach clients' stdin into the container;
//   4. when runc exits: flushes the log, writes <stateDir>/exit.json
//      atomically, answers `wait` requests, ends attach streams, exits.
import net from 'node:net';
import { readFileSync, writeFileSync, renameSync, rmSync, watch, openSync, fsyncSync, closeSync, chmodSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { JsonLogWriter, nowNs, formatRFC3339Nano } from './json-log.js';
import { Runc, readRuncLogError } from './runc.js';
import { spawnRuntime, signalName, signalNumber, type RuntimeProcess, type RuntimeExit } from './process-io.js';
import {
  SOCKET_NAME,
  SHIM_PID_NAME,
  EXIT_NAME,
  RUNC_PID_NAME,
  RUNC_LOG_NAME,
  STREAM_STDOUT,
  STREAM_STDERR,
  frameHeader,
  readJsonLine,
  withSocketPath,
  type ExitStatus,
  type ShimRequest,
  type ShimState,
  type ShimStatus,
} from './protocol.js';
import { BerthError, Conflict, InvalidParameter, SystemError, errorText } from '../../errors.js';

export interface ShimConfig {
  /** Container id (the runc id). */
  id: string;
  /** Directory for the socket, pid files, runc's log and exit.json. */
  stateDir: string;
  /** 'run' supervises `runc run` of a bundle; 'exec' supervises `runc exec` of a process.json. */
  mode: 'run' | 'exec';
  bundle?: string;
  processFile?: string;
  runtime: { binary?: string; root: string; systemdCgroup?: boolean };
  tty: boolean;
  /** Docker's OpenStdin: the container gets a stdin that attach clients write to. */
  openStdin: boolean;
  /** Docker's StdinOnce: the first attach client closing its stdin closes the container's. */
  stdinOnce: boolean;
  /** json-file log path; null/absent: no log (execs). */
  logPath?: string | null;
  consoleSize?: { height: number; width: number };
  /** Start right away instead of waiting for a `start` request. */
  autoStart?: boolean;
}

interface AttachClient {
  sock: net.Socket;
  stdout: boolean;
  stderr: boolean;
  stdin: boolean;
  stdinDone: boolean;
}

/** How often a shim retries writing an exit status the disk refused. */
const EXIT_RETRY_MS = 1000;

/** A line on the shim's log (its stderr): best effort, a full disk must not turn it into a crash. */
function report(line: string): void {
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    /* nowhere to report to */
  }
}

/** Drop an attach client that stops reading once this much output is queued for it. */
const MAX_CLIENT_BACKLOG = 64 * 1024 * 1024;

function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Docker's exit codes for a process the runtime could not start. */
function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 128;
}

export class Shim {
  readonly config: ShimConfig;
  private state: ShimState = 'created';
  private server: net.Server | null = null;
  private proc: RuntimeProcess | null = null;
  private log: JsonLogWriter | null = null;
  private readonly clients = new Set<AttachClient>();
  private readonly sockets = new Set<net.Socket>();
  private readonly waiters = new Set<net.Socket>();
  private pendingOutput: Array<{ stream: 'stdout' | 'stderr'; data: Buffer; time: bigint }> = [];
  private stdinQueue: Buffer[] = [];
  private stdinCloseQueued = false;
  private containerPid: number | undefined;
  private startedAt: string | undefined;
  private exitStatus: ExitStatus | undefined;
  private startPromise: Promise<number> | null = null;
  private size: { height: number; width: number } | undefined;
  private logErrorReported = false;
  private exitErrorReported = false;
  private resolveDone!: () => void;
  /** Resolves when the shim has finished (exit status written) or was shut down. */
  readonly done: Promise<void>;

  constructor(config: ShimConfig) {
    this.config = config;
    this.size = config.consoleSize;
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
  }

  private path(name: string): string {
    return join(this.config.stateDir, name);
  }

  /** Starts serving the socket (and records the shim's pid). */
  async listen(): Promise<void> {
    writeFileAtomic(this.path(SHIM_PID_NAME), `${process.pid}\n`);
    const sockPath = this.path(SOCKET_NAME);
    rmSync(sockPath, { force: true });
    const server = net.createServer({ allowHalfOpen: true }, (sock) => this.onConnection(sock));
    this.server = server;
    await withSocketPath(
      sockPath,
      (p) =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(p, () => {
            server.off('error', reject);
            // Attach clients can write to the container's stdin: root only.
            try {
              chmodSync(p, 0o600);
            } catch {
              /* best effort */
            }
            resolve();
          });
        }),
    );
    server.on('error', (e) => process.stderr.write(`shim ${this.config.id}: server error: ${errorText(e)}\n`));
  }

  status(): ShimStatus {
    return {
      id: this.config.id,
      state: this.state,
      shimPid: process.pid,
      runtimePid: this.proc?.pid,
      pid: this.containerPid,
      startedAt: this.startedAt,
      tty: this.config.tty,
      openStdin: this.config.openStdin,
      exit: this.exitStatus,
    };
  }

  /** Starts the container (idempotent); resolves with its pid once runc wrote it. */
  start(): Promise<number> {
    if (!this.startPromise) {
      if (this.state !== 'created') return Promise.reject(new Conflict(`container ${this.config.id} is ${this.state}`));
      this.startPromise = this.doStart();
    }
    return this.startPromise;
  }

  private async doStart(): Promise<number> {
    this.state = 'starting';
    const c = this.config;
    const pidFile = this.path(RUNC_PID_NAME);
    const runcLog = this.path(RUNC_LOG_NAME);
    rmSync(pidFile, { force: true });
    rmSync(runcLog, { force: true });
    const runc = new Runc({ binary: c.runtime.binary, root: c.runtime.root, systemdCgroup: c.runtime.systemdCgroup });
    try {
      let args: string[];
      if (c.mode === 'exec') {
        if (!c.processFile) throw new InvalidParameter('exec shim needs a process file');
        args = runc.execArgs(c.id, c.processFile, { pidFile, log: runcLog });
      } else {
        if (!c.bundle) throw new InvalidParameter('run shim needs a bundle');
        args = runc.runArgs(c.id, c.bundle, { pidFile, log: runcLog });
      }
      if (c.logPath) this.log = new JsonLogWriter(c.logPath);
      this.proc = await spawnRuntime(runc.binary, args, {
        tty: c.tty,
        stdin: c.openStdin || c.tty,
        height: this.size?.height,
        width: this.size?.width,
      });
    } catch (e) {
      this.finish({ code: null, signal: null }, errorText(e));
      throw e;
    }
    this.proc.onOutput((stream, data) => this.onOutput(stream, data));
    void this.proc.exited.then((ex) => this.finish(ex));

    const pid = await this.waitForPidFile();
    if (pid !== null) {
      this.markRunning(pid);
      return pid;
    }
    // runc exited without writing the pid file: the start failed.
    await this.done;
    const err = this.exitStatus?.error ?? 'container failed to start';
    // As Docker: a missing or non-executable command is the caller's error (126/127).
    if ((this.exitStatus?.exitCode ?? 128) === 128) throw new SystemError(`OCI runtime start failed: ${err}`);
    throw new InvalidParameter(`OCI runtime start failed: ${err}`);
  }

  private readPidFile(): number | null {
    try {
      const n = Number(readFileSync(this.path(RUNC_PID_NAME), 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : null;
    } catch {
      return null;
    }
  }

  /** Resolves with the pid once runc wrote it, or null if runc exits first. */
  private waitForPidFile(): Promise<number | null> {
    return new Promise((resolve) => {
      let watcher: FSWatcher | null = null;
      let timer: NodeJS.Timeout | null = null;
      let settled = false;
      const settle = (v: number | null): void => {
        if (settled) return;
        settled = true;
        watcher?.close();
        if (timer) clearInterval(timer);
        resolve(v);
      };
      const check = (): void => {
        const pid = this.readPidFile();
        if (pid !== null) settle(pid);
      };
      try {
        watcher = watch(this.config.stateDir, { persistent: false }, (_ev, name) => {
          if (name === RUNC_PID_NAME) check();
        });
      } catch {
        watcher = null;
      }
      timer = setInterval(check, 25);
      void this.proc!.exited.then(() => settle(this.readPidFile()));
      check();
    });
  }

  private markRunning(pid: number): void {
    if (this.state !== 'starting') return;
    this.state = 'running';
    this.containerPid = pid;
    this.startedAt = formatRFC3339Nano(nowNs());
    const pending = this.pendingOutput;
    this.pendingOutput = [];
    for (const p of pending) this.deliver(p.stream, p.data, p.time);
    const queued = this.stdinQueue;
    this.stdinQueue = [];
    for (const d of queued) this.proc?.writeStdin(d);
    if (this.stdinCloseQueued) this.proc?.closeStdin();
  }

  private onOutput(stream: 'stdout' | 'stderr', data: Buffer): void {
    const time = nowNs();
    // Until runc reports the start, output may be runc's own error message:
    // hold it back (it is logged only if the container did start).
    if (this.state === 'starting') this.pendingOutput.push({ stream, data, time });
    else this.deliver(stream, data, time);
  }

  private deliver(stream: 'stdout' | 'stderr', data: Buffer, time: bigint): void {
    try {
      this.log?.write(stream, data, time);
    } catch (e) {
      // A full disk must not cut the live stream: report and keep going.
      if (!this.logErrorReported) report(`shim ${this.config.id}: writing the log: ${errorText(e)}`);
      this.logErrorReported = true;
    }
    if (this.clients.size === 0) return;
    const framed = this.config.tty ? data : Buffer.concat([frameHeader(stream === 'stdout' ? STREAM_STDOUT : STREAM_STDERR, data.length), data]);
    for (const c of this.clients) {
      if (!(stream === 'stdout' ? c.stdout : c.stderr)) continue;
      if (c.sock.destroyed || c.sock.writableEnded) continue;
      if (c.sock.writableLength > MAX_CLIENT_BACKLOG) {
        process.stderr.write(`shim ${this.config.id}: dropping an attach client that stopped reading\n`);
        c.sock.destroy();
        continue;
      }
      c.sock.write(framed);
    }
  }

  private writeStdin(data: Buffer): void {
    if (!this.config.openStdin || this.stdinCloseQueued) return;
    if (this.state === 'running') this.proc?.writeStdin(data);
    else if (this.state === 'created' || this.state === 'starting') this.stdinQueue.push(Buffer.from(data));
  }

  closeStdin(): void {
    if (!this.config.openStdin || this.stdinCloseQueued) return;
    this.stdinCloseQueued = true;
    if (this.state === 'running') this.proc?.closeStdin();
  }

  resize(height: number, width: number): void {
    if (!(height > 0 && width > 0)) return;
    this.size = { height, width };
    if (this.state === 'running' || this.state === 'starting') this.proc?.resize(height, width);
  }

  /** Sends a signal to the runtime process, which forwards it to the container's process. */
  kill(signal: string): void {
    if (!this.proc || this.state === 'exited') throw new Conflict(`container ${this.config.id} is not running`);
    this.proc.kill(signalNumber(signal));
  }

  /** Runtime exited: record the status, release everyone, and wind down. */
  private finish(ex: RuntimeExit, spawnError?: string): void {
    if (this.state === 'exited') return;
    if (this.state === 'starting') {
      const pid = spawnError ? null : this.readPidFile();
      if (pid !== null) this.markRunning(pid);
    }
    const finishedAt = formatRFC3339Nano(nowNs());
    let status: ExitStatus;
    if (this.state === 'running') {
      const exitCode = ex.code ?? 128 + (ex.signal ? signalNumber(ex.signal) : 0);
      status = { exitCode, finishedAt, oomKilled: false, pid: this.containerPid, startedAt: this.startedAt };
      if (exitCode > 128 && exitCode < 128 + 65) {
        const name = signalName(exitCode - 128);
        if (name) status.signal = name;
      }
    } else {
      const held = Buffer.concat(this.pendingOutput.map((p) => p.data)).toString('utf8').trim();
      const error =
        spawnError ??
        readRuncLogError(this.path(RUNC_LOG_NAME)) ??
        (held || `runtime exited with ${ex.code !== null ? `status ${ex.code}` : `signal ${ex.signal}`}`);
      status = { exitCode: startFailureCode(error), finishedAt, oomKilled: false, error };
      this.pendingOutput = [];
    }
    try {
      this.log?.close();
    } catch (e) {
      report(`shim ${this.config.id}: closing log: ${errorText(e)}`);
    }
    this.log = null;
    this.exitStatus = status;
    this.state = 'exited';
    const persisted = this.persistExit();

    // Waiters hear of the exit whether or not it could be written down.
    const line = `${JSON.stringify({ ok: true, status })}\n`;
    for (const w of this.waiters) w.end(line);
    this.waiters.clear();
    for (const c of this.clients) c.sock.end();
    this.clients.clear();
    if (persisted) {
      this.closeServer();
      this.resolveDone();
      return;
    }
    // Not on disk (full, failing): keep answering `wait` and `ping` with the
    // status, so a restarted berthd still learns it, and write it as soon as
    // the disk lets us.
    const retry = setInterval(() => {
      if (!this.persistExit()) return;
      clearInterval(retry);
      this.closeServer();
      this.resolveDone();
    }, EXIT_RETRY_MS);
  }

  /** Writes exit.json; false when it could not be written yet. */
  private persistExit(): boolean {
    try {
      writeFileAtomic(this.path(EXIT_NAME), `${JSON.stringify(this.exitStatus)}\n`);
      return true;
    } catch (e) {
      rmSync(`${this.path(EXIT_NAME)}.tmp`, { force: true });
      // The state directory is gone with its container: nobody will read the status.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
      if (!this.exitErrorReported) report(`shim ${this.config.id}: writing the exit status: ${errorText(e)}`);
      this.exitErrorReported = true;
      return false;
    }
  }

  private closeServer(): void {
    if (!this.server) return;
    this.server.close();
    this.server = null;
    rmSync(this.path(SOCKET_NAME), { force: true });
  }

  /** Ends without starting (a container removed before its start). */
  shutdown(): void {
    if (this.state !== 'created') throw new Conflict(`container ${this.config.id} is ${this.state}`);
    this.state = 'exited';
    for (const c of this.clients) c.sock.end();
    this.clients.clear();
    for (const w of this.waiters) w.end(`${JSON.stringify({ ok: false, error: 'shim shut down before start', kind: 'conflict' })}\n`);
    this.waiters.clear();
    this.closeServer();
    this.resolveDone();
  }

  /** Waits (up to `ms`) for connections to flush and close. */
  async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.sockets.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const s of this.sockets) s.destroy();
  }

  private onConnection(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {
      /* client went away */
    });
    readJsonLine<ShimRequest>(sock).then(
      (req) => this.handle(sock, req),
      () => sock.destroy(),
    );
  }

  private reply(sock: net.Socket, msg: object, end = true): void {
    const line = `${JSON.stringify(msg)}\n`;
    if (end) sock.end(line);
    else sock.write(line);
  }

  private replyError(sock: net.Socket, e: unknown): void {
    const kind = e instanceof BerthError ? e.kind : 'system';
    this.reply(sock, { ok: false, error: errorText(e), kind });
  }

  private handle(sock: net.Socket, req: ShimRequest): void {
    try {
      switch (req.op) {
        case 'ping':
          this.reply(sock, { ok: true, status: this.status() });
          return;
        case 'start':
          this.start().then(
            (pid) => this.reply(sock, { ok: true, pid }),
            (e: unknown) => this.replyError(sock, e),
          );
          return;
        case 'attach':
          this.attach(sock, req);
          return;
        case 'resize':
          this.resize(Number(req.height), Number(req.width));
          this.reply(sock, { ok: true });
          return;
        case 'wait':
          if (this.exitStatus) {
            this.reply(sock, { ok: true, status: this.exitStatus });
          } else {
            this.waiters.add(sock);
            sock.on('close', () => this.waiters.delete(sock));
            sock.resume();
          }
          return;
        case 'kill':
          this.kill(req.signal);
          this.reply(sock, { ok: true });
          return;
        case 'close-stdin':
          this.closeStdin();
          this.reply(sock, { ok: true });
          return;
        case 'shutdown':
          this.shutdown();
          this.reply(sock, { ok: true });
          return;
        default:
          this.reply(sock, { ok: false, error: `unknown request ${(req as { op?: unknown }).op}`, kind: 'invalid-parameter' });
      }
    } catch (e) {
      this.replyError(sock, e);
    }
  }

  private attach(sock: net.Socket, req: Extract<ShimRequest, { op: 'attach' }>): void {
    if (this.state === 'exited') {
      this.reply(sock, { ok: true, tty: this.config.tty, exited: true });
      return;
    }
    const client: AttachClient = {
      sock,
      stdout: req.stdout ?? true,
      stderr: req.stderr ?? true,
      stdin: (req.stdin ?? false) && this.config.openStdin,
      stdinDone: false,
    };
    this.clients.add(client);
    this.reply(sock, { ok: true, tty: this.config.tty }, false);
    const stdinEnded = (): void => {
      if (!client.stdin || client.stdinDone) return;
      client.stdinDone = true;
      if (this.config.stdinOnce) this.closeStdin();
    };
    sock.on('data', (d: Buffer) => {
      if (client.stdin && !client.stdinDone) this.writeStdin(d);
    });
    sock.on('end', stdinEnded);
    sock.on('close', () => {
      this.clients.delete(client);
      stdinEnded();
    });
    sock.resume();
  }
}

/** Runs a shim to completion; returns when the exit status is written and clients are flushed. */
export async function runShim(config: ShimConfig, onReady?: () => void): Promise<void> {
  const shim = new Shim(config);
  const forward = (sig: NodeJS.Signals): void => {
    const st = shim.status().state;
    if (st === 'created') {
      try {
        shim.shutdown();
      } catch {
        /* racing a start */
      }
    } else if (st !== 'exited') {
      try {
        shim.kill(sig);
      } catch {
        /* not running */
      }
    }
  };
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGHUP', () => {
    /* no controlling terminal; ignore */
  });
  await shim.listen();
  onReady?.();
  if (config.autoStart) {
    shim.start().catch((e: unknown) => process.stderr.write(`shim ${config.id}: start failed: ${errorText(e)}\n`));
  }
  await shim.done;
  await shim.drain(2000);
}
