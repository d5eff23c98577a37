// docker pause / unpause through the docker CLI against berthd on runc: the
// cgroup freezer really stops the container, inspect/ps/info/events show it,
// dockerd's refusals and its handling of stop/kill/rm -f/restart/wait of a
// paused container, and the paused state across a berthd restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeStatus, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { CLIS, docker as runDocker, dockerOk, type RunResult } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { api } from '../helpers/http.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
const docker = (...args: string[]): Promise<RunResult> => runDocker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
});
after(async () => {
  await d.cleanup();
});

/** A container that counts in a volume file, renamed into place so a read never sees half a write. */
async function runCounter(name: string): Promise<{ id: string; counter: () => number }> {
  const id = (
    await ok('run', '-d', '--name', name, '-v', `${name}-vol:/data`, 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /data/c.tmp; mv /data/c.tmp /data/counter; sleep 0.02; done')
  ).trim();
  const file = join(d.dataRoot, 'volumes', `${name}-vol`, '_data', 'counter');
  const counter = (): number => {
    try {
      return Number(readFileSync(file, 'utf8').trim());
    } catch {
      return 0;
    }
  };
  return { id, counter };
}

function eventsSince(since: number, name: string): Promise<string> {
  return ok('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${name}`, '--format', '{{.Action}}');
}

test('pause freezes every process until unpause; inspect, ps, info and events show it', async (t) => {
  t.after(() => docker('rm', '-f', 'counter'));
  const since = Math.floor(Date.now() / 1000) - 1;
  const { id, counter } = await runCounter('counter');
  await waitFor(() => counter() > 0, 'the counter to start');

  assert.equal(await ok('pause', 'counter'), 'counter\n');
  const first = counter();
  assert.equal(runtimeStatus(d.dataRoot, id), 'paused');
  assert.equal(runtimeStatus(d.dataRoot, id), 'paused');
  assert.equal(counter(), first, 'a frozen container writes nothing');

  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', 'counter'), 'paused true true\n');
  assert.match(await ok('ps', '--format', '{{.Names}}|{{.State}}|{{.Status}}'), /^counter\|paused\|Up .+ \(Paused\)\n$/);
  assert.equal(await ok('ps', '--filter', 'status=paused', '--format', '{{.Names}}'), 'counter\n');
  assert.equal(await ok('ps', '--filter', 'status=running', '--format', '{{.Names}}'), '');
  assert.equal(await ok('info', '--format', '{{.ContainersPaused}} {{.ContainersRunning}}'), '1 0\n');
  assert.match(await ok('system', 'df', '--format', '{{.Type}} {{.Active}}'), /^Containers 1$/m, 'a paused container is in use');

  assert.equal(await ok('unpause', 'counter'), 'counter\n');
  await waitFor(() => counter() > first, 'the counter to move again');
  assert.equal(runtimeStatus(d.dataRoot, id), 'running');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', 'counter'), 'running true false\n');
  assert.equal(await ok('info', '--format', '{{.ContainersPaused}} {{.ContainersRunning}}'), '0 1\n');
  assert.match(await eventsSince(since, 'counter'), /^create\nstart\npause\nunpause\n$/);
});

test('commit freezes a running container while it reads the layer (pause, commit, unpause, as dockerd); --pause=false does not; a paused one stays paused', async (t) => {
  t.after(async () => {
    await docker('rm', '-f', 'committed');
    await docker('rmi', 'frozen:1', 'live:1', 'paused:1');
  });
  const since = Math.floor(Date.now() / 1000) - 1;
  const { counter } = await runCounter('committed');
  await waitFor(() => counter() > 0, 'the counter to start');

  await ok('commit', 'committed', 'frozen:1');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', 'committed'), 'running\n');
  await ok('commit', '--pause=false', 'committed', 'live:1');
  await ok('pause', 'committed');
  await ok('commit', 'committed', 'paused:1');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', 'committed'), 'paused\n');
  await ok('unpause', 'committed');

  const events = await ok('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=committed', '--format', '{{.Action}} {{.Actor.Attributes.imageRef}}');
  // As dockerd 20.10 prints it here (a missing attribute is "<no value>").
  assert.equal(events, ['create', 'start', 'pause', 'commit frozen:1', 'unpause', 'commit live:1', 'pause', 'commit paused:1', 'unpause'].map((e) => (e.includes(' ') ? e : `${e} <no value>`)).join('\n') + '\n');
  // The counter writes into its volume, which a commit leaves out: the new image's /data is the old image's.
  assert.equal(await ok('run', '--rm', 'frozen:1', 'ls', '/data'), 'image-file\n');
});

test("dockerd's refusals, word for word, with its status codes", async (t) => {
  t.after(() => docker('rm', '-f', 'refused', 'never-started'));
  const id = (await ok('run', '-d', '--name', 'refused', 'busybox', 'sleep', '600')).trim();
  const created = (await ok('create', '--name', 'never-started', 'busybox', 'true')).trim();
  const refusal = async (args: string[], message: string): Promise<void> => {
    const r = await docker(...args);
    assert.equal(r.code, 1, `docker ${args.join(' ')}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `Error response from daemon: ${message}\n`, `docker ${args.join(' ')}`);
  };

  await refusal(['unpause', 'refused'], `Container ${id} is not paused`);
  await refusal(['pause', 'never-started'], `container ${created} is not running`);
  await refusal(['unpause', 'never-started'], `Container ${created} is not paused`);
  await ok('pause', 'refused');
  await refusal(['pause', 'refused'], `Container ${id} is already paused`);
  await refusal(['exec', 'refused', 'true'], 'Container refused is paused, unpause the container before exec');
  await refusal(['rm', 'refused'], 'cannot remove container "/refused": container is paused and must be unpaused first');
  const start = await docker('start', 'refused');
  assert.equal(start.stderr, 'Error response from daemon: cannot start a paused container, try unpause instead\nError: failed to start containers: refused\n');
  // The CLI checks before it asks; the API refuses on its own too.
  const attach = await docker('attach', 'refused');
  assert.equal(attach.code, 1);
  assert.equal(attach.stderr, 'You cannot attach to a paused container, unpause it first\n');
  assert.equal((await api(d.socket, 'POST', '/containers/refused/attach?stream=1&stdout=1')).status, 409);

  // dockerd answers "not paused" with a plain error: 500, not 409.
  const codes = {
    pausePaused: (await api(d.socket, 'POST', '/containers/refused/pause')).status,
    pauseCreated: (await api(d.socket, 'POST', '/containers/never-started/pause')).status,
    unpauseCreated: (await api(d.socket, 'POST', '/containers/never-started/unpause')).status,
    pauseMissing: (await api(d.socket, 'POST', '/containers/missing/pause')).status,
    execCreate: (await api(d.socket, 'POST', '/containers/refused/exec', { Cmd: ['true'] })).status,
    start: (await api(d.socket, 'POST', '/containers/refused/start')).status,
  };
  assert.deepEqual(codes, { pausePaused: 409, pauseCreated: 409, unpauseCreated: 500, pauseMissing: 404, execCreate: 409, start: 409 });
  await ok('unpause', 'refused');
  assert.equal((await api(d.socket, 'POST', '/containers/refused/unpause')).status, 500);
  assert.equal(await ok('exec', 'refused', 'echo', 'runs again'), 'runs again\n');
});

test('stop, kill, restart and rm -f of a paused container thaw it as dockerd does; wait is unaffected', async (t) => {
  t.after(() => docker('rm', '-f', 'trapper', 'killed', 'restarted', 'removed'));
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok('run', '-d', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.05; done');
  await ok('pause', 'trapper');
  const waited = docker('wait', 'trapper');
  // SIGTERM reaches the trap only once the container is thawed, right after the signal.
  assert.equal(await ok('stop', 'trapper'), 'trapper\n');
  assert.deepEqual(await waited, { code: 0, stdout: '42\n', stderr: '' });
  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Paused}}', 'trapper'), 'exited 42 false\n');
  assert.match(await eventsSince(since, 'trapper'), /^create\nstart\npause\nkill\nunpause\ndie\nstop\n$/);

  await ok('run', '-d', '--name', 'killed', 'busybox', 'sleep', '600');
  await ok('pause', 'killed');
  await ok('kill', 'killed');
  assert.equal((await ok('wait', 'killed')).trim(), '137');
  assert.equal(await ok('info', '--format', '{{.ContainersPaused}}'), '0\n');

  await ok('run', '-d', '--name', 'restarted', 'busybox', 'sleep', '600');
  await ok('pause', 'restarted');
  await ok('restart', '-t', '0', 'restarted');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'restarted'), 'running false\n');
  assert.equal(await ok('exec', 'restarted', 'echo', 'alive'), 'alive\n');

  await ok('run', '-d', '--name', 'removed', 'busybox', 'sleep', '600');
  await ok('pause', 'removed');
  assert.equal(await ok('rm', '-f', 'removed'), 'removed\n');
  assert.equal((await docker('inspect', 'removed')).code, 1);
});

test('a paused container stays paused across a berthd restart; the runtime is the authority', async (t) => {
  t.after(() => docker('rm', '-f', 'sleeper', 'behind'));
  const { id, counter } = await runCounter('sleeper');
  await waitFor(() => counter() > 0, 'the counter to start');
  await ok('pause', 'sleeper');
  const frozenAt = counter();
  const behind = (await ok('run', '-d', '--name', 'behind', 'busybox', 'sleep', '600')).trim();

  await d.stop();
  // Paused behind berthd's back (as when berthd dies between `runc pause` and its record).
  execFileSync('runc', ['--root', join(d.dataRoot, 'runtime'), 'pause', behind]);
  await d.restart();

  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'sleeper'), 'paused true\n');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'behind'), 'paused true\n');
  assert.equal(runtimeStatus(d.dataRoot, id), 'paused');
  assert.equal(counter(), frozenAt);
  assert.equal(await ok('info', '--format', '{{.ContainersPaused}}'), '2\n');
  await ok('unpause', 'sleeper', 'behind');
  await waitFor(() => counter() > frozenAt, 'the counter to move after the restart');
  assert.equal(await ok('exec', 'behind', 'echo', 'thawed'), 'thawed\n');
});

test('berth pause and unpause print what docker prints', async (t) => {
  t.after(() => docker('rm', '-f', 'cli-a', 'cli-b'));
  await ok('run', '-d', '--name', 'cli-a', 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', 'cli-b', 'busybox', 'sleep', '600');
  for (const cli of CLIS) {
    const paused = await cli.run(d.env, 'pause', 'cli-a', 'nope', 'cli-b');
    assert.deepEqual(paused, { code: 1, stdout: 'cli-a\ncli-b\n', stderr: 'Error response from daemon: No such container: nope\n' }, cli.name);
    assert.equal(await ok('inspect', '-f', '{{.State.Status}}', 'cli-a', 'cli-b'), 'paused\npaused\n');
    const again = await cli.run(d.env, 'container', 'pause', 'cli-a');
    assert.equal(again.code, 1, cli.name);
    assert.match(again.stderr, /^Error response from daemon: Container [0-9a-f]{64} is already paused\n$/, cli.name);
    const unpaused = await cli.run(d.env, 'unpause', 'cli-b', 'cli-a');
    assert.deepEqual(unpaused, { code: 0, stdout: 'cli-b\ncli-a\n', stderr: '' }, cli.name);
    const usage = await cli.run(d.env, 'unpause');
    assert.equal(usage.code, 1, cli.name);
    assert.match(usage.stderr, new RegExp(`'${cli.name} unpause' requires at least 1 argument`), cli.name);
  }
});
