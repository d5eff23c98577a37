// The runc wrapper against real containers (state/list/ps/kill/delete,
// update), and exec under conmon (pipes, stdin, a TTY with resize, exit
// codes, a command that does not exist).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecMonitor, RuntimeStartError, resizeTerminal } from '../../../src/containers/runtime/conmon.js';
import { AttachHub } from '../../../src/containers/runtime/attach-hub.js';
import { cgroupPathsOf } from '../../../src/containers/stats.js';
import { NotFound, Conflict } from '../../../src/errors.js';
import { RuntimeFixture, runtimeSkipReason, useRuntimeFixture, Output, type Container } from './helpers.js';
import type { TestContext } from 'node:test';

const skip = runtimeSkipReason() ?? false;
let fx: RuntimeFixture;

useRuntimeFixture(skip, (f) => (fx = f));

test('state, list, ps, kill --all and delete errors', { skip }, async (t) => {
  const { c, m } = await fx.monitor(t, { args: ['sh', '-c', 'sleep 100 & sleep 100 & wait'] });
  assert.equal((await fx.runc.state(c.id)).status, 'created', 'conmon runs `runc create`: the entrypoint waits');
  await m.start();
  const st = await fx.runc.state(c.id);
  assert.equal(st.id, c.id);
  assert.equal(st.status, 'running');
  assert.equal(st.pid, m.pid);
  assert.equal(st.bundle, c.bundle);
  const list = await fx.runc.list();
  assert.ok(list.some((x) => x.id === c.id && x.status === 'running'));
  let pids: number[] = [];
  for (let i = 0; i < 50 && pids.length < 3; i++) {
    pids = await fx.runc.ps(c.id);
    if (pids.length < 3) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(pids.length, 3, `sh and two sleeps: ${pids.join(',')}`);
  assert.ok(pids.includes(m.pid));
  await assert.rejects(fx.runc.delete(c.id), Conflict);
  await fx.runc.kill(c.id, 'KILL', { all: true });
  assert.equal((await m.exited).exitCode, 137);
  // A created-then-started container stays known to runc, stopped, until deleted.
  assert.equal((await fx.runc.state(c.id)).status, 'stopped');
  await fx.runc.delete(c.id);
  await assert.rejects(fx.runc.state(c.id), NotFound);
  await assert.rejects(fx.runc.kill(c.id, 'TERM'), NotFound);
  await assert.rejects(fx.runc.delete('berth-test-missing'), NotFound);
});

test('update changes a running container\'s limits in its cgroup', { skip }, async (t) => {
  const { c, m } = await fx.monitor(t, { args: ['sleep', '100'], resources: { memory: { limit: 64 * 1024 * 1024 } } });
  await m.start();
  await fx.runc.update(c.id, { memory: { limit: 32 * 1024 * 1024 }, pids: { limit: 50 } });
  const paths = cgroupPathsOf(m.pid);
  const memory = paths.memory!.v2 ? 'memory.max' : 'memory.limit_in_bytes';
  assert.equal(readFileSync(join(paths.memory!.dir, memory), 'utf8').trim(), String(32 * 1024 * 1024));
  assert.equal(readFileSync(join(paths.pids!.dir, 'pids.max'), 'utf8').trim(), '50');
  await fx.runc.kill(c.id, 'KILL');
  await m.exited;
});

/** A started `sleep` container to exec into. */
async function sleeper(t: TestContext): Promise<Container> {
  const { c, m } = await fx.monitor(t, { args: ['sleep', '100'] });
  await m.start();
  t.after(async () => {
    await fx.runc.kill(c.id, 'KILL').catch(() => undefined);
    await m.exited;
  });
  return c;
}

/** An exec of `process` into `c` under conmon, with a hub for its stdio. */
async function execIn(c: Container, name: string, process: object, opts: { tty?: boolean; stdin?: boolean } = {}): Promise<{ e: ExecMonitor; hub: AttachHub; dir: string }> {
  const dir = join(c.stateDir, 'exec', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'process.json'), JSON.stringify(process));
  const tty = opts.tty ?? false;
  const stdin = opts.stdin ?? false;
  const e = await ExecMonitor.spawn(fx.deps.conmon, { containerId: c.id, execId: name, dir, processFile: join(dir, 'process.json'), tty, stdin });
  void fx.reaper.watch(e.conmonPid);
  const hub = new AttachHub({ socketPath: join(dir, 'attach'), tty, openStdin: stdin, stdinOnce: true, warn: () => undefined });
  return { e, hub, dir };
}

test('exec under conmon: pipes with stdin, stderr, exit code', { skip }, async (t) => {
  const c = await sleeper(t);
  const { e, hub } = await execIn(c, 'e1', { ...c.spec.process, terminal: false, args: ['sh', '-c', 'cat; echo err >&2; exit 2'] }, { stdin: true });
  const a = hub.attach({ stdin: true, stdout: true, stderr: true });
  const out = new Output(a);
  const pid = await e.begin();
  assert.ok((await fx.runc.ps(c.id)).includes(pid));
  a.stdin!.write('via stdin\n');
  a.stdin!.end();
  assert.deepEqual(await e.exit, { exitCode: 2 });
  assert.deepEqual(await out.done, { stdout: 'via stdin\n', stderr: 'err\n' });
});

test('exec under conmon with a TTY: stty size, resize, TERM, exit code; the container is unaffected', { skip }, async (t) => {
  const c = await sleeper(t);
  const proc = { ...c.spec.process, terminal: true, args: ['sh'], env: [...c.spec.process.env, 'TERM=xterm'], consoleSize: { height: 20, width: 70 } };
  const { e, hub, dir } = await execIn(c, 'e2', proc, { tty: true, stdin: true });
  const a = hub.attach({ stdin: true, stdout: true, stderr: true });
  const out = new Output(a);
  await e.begin();
  a.stdin!.write('stty size; echo $TERM\r');
  await out.waitFor(/20 70\r\nxterm\r\n/);
  resizeTerminal(dir, 33, 99);
  a.stdin!.write('stty size\r');
  await out.waitFor(/33 99\r\n/);
  a.stdin!.write('exit 9\r');
  assert.equal((await e.exit).exitCode, 9);
  assert.equal((await fx.runc.state(c.id)).status, 'running');
});

test('exec of a command that does not exist: 127 from the runtime, no pid', { skip }, async (t) => {
  const c = await sleeper(t);
  const { e } = await execIn(c, 'e3', { ...c.spec.process, terminal: false, args: ['/nope'] });
  await assert.rejects(e.begin(), (err: unknown) => err instanceof RuntimeStartError && err.exitCode === 127 && /no such file or directory/.test(err.message));
  assert.equal((await e.exit).exitCode, 127);
});

test('an exec never begun is abandoned: its process never runs', { skip }, async (t) => {
  const c = await sleeper(t);
  const marker = join(c.rootfs, 'tmp', 'ran');
  const { e } = await execIn(c, 'e4', { ...c.spec.process, terminal: false, args: ['touch', '/tmp/ran'] });
  e.abandon();
  const exit = await e.exit;
  assert.notEqual(exit.exitCode, 0);
  assert.throws(() => readFileSync(marker));
});

test("removeStoppedState: what runc delete does for an ended container, refused while its init runs", { skip }, async (t) => {
  const { c, m } = await fx.monitor(t, { args: ['sleep', '100'] });
  await m.start();
  const state = JSON.parse(readFileSync(join(fx.runcRoot, c.id, 'state.json'), 'utf8')) as { cgroup_paths: Record<string, string> };
  const cgroups = [...new Set(Object.values(state.cgroup_paths))];
  assert.ok(cgroups.length > 0);
  assert.equal(fx.runc.removeStoppedState(c.id), false, 'the init still runs');
  assert.equal((await fx.runc.state(c.id)).status, 'running');
  await fx.runc.kill(c.id, 'KILL');
  await m.exited;
  assert.equal(fx.runc.removeStoppedState(c.id), true);
  await assert.rejects(fx.runc.state(c.id), NotFound);
  for (const dir of cgroups) assert.equal(existsSync(dir), false, dir);
  assert.equal(fx.runc.removeStoppedState(c.id), true, 'nothing left: nothing to do');
});
