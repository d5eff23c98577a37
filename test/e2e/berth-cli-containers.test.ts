// The berth CLI drives containers and images the way the docker CLI does
// (issue 3: "everything works through both the docker CLI and the berth CLI").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { berth as runBerth, docker as runDocker, run, type RunResult } from '../helpers/run.js';
import { buildBusyboxRootfs } from '../helpers/busybox.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let work: string;
const berth = (...args: string[]): Promise<RunResult> => runBerth(d.env, ...args);
const ok = async (...args: string[]): Promise<string> => {
  const r = await berth(...args);
  assert.equal(r.code, 0, `berth ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
};

before(async () => {
  d = await startDaemon();
  work = mkdtempSync(join(tmpdir(), 'berth-cli-c-'));
  const root = buildBusyboxRootfs(join(work, 'rootfs'));
  execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', join(work, 'busybox.tar'), '.']);
});
after(async () => {
  await d.cleanup();
  rmSync(work, { recursive: true, force: true });
});

test('berth import, images, and the README example: write then read a volume', async () => {
  const id = await ok('import', '-c', 'VOLUME /data', '-c', 'CMD ["sh"]', join(work, 'busybox.tar'), 'busybox');
  assert.match(id, /^sha256:[0-9a-f]{64}\n$/);
  assert.match(await ok('images'), /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[0-9a-f]{12}\s/);
  assert.equal(await ok('run', '--rm', '-v', 'vol:/data', 'busybox', 'sh', '-c', 'echo hi > /data/f'), '');
  assert.equal(await ok('run', '--rm', '-v', 'vol:/data', 'busybox', 'cat', '/data/f'), 'hi\n');
  // And the docker CLI sees the same volume.
  assert.equal((await runDocker(d.env, 'run', '--rm', '-v', 'vol:/data', 'busybox', 'cat', '/data/f')).stdout, 'hi\n');
});

test('berth run: stdout/stderr separation, exit codes, stdin', async () => {
  const r = await berth('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  const missing = await berth('run', '--rm', 'busybox', 'no-such-command');
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /^berth: Error response from daemon: .*executable file not found/);
  const { run } = await import('../helpers/run.js');
  const { BERTH } = await import('../helpers/daemon.js');
  const stdin = await run(process.execPath, [BERTH, 'run', '-i', '--rm', 'busybox', 'cat'], { env: d.env, input: 'piped\n' });
  assert.equal(stdin.stdout, 'piped\n');
  const noImage = await berth('run', '--rm', 'nosuchimage', 'true');
  assert.equal(noImage.code, 125);
  assert.match(noImage.stderr, /Unable to find image 'nosuchimage:latest' locally/);
});

test('berth create/start/ps/logs/stop/rm -v with volumes, and volume in use', async () => {
  const id = (await ok('create', '--name', 'cli-c', '-v', 'cli-named:/n', '-v', '/anon', 'busybox', 'sh', '-c', 'echo logged; sleep 300')).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const inUse = await berth('volume', 'rm', 'cli-named');
  assert.equal(inUse.code, 1);
  assert.equal(inUse.stderr, `Error response from daemon: remove cli-named: volume is in use - [${id}]\n`);
  assert.equal(await ok('start', 'cli-c'), 'cli-c\n');
  const ps = await ok('ps', '--format', '{{.Names}} {{.Status}}');
  assert.match(ps, /^cli-c Up /m);
  assert.equal(await ok('ps', '-q', '--filter', 'volume=cli-named'), `${id.slice(0, 12)}\n`);
  for (let i = 0; i < 50 && !(await ok('logs', 'cli-c')).includes('logged'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await ok('logs', 'cli-c'), 'logged\n');
  assert.equal(await ok('exec', 'cli-c', 'sh', '-c', 'echo in-exec > /n/e; cat /n/e'), 'in-exec\n');
  assert.equal(await ok('stop', '-t', '1', 'cli-c'), 'cli-c\n');
  const mounts = JSON.parse(await ok('inspect', 'cli-c'))[0].Mounts as Array<{ Name: string; Destination: string }>;
  const anon = mounts.find((m) => m.Destination === '/anon')!.Name;
  assert.equal(await ok('rm', '-v', 'cli-c'), 'cli-c\n');
  const vols = await ok('volume', 'ls', '-q');
  assert.match(vols, /^cli-named$/m);
  assert.ok(!vols.includes(anon), 'anonymous volume removed by rm -v');
});

test('berth container prune: the prompt, then the report docker prints', async () => {
  const id = (await ok('create', '--name', 'cli-prune', 'busybox', 'true')).trim();
  const declined = await run(process.execPath, ['--', BERTH, 'container', 'prune'], { env: d.env, input: 'n\n' });
  assert.equal(declined.code, 0);
  assert.equal(declined.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
  assert.equal(await ok('ps', '-aq', '--filter', 'name=cli-prune'), `${id.slice(0, 12)}\n`);
  assert.equal(await ok('container', 'prune', '-f', '--filter', 'label=none'), 'Total reclaimed space: 0B\n');
  assert.equal(await ok('container', 'prune', '-f'), `Deleted Containers:\n${id}\n\nTotal reclaimed space: 0B\n`);
  assert.equal(await ok('ps', '-aq', '--filter', 'name=cli-prune'), '');
});

test('berth diff prints what docker diff prints', async () => {
  await ok('run', '--name', 'cli-diff', 'busybox', 'sh', '-c', 'touch /made; rm /bin/vi');
  assert.equal(await ok('diff', 'cli-diff'), 'C /bin\nD /bin/vi\nA /made\n');
  assert.equal(await ok('container', 'diff', 'cli-diff'), (await runDocker(d.env, 'diff', 'cli-diff')).stdout);
  assert.equal(await ok('rm', 'cli-diff'), 'cli-diff\n');
});

test('berth cp into and out of a volume', async () => {
  await ok('run', '-d', '--name', 'cli-cp', '-v', 'cli-cpvol:/v', 'busybox', 'sleep', '300');
  writeFileSync(join(work, 'in.txt'), 'into the volume\n');
  await ok('cp', join(work, 'in.txt'), 'cli-cp:/v/in.txt');
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'cli-cpvol', '_data', 'in.txt'), 'utf8'), 'into the volume\n');
  await ok('cp', 'cli-cp:/v/in.txt', join(work, 'out.txt'));
  assert.equal(readFileSync(join(work, 'out.txt'), 'utf8'), 'into the volume\n');
  assert.ok(statSync(join(work, 'out.txt')).isFile());
  await ok('rm', '-f', 'cli-cp');
});

test('berth rmi and image inspect', async () => {
  await ok('tag', 'busybox', 'other:1').catch(() => undefined);
  const inspect = JSON.parse(await ok('image', 'inspect', 'busybox'))[0];
  assert.deepEqual(inspect.Config.Volumes, { '/data': {} });
  const r = await berth('rmi', 'busybox');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Untagged: busybox:latest/);
});
