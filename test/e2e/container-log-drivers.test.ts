// Logging drivers and their options through the docker CLI, on conmon:
// json-file's max-size/max-file/compress rotate the log into generations
// that `docker logs` reads back in order (also while following), max-file 1
// keeps one file, none keeps nothing, and bad drivers or values get
// dockerd's errors at create or start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, BERTH, type TestDaemon } from '../helpers/daemon.js';
import { docker as runDocker, run, type RunResult, dockerOk } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
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

/** The container's log files: the one being written and its rotated generations. */
async function logFiles(name: string): Promise<string[]> {
  const id = (await ok('inspect', '-f', '{{.Id}}', name)).trim();
  const dir = join(d.dataRoot, 'containers', id);
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${id}.log`))
    .map((f) => f.slice(id.length))
    .sort();
}

const numbered = (from: number, to: number): string =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i} ${'x'.repeat(40)}\n`).join('');

/** A shell loop printing `line N xxx...` for N in 1..count, `pause` seconds apart (0: at once). */
const printer = (count: number, pause = '0') => ['sh', '-c', `i=1; while [ $i -le ${count} ]; do echo "line $i ${'x'.repeat(40)}"; i=$((i+1)); [ ${pause} = 0 ] || sleep ${pause}; done`];

test('json-file max-size and max-file: rotated generations, read back in order; inspect shows the options', async (t) => {
  t.after(() => docker('rm', '-f', 'rot'));
  // Paced output: the log passes 1 kB many times, and berthd rotates each time.
  await ok('run', '-d', '--name', 'rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=100', 'busybox', ...printer(120, '0.01'));
  assert.equal((await ok('wait', 'rot')).trim(), '0');
  assert.equal(await ok('logs', 'rot'), numbered(1, 120), 'nothing lost, nothing twice, in order');
  assert.equal(await ok('logs', '--tail', '3', 'rot'), numbered(118, 120));
  const files = await logFiles('rot');
  assert.ok(files.includes('.log.1'), `rotated generations: ${files.join(' ')}`);
  assert.equal(await ok('inspect', '-f', '{{json .HostConfig.LogConfig}}', 'rot'), '{"Type":"json-file","Config":{"max-file":"100","max-size":"1k"}}\n');
});

test('max-file 3 keeps three files: the oldest generations go', async (t) => {
  t.after(() => docker('rm', '-f', 'three'));
  await ok('run', '-d', '--name', 'three', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', ...printer(150, '0.01'));
  assert.equal((await ok('wait', 'three')).trim(), '0');
  const files = await logFiles('three');
  assert.ok(files.every((f) => ['.log', '.log.1', '.log.2'].includes(f)), files.join(' '));
  const lines = (await ok('logs', 'three')).split('\n').filter(Boolean);
  assert.ok(lines.length < 150, 'the oldest lines are gone');
  // What is left is the end of the output, contiguous.
  const first = Number(/^line (\d+)/.exec(lines[0]!)![1]);
  assert.equal(lines.join('\n') + '\n', numbered(first, 150));
});

test('max-file 1 keeps one file no bigger than max-size; compress gzips generations, which logs reads', async (t) => {
  t.after(() => docker('rm', '-f', 'one', 'gz'));
  await ok('run', '--name', 'one', '--log-opt', 'max-size=1k', 'busybox', ...printer(200));
  assert.deepEqual(await logFiles('one'), ['.log']);
  const id = (await ok('inspect', '-f', '{{.Id}}', 'one')).trim();
  assert.ok(statSync(join(d.dataRoot, 'containers', id, `${id}.log`)).size <= 1000);
  const kept = (await ok('logs', 'one')).split('\n').filter(Boolean);
  assert.ok(kept.length > 0 && kept.length < 200);
  assert.match(kept.at(-1)!, /^line 200 /);

  await ok('run', '-d', '--name', 'gz', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=50', '--log-opt', 'compress=true', 'busybox', ...printer(100, '0.01'));
  assert.equal((await ok('wait', 'gz')).trim(), '0');
  assert.ok((await logFiles('gz')).some((f) => /^\.log\.\d+\.gz$/.test(f)));
  assert.equal(await ok('logs', 'gz'), numbered(1, 100));
});

test('logs -f follows a container across rotations', async (t) => {
  t.after(() => docker('rm', '-f', 'follow-rot'));
  await ok('create', '--name', 'follow-rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=100', 'busybox', ...printer(150, '0.01'));
  await ok('start', 'follow-rot');
  const followed = await docker('logs', '-f', 'follow-rot');
  assert.equal(followed.code, 0);
  assert.equal(followed.stdout, numbered(1, 150));
});

test('a berthd restart takes rotation over for the containers still running', async (t) => {
  t.after(() => docker('rm', '-f', 'rot-restart'));
  await ok('run', '-d', '--name', 'rot-restart', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=1000', 'busybox', ...printer(1000, '0.01'));
  const generations = async () => (await logFiles('rot-restart')).filter((f) => f !== '.log').length;
  await waitFor(async () => (await generations()) > 0, 'a first rotation');
  await d.restart();
  const before = await generations();
  await waitFor(async () => (await generations()) > before, 'a rotation by the restarted berthd');
  assert.equal((await ok('wait', 'rot-restart')).trim(), '0');
  assert.equal(await ok('logs', 'rot-restart'), numbered(1, 1000));
});

test('the none driver keeps nothing: docker logs refuses, the attached run still prints', async (t) => {
  t.after(() => docker('rm', '-f', 'quiet'));
  assert.equal(await ok('run', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'echo', 'attached'), 'attached\n');
  const logs = await docker('logs', 'quiet');
  assert.equal(logs.code, 1);
  assert.match(logs.stderr, /Error response from daemon: configured logging driver does not support reading/);
  assert.deepEqual(await logFiles('quiet'), []);
  // dockerd names a log file for json-file only.
  assert.equal(await ok('inspect', '-f', '{{.LogPath}}', 'quiet'), '\n');
  // An attach asking for the logs too (docker-compose's) gets the live output: there is no log to replay.
  t.after(() => docker('rm', '-f', 'quiet-live'));
  await ok('run', '-d', '--name', 'quiet-live', '--log-driver', 'none', 'busybox', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.05; done; echo live-output');
  const attached = api(d.socket, 'POST', '/containers/quiet-live/attach?logs=1&stream=1&stdout=1&stderr=1');
  await ok('exec', 'quiet-live', 'touch', '/tmp/go');
  const live = await attached;
  assert.equal(live.status, 200);
  assert.match(live.text, /live-output/);
});

test("bad drivers and options: dockerd's errors at create, bad values at start", async (t) => {
  t.after(() => docker('rm', '-f', 'bad-size'));
  const unknown = await docker('create', '--log-driver', 'nope', 'busybox', 'true');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /error looking up logging plugin nope: plugin "nope" not found/);
  const opt = await docker('create', '--log-opt', 'colour=red', 'busybox', 'true');
  assert.match(opt.stderr, /unknown log opt 'colour' for json-file log driver/);
  const local = await docker('create', '--log-driver', 'local', '--log-opt', 'tag=x', 'busybox', 'true');
  assert.match(local.stderr, /unknown log opt 'tag' for log driver local/);
  const syslog = await docker('create', '--log-driver', 'syslog', 'busybox', 'true');
  assert.match(syslog.stderr, /logging driver "syslog" is not supported by berth/);
  const noneOpts = await docker('create', '--log-driver', 'none', '--log-opt', 'max-size=1k', 'busybox', 'true');
  assert.equal(noneOpts.code, 125);
  assert.match(noneOpts.stderr, /invalid logging opts for driver none/);

  await ok('create', '--name', 'bad-size', '--log-opt', 'max-size=lots', 'busybox', 'true');
  const start = await docker('start', 'bad-size');
  assert.equal(start.code, 1);
  assert.match(start.stderr, /failed to initialize logging driver: invalid size: 'lots'/);
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', 'bad-size'), 'created\n', 'nothing ran');
  for (const [opts, message] of [
    [['max-size=0'], /max-size must be a positive number/],
    [['max-size=1k', 'max-file=0'], /max-file cannot be less than 1/],
    [['max-size=1k', 'compress=true'], /compress cannot be true when max-file is less than 2/],
  ] as const) {
    const r = await docker('run', '--rm', ...opts.flatMap((o) => ['--log-opt', o]), 'busybox', 'true');
    assert.match(r.stderr, message);
  }
});

test('berth run takes --log-driver and --log-opt as docker does', async (t) => {
  t.after(() => docker('rm', '-f', 'berth-logs'));
  const r = await run(process.execPath, [BERTH, 'run', '--name', 'berth-logs', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', 'busybox', 'echo', 'hi'], { env: d.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(await ok('inspect', '-f', '{{json .HostConfig.LogConfig}}', 'berth-logs'), '{"Type":"json-file","Config":{"max-file":"2","max-size":"1k"}}\n');
  const none = await run(process.execPath, [BERTH, 'create', '--log-driver', 'none', '--log-opt', 'a=b', 'busybox', 'true'], { env: d.env });
  assert.equal(none.code, 125);
  assert.match(none.stderr, /invalid logging opts for driver none/);
});


test('logs --details: json-file attributes (labels, env, their regexps, tag) before each line, sorted and query-escaped; a lone space without any', async (t) => {
  t.after(() => docker('rm', '-f', 'details', 'plain'));
  await ok('run', '--name', 'details', '--label', 'app=web', '--label', 'other=x', '-e', 'FOO=bar', '-e', 'BAZ=q r',
    '--log-opt', 'labels=app,missing', '--log-opt', 'env=FOO', '--log-opt', 'env-regex=^BA', '--log-opt', 'tag={{.Name}}/{{.ImageName}}/{{.ID}}',
    'busybox', 'sh', '-c', 'echo out; echo err >&2');
  const id = (await ok('inspect', '-f', '{{.Id}}', 'details')).trim();
  const attrs = `BAZ=q+r,FOO=bar,app=web,tag=details%2Fbusybox%2F${id.slice(0, 12)}`;
  const r = await docker('logs', '--details', 'details');
  assert.equal(r.stdout, `${attrs} out\n`);
  assert.equal(r.stderr, `${attrs} err\n`);
  // The time comes first, as dockerd prints it.
  assert.match((await docker('logs', '--details', '-t', 'details')).stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${attrs.replace(/[+]/g, '\\+')} out\\n$`));
  assert.equal((await docker('logs', 'details')).stdout, 'out\n', 'without --details, the lines alone');
  await ok('run', '--name', 'plain', 'busybox', 'echo', 'plain');
  assert.equal((await docker('logs', '--details', 'plain')).stdout, ' plain\n');
  // Bad regexps and tag templates fail the start, as dockerd's logger does.
  for (const [opt, message] of [
    ['labels-regex=(', /failed to initialize logging driver: error parsing regexp: .*`\(`/],
    ['tag={{.Nope', /failed to initialize logging driver: template: log-tag:1: unclosed action/],
    ['tag={{.Nope}}', /failed to initialize logging driver: template: log-tag:1:2: executing "log-tag" at <\.Nope>: can't evaluate field Nope in type \*logger\.Info/],
  ] as const) {
    const bad = await docker('run', '--rm', '--log-opt', opt, 'busybox', 'true');
    assert.equal(bad.code, 125, opt);
    assert.match(bad.stderr, message);
  }
});
