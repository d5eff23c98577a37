// A thin wrapper over the OCI runtime's command line (runc; crun takes the
// same commands and flags). Every command runs with `--root <state dir>` so
// berth's containers live apart from any other runc user on the host.
import { execFile } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import { Conflict, NotFound, SystemError, InvalidParameter } from '../../errors.js';
import type { OciResources } from './oci-spec.js';
import { signalNumber } from './signals.js';
import { isProcessRunning } from '../../util/proc.js';
import { freeze, freezerOf, thaw, type Freezer } from './freezer.js';

export interface RuncOptions {
  /** The runtime binary (default "runc"; a path or a name on PATH). */
  binary?: string;
  /** runc's state directory (`runc --root`), under berth's exec root. */
  root: string;
  /** runc's own log file (`--log`); its errors also go to stderr, which berth reads. */
  log?: string;
  logFormat?: 'text' | 'json';
  /** Use the systemd cgroup driver (`--systemd-cgroup`). */
  systemdCgroup?: boolean;
  /** Timeout for short commands (state, kill, delete, ...), ms; default 30 s. */
  timeoutMs?: number;
}

/** `runc state` / `runc list` output. */
export interface RuncState {
  ociVersion: string;
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  bundle: string;
  rootfs: string;
  created: string;
  owner?: string;
  annotations?: Record<string, string>;
}

interface CmdResult {
  stdout: string;
  stderr: string;
}

/** The messages in runc's error output (logrus text lines or plain text). */
export function runcErrorText(stderr: string): string {
  // runc (logrus text) prints e.g. `time="..." level=error msg="container does not exist"`.
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const msgs: string[] = [];
  for (const l of lines) {
    const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(l);
    if (m) msgs.push(m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
    else if (!/level=(?:warning|info|debug)/.test(l)) msgs.push(l);
  }
  return msgs.join('; ') || stderr.trim();
}

/** How often a start that waits for the init's byte checks that the init still lives. */
const INIT_CHECK_MS = 10;

/**
 * Waits for the byte a created container's init writes into exec.fifo once
 * a reader has the fifo open; false when the init is gone without writing.
 * The event loop watches the fifo, so the byte is seen as soon as it is
 * written (a poll interval would add its length to every start); a slower
 * check of the init covers one that died with its end still unopened.
 * Takes over `fd` and closes it.
 */
function readFifoByte(fd: number, initAlive: () => boolean): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const fifo = new Socket({ fd, readable: true, writable: false });
    const settle = (byte: boolean, error?: Error): void => {
      clearInterval(check);
      fifo.removeAllListeners();
      fifo.on('error', () => undefined);
      fifo.destroy();
      if (error) reject(error);
      else resolve(byte);
    };
    const check = setInterval(() => {
      if (!initAlive()) settle(false);
    }, INIT_CHECK_MS);
    fifo.once('data', () => settle(true));
    fifo.once('end', () => settle(false));
    fifo.once('error', (e) => settle(false, e));
  });
}

/** `name` as an absolute path, looked up on PATH when it has no slash. */
function resolveExecutable(name: string): string {
  if (name.includes('/')) return isAbsolute(name) ? name : join(process.cwd(), name);
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const path = join(dir, name);
    try {
      accessSync(path, fsConstants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  throw new SystemError(`OCI runtime ${name} not found on PATH`);
}

export class Runc {
  readonly binary: string;
  readonly root: string;
  readonly systemdCgroup: boolean;
  private readonly opts: RuncOptions;
  private resolvedBinary: string | undefined;

  constructor(opts: RuncOptions) {
    if (!opts.root) throw new InvalidParameter('runc root directory is required');
    this.opts = opts;
    this.binary = opts.binary ?? 'runc';
    this.root = opts.root;
    this.systemdCgroup = opts.systemdCgroup ?? false;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  /** The binary as an absolute path (conmon takes no name to look up on PATH). */
  binaryPath(): string {
    return (this.resolvedBinary ??= resolveExecutable(this.binary));
  }

  /** Global flags that precede every command. */
  globalArgs(): string[] {
    const args = ['--root', this.root];
    if (this.opts.log) args.push('--log', this.opts.log, '--log-format', this.opts.logFormat ?? 'json');
    if (this.opts.systemdCgroup) args.push('--systemd-cgroup');
    return args;
  }

  private command(args: string[], id?: string, input?: string): Promise<CmdResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.binary,
        [...this.globalArgs(), ...args],
        { timeout: this.opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) {
            resolve({ stdout, stderr });
            return;
          }
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            reject(new SystemError(`OCI runtime ${this.binary} not found`, { cause: err }));
            return;
          }
          const text = runcErrorText(stderr || err.message);
          const what = `${this.binary} ${args[0] ?? ''}${id ? ` ${id}` : ''}`;
          if (/container does not exist|does not exist/i.test(text) && id !== undefined) {
            reject(new NotFound(`no such container: ${id}`, { cause: new Error(text) }));
          } else if (/not running|is not stopped|container .* is paused|not paused|is running/i.test(text)) {
            reject(new Conflict(`${what}: ${text}`));
          } else {
            reject(new SystemError(`${what} failed: ${text}`, { cause: err }));
          }
        },
      );
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input ?? '');
    });
  }

  async version(): Promise<string> {
    const { stdout } = await this.command(['--version']);
    return stdout.trim();
  }

  async state(id: string): Promise<RuncState> {
    const { stdout } = await this.command(['state', id], id);
    return JSON.parse(stdout) as RuncState;
  }

  async list(): Promise<RuncState[]> {
    const { stdout } = await this.command(['list', '--format', 'json']);
    const parsed = JSON.parse(stdout.trim() || 'null') as RuncState[] | null;
    return parsed ?? [];
  }

  /** Sends a signal to the container's init (or, with `all`, every process in it). */
  async kill(id: string, signal: NodeJS.Signals | string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    const args = ['kill'];
    if (opts.all) args.push('--all');
    args.push(id, String(signalNumber(signal)));
    await this.command(args, id);
  }

  /** Removes a stopped container's state (with `force`, kills a running one first). */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    const args = ['delete'];
    if (opts.force) args.push('--force');
    args.push(id);
    await this.command(args, id);
  }

  /** The container's init as runc recorded it (pid and start time), or null without a state. */
  /** The container's init as runc recorded it: its pid and its start time (to tell a reused pid). */
  initOf(id: string): { pid: number; startTime: string } | null {
    try {
      const state = JSON.parse(readFileSync(join(this.root, id, 'state.json'), 'utf8')) as { init_process_pid?: unknown; init_process_start?: unknown };
      return typeof state.init_process_pid === 'number' ? { pid: state.init_process_pid, startTime: String(state.init_process_start) } : null;
    } catch {
      return null;
    }
  }

  /**
   * What `runc delete` does for a container whose processes have all ended
   * (its cgroups and its state directory go), without running runc: a
   * container's exit and `docker run --rm` wait for it. False when the state
   * does not show that, or a cgroup is still in use: `delete` is then needed.
   */
  removeStoppedState(id: string): boolean {
    const dir = join(this.root, id);
    let state: { init_process_pid?: unknown; init_process_start?: unknown; cgroup_paths?: unknown };
    try {
      state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as typeof state;
    } catch {
      return !existsSync(dir);
    }
    const pid = typeof state.init_process_pid === 'number' ? state.init_process_pid : 0;
    const paths = state.cgroup_paths;
    if (pid <= 0 || typeof paths !== 'object' || paths === null) return false;
    if (isProcessRunning(pid, String(state.init_process_start))) return false;
    for (const path of Object.values(paths as Record<string, unknown>)) {
      if (typeof path !== 'string') return false;
      try {
        rmdirSync(path);
      } catch (e) {
        // Gone already (v1 controllers mounted together share one directory).
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    return true;
  }

  /** Freezes every process of the container (the cgroup freezer): what `runc pause` does, without runc (freezer.ts). */
  async pause(id: string): Promise<void> {
    const f = this.freezerOf(id);
    if (!f) return void (await this.command(['pause', id], id));
    await this.onFreezer('pause', id, () => freeze(f));
  }

  /** Thaws a container `pause` froze: `runc resume`, without runc. */
  async resume(id: string): Promise<void> {
    const f = this.freezerOf(id);
    if (!f) return void (await this.command(['resume', id], id));
    await this.onFreezer('resume', id, () => thaw(f));
  }

  /** The container's freezer from its state; null when runc's state does not name one (runc is asked then). */
  private freezerOf(id: string): Freezer | null {
    try {
      const state = JSON.parse(readFileSync(join(this.root, id, 'state.json'), 'utf8')) as { cgroup_paths?: unknown };
      return typeof state.cgroup_paths === 'object' && state.cgroup_paths !== null ? freezerOf(state.cgroup_paths as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  /** Errors as `runc pause|resume` gives them: a cgroup that is gone is a container that is not running. */
  private async onFreezer(command: 'pause' | 'resume', id: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Conflict(`${this.binary} ${command} ${id}: container not running`);
      throw new SystemError(`${this.binary} ${command} ${id} failed: ${message}`);
    }
  }

  /**
   * Runs the entrypoint of a container `runc create` made (conmon creates
   * them). What `runc start` does, without its process: the container's init
   * waits to open `exec.fifo` for writing; opening it for reading lets it
   * go, it writes one byte, and the fifo goes (runc's "created" state is the
   * fifo being there). Without the fifo, `runc start` says what is wrong.
   */
  async start(id: string): Promise<void> {
    const fifo = join(this.root, id, 'exec.fifo');
    let fd: number;
    try {
      // O_NONBLOCK: a fifo whose init is gone opens at once, and then reads nothing.
      fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch {
      await this.command(['start', id], id);
      return;
    }
    // The init opens its end and writes once the reader is there: wait for it, as runc does.
    // (Its state is read only if the byte is slow to come: not on a start's path.)
    let init: { pid: number; startTime: string } | null | undefined;
    const byte = await readFifoByte(fd, () => {
      init ??= this.initOf(id);
      return init !== null && isProcessRunning(init.pid, init.startTime);
    });
    if (!byte) throw new Conflict(`${this.binary} start ${id}: container process is already dead`);
    rmSync(fifo, { force: true });
  }

  /** Changes a live container's cgroup limits (`runc update --resources -`, OCI LinuxResources). */
  async update(id: string, resources: Omit<OciResources, 'devices'>): Promise<void> {
    await this.command(['update', '--resources', '-', id], id, JSON.stringify(resources));
  }

  /** Pids of the container's processes (host pid namespace). */
  async ps(id: string): Promise<number[]> {
    const { stdout } = await this.command(['ps', '--format', 'json', id], id);
    return (JSON.parse(stdout.trim() || 'null') as number[] | null) ?? [];
  }
}
