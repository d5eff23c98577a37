// The rest of the registry round trip through the docker CLI and the berth
// CLI against berthd: commit a container, tag, push back (cross-repository
// mount, existing layers skipped, a large layer in chunks), pull again by
// digest, history, save | load, image prune, and a TLS registry with
// htpasswd basic authentication: login with wrong and right credentials,
// push and pull with the stored credentials, logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { berth, docker, dockerOk, run, DOCKER, type RunResult } from '../helpers/run.js';
import { busyboxImage, fetchManifest, registryRequest, saveArchiveFile, skopeoPush, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { cleanups } from '../helpers/cleanups.js';
import { api } from '../helpers/http.js';

const scope = cleanups();
let d: TestDaemon & { cleanup: () => Promise<void> };
let reg: TestRegistry;
let secure: TestRegistry;
let work: string;
const dk = (...args: string[]): Promise<RunResult> => docker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);
const SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json';
const CREDENTIALS = { username: 'berth', password: 'test-password-1' };

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-push-'));
  reg = await startRegistry(scope);
  secure = await startRegistry(scope, { tls: true, credentials: CREDENTIALS });
  d = await startDaemon();
  await skopeoPush(reg, saveArchiveFile([busyboxImage('x:1')], work), 'base/busybox:latest');
  const pulled = await dk('pull', `${reg.host}/base/busybox`);
  assert.equal(pulled.code, 0, pulled.stderr);
});

after(async () => {
  await d?.cleanup();
  await scope.run();
  rmSync(work, { recursive: true, force: true });
});

test('commit, push back (base layer mounted, new layer pushed), then pull by digest and run', async (t) => {
  t.after(() => dk('rm', '-f', 'to-commit'));
  await ok('run', '--name', 'to-commit', `${reg.host}/base/busybox`, 'sh', '-c', 'echo committed > /made-here; rm /etc/registry-marker');
  const id = (await ok('commit', '-a', 'Berth Tests', '-m', 'a message', '-c', 'ENV COMMITTED=yes', '-c', 'CMD ["cat", "/made-here"]', 'to-commit', `${reg.host}/app/committed:v1`)).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const inspect = JSON.parse(await ok('image', 'inspect', `${reg.host}/app/committed:v1`))[0];
  assert.equal(inspect.Author, 'Berth Tests');
  assert.equal(inspect.RootFS.Layers.length, 2);
  assert.ok(inspect.Config.Env.includes('COMMITTED=yes'));

  const baseLayer = (inspect.RootFS.Layers[0] as string).slice(7, 19);
  const newLayer = (inspect.RootFS.Layers[1] as string).slice(7, 19);
  const pushed = await dk('push', `${reg.host}/app/committed:v1`);
  assert.equal(pushed.code, 0, pushed.stderr);
  const lines = pushed.stdout.split('\n');
  assert.equal(lines[0], `The push refers to repository [${reg.host}/app/committed]`);
  assert.ok(lines.includes(`${baseLayer}: Mounted from base/busybox`), pushed.stdout);
  assert.ok(lines.includes(`${newLayer}: Pushed`), pushed.stdout);
  const digest = /^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(pushed.stdout)?.[1];
  assert.ok(digest, pushed.stdout);
  const served = await fetchManifest(reg, 'app/committed', 'v1', SCHEMA2);
  assert.equal(served.digest, digest);

  const again = await dk('push', `${reg.host}/app/committed:v1`);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`${baseLayer}: Layer already exists\n`));
  assert.match(again.stdout, new RegExp(`${newLayer}: Layer already exists\n`));

  await ok('rm', 'to-commit');
  await ok('rmi', `${reg.host}/app/committed:v1`);
  const byDigest = await dk('pull', `${reg.host}/app/committed@${digest}`);
  assert.equal(byDigest.code, 0, byDigest.stderr);
  assert.match(byDigest.stdout, /: Already exists\n/, 'the base layer is still here');
  assert.equal(await ok('run', '--rm', `${reg.host}/app/committed@${digest}`), 'committed\n');
  const gone = await dk('run', '--rm', `${reg.host}/app/committed@${digest}`, 'ls', '/etc/registry-marker');
  assert.notEqual(gone.code, 0, 'the whiteout of the deleted file came back with the layer');
});

test('docker history shows the commit on top and, below, the image it was committed on', async (t) => {
  t.after(() => dk('rm', '-f', 'hist'));
  await ok('run', '--name', 'hist', `${reg.host}/base/busybox`, 'sh', '-c', 'echo x > /hist');
  await ok('commit', '-m', 'history message', 'hist', 'hist:1');
  const out = await ok('history', 'hist:1');
  const rows = out.trimEnd().split('\n');
  assert.match(rows[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.match(rows[1]!, /^[0-9a-f]{12}\s+(Less than a second|\d+ seconds?) ago\s+sh -c echo x > \/hist\s+\d+B\s+history message$/);
  // As with dockerd, a commit records its parent: the base's row carries the base's ID.
  const base = (await ok('image', 'inspect', '--format', '{{.Id}}', `${reg.host}/base/busybox`)).trim().slice(7, 19);
  assert.match(rows[2]!, new RegExp(`^${base}\\s+`));
  assert.equal(rows.length, 3);
  // The CREATED column's width follows its longest text, which the seconds between the two calls can change.
  const untimed = (s: string): string => s.replace(/\d+ seconds? ago|Less than a second ago/g, 'T').replace(/ {2,}/g, '  ');
  assert.equal(untimed((await berth(d.env, 'history', 'hist:1')).stdout), untimed(out));
  assert.match(await ok('history', '-q', 'hist:1'), new RegExp(`^[0-9a-f]{12}\\n${base}\\n$`));
  await ok('rmi', 'hist:1');
});

test('a large layer is pushed in chunks with berth push and comes back intact', async (t) => {
  t.after(() => dk('rm', '-f', 'big'));
  // 12 MiB of random data: its gzip blob is larger than one upload chunk (5 MiB).
  await ok('run', '--name', 'big', `${reg.host}/base/busybox`, 'sh', '-c', 'head -c 12582912 /dev/urandom > /big && md5sum /big > /big.md5');
  const committed = await berth(d.env, 'commit', 'big', `${reg.host}/big:1`);
  assert.equal(committed.code, 0, committed.stderr);
  assert.match(committed.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const pushed = await berth(d.env, 'push', `${reg.host}/big:1`);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stdout, /: Pushed\n/);
  const m = await fetchManifest(reg, 'big', '1', SCHEMA2);
  const layer = m.json.layers![1]!;
  assert.ok(layer.size > 10 * 1024 * 1024, `layer blob of ${layer.size} bytes`);
  const head = await registryRequest(reg, 'HEAD', `/v2/big/blobs/${layer.digest}`);
  assert.equal(Number(head.headers['content-length']), layer.size);
  await ok('rm', 'big');
  await ok('rmi', `${reg.host}/big:1`);
  await ok('pull', `${reg.host}/big@${m.digest}`);
  assert.equal(await ok('run', '--rm', `${reg.host}/big@${m.digest}`, 'md5sum', '-c', '/big.md5'), '/big: OK\n');
});

test('save | load round trip, both CLIs, in the format docker load reads', async () => {
  const file = join(work, 'saved.tar');
  await ok('tag', `${reg.host}/base/busybox`, 'roundtrip:1');
  await ok('save', '-o', file, 'roundtrip:1');
  const members = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const m of ['blobs/', 'blobs/sha256/', 'index.json', 'manifest.json', 'oci-layout', 'repositories']) assert.ok(members.includes(m), m);
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' }))[0];
  assert.deepEqual(manifest.RepoTags, ['roundtrip:1']);
  const index = JSON.parse(execFileSync('tar', ['-xOf', file, 'index.json'], { encoding: 'utf8' }));
  assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'docker.io/library/roundtrip:1');
  const id = (await ok('image', 'inspect', '-f', '{{.Id}}', 'roundtrip:1')).trim();
  await ok('rmi', 'roundtrip:1');
  assert.equal(await ok('load', '-i', file), 'Loaded image: roundtrip:1\n');
  assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'roundtrip:1')).trim(), id, 'the same image ID: config and layers byte for byte');
  assert.equal(await ok('run', '--rm', 'roundtrip:1', 'cat', '/etc/registry-marker'), 'from the registry\n');

  // berth save to stdout, piped into docker load.
  await ok('rmi', 'roundtrip:1');
  await ok('load', '-i', file);
  const piped = await run('sh', ['-c', `${process.execPath} -- ${BERTH} save roundtrip:1 | ${DOCKER} load`], { env: d.env });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, 'Loaded image: roundtrip:1\n');
  const refused = await dk('save', 'no-such-image:1');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /No such image: no-such-image:1/);
  assert.equal(existsSync(join(work, 'never.tar')), false);
});

test('docker tag: new names for an image, and the client-side refusals', async () => {
  await ok('tag', `${reg.host}/base/busybox`, 'tagged/one');
  assert.match(await ok('images', '--format', '{{.Repository}}:{{.Tag}}', 'tagged/one'), /^tagged\/one:latest\n$/);
  const digestTarget = await dk('tag', `${reg.host}/base/busybox`, `tagged/one@sha256:${'a'.repeat(64)}`);
  assert.equal(digestTarget.code, 1);
  assert.equal(digestTarget.stderr, 'refusing to create a tag with a digest reference\n');
  const missing = await dk('tag', 'no-such:1', 'tagged/two');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Error response from daemon: No such image: no-such:1\n');
  assert.equal((await berth(d.env, 'tag', `${reg.host}/base/busybox`, 'tagged/two')).code, 0);
  await ok('rmi', 'tagged/one', 'tagged/two');
});

test('image prune removes dangling images, and with -a unused ones matching the filters', async (t) => {
  const created: string[] = [];
  t.after(async () => {
    for (const id of created) await dk('rm', '-f', id);
  });
  created.push((await ok('run', '-d', `${reg.host}/base/busybox`, 'sh', '-c', 'echo d > /d')).trim());
  await ok('wait', created[0]!);
  const dangling = (await ok('commit', created[0]!)).trim();
  await ok('rm', created.pop()!);
  const pruned = await dk('image', 'prune', '-f');
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /^Deleted Images:\n/);
  assert.ok(pruned.stdout.includes(`deleted: ${dangling}\n`), pruned.stdout);
  assert.match(pruned.stdout, /\nTotal reclaimed space: [\d.]+[kMG]?B\n$/);
  assert.equal((await dk('image', 'inspect', dangling)).code, 1);

  // A label-filtered prune -a: only the labelled, unused image goes; an image a container uses never does.
  created.push((await ok('create', `${reg.host}/base/busybox`)).trim());
  const labelled = (await ok('commit', '-c', 'LABEL prune=me', created[0]!, 'labelled:1')).trim();
  const none = await berth(d.env, 'image', 'prune', '-a', '-f', '--filter', 'label=prune=nobody');
  assert.equal(none.stdout, 'Total reclaimed space: 0B\n');
  const byLabel = await dk('image', 'prune', '-a', '-f', '--filter', 'label=prune=me');
  assert.equal(byLabel.code, 0, byLabel.stderr);
  assert.equal(byLabel.stdout, `Deleted Images:\nuntagged: labelled:1\ndeleted: ${labelled}\n\nTotal reclaimed space: 0B\n`);
  const used = await dk('image', 'prune', '-a', '-f');
  assert.equal(used.code, 0, used.stderr);
  assert.equal((await dk('image', 'inspect', `${reg.host}/base/busybox`)).code, 0, 'the image a container uses stays');
});

test('TLS registry with basic auth: wrong credentials refused, login, push and pull with stored credentials, logout', async () => {
  const cfg = join(d.dir, 'docker-config', 'config.json');
  const wrong = await run(DOCKER, ['login', '-u', CREDENTIALS.username, '--password-stdin', secure.host], { env: d.env, input: 'wrong\n' });
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stderr, `Error response from daemon: login attempt to https://${secure.host}/v2/ failed with status: 401 Unauthorized\n`);
  assert.equal(existsSync(cfg), false, 'nothing stored');

  // Without credentials the registry's 401 is the daemon's, before any output (the docker CLI would prompt for a login then).
  const unauthenticated = await api(d.socket, 'POST', `/images/create?fromImage=${encodeURIComponent(`${secure.host}/nothing`)}&tag=latest`);
  assert.equal(unauthenticated.status, 401);
  assert.deepEqual(unauthenticated.json, { message: 'unauthorized: authentication required' });

  const login = await run(DOCKER, ['login', '-u', CREDENTIALS.username, '--password-stdin', secure.host], { env: d.env, input: `${CREDENTIALS.password}\n` });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, 'Login Succeeded\n');
  const stored = JSON.parse(readFileSync(cfg, 'utf8'));
  assert.equal(stored.auths[secure.host].auth, Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64'));

  await ok('tag', `${reg.host}/base/busybox`, `${secure.host}/private/busybox:1`);
  const push = await dk('push', `${secure.host}/private/busybox:1`);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /: Pushed\n/);
  await ok('rmi', `${secure.host}/private/busybox:1`);
  const pull = await berth(d.env, 'pull', `${secure.host}/private/busybox:1`);
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(await ok('run', '--rm', `${secure.host}/private/busybox:1`, 'cat', '/etc/registry-marker'), 'from the registry\n');

  const logout = await berth(d.env, 'logout', secure.host);
  assert.equal(logout.stdout, `Removing login credentials for ${secure.host}\n`);
  assert.equal(JSON.parse(readFileSync(cfg, 'utf8')).auths[secure.host], undefined);
  await ok('rmi', `${secure.host}/private/busybox:1`);
  const denied = await berth(d.env, 'pull', `${secure.host}/private/busybox:1`);
  assert.equal(denied.code, 1);
  assert.match(denied.stdout, /\nLogin prior to pull:\n/);
  assert.match(denied.stderr, /Error: Non-null Username Required/);

  const berthLogin = await run(process.execPath, ['--', BERTH, 'login', '-u', CREDENTIALS.username, '--password-stdin', secure.host], {
    env: d.env,
    input: CREDENTIALS.password,
  });
  assert.equal(berthLogin.code, 0, berthLogin.stderr);
  assert.equal(berthLogin.stdout, 'Login Succeeded\n');
  assert.match(berthLogin.stderr, /WARNING! Your credentials are stored unencrypted in '.*config\.json'\./);
});
