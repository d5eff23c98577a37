// Fixtures for runtime tests that run real containers with runc: one busybox
// rootfs and one runc root per test file; per container an overlay rootfs, a
// bundle and a state dir, all removed in t.after (also on failure).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { buildBusyboxRootfs } from '../../helpers/busybox.js';
import { buildSpec, writeSpec, defaultCgroupsPath, type SpecInput, type OciSpec } from '../../../src/containers/runtime/oci-spec.js';
import { Runc } from '../../../src/containers/runtime/runc.js';
import { spawnShim, type Attachment, type ExitStatus, type ShimHandle, type SpawnShimOptions } from '../../../src/containers/runtime/shim-client.js';

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
  /** Bundle dir (config.json). */
  bundle: string;
  /** State dir for the shim. */
  stateDir: string;
  /** The merged overlay rootfs. */
  rootfs: string;
  spec: OciSpec;
  /** Scratch dir of this container (host files for binds etc.). */
  dir: string;
}

export class RuntimeFixture {
  readonly base: string;
  readonly lower: string;
  readonly runcRoot: string;
  readonly runc: Runc;

  constructor() {
    this.base = mkdtempSync(join(tmpdir(), 'berth-rt-'));
    this.lower = buildBusyboxRootfs(join(this.base, 'busybox'));
    this.runcRoot = join(this.base, 'runc');
    this.runc = new Runc({ binary: RUNC_BINARY, root: this.runcRoot });
  }

  /**
   * Lays out a container: overlay rootfs over the shared busybox tree, the
   * bundle's config.json from `input` (rootfs filled in), a state dir.
   * Registers cleanup (runc delete -f, shim kill, umount, rm) on `t`.
   */
  container(t: TestContext, input: Partial<SpecInput> & { args: string[] }, opts: { stateDirName?: string } = {}): Container {
    const id = uniqueId();
    const dir = join(this.base, id);
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    const rootfs = join(dir, 'rootfs');
    const bundle = join(dir, 'bundle');
    const stateDir = join(dir, opts.stateDirName ?? 'state');
    for (const d of [upper, work, rootfs, bundle, stateDir]) mkdirSync(d, { recursive: true });
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${this.lower},upperdir=${upper},workdir=${work}`, rootfs]);
    t.after(() => this.cleanup(id, dir, rootfs, stateDir));
    const spec = buildSpec({ cgroupsPath: defaultCgroupsPath(id), hostname: id.slice(-12), ...input, rootfs });
    writeSpec(bundle, spec);
    return { id, bundle, stateDir, rootfs, spec, dir };
  }

  private cleanup(id: string, dir: string, rootfs: string, stateDir: string): void {
    spawnSync(RUNC_BINARY, ['--root', this.runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
    // A shim still running (a failed test): stop it.
    try {
      const pid = Number(readFileSync(join(stateDir, 'shim.pid'), 'utf8').trim());
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shim-main')) process.kill(pid, 'SIGKILL');
    } catch {
      /* not running */
    }
    for (let i = 0; i < 20; i++) {
      const r = spawnSync('umount', [rootfs], { stdio: 'ignore' });
      if (r.status === 0 || !isMounted(rootfs)) break;
      spawnSync('sleep', ['0.05']);
    }
    if (isMounted(rootfs)) spawnSync('umount', ['-l', rootfs], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }

  /** A container with a shim, not started. */
  async shim(
    t: TestContext,
    input: Partial<SpecInput> & { args: string[] },
    opts: Partial<SpawnShimOptions> = {},
  ): Promise<{ c: Container; h: ShimHandle }> {
    const c = this.container(t, input);
    const h = await spawnShim({ id: c.id, stateDir: c.stateDir, bundle: c.bundle, runtime: this.runc, tty: input.tty, ...opts });
    return { c, h };
  }

  /** Attach (stdout+stderr), start, wait: the whole run of a short container. */
  async run(
    t: TestContext,
    input: Partial<SpecInput> & { args: string[] },
    opts: Partial<SpawnShimOptions> = {},
  ): Promise<{ c: Container; h: ShimHandle; exit: ExitStatus; stdout: string; stderr: string; logs: LogLine[] }> {
    const { c, h } = await this.shim(t, input, opts);
    const out = new Output(await h.attach({ stdout: true, stderr: true }));
    await h.start();
    const exit = await h.wait();
    const { stdout, stderr } = await out.done;
    return { c, h, exit, stdout, stderr, logs: readLogFile(join(c.stateDir, `${c.id}-json.log`)) };
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

/** Accumulates an attachment's demultiplexed output; `waitFor` a pattern, `done` at the end. */
export class Output {
  stdout = '';
  stderr = '';
  readonly done: Promise<{ stdout: string; stderr: string }>;
  private readonly listeners = new Set<() => void>();

  constructor(a: Attachment) {
    a.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString('utf8');
      for (const l of this.listeners) l();
    });
    a.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
      for (const l of this.listeners) l();
    });
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

export interface LogLine {
  log: string;
  stream: string;
  time: string;
}

export function readLogFile(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
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
