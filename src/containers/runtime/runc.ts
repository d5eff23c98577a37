// A thin wrapper over the OCI runtime's command line (runc; crun takes the
// same commands and flags). Every command runs with `--root <state dir>` so
// berth's containers live apart from any other runc user on the host.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Conflict, NotFound, SystemError, InvalidParameter } from '../../errors.js';
import type { OciProcess } from './oci-spec.js';
import { spawnRuntime, signalNumber, type RuntimeProcess } from './process-io.js';

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

export interface ExecOptions {
  /** `--detach`: runc starts the process and returns its pid; the process gets /dev/null as stdio. */
  detach?: boolean;
  /** Give the process a stdin (non-detached only). Default: true. */
  stdin?: boolean;
  /** Where to write the process.json (default: a temp file removed after the start). */
  processFile?: string;
  /** Where runc writes the exec'd process's pid. */
  pidFile?: string;
  /** Initial terminal size when process.terminal is true. */
  height?: number;
  width?: number;
}

/** A detached exec: runc returned after starting the process. */
export interface DetachedExec {
  pid: number;
}

interface CmdResult {
  stdout: string;
  stderr: string;
}

function runcErrorText(stderr: string): string {
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

/** The last error message in a runc JSON log file (`--log-format json`), if any. */
export function readRuncLogError(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  let last: string | null = null;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as { level?: string; msg?: string };
      if ((o.level === 'error' || o.level === 'fatal') && o.msg) last = o.msg;
    } catch {
      if (line.trim()) last = line.trim();
    }
  }
  return last;
}

export class Runc {
  readonly binary: string;
  readonly root: string;
  readonly systemdCgroup: boolean;
  private readonly opts: RuncOptions;

  constructor(opts: RuncOptions) {
    if (!opts.root) throw new InvalidParameter('runc root directory is required');
    this.opts = opts;
    this.binary = opts.binary ?? 'runc';
    this.root = opts.root;
    this.systemdCgroup = opts.systemdCgroup ?? false;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  /** Global flags that precede every command. */
  globalArgs(): string[] {
    const args = ['--root', this.root];
    if (this.opts.log) args.push('--log', this.opts.log, '--log-format', this.opts.logFormat ?? 'json');
    if (this.opts.systemdCgroup) args.push('--systemd-cgroup');
    return args;
  }

  /** Arguments for a foreground `run` of a bundle (what the shim executes). */
  runArgs(id: string, bundle: string, opts: { pidFile?: string; log?: string } = {}): string[] {
    const args = this.globalArgsWithLog(opts.log);
    args.push('run', '--bundle', bundle);
    if (opts.pidFile) args.push('--pid-file', opts.pidFile);
    args.push(id);
    return args;
  }

  /** Arguments for `exec` of a process.json into a running container. */
  execArgs(id: string, processFile: string, opts: { pidFile?: string; detach?: boolean; log?: string } = {}): string[] {
    const args = this.globalArgsWithLog(opts.log);
    args.push('exec', '--process', processFile);
    if (opts.detach) args.push('--detach');
    if (opts.pidFile) args.push('--pid-file', opts.pidFile);
    args.push(id);
    return args;
  }

  private globalArgsWithLog(log?: string): string[] {
    if (!log) return this.globalArgs();
    const args = ['--root', this.root, '--log', log, '--log-format', 'json'];
    if (this.opts.systemdCgroup) args.push('--systemd-cgroup');
    return args;
  }

  private command(args: string[], id?: string): Promise<CmdResult> {
    return new Promise((resolve, reject) => {
      execFile(
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

  /** Freezes every process of the container (the cgroup freezer): `runc pause`. */
  async pause(id: string): Promise<void> {
    await this.command(['pause', id], id);
  }

  /** Thaws a container `pause` froze: `runc resume`. */
  async resume(id: string): Promise<void> {
    await this.command(['resume', id], id);
  }

  /** Pids of the container's processes (host pid namespace). */
  async ps(id: string): Promise<number[]> {
    const { stdout } = await this.command(['ps', '--format', 'json', id], id);
    return (JSON.parse(stdout.trim() || 'null') as number[] | null) ?? [];
  }

  /**
   * `runc exec`: runs `proc` (a process.json object; `terminal` picks a TTY)
   * inside running container `id`. Detached: returns the pid once runc has
   * started it. Otherwise: a foreground runtime process whose stdio is the
   * exec'd process's (runc exits with its status). For an exec that must
   * outlive berthd, run it under a shim (spawnShim with mode 'exec').
   */
  async exec(id: string, proc: OciProcess | object, opts: ExecOptions & { detach: true }): Promise<DetachedExec>;
  async exec(id: string, proc: OciProcess | object, opts?: ExecOptions): Promise<RuntimeProcess>;
  async exec(id: string, proc: OciProcess | object, opts: ExecOptions = {}): Promise<RuntimeProcess | DetachedExec> {
    const terminal = (proc as { terminal?: boolean }).terminal === true;
    if (terminal && opts.height && opts.width && !(proc as { consoleSize?: unknown }).consoleSize) {
      // runc sizes the new console from this before the process starts.
      proc = { ...proc, consoleSize: { height: opts.height, width: opts.width } };
    }
    let tmp: string | null = null;
    if (!opts.processFile || (opts.detach && !opts.pidFile)) tmp = mkdtempSync(join(tmpdir(), 'berth-exec-'));
    const processFile = opts.processFile ?? join(tmp!, 'process.json');
    writeFileSync(processFile, JSON.stringify(proc), { mode: 0o600 });
    try {
      if (opts.detach) {
        if (terminal) {
          throw new InvalidParameter('a detached exec with a TTY needs a supervisor: run it through spawnShim({ mode: "exec" })');
        }
        const pidFile = opts.pidFile ?? join(tmp!, 'pid');
        // The detached process inherits runc's stdio: give it /dev/null (a
        // pipe would stay open for the process's lifetime), and read runc's
        // errors from its log file instead.
        const log = join(tmp ?? mkdtempSync(join(tmpdir(), 'berth-exec-')), 'runc.log');
        const code = await new Promise<number | null>((resolve, reject) => {
          const child = spawn(this.binary, this.execArgs(id, processFile, { detach: true, pidFile, log }), { stdio: 'ignore' });
          child.once('error', (e) => reject(new SystemError(`cannot run ${this.binary}: ${e.message}`, { cause: e })));
          child.once('exit', (c) => resolve(c));
        });
        if (code !== 0) {
          const text = readRuncLogError(log) ?? `exit status ${code}`;
          if (/container does not exist/.test(text)) throw new NotFound(`no such container: ${id}`);
          if (/not running|is paused|cannot exec in a stopped/.test(text)) throw new Conflict(`container ${id} is not running`);
          throw new SystemError(`${this.binary} exec failed: ${text}`);
        }
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        return { pid };
      }
      const rp = await spawnRuntime(this.binary, this.execArgs(id, processFile, { pidFile: opts.pidFile }), {
        tty: terminal,
        stdin: opts.stdin ?? true,
        height: opts.height,
        width: opts.width,
      });
      if (tmp) {
        const dir = tmp;
        tmp = null;
        void rp.exited.finally(() => rmSync(dir, { recursive: true, force: true }));
      }
      return rp;
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  }
}
