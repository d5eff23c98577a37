// Fixtures for runtime tests that run real containers with runc under
// conmon: one busybox rootfs, one runc root and one exit dir per test file;
// per container an overlay rootfs, a bundle and a state dir, all removed in
// t.after (also on failure). The test process is the subreaper of the
// monitors it starts, as berthd is, and reaps them.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { buildBusyboxRootfs } from '../../helpers/busybox.js';
import { buildSpec, writeSpec, defaultCgroupsPath, type SpecInput, type OciSpec } from '../../../src/containers/runtime/oci-spec.js';
import { Runc } from '../../../src/containers/runtime/runc.js';
import { ExitWatcher } from '../../../src/containers/runtime/exit-watcher.js';
import { FrameDecoder, type Attachment } from '../../../src/containers/runtime/attach-hub.js';
import { readLogs, type LogEntry } from '../../../src/containers/runtime/container-log.js';
import { ContainerMonitor, type MonitorDeps, type MonitorSettings, type RunExit } from '../../../src/containers/monitor.js';
import { Reaper, becomeSubreaper } from '../../../src/util/reaper.js';
import { isProcessRunning } from '../../../src/util/proc.js';

export const RUNC_BINARY = process.env.BERTH_TEST_RUNC ?? 'runc';

/** Why real-container tests cannot run here, or null when they can. */
export function runtimeSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const r = spawnSync(RUNC_BINARY, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return `${RUNC_BINARY} not available`;
  if (!existsSync('/bin/busybox')) return 'busybox-static not installed';
  return null;
}

export function uniqueId(prefix = 'berth-test'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export interface Container {
  id: string;
  /** Bundle dir (config.json; conmon's attach socket and ctl fifo). */
  bundle: string;
  /** conmon's state dir (conmon.pid, pidfile, oom). */
  stateDir: string;
  /** The container's k8s-file log. */
  logPath: string;
  /** The merged overlay rootfs. */
  rootfs: string;
  spec: OciSpec;
  /** Scratch dir of this container (host files for binds etc.). */
  dir: string;
}

/** The options of a monitored container besides its spec. */
export type MonitorOptions = Partial<Pick<MonitorSettings, 'openStdin' | 'stdinOnce'>>;

export class RuntimeFixture {
  readonly base: string;
  readonly lower: string;
  readonly runcRoot: string;
  readonly runc: Runc;
  readonly exits: ExitWatcher;
  readonly reaper: Reaper;
  readonly deps: MonitorDeps;

  constructor() {
    this.base = mkdtempSync(join(tmpdir(), 'berth-rt-'));
    this.lower = buildBusyboxRootfs(join(this.base, 'busybox'));
    this.runcRoot = join(this.base, 'runc');
    this.runc = new Runc({ binary: RUNC_BINARY, root: this.runcRoot });
    this.exits = new ExitWatcher(join(this.base, 'exits'));
    becomeSubreaper();
    this.reaper = new Reaper();
    this.deps = { conmon: { conmon: 'conmon', runc: this.runc, reaper: this.reaper }, exits: this.exits, reaper: this.reaper, log: pino({ level: 'silent' }) };
  }

  /**
   * Lays out a container: overlay rootfs over the shared busybox tree, the
   * bundle's config.json from `input` (rootfs filled in), a state dir.
   * Registers cleanup (runc delete -f, monitor kill, umount, rm) on `t`.
   */
  container(t: TestContext, input: Partial<SpecInput> & { args: string[] }, opts: { bundleName?: string } = {}): Container {
    const id = uniqueId();
    const dir = join(this.base, id);
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    const rootfs = join(dir, 'rootfs');
    const bundle = join(dir, opts.bundleName ?? 'bundle');
    const stateDir = join(dir, 'state');
    for (const d of [upper, work, rootfs, bundle, stateDir]) mkdirSync(d, { recursive: true });
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${this.lower},upperdir=${upper},workdir=${work}`, rootfs]);
    t.after(() => this.cleanup(id, dir, rootfs, stateDir));
    const spec = buildSpec({ cgroupsPath: defaultCgroupsPath(id), hostname: id.slice(-12), ...input, rootfs });
    writeSpec(bundle, spec);
    return { id, bundle, stateDir, logPath: join(bundle, `${id}.log`), rootfs, spec, dir };
  }

  private cleanup(id: string, dir: string, rootfs: string, stateDir: string): void {
    spawnSync(RUNC_BINARY, ['--root', this.runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
    // A monitor still running (a failed test): stop it.
    try {
      const pid = Number(readFileSync(join(stateDir, 'conmon.pid'), 'utf8').trim());
      if (pid > 0 && isProcessRunning(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id)) process.kill(pid, 'SIGKILL');
    } catch {
      /* not running */
    }
    this.exits.clear(id);
    for (let i = 0; i < 20; i++) {
      const r = spawnSync('umount', [rootfs], { stdio: 'ignore' });
      if (r.status === 0 || !isMounted(rootfs)) break;
      spawnSync('sleep', ['0.05']);
    }
    if (isMounted(rootfs)) spawnSync('umount', ['-l', rootfs], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }

  /** The monitor settings of container `c`. */
  settings(c: Container, input: { tty?: boolean }, opts: MonitorOptions = {}): MonitorSettings {
    return {
      id: c.id,
      name: c.id,
      bundle: c.bundle,
      stateDir: c.stateDir,
      logPath: c.logPath,
      tty: input.tty ?? false,
      openStdin: opts.openStdin ?? false,
      stdinOnce: opts.stdinOnce ?? false,
    };
  }

  /** A container created under conmon, not started. */
  async monitor(t: TestContext, input: Partial<SpecInput> & { args: string[] }, opts: MonitorOptions = {}): Promise<{ c: Container; m: ContainerMonitor }> {
    const c = this.container(t, input);
    const m = await ContainerMonitor.create(this.deps, this.settings(c, input, opts));
    return { c, m };
  }

  /** Attach (stdout+stderr), start, wait: the whole run of a short container. */
  async run(
    t: TestContext,
    input: Partial<SpecInput> & { args: string[] },
    opts: MonitorOptions = {},
  ): Promise<{ c: Container; m: ContainerMonitor; exit: RunExit; stdout: string; stderr: string; logs: LogEntry[] }> {
    const { c, m } = await this.monitor(t, input, opts);
    const out = new Output(m.hub.attach({ stdin: false, stdout: true, stderr: true }));
    await m.start();
    const exit = await m.exited;
    const { stdout, stderr } = await out.done;
    return { c, m, exit, stdout, stderr, logs: await readLog(c.logPath) };
  }

  /** runc containers left under this fixture's root. */
  leftovers(): string[] {
    const out = execFileSync(RUNC_BINARY, ['--root', this.runcRoot, 'list', '--quiet'], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean);
  }

  dispose(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

export function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

/** Accumulates an attachment's output, demultiplexed; `waitFor` a pattern, `done` at the end. */
export class Output {
  stdout = '';
  stderr = '';
  readonly done: Promise<{ stdout: string; stderr: string }>;
  private readonly listeners = new Set<() => void>();

  constructor(a: Attachment) {
    const add = (stream: 'stdout' | 'stderr', d: Buffer): void => {
      this[stream] += d.toString('utf8');
      for (const l of this.listeners) l();
    };
    if (a.tty) {
      a.output.on('data', (d: Buffer) => add('stdout', d));
    } else {
      const decoder = new FrameDecoder((stream, payload) => add(stream === 2 ? 'stderr' : 'stdout', payload));
      a.output.on('data', (d: Buffer) => decoder.push(d));
    }
    this.done = a.done
      .then(() => new Promise((r) => setImmediate(r)))
      .then(() => ({ stdout: this.stdout, stderr: this.stderr }));
  }

  waitFor(re: RegExp, stream: 'stdout' | 'stderr' = 'stdout', ms = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (re.test(this[stream])) {
          clearTimeout(timer);
          this.listeners.delete(check);
          resolve(this[stream]);
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out waiting for ${re} on ${stream}; saw ${JSON.stringify(this[stream])}`));
      }, ms);
      this.listeners.add(check);
      check();
    });
  }
}

/** Every entry of a finished container's log, as `docker logs` reads it. */
export async function readLog(path: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(path, { finished: () => true })) out.push(e);
  return out;
}

/**
 * Gives this test file a RuntimeFixture (unless `skip`): made before its
 * tests, then checked to have left no runc container, and disposed.
 */
export function useRuntimeFixture(skip: string | false, set: (fx: RuntimeFixture) => void): void {
  let fx: RuntimeFixture | undefined;
  before(() => {
    if (skip) return;
    fx = new RuntimeFixture();
    set(fx);
  });
  after(() => {
    if (!fx) return;
    const left = fx.leftovers();
    fx.dispose();
    assert.deepEqual(left, [], 'runc list must be empty after the tests');
  });
}
