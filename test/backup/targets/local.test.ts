// The local directory target: the conformance suite, then what only a local
// directory has (its layout, temporary files, crashes, a full disk).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidParameter, SystemError } from '../../../src/errors.js';
import { LocalTarget } from '../../../src/backup/targets/local.js';
import { failsWith } from '../../helpers/errors.js';
import { fileName, generated, listed, targetConformance } from './conformance.js';

/** A temporary directory for one test; the repository root is a directory inside it not yet made. */
function repositoryRoot(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-local-target-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'repo');
}

/** Every file below `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

targetConformance({
  name: 'local',
  location: /^local:\/.+\/repo$/,
  async open(t) {
    return new LocalTarget(repositoryRoot(t));
  },
});

test('local: files lie at <kind>/<name>, data at data/<first two chars>/<name>, and no temporary file stays', async (t) => {
  const root = repositoryRoot(t);
  const target = new LocalTarget(root);
  const data = `ab${'0'.repeat(62)}`;
  const index = fileName('index');
  await target.put('data', data, Buffer.from('d'));
  await target.put('index', index, generated(3 * 1024 * 1024, { chunk: 100_000 }));
  await target.put('config', 'config', Buffer.from('c'));
  assert.deepEqual(filesUnder(root), ['config/config', `data/ab/${data}`, `index/${index}`]);
});

test('local: a relative root is refused', () => {
  assert.throws(() => new LocalTarget('repo'), InvalidParameter);
});

test('local: listing skips foreign files, directories and temporary files, and removes temporary files an hour old', async (t) => {
  const root = repositoryRoot(t);
  const target = new LocalTarget(root);
  const name = fileName('snapshots');
  await target.put('snapshots', name, Buffer.from('s'));
  const dir = join(root, 'snapshots');
  const fresh = `${fileName('snapshots')}.tmp-0123456789ab`;
  const stale = `${fileName('snapshots')}.tmp-ba9876543210`;
  writeFileSync(join(dir, fresh), 'half');
  writeFileSync(join(dir, stale), 'half');
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  utimesSync(join(dir, stale), twoHoursAgo, twoHoursAgo);
  writeFileSync(join(dir, '.hidden'), 'x');
  mkdirSync(join(dir, 'subdir'));
  // A data file outside its fan-out directory is not where the layout puts it.
  mkdirSync(join(root, 'data', 'cd'), { recursive: true });
  writeFileSync(join(root, 'data', 'cd', `ef${'1'.repeat(62)}`), 'misplaced');
  assert.deepEqual(await listed(target, 'snapshots'), [{ name, size: 1 }]);
  assert.deepEqual(await listed(target, 'data'), []);
  assert.deepEqual(readdirSync(dir).sort(), [fresh, '.hidden', name, 'subdir'].sort(), 'the stale temporary file is gone, the fresh one kept');
});

test('local: a put killed -9 midway leaves only a temporary file, which no read sees', { timeout: 60_000 }, async (t) => {
  const root = repositoryRoot(t);
  const name = fileName('data');
  const child = spawn(process.execPath, [join(import.meta.dirname, 'put-until-killed.js'), root, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => (line === 'writing' ? resolve() : reject(new Error(line))));
    child.once('exit', (code) => reject(new Error(`the put exited with ${code} before writing: ${stderr}`)));
  });
  const dir = join(root, 'data', name.slice(0, 2));
  const inProgress = readdirSync(dir);
  assert.equal(inProgress.length, 1);
  assert.match(inProgress[0] ?? '', new RegExp(`^${name}\\.tmp-[0-9a-f]+$`));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  const target = new LocalTarget(root);
  assert.deepEqual(await listed(target, 'data'), []);
  assert.equal(await target.stat('data', name), undefined);
  assert.deepEqual(readdirSync(dir), inProgress, 'a fresh temporary file may be a put still running elsewhere: kept');
  // A put of the same name afterwards is unaffected by the leftover.
  await target.put('data', name, Buffer.from('whole'));
  assert.equal((await target.get('data', name)).toString(), 'whole');
  // An hour later the leftover is abandoned: the next listing removes it.
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  utimesSync(join(dir, inProgress[0] ?? ''), twoHoursAgo, twoHoursAgo);
  assert.deepEqual(await listed(target, 'data'), [{ name, size: 5 }]);
  assert.deepEqual(readdirSync(dir), [name]);
});

test('local: a full disk fails the put with ENOSPC, naming the file, and leaves nothing behind', { skip: process.getuid?.() !== 0 ? 'mounting a small tmpfs needs root' : false }, async (t) => {
  // Its own directory: the tmpfs must be unmounted before the directory is removed.
  const root = mkdtempSync(join(tmpdir(), 'berth-local-target-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', root]);
  t.after(() => {
    execFileSync('umount', ['-l', root]);
    rmSync(root, { recursive: true, force: true });
  });
  const target = new LocalTarget(root);
  const name = fileName('data');
  for (const body of [Buffer.alloc(2 * 1024 * 1024, 'x'), generated(2 * 1024 * 1024, { chunk: 64 * 1024 })]) {
    await assert.rejects(target.put('data', name, body), failsWith(SystemError, `local:${root}: write data/${name.slice(0, 2)}/${name}: no space left on device (ENOSPC)`));
    assert.deepEqual(filesUnder(root), []);
    assert.deepEqual(await listed(target, 'data'), []);
  }
  // The space the failed puts took is free again.
  await target.put('data', name, Buffer.alloc(512 * 1024));
  assert.equal((await target.stat('data', name))?.size, 512 * 1024);
});
