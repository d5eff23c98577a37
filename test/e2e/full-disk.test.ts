// A full disk: creates fail with a clear error, nothing already stored is lost,
// and the daemon works again once space is freed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from '../helpers/daemon.js';
import { api } from '../helpers/http.js';

test('volume create on a full data root fails cleanly and loses nothing', async (t) => {
  const d = await startDaemon(t, [], { dataRootTmpfsSize: '4m' });
  assert.equal((await api(d.socket, 'POST', '/volumes/create', { Name: 'keep', Labels: { a: '1' } })).status, 201);
  writeFileSync(join(d.dataRoot, 'volumes', 'keep', '_data', 'precious'), 'do not lose me\n');
  // Fill the filesystem.
  const filler = join(d.dataRoot, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(8 * 1024 * 1024));
  } catch {
    // ENOSPC: the disk is now full, as wanted
  }
  let failure: { status: number; json: { message: string } } | undefined;
  for (let i = 0; i < 200 && !failure; i++) {
    const r = await api(d.socket, 'POST', '/volumes/create', { Name: `v${i}`, Labels: { big: 'x'.repeat(4000) } });
    if (r.status !== 201) failure = r;
  }
  assert.ok(failure, 'a create failed once the disk was full');
  assert.ok(failure.status >= 500, `status ${failure.status}`);
  assert.match(failure.json.message, /no space left on device|disk is full/i);
  // The daemon still answers and still has what it had.
  const keep = await api(d.socket, 'GET', '/volumes/keep');
  assert.equal(keep.status, 200);
  assert.deepEqual(keep.json.Labels, { a: '1' });
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'keep', '_data', 'precious'), 'utf8'), 'do not lose me\n');
  const list = await api(d.socket, 'GET', '/volumes');
  assert.equal(list.status, 200);
  // Free space: creating works again, and the failed names left nothing half-made.
  rmSync(filler, { force: true });
  const again = await api(d.socket, 'POST', '/volumes/create', { Name: 'after' });
  assert.equal(again.status, 201, again.text);
  await d.restart();
  const names = ((await api(d.socket, 'GET', '/volumes')).json.Volumes as Array<{ Name: string }>).map((v) => v.Name);
  assert.ok(names.includes('keep') && names.includes('after'));
  const { assertStoreMatchesDisk } = await import('../helpers/consistency.js');
  await assertStoreMatchesDisk(d.socket, d.dataRoot);
});

test('volume import onto a full data root fails with a message, keeps the volume as it was and leaves no staging behind', async (t) => {
  const d = await startDaemon(t, [], { dataRootTmpfsSize: '16m' });
  const { mkdtempSync, mkdirSync, readdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { execFileSync } = await import('node:child_process');
  const { berth } = await import('../helpers/run.js');
  const work = mkdtempSync(join(tmpdir(), 'berth-fullimport-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  // An archive bigger than the whole data root (random data: no compression helps).
  const src = join(work, 'src');
  mkdirSync(src);
  execFileSync('dd', ['if=/dev/urandom', `of=${join(src, 'big')}`, 'bs=1M', 'count=24'], { stdio: 'ignore' });
  const archive = join(work, 'big.tar');
  execFileSync('tar', ['--format=posix', '-C', src, '-cf', archive, '.']);

  assert.equal((await api(d.socket, 'POST', '/volumes/create', { Name: 'keep' })).status, 201);
  writeFileSync(join(d.dataRoot, 'volumes', 'keep', '_data', 'precious'), 'do not lose me\n');

  const replace = await berth(d.env, 'volume', 'import', '--replace', 'keep', archive, '--progress', 'none');
  assert.equal(replace.code, 1, replace.stderr);
  assert.match(replace.stderr, /^Error response from daemon: .*no space left on device/);
  assert.deepEqual(readdirSync(join(d.dataRoot, 'volumes', 'keep', '_data')), ['precious']);
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'keep', '_data', 'precious'), 'utf8'), 'do not lose me\n');

  const fresh = await berth(d.env, 'volume', 'import', 'fresh', archive, '--progress', 'none');
  assert.equal(fresh.code, 1, fresh.stderr);
  assert.match(fresh.stderr, /no space left on device/);
  assert.equal((await api(d.socket, 'GET', '/volumes/fresh')).status, 404);
  // Nothing half-made stays behind: the staging directory is empty again and the space is back.
  assert.deepEqual(readdirSync(join(d.dataRoot, 'volumes', '.staging')), []);
  const small = join(work, 'small');
  mkdirSync(small);
  writeFileSync(join(small, 'f'), 'fits\n');
  execFileSync('tar', ['--format=posix', '-C', small, '-cf', join(work, 'small.tar'), '.']);
  const after = await berth(d.env, 'volume', 'import', 'fits', join(work, 'small.tar'), '--progress', 'none');
  assert.equal(after.code, 0, after.stderr);
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'fits', '_data', 'f'), 'utf8'), 'fits\n');
});
