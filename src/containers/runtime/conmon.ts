// conmon, the per-container monitor (the one Podman and CRI-O use): it runs
// `runc create` (or `runc exec`), holds the container's stdio, writes its log
// (k8s-file) and its exit code, serves attach clients on a SOCK_SEQPACKET
// socket, and leaves berthd (it double-forks), so containers outlive a
// berthd restart. Flags and flows follow Podman's (libpod/oci_conmon_*.go).
//
// Talking to conmon:
//   sync pipe (fd 3, _OCI_SYNCPIPE): JSON lines, {"data": N} or
//     {"data": -1, "message": "..."}; a create sends the container's pid (or
//     the failure); an exec sends its pid, then its exit code.
//   start pipe (fd 4, exec only): a byte lets conmon fork, a second one lets
//     it run `runc exec` (after the attach socket is connected).
//   attach pipe (fd 5, exec only): {"data": 0} once the attach socket listens.
//   <bundle>/attach: the attach socket; <bundle>/ctl: "1 H W\n" resizes the
//     terminal; <exit-dir>/<id>: the exit code; <persist-dir>/oom: an OOM kill.
import { closeSync, constants as fsConstants, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { InvalidParameter, SystemError, BerthError, errorText } from '../../errors.js';
import { posixSpawn, type SpawnedChild } from '../../util/posix-spawn.js';
import type { Reaper } from '../../util/reaper.js';
import { runcErrorText, type Runc } from './runc.js';

/** The conmon binary, the runtime it runs, and what reaps conmon's first process. */
export interface ConmonRuntime {
  /** Path or name of conmon (berthd --conmon). */
  conmon: string;
  runc: Runc;
  reaper: Reaper;
}

/** Files conmon writes in a monitored process's state directory (its cwd and --persist-dir). */
export const CONMON_PID_FILE = 'conmon.pid';
export const CONTAINER_PID_FILE = 'pidfile';
export const OOM_FILE = 'oom';

/** Conmon's stream ids on the attach socket (stdpipe_t). */
export const CONMON_STDOUT = 2;
export const CONMON_STDERR = 3;

/** How long conmon may take to create a container or start an exec. */
const START_TIMEOUT_MS = 120_000;

/** A process the runtime could not start: Docker's exit code for it and the error the API reports. */
export class RuntimeStartError extends Error {
  readonly exitCode: number;
  readonly apiError: BerthError;
  /** The monitor that reported it (it exits now: its parent reaps it). */
  monitorPid: number | undefined;

  constructor(what: 'create' | 'exec', message: string) {
    super(message);
    this.exitCode = startFailureCode(message);
    // As Docker: a missing or non-executable command is the caller's error (the CLI's 127/126).
    const text = `OCI runtime ${what} failed: ${message}`;
    this.apiError = this.exitCode === 128 ? new SystemError(text) : new InvalidParameter(text);
  }
}

/** Docker's exit codes for a process the runtime could not start. */
function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 128;
}

interface SyncMessage {
  data: number;
  message?: string;
}

/** Reads conmon's JSON lines from a pipe, one at a time. */
class SyncReader {
  private buffered = '';
  private readonly lines: SyncMessage[] = [];
  private waiter: ((m: SyncMessage | null) => void) | null = null;
  private ended = false;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let nl = this.buffered.indexOf('\n'); nl !== -1; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as SyncMessage);
        } catch {
          this.lines.push({ data: -1, message: `unreadable message from conmon: ${line}` });
        }
      }
      this.deliver();
    });
    const end = (): void => {
      this.ended = true;
      this.deliver();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  private deliver(): void {
    if (!this.waiter) return;
    const next = this.lines.shift();
    if (next) {
      const w = this.waiter;
      this.waiter = null;
      w(next);
    } else if (this.ended) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }

  /** The next message, or null when conmon closed the pipe first; `timeoutMs` null waits as long as it takes. */
  next(timeoutMs: number | null = START_TIMEOUT_MS): Promise<SyncMessage | null> {
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === null
          ? undefined
          : setTimeout(() => {
              this.waiter = null;
              reject(new SystemError(`conmon sent nothing within ${timeoutMs} ms`));
            }, timeoutMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.deliver();
    });
  }
}

interface SpawnedConmon {
  /** The first conmon process (it forks the monitor once let go). */
  pid: number;
  /** What the first conmon process printed before it forked away (option errors). */
  output: () => string;
  /** Resolves with the first process's exit code: it exits once it has forked the monitor (and written conmon.pid). */
  forked: Promise<number | null>;
  sync: SyncReader;
  /** The parent's end of extra pipe `fd` (3 sync, 4 start, 5 attach). */
  pipe(fd: 3 | 4 | 5): Duplex;
}

/**
 * Starts conmon with posix_spawn (util/posix-spawn.ts: no copy of berthd's
 * memory on the start path); stdout, stderr, the sync pipe and `extraPipes`
 * more (4 start, 5 attach) are socket pairs, as Node's 'pipe' stdio. With a
 * start pipe conmon waits for a byte on it before it forks. The reaper reaps
 * the first process, which exits once it has forked the monitor.
 */
function spawnConmon(rt: ConmonRuntime, args: string[], cwd: string, extraPipes: number): SpawnedConmon {
  const env: NodeJS.ProcessEnv = { ...process.env, _OCI_SYNCPIPE: '3' };
  delete env.NOTIFY_SOCKET;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  if (extraPipes >= 1) env._OCI_STARTPIPE = '4';
  if (extraPipes >= 2) env._OCI_ATTACHPIPE = '5';
  let child: SpawnedChild;
  try {
    child = posixSpawn(rt.conmon, args, { env, cwd, pipes: 3 + extraPipes });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SystemError(code === 'ENOENT' ? `the container monitor ${rt.conmon} is not installed (Debian package conmon)` : `cannot run ${rt.conmon}: ${errorText(e)}`, { cause: e });
  }
  // By the child's descriptor: 1 stdout, 2 stderr, 3 sync, 4 start, 5 attach.
  const sockets = child.fds.map((fd) => new Socket({ fd, readable: true, writable: true }));
  let output = '';
  for (const s of sockets.slice(0, 2)) s.on('data', (d: Buffer) => (output += d.toString()));
  for (const s of sockets) s.on('error', () => undefined);
  const forked = rt.reaper.watch(child.pid).then((exit) => exit?.code ?? null);
  const pipe = (fd: 3 | 4 | 5): Duplex => sockets[fd - 1]!;
  return { pid: child.pid, output: () => output.trim(), forked, sync: new SyncReader(pipe(3)), pipe };
}

/** The arguments every monitored process shares (Podman's sharedConmonArgs). */
function sharedArgs(rt: ConmonRuntime, o: { id: string; uuid: string; name: string; bundle: string; pidFile: string }): string[] {
  const args = ['--api-version', '1', '-c', o.id, '-u', o.uuid, '-r', rt.runc.binaryPath(), '-b', o.bundle, '-p', o.pidFile, '-n', o.name, '--full-attach'];
  for (const a of rt.runc.globalArgs()) args.push(`--runtime-arg=${a}`);
  return args;
}

function readPid(path: string): number {
  const pid = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new SystemError(`no pid in ${path}`);
  return pid;
}

function readPidIfAny(path: string): number | undefined {
  try {
    return readPid(path);
  } catch {
    return undefined;
  }
}

/** What a monitor reports on its sync pipe when the runtime failed, as an error. */
function failure(what: 'create' | 'exec', m: SyncMessage | null, spawned: SpawnedConmon): Error {
  if (m?.message) return new RuntimeStartError(what, runcErrorText(m.message));
  return new SystemError(`conmon failed to ${what} the ${what === 'create' ? 'container' : 'process'}${spawned.output() ? `: ${spawned.output()}` : ''}`);
}

export interface ContainerMonitorOptions {
  id: string;
  name: string;
  /** The OCI bundle; conmon makes its attach socket and ctl fifo here. */
  bundle: string;
  /** conmon's cwd and persist dir: conmon.pid, pidfile, oom. */
  stateDir: string;
  /** conmon writes <exitDir>/<id> when the container ends. */
  exitDir: string;
  /** The k8s-file log; null: nothing is kept (the none driver). */
  logPath: string | null;
  /** conmon starts the log afresh when the next record would take it past this (Docker's max-file 1). */
  logSizeMax?: number;
  tty: boolean;
  openStdin: boolean;
  /** Docker's StdinOnce: a client closing the attach connection closes the container's stdin. */
  stdinOnce: boolean;
}

/** A container created under its monitor, not started yet (`runc start` does that). */
export interface CreatedContainer {
  conmonPid: number;
  /** The container's init pid. */
  pid: number;
}

/** A container's monitor, spawned and waiting on its start pipe. */
export interface PendingContainer {
  /**
   * Lets conmon run `runc create`: resolves once the container exists,
   * stopped at its entrypoint, with its attach socket listening. Throws
   * RuntimeStartError when the runtime refused it.
   */
  create(): Promise<CreatedContainer>;
  /** Ends a monitor that was never let go (killed before its pipe closes: an EOF there lets it go too). */
  abandon(): void;
}

/**
 * Starts conmon for a container, as Podman does, with a start pipe: conmon
 * starts up (exec, its libraries, its options, the log) while berthd
 * mounts the rootfs and writes the spec, and runs `runc create` once
 * create() is called. The bundle's config.json must be written by then.
 */
export function spawnContainerMonitor(rt: ConmonRuntime, o: ContainerMonitorOptions): PendingContainer {
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const pidFile = join(o.stateDir, CONTAINER_PID_FILE);
  const args = sharedArgs(rt, { id: o.id, uuid: o.id, name: o.name, bundle: o.bundle, pidFile });
  args.push('--exit-dir', o.exitDir, '-0', o.stateDir, '--conmon-pidfile', join(o.stateDir, CONMON_PID_FILE), '-l', o.logPath === null ? 'none' : `k8s-file:${o.logPath}`);
  if (o.logSizeMax !== undefined) args.push('--log-size-max', String(o.logSizeMax));
  // No fsync of the log at the exit (Docker's json-file has none either): the exit is not held up by the disk.
  args.push('--no-sync-log');
  if (o.tty) args.push('-t');
  if (o.openStdin) args.push('-i');
  if (o.openStdin && !o.stdinOnce) args.push('--leave-stdin-open');
  const spawned = spawnConmon(rt, args, o.stateDir, 1);
  let used = false;
  return {
    async create(): Promise<CreatedContainer> {
      if (used) throw new SystemError('the container monitor was let go or abandoned already');
      used = true;
      spawned.pipe(4).end('0');
      let m: SyncMessage | null;
      try {
        m = await spawned.sync.next();
      } finally {
        spawned.pipe(3).destroy();
      }
      // conmon.pid is written by the first process before it exits.
      await spawned.forked;
      if (!m || m.data <= 0) {
        const e = failure('create', m, spawned);
        if (e instanceof RuntimeStartError) e.monitorPid = readPidIfAny(join(o.stateDir, CONMON_PID_FILE));
        throw e;
      }
      return { conmonPid: readPid(join(o.stateDir, CONMON_PID_FILE)), pid: m.data };
    },
    abandon(): void {
      if (used) return;
      used = true;
      try {
        process.kill(spawned.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      spawned.pipe(4).destroy();
      spawned.pipe(3).destroy();
    },
  };
}

/** Starts conmon for a container and lets it run `runc create` at once (spawnContainerMonitor, then create()). */
export function createContainer(rt: ConmonRuntime, o: ContainerMonitorOptions): Promise<CreatedContainer> {
  return spawnContainerMonitor(rt, o).create();
}

export interface ExecMonitorOptions {
  containerId: string;
  execId: string;
  /** The exec's directory: its bundle (attach socket, ctl) and conmon's cwd. */
  dir: string;
  /** The OCI process to run, as a file. */
  processFile: string;
  tty: boolean;
  /** Give the process a stdin that attach clients write to. */
  stdin: boolean;
}

/** The exit of an exec'd process. */
export interface ExecExit {
  exitCode: number;
  /** Set when the runtime could not start it, or conmon failed. */
  error?: string;
}

/**
 * One `docker exec` under conmon. spawn() resolves once conmon's attach
 * socket listens, so a client can attach before the process starts;
 * begin() starts it.
 */
export class ExecMonitor {
  /** Resolves with the process's pid, or rejects (RuntimeStartError) when it could not start; read once begin() was called. */
  private readonly started: Promise<number>;
  /** Resolves with the process's exit once conmon reports it (also for a process that could not start). */
  readonly exit: Promise<ExecExit>;
  private begun = false;

  private constructor(
    private readonly spawned: SpawnedConmon,
    /** The monitor's pid (to reap it: it is berthd's child once its first process has forked it away). */
    readonly conmonPid: number,
  ) {
    // The first message is the pid (or the failure), the second the exit code.
    const first = spawned.sync.next(null);
    this.started = first.then((m) => {
      if (!m || m.data <= 0) throw failure('exec', m, spawned);
      return m.data;
    });
    this.started.catch(() => undefined);
    this.exit = this.started.then(
      async () => {
        const last = await spawned.sync.next(null);
        spawned.pipe(3).destroy();
        if (!last) return { exitCode: 255, error: 'the exec monitor (conmon) exited without an exit code' };
        return last.message ? { exitCode: last.data, error: last.message } : { exitCode: last.data };
      },
      (e: unknown) => ({ exitCode: e instanceof RuntimeStartError ? e.exitCode : 126, error: errorText(e) }),
    );
  }

  static async spawn(rt: ConmonRuntime, o: ExecMonitorOptions): Promise<ExecMonitor> {
    const args = sharedArgs(rt, { id: o.containerId, uuid: o.execId, name: o.execId, bundle: o.dir, pidFile: join(o.dir, CONTAINER_PID_FILE) });
    args.push('--conmon-pidfile', join(o.dir, CONMON_PID_FILE), '-l', 'none', '-e', '--exec-attach', '--exec-process-spec', o.processFile);
    if (o.tty) args.push('-t');
    if (o.stdin) args.push('-i');
    const spawned = spawnConmon(rt, args, o.dir, 2);
    const start = spawned.pipe(4);
    const attach = new SyncReader(spawned.pipe(5));
    start.on('error', () => undefined);
    // The first byte lets conmon fork; the second (begin) lets it run the process.
    start.write('0');
    const ready = await attach.next();
    spawned.pipe(5).destroy();
    if (!ready || ready.data < 0) {
      start.destroy();
      throw failure('exec', ready, spawned);
    }
    await spawned.forked;
    return new ExecMonitor(spawned, readPid(join(o.dir, CONMON_PID_FILE)));
  }

  /** Lets conmon run the process; resolves with its pid, or rejects (RuntimeStartError) when it could not start. */
  begin(): Promise<number> {
    if (this.begun) return Promise.reject(new SystemError('exec already started'));
    this.begun = true;
    this.spawned.pipe(4).end('0');
    return this.started;
  }

  /** Ends an exec that was never begun: its monitor is killed (an EOF on the start pipe would run the process). */
  abandon(): void {
    if (this.begun) return;
    this.begun = true;
    // Killed before its start pipe closes: conmon reads an EOF there as the
    // go-ahead. Its whole process group (the monitor made a session of its
    // own): the child it forks to run `runc exec` waits on that pipe too.
    for (const target of [-this.conmonPid, this.conmonPid]) {
      try {
        process.kill(target, 'SIGKILL');
        break;
      } catch {
        // no such group: the monitor alone, or gone already
      }
    }
    this.spawned.pipe(4).destroy();
  }
}

/** Messages on conmon's control fifo ("type height width"): WIN_RESIZE_EVENT and REOPEN_LOGS_EVENT. */
const CTL_RESIZE = 1;
const CTL_REOPEN_LOGS = 2;

/** Writes one message to the control fifo of the monitor that made `<dir>/ctl`. */
function control(dir: string, type: number, height: number, width: number): void {
  // Non-blocking: conmon always holds the fifo open for reading while it runs (ENXIO once it is gone).
  const fd = openSync(join(dir, 'ctl'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  try {
    writeSync(fd, `${type} ${height} ${width}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Resizes the terminal of the process whose monitor made `<dir>/ctl`. */
export function resizeTerminal(dir: string, height: number, width: number): void {
  if (!(height > 0 && width > 0)) return;
  control(dir, CTL_RESIZE, Math.trunc(height), Math.trunc(width));
}

/** Asks the monitor that made `<dir>/ctl` to reopen its log file (after a rotation renamed it). */
export function reopenLogs(dir: string): void {
  control(dir, CTL_REOPEN_LOGS, 0, 0);
}
