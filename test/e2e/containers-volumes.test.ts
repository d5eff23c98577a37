// Containers that use volumes, driven by the real docker CLI against berthd
// and real runc (spec sections 5, 6, 8; edge cases 13, 14, 17, 40–71, 79).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { docker as runDocker, type RunResult, dockerOk } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { readMountInfo } from '../../src/util/mount.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let hostDir: string;
const docker = (...args: string[]): Promise<RunResult> => runDocker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
  hostDir = mkdtempSync(join(tmpdir(), 'berth-host-'));
});

after(async () => {
  await d.cleanup();
  rmSync(hostDir, { recursive: true, force: true });
  const left = readMountInfo().filter((m) => m.mountPoint.startsWith(d.dir) || m.mountPoint.startsWith(hostDir));
  assert.deepEqual(left.map((m) => m.mountPoint), [], 'mounts left behind');
});

async function rmContainers(...names: string[]): Promise<void> {
  if (names.length > 0) await docker('rm', '-f', ...names);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Waits until `cond` holds, checking every 50 ms; fails after `timeoutMs`. */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !cond(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

test('Config.Volumes is null when every -v is a named volume or a bind, as on Docker', async (t) => {
  t.after(() => rmContainers('cfgvol-c'));
  await ok('create', '--name', 'cfgvol-c', '-v', 'cfgvol:/n', '-v', `${hostDir}:/b`, 'busybox:secret', 'true');
  assert.equal(await ok('inspect', '--format', '{{json .Config.Volumes}}', 'cfgvol-c'), 'null\n');
});

test('run --rm -v vol:/data writes, a second run reads it (spec 8)', async () => {
  const a = await docker('run', '--rm', '-v', 'runvol:/data', 'busybox', 'sh', '-c', 'echo hi > /data/f; echo err >&2');
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stderr, 'err\n');
  assert.equal(await ok('run', '--rm', '-v', 'runvol:/data', 'busybox', 'cat', '/data/f'), 'hi\n');
  assert.equal((await docker('ps', '-aq')).stdout, '', '--rm removed both containers');
});

test('exit codes: status propagated, 127 for a missing command', async () => {
  assert.equal((await docker('run', '--rm', 'busybox', 'sh', '-c', 'exit 3')).code, 3);
  const missing = await docker('run', '--rm', 'busybox', 'no-such-command');
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /executable file not found/);
});

test('two containers share a volume; data outlives both and a daemon restart', async (t) => {
  t.after(() => rmContainers('share-a', 'share-b'));
  await ok('run', '-d', '--name', 'share-a', '-v', 'shared:/s', 'busybox', 'sleep', '300');
  await ok('run', '-d', '--name', 'share-b', '-v', 'shared:/s', 'busybox', 'sleep', '300');
  await ok('exec', 'share-a', 'sh', '-c', 'echo from-a > /s/a');
  assert.equal(await ok('exec', 'share-b', 'cat', '/s/a'), 'from-a\n');
  await ok('rm', '-f', 'share-a', 'share-b');
  await d.restart();
  assert.equal(await ok('run', '--rm', '-v', 'shared:/s', 'busybox', 'cat', '/s/a'), 'from-a\n');
});

test('bind mounts are visible from the host both ways; missing -v source is created at start (edge 48)', async (t) => {
  t.after(() => rmContainers('bind-c'));
  writeFileSync(join(hostDir, 'from-host'), 'host\n');
  assert.equal(await ok('run', '--rm', '-v', `${hostDir}:/h`, 'busybox', 'cat', '/h/from-host'), 'host\n');
  await ok('run', '--rm', '-v', `${hostDir}:/h`, 'busybox', 'sh', '-c', 'echo ctr > /h/from-ctr');
  assert.equal(readFileSync(join(hostDir, 'from-ctr'), 'utf8'), 'ctr\n');
  const created = join(hostDir, 'made', 'by', 'start');
  await ok('create', '--name', 'bind-c', '-v', `${created}:/x`, 'busybox', 'true');
  assert.equal(existsSync(created), false, 'not created by create');
  await ok('start', '-a', 'bind-c');
  assert.ok(statSync(created).isDirectory());
  assert.equal(statSync(created).mode & 0o777, 0o755);
  const missing = await docker('run', '--rm', '--mount', `type=bind,src=${join(hostDir, 'nope')},dst=/x`, 'busybox', 'true');
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /invalid mount config for type "bind": bind source path does not exist: .*\/nope/);
});

test('tmpfs contents are gone after the container exits and nothing stays mounted', async () => {
  // Only this daemon's mounts: other test files run in parallel.
  const ours = () => readMountInfo().filter((m) => m.mountPoint.startsWith(d.dir)).length;
  const before = ours();
  assert.equal(await ok('run', '--rm', '--tmpfs', '/t:size=64k', 'busybox', 'sh', '-c', 'echo x > /t/f; cat /t/f; grep " /t " /proc/mounts'), 'x\ntmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=64k 0 0\n');
  assert.equal(await ok('run', '--rm', '--mount', 'type=tmpfs,dst=/t,tmpfs-mode=0700', 'busybox', 'sh', '-c', 'ls -A /t; stat -c %a /t'), '700\n');
  const exec = await ok('run', '--rm', '--tmpfs', '/x:exec,size=64k', 'busybox', 'sh', '-c', 'grep " /x " /proc/mounts');
  assert.match(exec, /tmpfs \/x tmpfs rw,nosuid,nodev,relatime,size=64k/);
  assert.equal(ours(), before);
});

test('read-only mounts refuse writes', async () => {
  await ok('volume', 'create', 'rovol');
  const ro = await docker('run', '--rm', '-v', 'rovol:/r:ro', 'busybox', 'touch', '/r/f');
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /Read-only file system/);
  const mount = await docker('run', '--rm', '--mount', 'src=rovol,dst=/r,readonly', 'busybox', 'touch', '/r/f');
  assert.match(mount.stderr, /Read-only file system/);
  const bind = await docker('run', '--rm', '-v', `${hostDir}:/h:ro`, 'busybox', 'touch', '/h/f');
  assert.match(bind.stderr, /Read-only file system/);
  const rootfs = await docker('run', '--rm', '--read-only', '-v', 'rovol:/r', 'busybox', 'sh', '-c', 'touch /r/ok && touch /f');
  assert.match(rootfs.stderr, /Read-only file system/);
  assert.equal(await ok('run', '--rm', '-v', 'rovol:/r', 'busybox', 'ls', '/r'), 'ok\n');
});

test('copy-up fills an empty volume once, with the directory mode and owner; nocopy skips (edge 57–61)', async (t) => {
  t.after(() => rmContainers('cu-1'));
  await ok('create', '--name', 'cu-1', '-v', 'cuvol:/secret', 'busybox:secret', 'true');
  const data = join(d.dataRoot, 'volumes', 'cuvol', '_data');
  assert.equal(readFileSync(join(data, 'key'), 'utf8'), 'image secret\n', 'copied at create');
  const st = statSync(data);
  assert.equal(st.mode & 0o777, 0o750);
  assert.equal(st.uid, 1000);
  writeFileSync(join(data, 'key'), 'changed\n');
  assert.equal(await ok('run', '--rm', '-v', 'cuvol:/secret', 'busybox:secret', 'cat', '/secret/key'), 'changed\n', 'not copied over a non-empty volume');
  await ok('run', '--rm', '-v', 'cuvol:/secret', 'busybox:secret', 'rm', '/secret/key');
  assert.equal(await ok('run', '--rm', '-v', 'cuvol:/secret', 'busybox:secret', 'cat', '/secret/key'), 'image secret\n', 'copied again once empty');
  assert.equal(await ok('run', '--rm', '-v', 'nocopyvol:/secret:nocopy', 'busybox:secret', 'ls', '-A', '/secret'), '');
  assert.equal(await ok('run', '--rm', '--mount', 'src=nocopy2,dst=/secret,volume-nocopy', 'busybox:secret', 'ls', '-A', '/secret'), '');
  assert.equal(await ok('run', '--rm', '-v', 'nopath:/not/in/image', 'busybox', 'ls', '-A', '/not/in/image'), '');
  const file = await docker('run', '--rm', 'busybox:filevol', 'true');
  assert.equal(file.code, 125);
  assert.match(file.stderr, /cannot mount volume over existing file, file exists .*\/etc\/app/);
});

test("a named volume over a file in the image: create fails with dockerd's copy-up text while the volume is empty; nocopy or data in it let the create through", async (t) => {
  t.after(async () => {
    await rmContainers('onfile-nocopy', 'onfile-full');
    await docker('volume', 'rm', 'onfile', 'onfile-nocopy', 'onfile-full');
  });
  const r = await docker('create', '--name', 'onfile', '-v', 'onfile:/etc/app', 'busybox', 'true');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error response from daemon: source \/\S+\/etc\/app is not directory$/m);
  assert.equal((await docker('inspect', 'onfile')).code, 1, 'no container is left');
  await ok('create', '--name', 'onfile-nocopy', '-v', 'onfile-nocopy:/etc/app:nocopy', 'busybox', 'true');
  await ok('volume', 'create', 'onfile-full');
  writeFileSync(join(d.dataRoot, 'volumes', 'onfile-full', '_data', 'mine'), 'x');
  await ok('create', '--name', 'onfile-full', '-v', 'onfile-full:/etc/app', 'busybox', 'true');
});

test('image VOLUME becomes an anonymous volume with the image content; --rm removes only anonymous ones (edge 63–66)', async (t) => {
  t.after(() => rmContainers('anon-c', 'anon-d'));
  const vols = async () => (await ok('volume', 'ls', '-q')).split('\n').filter(Boolean);
  const beforeVols = new Set(await vols());
  assert.equal(await ok('run', '--rm', 'busybox', 'cat', '/data/image-file'), 'from the image\n');
  assert.deepEqual((await vols()).filter((v) => !beforeVols.has(v)), [], '--rm removed the image volume');
  await ok('run', '--rm', '-v', 'keepme:/data', '-v', '/other', 'busybox', 'true');
  const after1 = (await vols()).filter((v) => !beforeVols.has(v));
  assert.deepEqual(after1, ['keepme'], 'named kept, anonymous /other removed');
  await ok('create', '--name', 'anon-c', '-v', '/a', '-v', 'named-c:/n', 'busybox', 'true');
  const inspect = JSON.parse(await ok('inspect', 'anon-c'))[0];
  const anon = inspect.Mounts.find((m: { Destination: string }) => m.Destination === '/a');
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.equal(anon.Mode, '');
  const named = inspect.Mounts.find((m: { Destination: string }) => m.Destination === '/n');
  assert.deepEqual(named, {
    Type: 'volume',
    Name: 'named-c',
    Source: join(d.dataRoot, 'volumes', 'named-c', '_data'),
    Destination: '/n',
    Driver: 'local',
    Mode: 'z',
    RW: true,
    Propagation: '',
  });
  await ok('rm', '-v', 'anon-c');
  const names = await vols();
  assert.ok(!names.includes(anon.Name), 'rm -v removed the anonymous volume');
  assert.ok(names.includes('named-c'), 'rm -v kept the named one');
  await ok('create', '--name', 'anon-d', 'busybox', 'true');
  const dv = JSON.parse(await ok('inspect', 'anon-d'))[0].Mounts[0].Name as string;
  await ok('rm', 'anon-d');
  assert.ok((await ok('volume', 'ls', '-q', '-f', 'dangling=true')).includes(dv), 'rm without -v leaves it dangling');
});

test('volumes-from shares mounts read-only; rm -v removes the volume with its last user (edge 67, 68)', async (t) => {
  t.after(() => rmContainers('vf-a', 'vf-b'));
  await ok('run', '--name', 'vf-a', '-v', '/anon3', 'busybox', 'sh', '-c', 'echo shared > /anon3/f');
  await ok('create', '--name', 'vf-b', '--volumes-from', 'vf-a:ro', 'busybox', 'sh', '-c', 'cat /anon3/f; touch /anon3/g');
  const b = await docker('start', '-a', 'vf-b');
  assert.equal(b.stdout, 'shared\n');
  assert.match(b.stderr, /Read-only file system/);
  const mount = JSON.parse(await ok('inspect', 'vf-b'))[0].Mounts[0];
  assert.equal(mount.RW, false);
  assert.equal(mount.Mode, '');
  await ok('rm', '-v', 'vf-a');
  assert.equal((await docker('volume', 'inspect', mount.Name)).code, 0, 'kept while vf-b references it');
  await ok('rm', '-v', 'vf-b');
  assert.equal((await docker('volume', 'inspect', mount.Name)).code, 1, 'removed with the last user');
  const missing = await docker('run', '--rm', '--volumes-from', 'missing', 'busybox', 'true');
  assert.match(missing.stderr, /No such container: missing/);
  const bad = await docker('run', '--rm', '--volumes-from', 'vf-x:rshared', 'busybox', 'true');
  assert.match(bad.stderr, /invalid mode: rshared/);
});

test('volume rm refuses a volume used by a created-but-never-started container (edge 17, 18)', async (t) => {
  t.after(() => rmContainers('inuse-c'));
  const id = (await ok('create', '--name', 'inuse-c', '-v', 'inuse:/x', 'busybox', 'true')).trim();
  for (const args of [['volume', 'rm', 'inuse'], ['volume', 'rm', '-f', 'inuse']]) {
    const r = await docker(...args);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: remove inuse: volume is in use - [${id}]\n`);
  }
  assert.match(await ok('volume', 'ls', '-f', 'dangling=false', '-q'), /^inuse$/m);
  await ok('rm', 'inuse-c');
  await ok('volume', 'rm', 'inuse');
});

test('a tmpfs-backed local volume is mounted at first start and unmounted after the last user (edge 14)', async (t) => {
  t.after(() => rmContainers('tv-1', 'tv-2'));
  await ok('volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=10m,uid=1000', 'tvol');
  const data = join(d.dataRoot, 'volumes', 'tvol', '_data');
  const mounted = () => readMountInfo().some((m) => m.mountPoint === data);
  await ok('run', '-d', '--name', 'tv-1', '-v', 'tvol:/t', 'busybox', 'sleep', '300');
  assert.ok(mounted());
  await ok('run', '-d', '--name', 'tv-2', '-v', 'tvol:/t', 'busybox', 'sleep', '300');
  assert.equal(await ok('exec', 'tv-2', 'stat', '-c', '%u %a', '/t'), '1000 1777\n');
  await ok('rm', '-f', 'tv-1');
  assert.ok(mounted(), 'still mounted for tv-2');
  await ok('rm', '-f', 'tv-2');
  assert.ok(!mounted(), 'unmounted after the last user');
  const bad = await docker('volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', 'device=/berth-missing-dir', 'badbind');
  assert.equal(bad.code, 0);
  const r = await docker('run', '--rm', '-v', 'badbind:/x', 'busybox', 'true');
  assert.equal(r.code, 127);
  assert.match(r.stderr, /error while mounting volume '.*\/badbind\/_data': failed to mount local volume: mount \/berth-missing-dir:.*_data, flags: 0x1000: no such file or directory/);
});

test('mount spec errors have docker messages and exit 125 (edge 41–47, 53, 54)', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['-v', '/data:ro'], /invalid volume specification: '\/data:ro'/],
    [['-v', 'v1:/x', '-v', 'v2:/x'], /Duplicate mount point: \/x/],
    [['-v', 'v1:/x', '--tmpfs', '/x'], /Duplicate mount point: \/x/],
    [['-v', 'v1:rel'], /invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute/],
    [['-v', 'v1:/'], /destination can't be '\/'/],
    [['-v', 'v1:/x:ro,rw'], /invalid mode: ro,rw/],
    [['-v', 'v1:/x:rshared'], /field BindOptions must not be specified/],
    [['-v', `${'/tmp'}:/x:nocopy`], /field VolumeOptions must not be specified/],
    [['--mount', 'type=tmpfs,src=foo,dst=/x'], /field Source must not be specified/],
    [['--tmpfs', '/x:foo=bar'], /invalid tmpfs option/],
  ];
  for (const [flags, message] of cases) {
    const r = await docker('run', '--rm', ...flags, 'busybox', 'true');
    assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, flags.join(' '));
  }
  const inspect = await docker('run', '--rm', '-v', 'cleaned:/x/', 'busybox', 'true');
  assert.equal(inspect.code, 0);
});

test('inspect shows Mounts as docker does for binds, --mount and tmpfs (edge 69, 70)', async (t) => {
  t.after(() => rmContainers('insp'));
  await ok('create', '--name', 'insp', '-v', `${hostDir}:/y:ro,rslave`, '-v', `${hostDir}:/z`, '-v', 'insp-v:/x:ro', '--mount', 'type=volume,dst=/anonm', '--mount', 'type=tmpfs,dst=/tm', '--tmpfs', '/tt', 'busybox', 'true');
  const c = JSON.parse(await ok('inspect', 'insp'))[0];
  const by = (dst: string) => c.Mounts.find((m: { Destination: string }) => m.Destination === dst);
  assert.deepEqual(by('/y'), { Type: 'bind', Source: hostDir, Destination: '/y', Mode: 'ro,rslave', RW: false, Propagation: 'rslave' });
  assert.deepEqual(by('/z'), { Type: 'bind', Source: hostDir, Destination: '/z', Mode: '', RW: true, Propagation: 'rprivate' });
  assert.equal(by('/x').Mode, 'ro');
  assert.equal(by('/x').RW, false);
  assert.equal(by('/anonm').Mode, 'z');
  assert.deepEqual(by('/tm'), { Type: 'tmpfs', Source: '', Destination: '/tm', Mode: '', RW: true, Propagation: '' });
  assert.equal(by('/tt'), undefined, 'HostConfig.Tmpfs is not in Mounts');
  assert.deepEqual(c.HostConfig.Tmpfs, { '/tt': '' });
});

test('running containers survive a berthd restart; ones that died meanwhile are marked exited', async (t) => {
  t.after(() => rmContainers('live', 'dies'));
  await ok('run', '-d', '--name', 'live', '-v', 'livevol:/l', 'busybox', 'sleep', '300');
  // `dies` exits only when told, through a file in a bind mount, so that it
  // surely exits while berthd is down.
  const ctl = mkdtempSync(join(hostDir, 'ctl-'));
  await ok('run', '-d', '--name', 'dies', '-v', `${ctl}:/ctl`, 'busybox', 'sh', '-c', 'while [ ! -e /ctl/go ]; do sleep 0.05; done; exit 7');
  const pid = Number(await ok('inspect', '-f', '{{.State.Pid}}', 'dies'));
  assert.ok(pid > 0);
  await d.stop();
  writeFileSync(join(ctl, 'go'), '');
  await waitFor(() => !processExists(pid), `container process ${pid} to exit`);
  await d.restart();
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', 'live'), 'running\n');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'dies'), 'exited 7\n');
  assert.equal(await ok('exec', 'live', 'sh', '-c', 'echo still > /l/f; cat /l/f'), 'still\n');
  const rm = await docker('volume', 'rm', 'livevol');
  assert.match(rm.stderr, /volume is in use/);
  await ok('stop', '-t', '1', 'live');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', 'live'), 'exited\n');
});

test('docker cp and exec work on paths inside volumes', async (t) => {
  t.after(() => rmContainers('cp-c'));
  await ok('run', '-d', '--name', 'cp-c', '-v', 'cpvol:/v', 'busybox', 'sleep', '300');
  writeFileSync(join(hostDir, 'up.txt'), 'uploaded\n');
  await ok('cp', join(hostDir, 'up.txt'), 'cp-c:/v/');
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'cpvol', '_data', 'up.txt'), 'utf8'), 'uploaded\n');
  assert.equal(await ok('exec', 'cp-c', 'cat', '/v/up.txt'), 'uploaded\n');
  mkdirSync(join(hostDir, 'down'), { recursive: true });
  await ok('cp', 'cp-c:/v/up.txt', join(hostDir, 'down', 'copy.txt'));
  assert.equal(readFileSync(join(hostDir, 'down', 'copy.txt'), 'utf8'), 'uploaded\n');
  assert.equal((await docker('exec', 'cp-c', 'sh', '-c', 'exit 5')).code, 5);
  assert.equal((await runDocker(d.env, 'exec', '-i', 'cp-c', 'cat')).stdout, '');
});
