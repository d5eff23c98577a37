// volume-subpath at start (issue 6, items 2 and 14): mounted by fd through a
// private mountpoint that is gone once runc has set up the container; a
// missing subpath fails the start, not the create.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { docker as runDocker, type RunResult, dockerOk } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { readMountInfo } from '../../src/util/mount.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
const docker = (...args: string[]): Promise<RunResult> => runDocker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);
const sub = (s: string) => `type=volume,src=subvol,dst=/m,volume-subpath=${s}`;

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
  await ok('run', '--rm', '-v', 'subvol:/v', 'busybox', 'sh', '-c', 'mkdir -p /v/sub; echo in-sub > /v/sub/f; ln -s /etc /v/etclink; ln -s ../../.. /v/up');
});

after(async () => {
  await d.cleanup();
  const left = readMountInfo().filter((m) => m.mountPoint.startsWith(d.dir));
  assert.deepEqual(left.map((m) => m.mountPoint), [], 'mounts left behind');
});

test('a subpath is mounted, its host-side mountpoint released after start, and rm keeps the volume data', async (t) => {
  t.after(() => docker('rm', '-f', 'sp'));
  assert.equal(await ok('run', '--rm', '--mount', sub('sub'), 'busybox', 'cat', '/m/f'), 'in-sub\n');
  const id = (await ok('run', '-d', '--name', 'sp', '--mount', sub('sub'), 'busybox', 'sleep', '600')).trim();
  const subpaths = join(d.dataRoot, 'containers', id, 'subpaths');
  assert.deepEqual(readMountInfo().filter((m) => m.mountPoint.startsWith(subpaths)), [], 'no host-side subpath mount once started');
  assert.equal(await ok('exec', 'sp', 'cat', '/m/f'), 'in-sub\n');
  await ok('exec', 'sp', 'sh', '-c', 'echo more > /m/g');
  await ok('rm', '-f', 'sp');
  assert.equal(existsSync(join(d.dataRoot, 'containers', id)), false);
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'subvol', '_data', 'sub', 'f'), 'utf8'), 'in-sub\n');
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'subvol', '_data', 'sub', 'g'), 'utf8'), 'more\n');
});

test('a subpath through a link out of the volume is refused at start', async () => {
  for (const s of ['etclink', 'up']) {
    const r = await docker('run', '--rm', '--mount', sub(s), 'busybox', 'true');
    assert.notEqual(r.code, 0, s);
    assert.match(r.stderr, /path concatenation escapes the base directory/, s);
  }
});

test('a missing subpath: create succeeds, start fails with dockerd message (item 14)', async (t) => {
  t.after(() => docker('rm', '-f', 'miss'));
  await ok('create', '--name', 'miss', '--mount', sub('nope'), 'busybox', 'true');
  const r = await docker('start', 'miss');
  assert.notEqual(r.code, 0);
  // Go's shape: the path, then the *os.PathError of the lstat that found it missing.
  assert.match(r.stderr, /cannot access path (\S+subvol\/_data\/nope): lstat \1: no such file or directory/);
  const run = await docker('run', '--rm', '--mount', sub('nope'), 'busybox', 'true');
  assert.notEqual(run.code, 0);
  assert.doesNotMatch(run.stderr, /Unable to find image/);
  assert.match(run.stderr, /cannot access path/);
  // Once it exists, the same container starts.
  await ok('run', '--rm', '-v', 'subvol:/v', 'busybox', 'mkdir', '/v/nope');
  await ok('start', 'miss');
});
