// docker load / import / images / rmi against berthd, and a hostile archive
// refused without writing outside the image store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { docker as runDocker, run, DOCKER } from '../helpers/run.js';
import { makeSaveArchive, makeTar, busyboxLayer } from '../images/helpers.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let work: string;
before(async () => {
  d = await startDaemon();
  work = mkdtempSync(join(tmpdir(), 'berth-e2e-img-'));
});
after(async () => {
  await d.cleanup();
  rmSync(work, { recursive: true, force: true });
});
const docker = (...args: string[]) => runDocker(d.env, ...args);

test('docker load of a docker save archive, then run it with its VOLUME and ENV', async () => {
  const layer = busyboxLayer();
  const top = makeTar([{ path: 'data/', type: 'dir' }, { path: 'data/from-layer2', content: 'second layer\n' }]);
  const archive = makeSaveArchive([{ layers: [layer, top], repoTags: ['loaded:1.0'], config: { Env: ['GREETING=hello', 'PATH=/bin'], Volumes: { '/data': {} }, Cmd: ['sh', '-c', 'echo $GREETING; cat /data/from-layer2'] } }]);
  const file = join(work, 'save.tar');
  writeFileSync(file, archive);
  const r = await docker('load', '-i', file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Loaded image: loaded:1\.0/);
  const images = await docker('images', '--format', '{{.Repository}}:{{.Tag}}');
  assert.match(images.stdout, /^loaded:1\.0$/m);
  const out = await docker('run', '--rm', 'loaded:1.0');
  assert.equal(out.stdout, 'hello\nsecond layer\n', out.stderr);
  const inspect = JSON.parse((await docker('image', 'inspect', 'loaded:1.0')).stdout)[0];
  assert.deepEqual(inspect.Config.Volumes, { '/data': {} });
  assert.equal(inspect.RootFS.Layers.length, 2);
  const rmi = await docker('rmi', 'loaded:1.0');
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: loaded:1\.0/);
});

test('a hostile archive is refused and nothing is written outside the store', async () => {
  const victim = join(work, 'victim');
  const hostile = makeTar([
    { path: 'link', type: 'symlink', linkpath: work },
    { path: 'link/victim', content: 'pwned\n' },
  ]);
  const file = join(work, 'hostile.tar');
  writeFileSync(file, hostile);
  const r = await docker('import', file, 'hostile:1');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Error response from daemon: /);
  assert.equal(existsSync(victim), false);
  const dotdot = makeTar([{ path: '../../escape', content: 'x' }]);
  writeFileSync(file, dotdot);
  const r2 = await docker('import', file, 'hostile:2');
  assert.notEqual(r2.code, 0);
  assert.equal((await docker('images', '-q')).stdout.includes('hostile'), false);
});

test('import --change sets CMD, ENV, WORKDIR, USER, VOLUME', async () => {
  const layer = join(work, 'layer.tar');
  writeFileSync(layer, busyboxLayer());
  const r = await run(DOCKER, ['import', '-c', 'ENV A=1', '-c', 'WORKDIR /tmp', '-c', 'USER 1000', '-c', 'CMD ["sh", "-c", "echo $A $(pwd) $(id -u)"]', layer, 'changed:1'], { env: d.env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal((await docker('run', '--rm', 'changed:1')).stdout, '1 /tmp 1000\n');
});

test("rmi -f as dockerd: an image only stopped containers use is deleted and they keep running on its layers; a running one keeps it", async () => {
  const layer = busyboxLayer();
  const top = makeTar([{ path: 'marker', content: 'from the deleted image\n' }]);
  const file = join(work, 'forced.tar');
  writeFileSync(file, makeSaveArchive([{ layers: [layer, top], repoTags: ['forced:1'], config: { Cmd: ['cat', '/marker'] } }]));
  assert.equal((await docker('load', '-i', file)).code, 0);
  const id = (await docker('image', 'inspect', '-f', '{{.Id}}', 'forced:1')).stdout.trim();
  const stopped = (await docker('create', '--name', 'forced-stopped', 'forced:1')).stdout.trim();
  const running = (await docker('run', '-d', '--name', 'forced-running', 'forced:1', 'sleep', '600')).stdout.trim();
  try {
    // A running container: the tag goes, the image stays; by ID, force cannot override it.
    const untag = await docker('rmi', '-f', 'forced:1');
    assert.equal(untag.code, 0, untag.stderr);
    assert.equal(untag.stdout, 'Untagged: forced:1\n');
    const byId = await docker('rmi', '-f', id);
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, new RegExp(`unable to delete ${id.slice(7, 19)} \\(cannot be forced\\) - image is being used by running container ${running.slice(0, 12)}`));
    assert.equal((await docker('rm', '-f', 'forced-running')).code, 0);

    // Only a stopped container: forced, the image is deleted, and the container still runs on its layers.
    const gone = await docker('rmi', '-f', id);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, new RegExp(`^Deleted: ${id}\n`));
    assert.equal((await docker('image', 'inspect', id)).code, 1);
    const started = await docker('start', '-a', 'forced-stopped');
    assert.equal(started.stdout, 'from the deleted image\n', started.stderr);
    assert.equal((await docker('inspect', '-f', '{{.Image}}', 'forced-stopped')).stdout.trim(), id);
    // Its removal takes the layers nothing else uses: the top one here.
    const topLayer = join(d.dataRoot, 'image', 'layers', createHash('sha256').update(top).digest('hex'));
    assert.ok(existsSync(topLayer), 'kept for the container');
    assert.equal((await docker('rm', 'forced-stopped')).code, 0);
    assert.equal(existsSync(topLayer), false, 'gone with the last container that held it');
  } finally {
    await docker('rm', '-f', stopped, running);
  }
});
