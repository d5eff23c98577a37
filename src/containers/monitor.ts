// One container under its conmon, from berthd's side: created (conmon runs
// `runc create`), started (`runc start`), its stdio shared through an
// AttachHub, its end learnt from conmon's exit file. A berthd that restarts
// adopts the monitors still running. conmon is berthd's child (berthd is a
// subreaper) and is reaped when it exits; one that berthd did not start is
// checked from /proc instead.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { formatRFC3339Nano, nowNs } from '../go/timestamps.js';
import type { Reaper } from '../util/reaper.js';
import { isProcessRunning, processArgv, processStartTime } from '../util/proc.js';
import { AttachHub } from './runtime/attach-hub.js';
import { CONMON_PID_FILE, CONTAINER_PID_FILE, OOM_FILE, RuntimeStartError, resizeTerminal, spawnContainerMonitor, type ConmonRuntime } from './runtime/conmon.js';
import type { ExitWatcher, RecordedExit } from './runtime/exit-watcher.js';

export interface MonitorDeps {
  conmon: ConmonRuntime;
  exits: ExitWatcher;
  reaper: Reaper;
  log: Logger;
}

/** How a run ended. */
export interface RunExit {
  /** Docker's exit code: the status, or 128 + N when signal N killed it. */
  exitCode: number;
  /** RFC 3339, nanoseconds. */
  finishedAt: string;
  oomKilled: boolean;
  /** Why berthd has no exit code from the monitor, when it has none. */
  error?: string;
}

export interface MonitorSettings {
  id: string;
  name: string;
  /** The OCI bundle: config.json, conmon's attach socket and ctl fifo. */
  bundle: string;
  /** conmon's state: conmon.pid, pidfile, oom (under berthd's exec root). */
  stateDir: string;
  /** null: the none driver keeps no log. */
  logPath: string | null;
  /** conmon starts the log afresh past this size (Docker's max-file 1). */
  logSizeMax?: number;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
}

/** A container's conmon, spawned and waiting (ContainerMonitor.prepare). */
export interface PreparedMonitor {
  /** Creates the container (`runc create`): its init waits at the entrypoint until start(). */
  create(): Promise<ContainerMonitor>;
  /** Ends the waiting conmon: the start did not get as far as the runtime. */
  abandon(): void;
}

/** How often a monitor berthd did not start (and so cannot reap) is looked for in /proc. */
const ADOPTED_CHECK_MS = 2000;

export class ContainerMonitor {
  readonly hub: AttachHub;
  /** Resolves once, when the run has ended (the container's output all written). */
  readonly exited: Promise<RunExit>;
  private resolveExit!: (e: RunExit) => void;
  private settled = false;
  private cancelExit: () => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly deps: MonitorDeps,
    private readonly s: MonitorSettings,
    /** conmon's pid. */
    readonly conmonPid: number,
    /** The container's init pid. */
    readonly pid: number,
    /** True when berthd started this conmon (it can reap it); false for one adopted at start. */
    ownChild: boolean,
  ) {
    this.hub = new AttachHub({
      socketPath: join(s.bundle, 'attach'),
      tty: s.tty,
      openStdin: s.openStdin,
      stdinOnce: s.stdinOnce,
      warn: (message) => deps.log.warn({ container: s.id }, message),
    });
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.cancelExit = deps.exits.onExit(s.id, (e) => this.conclude(this.fromRecord(e)));
    if (ownChild) {
      void deps.reaper.watch(conmonPid).then((reaped) => (reaped ? this.monitorGone() : this.pollMonitor()));
    } else {
      this.pollMonitor();
    }
  }

  /**
   * Creates the container under a new conmon (`runc create`): its init
   * waits at the entrypoint until start(). Throws RuntimeStartError when the
   * runtime refused it.
   */
  static create(deps: MonitorDeps, s: MonitorSettings): Promise<ContainerMonitor> {
    return ContainerMonitor.prepare(deps, s).create();
  }

  /**
   * Spawns the container's conmon now, waiting to be let go: create() runs
   * `runc create` (the bundle's spec written by then), abandon() ends it.
   * Its start-up overlaps what berthd does before the spec is ready.
   */
  static prepare(deps: MonitorDeps, s: MonitorSettings): PreparedMonitor {
    rmSync(s.stateDir, { recursive: true, force: true });
    deps.exits.clear(s.id);
    const pending = spawnContainerMonitor(deps.conmon, { ...s, exitDir: deps.exits.dir });
    return {
      async create(): Promise<ContainerMonitor> {
        let created;
        try {
          created = await pending.create();
        } catch (e) {
          // The monitor exits after reporting the failure: reaped, as any other.
          if (e instanceof RuntimeStartError && e.monitorPid !== undefined) void deps.reaper.watch(e.monitorPid);
          throw e;
        }
        return new ContainerMonitor(deps, s, created.conmonPid, created.pid, true);
      },
      abandon: () => pending.abandon(),
    };
  }

  /**
   * The monitor of a container that was running when berthd last stopped:
   * null when its conmon is gone (its exit file, if any, says how it ended).
   */
  static adopt(deps: MonitorDeps, s: MonitorSettings): ContainerMonitor | null {
    const conmonPid = readPid(join(s.stateDir, CONMON_PID_FILE));
    const pid = readPid(join(s.stateDir, CONTAINER_PID_FILE));
    if (conmonPid === null || pid === null || !isConmonOf(conmonPid, s.id)) return null;
    return new ContainerMonitor(deps, s, conmonPid, pid, false);
  }

  /** Runs the entrypoint. */
  async start(): Promise<void> {
    await this.deps.conmon.runc.start(this.s.id);
  }

  resize(height: number, width: number): void {
    resizeTerminal(this.s.bundle, height, width);
  }

  /** Stops following the run (the container is being removed; conmon and its exit file go with it). */
  detach(): void {
    this.cancelExit();
    clearTimeout(this.timer);
    this.settled = true;
    this.hub.destroy();
  }

  private fromRecord(e: RecordedExit): RunExit {
    return runExitOf(e, this.s.stateDir);
  }

  private conclude(e: RunExit): void {
    if (this.settled) return;
    this.settled = true;
    this.cancelExit();
    clearTimeout(this.timer);
    this.hub.finish();
    this.resolveExit(e);
  }

  /** conmon has exited: its exit file says how the container ended, unless conmon itself was killed. */
  private monitorGone(): void {
    const recorded = this.deps.exits.read(this.s.id);
    if (recorded) return this.conclude(this.fromRecord(recorded));
    this.deps.log.error({ container: this.s.id, conmon: this.conmonPid }, 'the container monitor exited without recording an exit code');
    this.conclude({ exitCode: 255, finishedAt: formatRFC3339Nano(nowNs()), oomKilled: false, error: 'container monitor (conmon) exited without an exit code' });
  }

  /** For a conmon berthd cannot reap: notices from /proc that it is gone. */
  private pollMonitor(): void {
    const startTime = processStartTime(this.conmonPid);
    const check = (): void => {
      if (this.settled) return;
      if (startTime !== null && isProcessRunning(this.conmonPid, startTime)) {
        this.timer = setTimeout(check, ADOPTED_CHECK_MS).unref();
        return;
      }
      this.monitorGone();
    };
    check();
  }
}

/** How a run ended, from conmon's exit file and its state directory (an oom file marks an OOM kill). */
export function runExitOf(e: RecordedExit, stateDir: string): RunExit {
  return {
    // -1: conmon could not tell how the process ended.
    exitCode: e.exitCode < 0 ? 255 : e.exitCode,
    finishedAt: formatRFC3339Nano(e.finishedAtNs),
    oomKilled: existsSync(join(stateDir, OOM_FILE)),
  };
}

function readPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** True when `pid` is a live conmon monitoring container `id` (a pid alone may have been reused). */
export function isConmonOf(pid: number, id: string): boolean {
  if (!isProcessRunning(pid)) return false;
  const argv = processArgv(pid) ?? [];
  const c = argv.indexOf('-c');
  return (argv[0] ?? '').endsWith('conmon') && c !== -1 && argv[c + 1] === id;
}
