// Starts a real berthd on its own temp data root and socket, and cleans up
// after the test: the process, every mount under the root, the directory.
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import type { TestContext } from 'node:test';
import { Reaper, becomeSubreaper } from '../../src/util/reaper.js';
import { isProcessRunning } from '../../src/util/proc.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const BERTHD = join(REPO_ROOT, 'dist', 'src', 'daemon-main.js');
export const BERTH = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface TestDaemon {
  dir: string;
  dataRoot: string;
  /** berthd --exec-root: conmon's files and exit codes. */
  execRoot: string;
  socket: string;
  host: string;
  env: NodeJS.ProcessEnv;
  process: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
}

function waitForSocket(socket: string, child: ChildProcess, logs: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolvePromise, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`berthd exited with ${child.exitCode}: ${logs()}`));
        return;
      }
      const req = request({ socketPath: socket, path: '/_ping', method: 'GET' }, (res) => {
        res.resume();
        res.on('end', () => resolvePromise());
      });
      req.on('error', () => {
        if (Date.now() > deadline) reject(new Error(`berthd did not come up: ${logs()}`));
        else setTimeout(attempt, 50);
      });
      req.end();
    };
    attempt();
  });
}

/** Unmounts everything under `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const points = lines
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(dir + '/')))
    .map((p) => p.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/** Kills and deletes every runc container a test daemon left (monitors outlive berthd by design). */
export function killContainers(dataRoot: string): void {
  const root = join(dataRoot, 'runtime');
  if (!existsSync(root)) return;
  let ids: string[] = [];
  try {
    ids = execFileSync('runc', ['--root', root, 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return;
  }
  for (const id of ids) {
    try {
      execFileSync('runc', ['--root', root, 'delete', '-f', id], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/** runc's status of a container of the daemon on `dataRoot` ("running", "paused", ...): its word, not berthd's. */
export function runtimeStatus(dataRoot: string, id: string): string {
  return (JSON.parse(execFileSync('runc', ['--root', join(dataRoot, 'runtime'), 'state', id], { encoding: 'utf8' })) as { status: string }).status;
}

/** The pids of the container and exec monitors (conmon) of an exec root (they hold the data root's log files open). */
function monitorPids(execRoot: string): number[] {
  const containers = join(execRoot, 'containers');
  if (!existsSync(containers)) return [];
  const pidFiles: string[] = [];
  for (const id of readdirSync(containers)) {
    pidFiles.push(join(containers, id, 'conmon.pid'));
    const execs = join(containers, id, 'exec');
    if (existsSync(execs)) for (const e of readdirSync(execs)) pidFiles.push(join(execs, e, 'conmon.pid'));
  }
  const pids: number[] = [];
  for (const f of pidFiles) {
    try {
      const pid = Number(readFileSync(f, 'utf8').trim());
      if (pid > 0) pids.push(pid);
    } catch {
      // no monitor there
    }
  }
  return pids;
}

/**
 * The test process adopts the monitors of the berthd it stops or kills (as
 * their subreaper, as berthd is), and reaps them: PID 1 may not.
 */
becomeSubreaper();
const reaper = new Reaper();

/** Waits (at most 10 s) until none of `pids` is running, reaping the ones this process adopted. */
async function waitForExit(pids: number[]): Promise<void> {
  for (const pid of pids) void reaper.watch(pid);
  for (const deadline = Date.now() + 10_000; pids.some((p) => isProcessRunning(p)) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startDaemon(
  t?: TestContext,
  extraArgs: string[] = [],
  opts: { dataRootTmpfsSize?: string } = {},
): Promise<TestDaemon & { cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-'));
  const dataRoot = join(dir, 'root');
  if (opts.dataRootTmpfsSize) {
    // A small filesystem of its own, for full-disk tests.
    mkdirSync(dataRoot);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${opts.dataRootTmpfsSize}`, 'tmpfs', dataRoot]);
  }
  const socket = join(dir, 'berth.sock');
  const execRoot = join(dir, 'exec');
  let output = '';
  const launch = () => {
    const child = spawn(process.execPath, [BERTHD, '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--log-level', 'debug', ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    return child;
  };
  const daemon: TestDaemon = {
    dir,
    dataRoot,
    execRoot,
    socket,
    host: `unix://${socket}`,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, BERTH_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config') },
    process: launch(),
    logs: () => output,
    async stop() {
      const child = daemon.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    async kill9() {
      const child = daemon.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await daemon.stop();
      daemon.process = launch();
      await waitForSocket(socket, daemon.process, daemon.logs);
    },
  };
  const cleanup = async () => {
    await daemon.stop();
    const monitors = monitorPids(execRoot);
    killContainers(dataRoot);
    await waitForExit(monitors);
    unmountUnder(dir);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  };
  t?.after(cleanup);
  try {
    await waitForSocket(socket, daemon.process, daemon.logs);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return Object.assign(daemon, { cleanup });
}
