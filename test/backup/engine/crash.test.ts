// kill -9 of a backup at random points of its write order (after the k-th
// file it put: packs, index files, the snapshot) leaves a repository that
// check accepts (unreferenced packs are only a warning); the dead
// process's lock does not block, and the next backup works and restores.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkRepository } from '../../../src/backup/engine/check.js';
import { restoreSnapshot } from '../../../src/backup/engine/restore.js';
import { Repository } from '../../../src/backup/repo/repository.js';
import { DirectoryTarget } from '../../helpers/directory-target.js';
import { fullManifest } from '../../helpers/tree-manifest.js';
import { backupTree, newRepository, PASSWORD } from '../../helpers/backup.js';

const CHILD = new URL('./crash-child.js', import.meta.url).pathname;

let work: string;
let root: string;
let repoDir: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-backup-crash-'));
  root = join(work, 'volume');
  for (let d = 0; d < 4; d++) {
    mkdirSync(join(root, `d${d}`), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(root, `d${d}`, `f${i}`), randomBytes(20_000 + i * 100));
  }
  writeFileSync(join(root, 'large'), randomBytes(12 << 20));
  repoDir = join(work, 'repo');
  // Small packs: many puts, so a kill lands between any two steps of the write order.
  await newRepository(new DirectoryTarget(repoDir), { packSize: 256 << 10 });
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the child and SIGKILLs it once it has put `k` files (or lets it finish); resolves with what it put. */
function runAndKill(k: number): Promise<{ puts: string[]; finished: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, repoDir, root, PASSWORD], { stdio: ['ignore', 'pipe', 'inherit'] });
    const puts: string[] = [];
    let finished = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('put ')) puts.push(line.slice(4));
      if (line.startsWith('done ')) finished = true;
      if (puts.length >= k && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => resolve({ puts, finished }));
  });
}

test('kill -9 at random points of a backup leaves a repository check accepts, and the next backup works', async () => {
  const total = (await runAndKill(Number.MAX_SAFE_INTEGER)).puts.length;
  assert.ok(total > 20, `a full backup puts ${total} files`);
  const points = [1, 2, Math.floor(total / 2), total - 2, total - 1, ...Array.from({ length: 5 }, () => 1 + Math.floor(Math.random() * (total - 1)))];
  for (const k of points) {
    // Each run adds a bit of new data, so later runs store packs again.
    writeFileSync(join(root, `changing-${k}`), randomBytes(300_000));
    const { puts } = await runAndKill(k);
    const repo = await Repository.open(new DirectoryTarget(repoDir), { password: PASSWORD });
    const report = await checkRepository(repo, { readData: 100 });
    assert.equal(report.ok, true, `killed after ${puts.length} puts (${puts.slice(-3).join(', ')}): ${JSON.stringify(report.problems.filter((p) => p.severity === 'error'))}`);
  }
  const repo = await Repository.open(new DirectoryTarget(repoDir), { password: PASSWORD });
  const snap = await backupTree(repo, root, 'crash');
  const out = join(work, 'restored');
  mkdirSync(out);
  await restoreSnapshot(repo, snap.id, out);
  assert.deepEqual(fullManifest(out).map((e) => [e.path, e.content]), fullManifest(root).map((e) => [e.path, e.content]));
});
