// A full data root in the middle of multi-step changes: every volume and
// container ends up either intact and usable or fully gone, and a container
// that exits meanwhile is still recorded as exited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { importTestImages } from '../helpers/images.js';
import { api } from '../helpers/http.js';
import { docker, DOCKER } from '../helpers/run.js';
import { assertStoreMatchesDisk } from '../helpers/consistency.js';

/** Fills the data root's filesystem; returns a function that frees the space again. */
function fillDisk(d: TestDaemon): () => void {
  const filler = join(d.dataRoot, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(256 * 1024 * 1024));
  } catch {
    // ENOSPC: full, as wanted (what was written stays)
  }
  // Whatever tmpfs pages are left, taken in small pieces.
  for (let i = 0; i < 64; i++) {
    try {
      writeFileSync(join(d.dataRoot, `filler-${i}`), Buffer.alloc(4096));
    } catch {
      break;
    }
  }
  return () => {
    rmSync(filler, { force: true });
    for (let i = 0; i < 64; i++) rmSync(join(d.dataRoot, `filler-${i}`), { force: true });
  };
}

// Takes every page the filesystem frees, as soon as it is freed.
const HOG = `
const { writeFileSync } = require('node:fs');
const dir = process.argv[1];
const page = Buffer.alloc(4096);
let i = 0;
let told = false;
for (;;) {
  try { writeFileSync(dir + '/hog-' + i, page); i++; } catch { if (!told) { process.stdout.write('full\\n'); told = true; } }
}
`;

/**
 * Keeps the data root full: a container's exit frees the runtime's state
 * files on it, which would otherwise leave room for exactly the writes that
 * follow an exit. Resolves with a function that stops it and frees the space.
 */
async function keepDiskFull(d: TestDaemon): Promise<() => void> {
  const hogDir = join(d.dataRoot, 'hog');
  mkdirSync(hogDir);
  const freeFill = fillDisk(d);
  const hog = spawn(process.execPath, ['-e', HOG, hogDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    hog.stdout.once('data', () => resolve());
    hog.once('exit', (code) => reject(new Error(`disk hog exited with ${code}`)));
  });
  return () => {
    hog.kill('SIGKILL');
    freeFill();
    rmSync(hogDir, { recursive: true, force: true });
  };
}

test('volume rm, prune and container rm on a full data root leave each volume usable or fully gone', async (t) => {
  const d = await startDaemon(t, [], { dataRootTmpfsSize: '64m' });
  await importTestImages(d.env);
  const names = ['keep-1', 'keep-2', 'keep-3'];
  for (const name of names) {
    const w = await docker(d.env, 'run', '--rm', '-v', `${name}:/d`, 'busybox', 'sh', '-c', `echo precious-${name} > /d/f`);
    assert.equal(w.code, 0, w.stderr);
  }
  const anon = await api(d.socket, 'POST', '/volumes/create', {});
  assert.equal(anon.status, 201);
  const holder = await docker(d.env, 'create', '--name', 'holder', '-v', 'held:/d', 'busybox', 'true');
  assert.equal(holder.code, 0, holder.stderr);

  let free = fillDisk(d);
  t.after(() => free());
  const removed = new Set<string>();
  for (const name of names) {
    const rm = await docker(d.env, 'volume', 'rm', name);
    if (rm.code === 0) removed.add(name);
    else assert.match(rm.stderr, /disk is full|no space left/i, `a clear error for ${name}`);
    // Either way the answer matches the state, at once.
    assert.equal((await api(d.socket, 'GET', `/volumes/${name}`)).status, removed.has(name) ? 404 : 200);
  }
  const prune = await api(d.socket, 'POST', '/volumes/prune');
  assert.equal(prune.status, 200, prune.text);
  const pruned = (prune.json.VolumesDeleted as string[] | null) ?? [];
  assert.equal((await api(d.socket, 'GET', `/volumes/${anon.json.Name}`)).status, pruned.includes(anon.json.Name) ? 404 : 200);
  const rmHolder = await docker(d.env, 'rm', 'holder');
  if (rmHolder.code !== 0) assert.match(rmHolder.stderr, /disk is full|no space left/i);
  const holderGone = rmHolder.code === 0;
  assert.equal((await api(d.socket, 'GET', '/containers/holder/json')).status, holderGone ? 404 : 200);

  free();
  free = () => undefined;
  for (const name of names) {
    if (removed.has(name)) {
      assert.ok(!existsSync(join(d.dataRoot, 'volumes', name)), `${name} left its directory`);
      continue;
    }
    // Not removed: fully usable, data intact.
    const r = await docker(d.env, 'run', '--rm', '-v', `${name}:/d`, 'busybox', 'cat', '/d/f');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `precious-${name}\n`);
  }
  if (holderGone) {
    // Its reference went with it.
    const rm = await docker(d.env, 'volume', 'rm', 'held');
    assert.equal(rm.code, 0, rm.stderr);
  } else {
    const start = await docker(d.env, 'start', '-a', 'holder');
    assert.equal(start.code, 0, start.stderr);
  }
  await d.restart();
  await assertStoreMatchesDisk(d.socket, d.dataRoot);
  for (const name of names) assert.equal((await api(d.socket, 'GET', `/volumes/${name}`)).status, removed.has(name) ? 404 : 200);
});

test('a container that exits while the data root is full is recorded as exited with its code', async (t) => {
  const d = await startDaemon(t, [], { dataRootTmpfsSize: '64m' });
  await importTestImages(d.env);
  const ctl = mkdtempSync(join(tmpdir(), 'berth-ctl-'));
  t.after(() => rmSync(ctl, { recursive: true, force: true }));

  // Attached, as `docker run` without -d: it must return the exit code.
  const child = spawn(
    DOCKER,
    ['run', '--name', 'exits-on-full', '-v', `${ctl}:/ctl`, 'busybox', 'sh', '-c', 'echo started; while [ ! -e /ctl/go ]; do sleep 0.1; done; echo bye; exit 3'],
    { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exitCode = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('started')) resolve();
    });
    child.once('close', () => reject(new Error(`docker run ended before the container started: ${stderr}`)));
  });

  let free = await keepDiskFull(d);
  t.after(() => free());
  writeFileSync(join(ctl, 'go'), '');
  // Bounded, so that a run that never returns fails instead of hanging the suite.
  let bound: NodeJS.Timeout | undefined;
  const code = await Promise.race([exitCode, new Promise<string>((resolve) => (bound = setTimeout(() => resolve('no exit'), 90_000)))]);
  clearTimeout(bound);
  assert.equal(code, 3, `docker run returned ${code}: ${stderr}`);

  // Still full: the exit is known all the same.
  const c = await api(d.socket, 'GET', '/containers/exits-on-full/json');
  assert.equal(c.status, 200);
  assert.equal(c.json.State.Status, 'exited');
  assert.equal(c.json.State.Running, false);
  assert.equal(c.json.State.ExitCode, 3);
  assert.equal(c.json.State.Pid, 0);
  const stop = await docker(d.env, 'stop', 'exits-on-full');
  assert.equal(stop.code, 0, stop.stderr);

  free();
  free = () => undefined;
  // The exit survives a restart once the disk took it.
  await d.restart();
  const after = await api(d.socket, 'GET', '/containers/exits-on-full/json');
  assert.equal(after.json.State.Status, 'exited');
  assert.equal(after.json.State.ExitCode, 3);
  const rm = await docker(d.env, 'rm', 'exits-on-full');
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal((await api(d.socket, 'GET', '/containers/exits-on-full/json')).status, 404);
  assert.equal(readFileSync(join(ctl, 'go'), 'utf8'), '');
});
