// Container configuration (environments with secrets) is readable by root only:
// the database with its WAL and SHM files, the OCI spec, the shim's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon } from '../helpers/daemon.js';
import { docker } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';

/**
 * Regular files under `dir`, not descending into container root
 * filesystems, image layers or volume data, and not the files something is
 * mounted on (a running container's network namespace in netns/).
 */
function filesUnder(dir: string, out: string[] = []): string[] {
  const dev = lstatSync(dir).dev;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'fs' || e.name === '_data' || e.name === 'layers') continue;
      filesUnder(p, out);
    } else if (e.isFile() && lstatSync(p).dev === dev) {
      out.push(p);
    }
  }
  return out;
}

test('files holding a container environment are 0600', async (t) => {
  const d = await startDaemon(t);
  await importTestImages(d.env);
  const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
  const run = await docker(d.env, 'run', '-d', '--name', 'modes', '-e', `DB_PASSWORD=${secret}`, 'busybox', 'sleep', '600');
  assert.equal(run.code, 0, run.stderr);
  t.after(() => docker(d.env, 'rm', '-f', 'modes'));
  const exec = await docker(d.env, 'exec', '-d', '-e', `EXEC_SECRET=${secret}`, 'modes', 'sleep', '600');
  assert.equal(exec.code, 0, exec.stderr);

  for (const f of ['berth.db', 'berth.db-wal', 'berth.db-shm']) {
    assert.equal(statSync(join(d.dataRoot, f)).mode & 0o777, 0o600, f);
  }
  const holding: string[] = [];
  for (const f of filesUnder(d.dataRoot)) {
    if (lstatSync(f).size > 64 << 20) continue;
    if (!readFileSync(f).includes(secret)) continue;
    holding.push(relative(d.dataRoot, f));
    assert.equal(statSync(f).mode & 0o077, 0, `${relative(d.dataRoot, f)} holds the secret and is mode ${(statSync(f).mode & 0o777).toString(8)}`);
  }
  // The walk found the places that hold it, so the assertions above were made.
  assert.ok(holding.some((f) => f.startsWith('berth.db')), holding.join(', '));
  assert.ok(holding.some((f) => f.endsWith('config.json')), holding.join(', '));
});

test('an existing world-readable database is tightened at start', async (t) => {
  const d = await startDaemon(t);
  // kill -9 leaves the WAL and SHM files behind, as a berth before this fix left them: 0644.
  await d.kill9();
  for (const f of ['berth.db', 'berth.db-wal', 'berth.db-shm']) chmodSync(join(d.dataRoot, f), 0o644);
  await d.restart();
  for (const f of ['berth.db', 'berth.db-wal', 'berth.db-shm']) {
    assert.equal(statSync(join(d.dataRoot, f)).mode & 0o777, 0o600, f);
  }
});
