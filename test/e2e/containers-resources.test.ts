// docker top, stats --no-stream, rename and update through the docker CLI
// and the berth CLI against berthd: the same output from both, the Engine
// API's shapes, dockerd's refusals and events, limits applied to a running
// container's cgroup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemonWithImages } from '../helpers/suite.js';
import { CLIS } from '../helpers/run.js';
import { api } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

const suite = useDaemonWithImages();
const docker = suite.docker;
const ok = suite.ok;

/** The API's stats sample of a container (stream=false: the second sample, with the first as precpu). */
async function statsOf(name: string, query = 'stream=false'): Promise<Record<string, any>> {
  const r = await api(suite.d.socket, 'GET', `/containers/${name}/stats?${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('top: ps -ef rows of the container only, ps options passed on, the same from both CLIs', async (t) => {
  t.after(() => docker('rm', '-f', 'topped', 'stopped-top'));
  // sh runs its last command in its own place: two sleeps remain.
  await ok('run', '-d', '--name', 'topped', 'busybox', 'sh', '-c', 'sleep 301 & sleep 302');
  const topOf = async () => (await api(suite.d.socket, 'GET', '/containers/topped/top')).json as { Titles: string[]; Processes: string[][] };
  await waitFor(async () => (await topOf()).Processes.length === 2, 'both sleeps to run');
  const pids = await topOf();
  assert.deepEqual(pids.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(pids.Processes.map((p) => p[7]).sort(), ['sleep 301', 'sleep 302']);
  for (const cli of CLIS) {
    const out = await cli.run(suite.d.env, 'top', 'topped', '-o', 'pid,args');
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^PID {17}COMMAND$/, cli.name);
    assert.deepEqual(lines.slice(1).map((l) => l.replace(/^\d+ +/, '')).sort(), ['sleep 301', 'sleep 302'], cli.name);
  }
  const bad = await api(suite.d.socket, 'GET', '/containers/topped/top?ps_args=-o%20user%3DPID');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.message, 'specifying "user=PID" is not allowed');
  await ok('create', '--name', 'stopped-top', 'busybox', 'true');
  const id = (await ok('inspect', '-f', '{{.Id}}', 'stopped-top')).trim();
  const stopped = await docker('top', 'stopped-top');
  assert.equal(stopped.code, 1);
  assert.equal(stopped.stderr, `Error response from daemon: container ${id} is not running\n`);
});

test('stats --no-stream: a running container with its limits, a stopped one in zeros; the same table from both CLIs', async (t) => {
  t.after(() => docker('rm', '-f', 'measured', 'idle'));
  await ok('run', '-d', '--name', 'measured', '-m', '64m', '--pids-limit', '20', 'busybox', 'sh', '-c', 'sleep 300 & sleep 301');
  await ok('create', '--name', 'idle', 'busybox', 'true');
  await waitFor(async () => (await statsOf('measured', 'stream=false&one-shot=true')).pids_stats.current === 2, 'both sleeps to run');
  const cells = (line: string) => line.split(/ {2,}/);
  for (const cli of CLIS) {
    const out = await cli.run(suite.d.env, 'stats', '--no-stream', 'measured', 'idle');
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split('\n');
    assert.deepEqual(cells(lines[0]!), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'], cli.name);
    const [id, name, cpu, mem, memPerc, net, block, pids] = cells(lines[1]!);
    assert.match(id!, /^[0-9a-f]{12}$/);
    assert.equal(name, 'measured');
    assert.match(cpu!, /^\d+\.\d\d%$/);
    assert.match(mem!, /^[\d.]+[KM]iB \/ 64MiB$/, cli.name);
    assert.match(memPerc!, /^\d+\.\d\d%$/);
    assert.match(net!, /^\S+ \/ \S+$/);
    assert.match(block!, /^\S+ \/ \S+$/);
    assert.equal(pids, '2');
    assert.deepEqual(cells(lines[2]!).slice(1), ['idle', '0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0'], cli.name);
  }
  const formatted = await ok('stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.Container}}', 'measured');
  assert.equal(formatted, 'measured 2 measured\n');
});

test('stats API: stream=false carries the previous sample, one-shot has none, both together are refused', async (t) => {
  t.after(() => docker('rm', '-f', 'sampled'));
  const id = (await ok('run', '-d', '--name', 'sampled', '-m', '32m', 'busybox', 'sh', '-c', 'while true; do :; done')).trim();
  const s = await statsOf('sampled');
  assert.equal(s.name, '/sampled');
  assert.equal(s.id, id);
  assert.notEqual(s.preread, '0001-01-01T00:00:00Z');
  assert.ok(s.cpu_stats.cpu_usage.total_usage > s.precpu_stats.cpu_usage.total_usage, 'a busy loop used CPU between the samples');
  assert.ok(s.cpu_stats.system_cpu_usage > s.precpu_stats.system_cpu_usage);
  assert.ok(s.cpu_stats.online_cpus >= 1);
  assert.equal(s.memory_stats.limit, 32 * 1024 * 1024);
  assert.ok(s.memory_stats.usage > 0);
  assert.equal(s.pids_stats.current, 1);
  assert.deepEqual(Object.keys(s.networks), ['lo'], 'the private network namespace has only loopback');
  const one = await statsOf('sampled', 'stream=false&one-shot=true');
  assert.equal(one.preread, '0001-01-01T00:00:00Z');
  assert.equal(one.precpu_stats.cpu_usage.total_usage, 0);
  const both = await api(suite.d.socket, 'GET', '/containers/sampled/stats?stream=true&one-shot=true');
  assert.equal(both.status, 400);
  assert.equal(both.json.message, 'cannot have stream=true and one-shot=true');
  assert.equal((await api(suite.d.socket, 'GET', '/containers/nope/stats?stream=false')).status, 404);
});

test('rename: the new name everywhere, an event with the old one; dockerd\'s refusals; the same from both CLIs', async (t) => {
  t.after(() => docker('rm', '-f', 'renamed', 'named-b', 'renamed-again'));
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = (await ok('run', '-d', '--name', 'named-a', 'busybox', 'sleep', '300')).trim();
  await ok('create', '--name', 'named-b', 'busybox', 'true');
  assert.equal(await ok('rename', 'named-a', 'renamed'), '');
  assert.equal(await ok('inspect', '-f', '{{.Name}} {{.State.Status}}', id), '/renamed running\n');
  assert.equal((await api(suite.d.socket, 'GET', '/containers/named-a/json')).status, 404);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const events = await ok('events', '--since', String(since), '--until', until, '--filter', 'event=rename', '--format', '{{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}');
  assert.equal(events, '/named-a renamed\n');
  const bId = (await ok('inspect', '-f', '{{.Id}}', 'named-b')).trim();
  for (const cli of CLIS) {
    const taken = await cli.run(suite.d.env, 'rename', 'renamed', 'named-b');
    assert.equal(taken.code, 1, cli.name);
    assert.equal(
      taken.stderr,
      `Error response from daemon: Error when allocating new name: Conflict. The container name "/named-b" is already in use by container "${bId}". You have to remove (or rename) that container to be able to reuse that name.\nError: failed to rename container named renamed\n`,
      cli.name,
    );
    const same = await cli.run(suite.d.env, 'rename', 'renamed', 'renamed');
    assert.equal(same.stderr, 'Error response from daemon: Renaming a container with the same name as its current name\nError: failed to rename container named renamed\n', cli.name);
    const invalid = await cli.run(suite.d.env, 'rename', 'renamed', 'no/slashes');
    assert.match(invalid.stderr, /^Error response from daemon: Invalid container name \(no\/slashes\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed\n/, cli.name);
  }
  const berthRename = await CLIS[1].run(suite.d.env, 'rename', 'renamed', 'renamed-again');
  assert.equal(berthRename.code, 0, berthRename.stderr);
  assert.equal(await ok('ps', '--filter', `id=${id}`, '--format', '{{.Names}}'), 'renamed-again\n');
  assert.equal((await api(suite.d.socket, 'POST', '/containers/renamed-again/rename?name=')).status, 400);
});

test('update: memory, CPU and pids limits reach a running container; a stopped one gets them at start; what berth cannot change is refused', async (t) => {
  t.after(() => docker('rm', '-f', 'limited', 'later'));
  const id = (await ok('run', '-d', '--name', 'limited', '-m', '64m', 'busybox', 'sleep', '300')).trim();
  for (const cli of CLIS) {
    const out = await cli.run(suite.d.env, 'update', '-m', '48m', '--memory-swap', '96m', '--cpus', '0.5', '--pids-limit', '30', 'limited');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'limited\n', cli.name);
  }
  assert.equal(await ok('inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}', 'limited'), `${48 * 1024 * 1024} 500000000 30\n`);
  const s = await statsOf('limited', 'stream=false&one-shot=true');
  assert.equal(s.memory_stats.limit, 48 * 1024 * 1024, 'the cgroup has the new memory limit');
  assert.equal(s.pids_stats.limit, 30, 'the cgroup has the new pids limit');

  await ok('create', '--name', 'later', 'busybox', 'sleep', '300');
  await ok('update', '-m', '40m', '--memory-swap', '80m', 'later');
  await ok('start', 'later');
  assert.equal((await statsOf('later', 'stream=false&one-shot=true')).memory_stats.limit, 40 * 1024 * 1024);

  for (const cli of CLIS) {
    const blkio = await cli.run(suite.d.env, 'update', '--blkio-weight', '300', 'limited');
    assert.equal(blkio.code, 1, cli.name);
    assert.equal(blkio.stderr, 'Error response from daemon: HostConfig.BlkioWeight (--blkio-weight) cannot be updated by berth\n', cli.name);
    const none = await cli.run(suite.d.env, 'update', 'limited');
    assert.equal(none.code, 1, cli.name);
    assert.match(none.stderr, /you must provide one or more flags when using this command/, cli.name);
  }
  const conflict = await docker('update', '--cpu-period', '50000', 'limited');
  assert.equal(conflict.code, 1);
  assert.equal(conflict.stderr, `Error response from daemon: Cannot update container ${id}: Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set\n`);
  const tooSmall = await api(suite.d.socket, 'POST', '/containers/limited/update', { Memory: 1024 * 1024, MemorySwap: 2 * 1024 * 1024 });
  assert.equal(tooSmall.status, 400);
  assert.equal(tooSmall.json.message, 'Minimum memory limit allowed is 6MB');
});
