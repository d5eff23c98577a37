// Restart policies through the docker CLI against berthd: on-failure with
// its retry count, always and unless-stopped, docker stop and kill ending
// restarts, docker update of the policy, dockerd's refusals, and what
// berthd does at its start (always back, unless-stopped only if not stopped
// by hand, a container that exited while berthd was down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDaemonWithImages } from '../helpers/suite.js';
import { waitFor } from '../helpers/wait.js';
import { api } from '../helpers/http.js';

const suite = useDaemonWithImages();
const docker = suite.docker;
const ok = suite.ok;

async function state(name: string): Promise<{ Status: string; ExitCode: number; Restarting: boolean; Running: boolean; restartCount: number }> {
  const r = await api(suite.d.socket, 'GET', `/containers/${name}/json`);
  assert.equal(r.status, 200, r.text);
  return { ...r.json.State, restartCount: r.json.RestartCount };
}

/** The container's events so far, as `docker events` prints their actions. */
async function actions(name: string, since: number): Promise<string[]> {
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const out = await ok('events', '--since', String(since), '--until', until, '--filter', `container=${name}`, '--filter', 'type=container', '--format', '{{.Action}}');
  return out.split('\n').filter((a) => a !== '' && !a.startsWith('exec_'));
}

/** A directory bound into a container as /ctl: its file `go` lets the container go on. */
function controlDir(t: { after(fn: () => void): void }): { dir: string; go: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, go: () => writeFileSync(join(dir, 'go'), '') };
}

test('on-failure:2 restarts a failing container twice, counts it, and announces die and start each time', async (t) => {
  t.after(() => docker('rm', '-f', 'fails'));
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok('run', '-d', '--name', 'fails', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3');
  await waitFor(async () => {
    const s = await state('fails');
    return s.Status === 'exited' && s.restartCount === 2;
  }, 'two restarts, then a stop');
  const s = await state('fails');
  assert.equal(s.ExitCode, 3);
  assert.equal(s.Running, false);
  assert.deepEqual(await actions('fails', since), ['create', 'start', 'die', 'start', 'die', 'start', 'die']);
  assert.equal(await ok('inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'fails'), 'on-failure:2\n');
  // An explicit start begins a new count.
  await ok('start', 'fails');
  await waitFor(async () => (await state('fails')).Status === 'exited' && (await state('fails')).restartCount === 2, 'two restarts after the start');
});

test('on-failure does not restart a container that exits 0', async (t) => {
  t.after(() => docker('rm', '-f', 'succeeds'));
  await ok('run', '-d', '--name', 'succeeds', '--restart', 'on-failure', 'busybox', 'true');
  assert.equal((await ok('wait', 'succeeds')).trim(), '0');
  const s = await state('succeeds');
  assert.equal(s.Status, 'exited');
  assert.equal(s.restartCount, 0);
});

test('always restarts until docker stop; a restarting container is running to wait, refused by rm, stopped by stop', async (t) => {
  t.after(() => docker('rm', '-f', 'loops'));
  await ok('run', '-d', '--name', 'loops', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1');
  // The delay doubles from 100 ms: soon the container spends most of its time waiting to restart.
  await waitFor(async () => (await state('loops')).Status === 'restarting', 'the container waiting for its next run', 60_000);
  const s = await state('loops');
  assert.equal(s.Running, true);
  assert.equal(s.Restarting, true);
  assert.ok(s.restartCount >= 1);
  assert.match(await ok('ps', '--filter', 'name=loops', '--format', '{{.Status}}'), /^Restarting \(1\) .* ago\n$/);
  const rm = await docker('rm', 'loops');
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /cannot remove container "\/loops": container is restarting: stop the container before removing or force remove/);
  const exec = await docker('exec', 'loops', 'true');
  assert.equal(exec.code, 1);
  assert.match(exec.stderr, /is restarting, wait until the container is running/);
  await ok('stop', 'loops');
  assert.equal((await state('loops')).Status, 'exited');
  await ok('rm', 'loops');
});

test('docker kill of an always container ends its restarts; docker start resumes them', async (t) => {
  t.after(() => docker('rm', '-f', 'killed'));
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok('run', '-d', '--name', 'killed', '--restart', 'always', 'busybox', 'sleep', '300');
  await ok('kill', 'killed');
  assert.equal((await ok('wait', 'killed')).trim(), '137');
  const s = await state('killed');
  assert.equal(s.Status, 'exited');
  assert.equal(s.restartCount, 0);
  assert.deepEqual(await actions('killed', since), ['create', 'start', 'kill', 'die']);
  await ok('start', 'killed');
  assert.equal((await state('killed')).Status, 'running');
});

test('docker update --restart changes the policy of a running container', async (t) => {
  t.after(() => docker('rm', '-f', 'updated'));
  const ctl = controlDir(t);
  await ok('run', '-d', '--name', 'updated', '-v', `${ctl.dir}:/ctl`, 'busybox', 'sh', '-c', 'while [ ! -e /ctl/go ]; do sleep 0.05; done; exit 5');
  assert.equal(await ok('update', '--restart', 'on-failure:1', 'updated'), 'updated\n');
  assert.equal(await ok('inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', 'updated'), 'on-failure\n');
  ctl.go();
  await waitFor(async () => {
    const s = await state('updated');
    return s.Status === 'exited' && s.restartCount === 1;
  }, 'one restart by the updated policy');
  assert.equal((await state('updated')).ExitCode, 5);
});

test("dockerd's refusals: an unknown policy, a retry count elsewhere, --rm with a policy, update of an AutoRemove container", async (t) => {
  t.after(() => docker('rm', '-f', 'auto'));
  const create = (policy: object) => api(suite.d.socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { RestartPolicy: policy } });
  const unknown = await create({ Name: 'sometimes' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.message, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
  const count = await create({ Name: 'always', MaximumRetryCount: 3 });
  assert.equal(count.status, 400);
  assert.equal(count.json.message, "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  const negative = await create({ Name: 'on-failure', MaximumRetryCount: -1 });
  assert.equal(negative.status, 400);
  assert.equal(negative.json.message, 'invalid restart policy: maximum retry count cannot be negative');
  const rm = await docker('run', '--rm', '--restart', 'always', 'busybox', 'true');
  assert.equal(rm.code, 125);
  assert.match(rm.stderr, /conflicting options: cannot specify both --restart and --rm/);
  const id = (await ok('create', '--rm', '--name', 'auto', 'busybox', 'true')).trim();
  const upd = await docker('update', '--restart', 'always', 'auto');
  assert.equal(upd.code, 1);
  assert.equal(upd.stderr, `Error response from daemon: Cannot update container ${id}: Restart policy cannot be updated because AutoRemove is enabled for the container\n`);
});

test('at berthd start: always comes back even after a manual stop, unless-stopped only when not stopped by hand; an exit while berthd was down restarts', async (t) => {
  t.after(() => docker('rm', '-f', 'always-stopped', 'unless-stopped', 'unless-running', 'on-failure-ok', 'dies-while-down'));
  const ctl = controlDir(t);
  await ok('run', '-d', '--name', 'always-stopped', '--restart', 'always', 'busybox', 'sleep', '300');
  await ok('run', '-d', '--name', 'unless-stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '300');
  await ok('run', '-d', '--name', 'unless-running', '--restart', 'unless-stopped', 'busybox', 'sleep', '300');
  await ok('run', '-d', '--name', 'on-failure-ok', '--restart', 'on-failure', 'busybox', 'true');
  const diesId = (
    await ok('run', '-d', '--name', 'dies-while-down', '--restart', 'always', '-v', `${ctl.dir}:/ctl`, 'busybox', 'sh', '-c', 'if [ -e /ctl/go ]; then sleep 300; fi; while [ ! -e /ctl/go ]; do sleep 0.05; done; exit 2')
  ).trim();
  await ok('stop', '-t', '0', 'always-stopped', 'unless-stopped');
  assert.equal((await ok('wait', 'on-failure-ok')).trim(), '0');
  const runningPid = (await api(suite.d.socket, 'GET', '/containers/unless-running/json')).json.State.Pid as number;
  await suite.d.kill9();
  ctl.go();
  await waitFor(() => existsSync(join(suite.d.execRoot, 'exits', diesId)), 'the container to exit while berthd is down');
  await suite.d.restart();
  await waitFor(async () => (await state('dies-while-down')).Status === 'running', 'the container that died meanwhile to run again');
  assert.equal((await state('dies-while-down')).restartCount, 1);
  assert.equal((await state('always-stopped')).Status, 'running', 'always: back at daemon start');
  assert.equal((await state('unless-stopped')).Status, 'exited', 'unless-stopped: stopped by hand, stays stopped');
  const unlessRunning = await api(suite.d.socket, 'GET', '/containers/unless-running/json');
  assert.equal(unlessRunning.json.State.Status, 'running');
  assert.equal(unlessRunning.json.State.Pid, runningPid, 'a running container is taken back, not restarted');
  assert.equal((await state('on-failure-ok')).Status, 'exited', 'on-failure: exited 0, stays');
});
