// Container lifecycle through the docker CLI against berthd on runc: process
// settings, networking modes, stop/kill/restart/wait, ps filters, logs, events,
// and an exec client that reads its response late.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { DOCKER, docker as runDocker, run, type RunResult, dockerOk } from '../helpers/run.js';
import { buildBusyboxRootfs } from '../helpers/busybox.js';
import { importTestImages } from '../helpers/images.js';
import { api } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

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

test('process settings: -e, -w, -u, --entrypoint, --name, hostname', async (t) => {
  t.after(() => docker('rm', '-f', 'named-one'));
  assert.equal(await ok('run', '--rm', '-e', 'A=1', '-e', 'B', '-w', '/tmp/work', '-u', '1000:1000', 'busybox', 'sh', '-c', 'echo $A-$B; pwd; id -u; id -g'), '1-\n/tmp/work\n1000\n1000\n');
  assert.equal(await ok('run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint'), 'via entrypoint\n');
  const id = (await ok('run', '-d', '--name', 'named-one', 'busybox', 'hostname')).trim();
  assert.equal((await ok('wait', 'named-one')).trim(), '0');
  assert.equal(await ok('logs', 'named-one'), `${id.slice(0, 12)}\n`);
  const dup = await docker('create', '--name', 'named-one', 'busybox', 'true');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /Conflict\. The container name "\/named-one" is already in use by container/);
  const unknownUser = await docker('run', '--rm', '-u', 'nobody-here', 'busybox', 'true');
  assert.notEqual(unknownUser.code, 0);
  assert.match(unknownUser.stderr, /unable to find user nobody-here/);
});

test('networking: the default bridge gives eth0 and loopback, none loopback only; host shares the host network', async () => {
  const def = await ok('run', '--rm', 'busybox', 'sh', '-c', 'ls /sys/class/net');
  assert.equal(def, 'eth0\nlo\n');
  assert.equal(await ok('run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net'), 'lo\n');
  const host = await ok('run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net');
  assert.ok(host.split('\n').filter(Boolean).length >= 1);
  assert.equal(await ok('run', '--rm', 'busybox', 'sh', '-c', 'cat /sys/class/net/lo/operstate; ping -c1 -W1 127.0.0.1 >/dev/null && echo pong'), 'unknown\npong\n');
});

test('stop sends SIGTERM then SIGKILL; kill and restart; wait conditions', async (t) => {
  t.after(() => docker('rm', '-f', 'stopper', 'trapper'));
  await ok('run', '-d', '--name', 'stopper', 'busybox', 'sleep', '300');
  await ok('stop', '-t', '1', 'stopper');
  assert.equal(await ok('inspect', '-f', '{{.State.ExitCode}}', 'stopper'), '137\n', 'sleep as pid 1 ignores SIGTERM');
  await ok('run', '-d', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done');
  await ok('stop', 'trapper');
  assert.equal(await ok('inspect', '-f', '{{.State.ExitCode}}', 'trapper'), '42\n');
  await ok('restart', 'trapper');
  assert.equal(await ok('inspect', '-f', '{{.State.Running}}', 'trapper'), 'true\n');
  await ok('kill', '-s', 'KILL', 'trapper');
  assert.equal((await ok('wait', 'trapper')).trim(), '137');
  const notRunning = await docker('kill', 'trapper');
  assert.equal(notRunning.code, 1);
  assert.match(notRunning.stderr, /is not running/);
  const running = await docker('rm', 'stopper');
  assert.equal(running.code, 0);
});

test('ps filters and formats; logs -f follows until exit; events record the lifecycle', async (t) => {
  t.after(() => docker('rm', '-f', 'ps-a', 'ps-b', 'follow'));
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok('run', '-d', '--name', 'ps-a', '-l', 'tier=web', '-v', 'psvol:/v', 'busybox:secret', 'sleep', '300');
  await ok('create', '--name', 'ps-b', 'busybox', 'true');
  assert.equal(await ok('ps', '--format', '{{.Names}}'), 'ps-a\n');
  assert.equal(await ok('ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}'), 'ps-b\n');
  assert.equal(await ok('ps', '-a', '--filter', 'label=tier=web', '--format', '{{.Names}} {{.Label "tier"}}'), 'ps-a web\n');
  assert.equal(await ok('ps', '-a', '--filter', 'volume=psvol', '--format', '{{.Names}} {{.Mounts}}'), 'ps-a psvol\n');
  const table = await ok('ps');
  assert.match(table, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[0-9a-f]{12}\s+busybox:secret\s+"sleep 300"\s+.*Up .*ps-a\n$/);
  await ok('run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.2; done; echo bye >&2');
  const followed = await docker('logs', '-f', 'follow');
  assert.equal(followed.stdout, 'line1\nline2\nline3\n');
  assert.equal(followed.stderr, 'bye\n');
  const tail = await docker('logs', '--tail', '2', 'follow');
  assert.equal(tail.stdout, 'line3\n', 'tail counts entries of both streams');
  assert.equal(tail.stderr, 'bye\n');
  const until = Math.floor(Date.now() / 1000) + 1;
  const events = await ok('events', '--since', String(since), '--until', String(until), '--filter', 'container=ps-a', '--format', '{{.Type}} {{.Action}}');
  assert.match(events, /container create\n(.*\n)*container start\n/);
  const vevents = await ok('events', '--since', String(since), '--until', String(until), '--filter', 'type=volume', '--filter', 'volume=psvol', '--format', '{{.Action}}');
  assert.match(vevents, /^create\nmount\n/);
});

test('run -it gives the container a terminal (through a pseudo-terminal for the CLI)', async () => {
  const { run, DOCKER } = await import('../helpers/run.js');
  // `script` gives the docker CLI a real terminal, as a user's shell would.
  // (Not `stty size`: under runc 1.1.5 a TIOCGWINSZ right at start sometimes fails with ECHILD.)
  const r = await run('script', ['-qec', `${DOCKER} run --rm -it busybox sh -c 'tty; exit 5'`, '/dev/null'], { env: d.env });
  assert.equal(r.code, 5, r.stdout + r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+\r?\n/);
});

test('exec start: no output shares a read with the 101 head, so a client that takes the raw socket under its buffered reader (docker-py) loses nothing', async (t) => {
  t.after(() => docker('rm', '-f', 'slow-reader'));
  await ok('run', '-d', '--name', 'slow-reader', 'busybox', 'sleep', '100000');
  const created = await api(d.socket, 'POST', '/containers/slow-reader/exec', { Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true });
  assert.equal(created.status, 201);
  const id = created.json.Id as string;

  // A client that sends the start and reads nothing until the command has finished.
  const conn = createConnection(d.socket);
  conn.pause();
  t.after(() => conn.destroy());
  const body = JSON.stringify({ Detach: false, Tty: false });
  conn.write(`POST /exec/${id}/start HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  await waitFor(async () => {
    const inspect = (await api(d.socket, 'GET', `/exec/${id}/json`)).json;
    return inspect.Running === false && inspect.ExitCode !== null;
  }, 'the exec to finish');

  const chunks: Buffer[] = [];
  conn.on('data', (c: Buffer) => chunks.push(c));
  conn.resume();
  await once(conn, 'end');
  const first = chunks[0]!.toString('latin1');
  assert.match(first, /^HTTP\/1\.1 101 UPGRADED\r\n/);
  assert.ok(first.endsWith('\r\n\r\n'), `the first read holds the head only: ${JSON.stringify(first)}`);
  assert.deepEqual(Buffer.concat(chunks.slice(1)), Buffer.from('\x01\0\0\0\0\0\0\x03hi\n', 'latin1'));
  assert.equal((await api(d.socket, 'GET', `/exec/${id}/json`)).json.ExitCode, 0);
});

test('container prune removes the containers not running, as rm without -v; label, label! and until filters; the prune event; system prune goes through it', async (t) => {
  const names = ['pr-exited', 'pr-created', 'pr-kept', 'pr-running', 'pr-paused'];
  t.after(() => docker('rm', '-f', ...names));
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok('run', '--name', 'pr-exited', '-v', '/anon', 'busybox:secret', 'sh', '-c', 'head -c 1048576 /dev/zero > /big');
  const anon = (await ok('inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', 'pr-exited')).trim();
  t.after(() => docker('volume', 'rm', anon));
  const id = async (name: string): Promise<string> => (await ok('inspect', '-f', '{{.Id}}', name)).trim();
  const exited = await id('pr-exited');
  // busybox:secret has no VOLUME: the only anonymous volume is /anon.
  const created = (await ok('create', '--name', 'pr-created', 'busybox:secret', 'true')).trim();
  const kept = (await ok('create', '--name', 'pr-kept', '--label', 'keep=1', 'busybox:secret', 'true')).trim();
  await ok('run', '-d', '--name', 'pr-running', 'busybox', 'sleep', '100000');
  await ok('run', '-d', '--name', 'pr-paused', 'busybox', 'sleep', '100000');
  await ok('pause', 'pr-paused');

  assert.equal(await ok('container', 'prune', '-f', '--filter', 'until=1h'), 'Total reclaimed space: 0B\n', 'all were created within the hour');
  const byNotLabel = await ok('container', 'prune', '-f', '--filter', 'label!=keep');
  const [head, ...rest] = byNotLabel.split('\n');
  assert.equal(head, 'Deleted Containers:');
  assert.deepEqual(rest.slice(0, 2).sort(), [exited, created].sort());
  // The exited one's writable layer held the 1 MiB file.
  assert.deepEqual(rest.slice(2), ['', 'Total reclaimed space: 1.049MB', '']);
  assert.equal(await ok('container', 'prune', '-f', '--filter', 'label=keep=1'), `Deleted Containers:\n${kept}\n\nTotal reclaimed space: 0B\n`);
  assert.equal(await ok('ps', '-a', '--filter', 'name=pr-', '--format', '{{.Names}}'), 'pr-paused\npr-running\n');
  assert.equal(await ok('volume', 'inspect', '-f', '{{.Name}}', anon), `${anon}\n`, 'anonymous volumes stay, as with rm without -v');

  const bad = await docker('container', 'prune', '-f', '--filter', 'until=soon');
  assert.equal(bad.stderr, 'Error response from daemon: failed to parse value as time or duration: "soon"\n');
  assert.match((await docker('container', 'prune', '-f', '--filter', 'status=exited')).stderr, /invalid filter 'status'/);

  // docker system prune: containers, networks, dangling images and build cache, each by its own endpoint.
  await ok('create', '--name', 'pr-created', 'busybox:secret', 'true');
  const created2 = await id('pr-created');
  const system = await ok('system', 'prune', '-f');
  assert.match(system, new RegExp(`^Deleted Containers:\\n${created2}\\n\\n`));
  assert.match(system, /Total reclaimed space: /);
  assert.equal((await docker('inspect', 'pr-created')).code, 1);
  assert.equal(await ok('ps', '-a', '--filter', 'name=pr-', '--format', '{{.Names}}'), 'pr-paused\npr-running\n');

  const events = await ok('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=prune', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.reclaimed}}');
  // until=1h, label!=keep, label=keep=1, then system prune's four; refused filters prune nothing and say nothing.
  assert.equal(events, 'container prune 0\ncontainer prune 1048576\ncontainer prune 0\ncontainer prune 0\nnetwork prune 0\nimage prune 0\nbuilder prune 0\n');
});

test("docker diff: added, changed and deleted paths of the writable layer as dockerd lists them, parents first; mountpoints count, the runtime's placeholders do not", async (t) => {
  t.after(() => docker('rm', '-f', '-v', 'diff-made', 'diff-none', 'diff-opaque'));
  await ok('run', '--name', 'diff-made', '-v', '/anon', '--tmpfs', '/scratch', 'busybox:secret', 'sh', '-c', 'echo x > /newfile; echo y >> /etc/app; rm /bin/vi; mkdir -p /a/b; touch /a/b/f');
  const lines = (await ok('diff', 'diff-made')).trim().split('\n');
  // dockerd 20.10 printed the same set here (its own order varies from run to run).
  assert.deepEqual([...lines].sort(), ['A /a', 'A /a/b', 'A /a/b/f', 'A /anon', 'A /newfile', 'A /scratch', 'C /bin', 'C /etc', 'C /etc/app', 'D /bin/vi']);
  for (const [i, line] of lines.entries()) {
    const path = line.slice(2);
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (parent !== '') assert.ok(lines.slice(0, i).some((l) => l.slice(2) === parent), `${parent} is listed before ${path}`);
  }
  const raw = await api(d.socket, 'GET', '/containers/diff-made/changes');
  assert.deepEqual(raw.json.find((c: { Path: string }) => c.Path === '/bin/vi'), { Path: '/bin/vi', Kind: 2 });

  await ok('create', '--name', 'diff-none', 'busybox:secret', 'true');
  assert.equal(await ok('diff', 'diff-none'), '');
  assert.equal((await api(d.socket, 'GET', '/containers/diff-none/changes')).text, 'null\n');

  // A directory removed and made again is opaque: everything the image had in it is deleted.
  await ok('run', '--name', 'diff-opaque', 'busybox:secret', 'sh', '-c', 'rm -rf /secret; mkdir /secret; touch /secret/new');
  assert.deepEqual((await ok('diff', 'diff-opaque')).trim().split('\n').sort(), ['A /secret/new', 'C /secret', 'D /secret/key']);
  const missing = await docker('diff', 'no-such-container');
  assert.equal(missing.stderr, 'Error response from daemon: No such container: no-such-container\n');
});

test("moby's init-layer entries: /.dockerenv and /etc/mtab -> /proc/mounts, an image's own /etc/mtab kept, an image's /etc symlink not followed out of the rootfs; left out of diff and commit", async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'berth-init-'));
  const outside = join(work, 'host-etc');
  mkdirSync(outside);
  t.after(async () => {
    await docker('rm', '-f', 'init-entries');
    await docker('rmi', 'init:etc-link', 'init:own-mtab', 'init:committed');
    rmSync(work, { recursive: true, force: true });
  });
  assert.equal(await ok('run', '--rm', 'busybox', 'sh', '-c', 'stat -c "%s %a %U" /.dockerenv; readlink /etc/mtab'), '0 755 root\n/proc/mounts\n');

  // An image whose /etc is a symlink to an absolute path (a directory of this host): resolved inside the rootfs, never on the host.
  const linked = buildBusyboxRootfs(join(work, 'linked'));
  rmSync(join(linked, 'etc'), { recursive: true });
  symlinkSync(outside, join(linked, 'etc'));
  execFileSync('tar', ['-C', linked, '--numeric-owner', '-cf', join(work, 'linked.tar'), '.']);
  await ok('import', join(work, 'linked.tar'), 'init:etc-link');
  assert.equal(await ok('run', '--rm', 'init:etc-link', 'test', '-f', '/.dockerenv'), '');
  assert.deepEqual(readdirSync(outside), [], 'nothing was made in the host directory the symlink names');

  // An image with its own /etc/mtab keeps it.
  const own = buildBusyboxRootfs(join(work, 'own'));
  symlinkSync('../proc/self/mounts', join(own, 'etc', 'mtab'));
  execFileSync('tar', ['-C', own, '--numeric-owner', '-cf', join(work, 'own.tar'), '.']);
  await ok('import', join(work, 'own.tar'), 'init:own-mtab');
  assert.equal(await ok('run', '--rm', 'init:own-mtab', 'readlink', '/etc/mtab'), '../proc/self/mounts\n');

  await ok('run', '--name', 'init-entries', 'busybox:secret', 'true');
  assert.equal(await ok('diff', 'init-entries'), '');
  await ok('commit', 'init-entries', 'init:committed');
  assert.equal(await ok('run', '--rm', '--entrypoint', 'sh', 'init:committed', '-c', 'readlink /etc/mtab'), '/proc/mounts\n');
  const layers = (await ok('image', 'inspect', '-f', '{{len .RootFS.Layers}}', 'init:committed')).trim();
  assert.equal(layers, (await ok('image', 'inspect', '-f', '{{len .RootFS.Layers}}', 'busybox:secret')).trim(), 'no layer for the placeholders alone');
});

test('docker export: the container root filesystem as dockerd tars it (bare names, no root member), volumes left out; -o writes a file', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'berth-export-'));
  t.after(async () => {
    await docker('rm', '-f', '-v', 'exported');
    rmSync(work, { recursive: true, force: true });
  });
  await ok('run', '--name', 'exported', '-v', '/anon', 'busybox:secret', 'sh', '-c', 'echo in-volume > /anon/x; echo made > /made; rm /etc/app');
  const file = join(work, 'out.tar');
  assert.equal(await ok('export', '-o', file, 'exported'), '');
  const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
  assert.ok(names.includes('made') && names.includes('bin/busybox') && names.includes('secret/key') && names.includes('.dockerenv') && names.includes('etc/mtab'), names.slice(0, 20).join(' '));
  assert.ok(names.includes('anon/'), 'the mountpoint is there');
  assert.ok(!names.includes('anon/x') && !names.includes('etc/app'), 'the volume content and a deleted file are not');
  assert.ok(!names.some((n) => n === './' || n.startsWith('./') || n.startsWith('/')), 'bare names');
  assert.equal(execFileSync('tar', ['-xOf', file, 'made'], { encoding: 'utf8' }), 'made\n');
  assert.equal(execFileSync('tar', ['-tvf', file, 'secret/key'], { encoding: 'utf8' }).slice(0, 10), '-rw-r--r--');
  // To stdout (not a terminal here) it is the same archive.
  const piped = await run(DOCKER, ['export', 'exported'], { env: d.env });
  assert.equal(piped.code, 0);
  const bad = await docker('export', '-o', join(work, 'no', 'such', 'dir', 'x.tar'), 'exported');
  assert.equal(bad.stderr, `failed to export container: invalid output path: stat ${join(work, 'no', 'such', 'dir')}: no such file or directory\n`);
  // The berth CLI says what the docker CLI says.
  const berthBad = await run(process.execPath, ['--', BERTH, 'export', '-o', join(work, 'no', 'such', 'dir', 'x.tar'), 'exported'], { env: d.env });
  assert.equal(berthBad.stderr, bad.stderr);
  const viaBerth = await run(process.execPath, ['--', BERTH, 'export', '-o', join(work, 'berth.tar'), 'exported'], { env: d.env });
  assert.equal(viaBerth.code, 0, viaBerth.stderr);
  assert.deepEqual(execFileSync('tar', ['-tf', join(work, 'berth.tar')], { encoding: 'utf8' }).trim().split('\n'), names);
  assert.equal((await docker('export', 'no-such-container')).stderr, 'Error response from daemon: No such container: no-such-container\n');
});

test('sizes: ps -s, inspect --size and system df count the writable layer as dockerd (files and symlinks, not the placeholders) and the image with it', async (t) => {
  t.after(() => docker('rm', '-f', 'sized', 'unsized'));
  await ok('run', '--name', 'sized', 'busybox:secret', 'sh', '-c', 'head -c 1000 /dev/zero > /f; mkdir /d; ln -s /f /d/l');
  await ok('create', '--name', 'unsized', 'busybox:secret', 'true');
  const image = Number((await ok('image', 'inspect', '-f', '{{.Size}}', 'busybox:secret')).trim());
  // 1000 bytes of file and a 2-byte symlink, as dockerd 20.10 counted the same run.
  assert.equal(await ok('inspect', '--size', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'sized'), `1002 ${image + 1002}\n`);
  assert.equal(await ok('inspect', '-f', '{{.SizeRw}}', 'sized'), '<nil>\n', 'only with --size');
  assert.equal(await ok('inspect', '--size', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'unsized'), `0 ${image}\n`);
  assert.match(await ok('ps', '-a', '-s', '--filter', 'name=^sized$', '--format', '{{.Names}} {{.Size}}'), /^sized 1kB \(virtual \S+\)\n$/);
  const df = await ok('system', 'df', '-v', '--format', '{{range .Containers}}{{.Names}}={{.Size}} {{end}}');
  assert.match(df, /\bsized=1kB\b/);
});
