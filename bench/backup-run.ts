// One backup operation as a process of its own, for bench/backup.ts (its
// peak RSS is this process's): `init REPO`, `backup REPO ROOT VOLUME CACHE`
// (the newest snapshot of VOLUME is the parent; the cache keeps trees), or
// `restore REPO SNAPSHOT DIR`. The passphrase comes from BERTH_PASSWORD.
// Prints one JSON line: the operation's own milliseconds and its figures.
import { mkdirSync } from 'node:fs';
import { DirectoryTarget } from '../test/helpers/directory-target.js';
import { Repository } from '../src/backup/repo/repository.js';
import { findParent, startBackup } from '../src/backup/engine/backup.js';
import { restoreSnapshot } from '../src/backup/engine/restore.js';

const [op, repoDir, a, b, c] = process.argv.slice(2);
const password = process.env.BERTH_PASSWORD ?? '';
const target = new DirectoryTarget(repoDir!);

if (op === 'init') {
  await Repository.init(target, { password });
  console.log(JSON.stringify({ ok: true }));
} else if (op === 'backup' && a && b && c) {
  const repo = await Repository.open(target, { password });
  const t0 = performance.now();
  const parent = await findParent(repo, b);
  const session = await startBackup(repo, { cacheDir: c, ...(parent ? { parent } : {}) });
  const live = await session.scan(a);
  const t1 = performance.now();
  const frozen = await live.recheck();
  const t2 = performance.now();
  const snap = await session.finish(frozen, { volume: { name: b }, consistency: { mode: 'freeze', freezeMs: Math.round(t2 - t1) } });
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ ms, recheckMs: t2 - t1, snapshot: snap.id, bytesAdded: snap.summary.bytesAdded, size: snap.summary.size, files: snap.summary.files, captured: frozen.captured }));
} else if (op === 'restore' && a && b) {
  const repo = await Repository.open(target, { password });
  mkdirSync(b, { recursive: true });
  const t0 = performance.now();
  const r = await restoreSnapshot(repo, a, b);
  console.log(JSON.stringify({ ms: performance.now() - t0, bytes: r.bytes, files: r.files }));
} else {
  console.error('usage: backup-run init REPO | backup REPO ROOT VOLUME CACHE | restore REPO SNAPSHOT DIR');
  process.exit(2);
}
