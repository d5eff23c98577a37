// forget: the keep rules per volume, by ID, dry runs, and the refusals
// (no rule; a volume left with nothing). prune: what no snapshot uses goes,
// what they use stays (restores and check --read-data prove it), packs
// partly used are rewritten, packs no index lists are recovered from their
// headers, and nothing is deleted when it cannot tell what is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { checkRepository } from '../../../src/backup/engine/check.js';
import { applyPolicy, forgetSnapshots } from '../../../src/backup/engine/forget.js';
import { pruneRepository } from '../../../src/backup/engine/prune.js';
import { restoreSnapshot } from '../../../src/backup/engine/restore.js';
import { Repository } from '../../../src/backup/repo/repository.js';
import type { SnapshotRecord } from '../../../src/backup/repo/snapshot.js';
import { Conflict, InvalidParameter } from '../../../src/errors.js';
import { MemoryTarget } from '../../helpers/memory-target.js';
import { backupTree, newRepository, PASSWORD, scratchSpace } from '../../helpers/backup.js';

const scratch = scratchSpace('backup-prune');
const freshDir = scratch.fresh;


const HOUR = 3_600_000_000_000n;
const T0 = BigInt(Date.UTC(2024, 0, 1, 0, 30)) * 1_000_000n; // Monday 2024-01-01 00:30 UTC

/** Snapshots of `volume` at the given times (all naming one real tree). */
async function snapshotsAt(repo: Repository, template: SnapshotRecord, volume: string, times: bigint[]): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  for (const timeNs of times) {
    const { id: _id, ...doc } = template;
    out.push(await repo.saveSnapshot({ ...doc, timeNs, volume: { ...doc.volume, name: volume } }));
  }
  return out;
}

async function templateSnapshot(repo: Repository): Promise<SnapshotRecord> {
  const root = freshDir();
  writeFileSync(join(root, 'f'), 'x');
  return backupTree(repo, root, 'template');
}

test('keep rules pick the newest snapshot of each bucket, per volume', async () => {
  const { repo } = await newRepository();
  const template = await templateSnapshot(repo);
  // Every 6 hours for 30 days.
  const hourly = await snapshotsAt(repo, template, 'db', Array.from({ length: 120 }, (_, i) => T0 + BigInt(i) * 6n * HOUR));
  const byId = (ids: Iterable<string>): bigint[] => [...ids].map((id) => hourly.find((s) => s.id === id)!.timeNs).sort((a, b) => (a < b ? -1 : 1));
  const last3 = applyPolicy(hourly, { last: 3 }, true);
  assert.deepEqual(byId(last3.keys()), hourly.slice(-3).map((s) => s.timeNs));
  // Daily: the last snapshot of each of the 7 newest days (18:30).
  const daily = applyPolicy(hourly, { daily: 7 }, true);
  assert.equal(daily.size, 7);
  for (const t of byId(daily.keys())) assert.equal(new Date(Number(t / 1_000_000n)).getUTCHours(), 18);
  // Weekly: ISO weeks (Monday to Sunday): 2024-01-01 is a Monday; 30 days touch 5 weeks.
  assert.equal(applyPolicy(hourly, { weekly: 10 }, true).size, 5);
  assert.equal(applyPolicy(hourly, { monthly: 10 }, true).size, 1);
  assert.equal(applyPolicy(hourly, { yearly: 3 }, true).size, 1);
  // Within two days of the newest: 2 days of 6-hourly snapshots, plus the newest itself.
  assert.equal(applyPolicy(hourly, { within: '2d' }, true).size, 9);
  // Rules add up; a snapshot kept twice says why.
  const both = applyPolicy(hourly, { last: 1, daily: 2 }, true);
  assert.equal(both.size, 2);
  assert.deepEqual(both.get(hourly.at(-1)!.id), ['last', 'daily']);
});

test('forget applies a policy to each volume apart; a dry run deletes nothing', async () => {
  const { repo } = await newRepository();
  const template = await templateSnapshot(repo);
  const a = await snapshotsAt(repo, template, 'a', [T0, T0 + HOUR, T0 + 2n * HOUR]);
  const b = await snapshotsAt(repo, template, 'b', [T0 + 5n * HOUR]);
  const dry = await forgetSnapshots(repo, { policy: { last: 1 }, dryRun: true, timeZone: 'utc' });
  assert.deepEqual(dry.find((p) => p.volume === 'a')!.remove.map((s) => s.id).sort(), [a[0]!.id, a[1]!.id].sort());
  assert.equal((await repo.listSnapshots()).length, 5);
  await forgetSnapshots(repo, { policy: { last: 1 }, volume: 'a', timeZone: 'utc' });
  const left = (await repo.listSnapshots()).map((s) => s.id).sort();
  assert.deepEqual(left, [template.id, a[2]!.id, b[0]!.id].sort());
});

test('forget refuses without a rule, and refuses to leave a volume without snapshots', async () => {
  const { repo } = await newRepository();
  const template = await templateSnapshot(repo);
  const a = await snapshotsAt(repo, template, 'a', [T0, T0 + HOUR]);
  await assert.rejects(forgetSnapshots(repo, {}), InvalidParameter);
  await assert.rejects(forgetSnapshots(repo, { policy: { last: 0 } }), InvalidParameter);
  await assert.rejects(forgetSnapshots(repo, { ids: a.map((s) => s.id) }), (e: Error) => e instanceof Conflict && /every snapshot of volume a/.test(e.message));
  assert.equal((await repo.listSnapshots()).length, 3, 'nothing was deleted');
  await forgetSnapshots(repo, { ids: [a[0]!.id.slice(0, 10)] });
  assert.deepEqual((await repo.listSnapshots()).map((s) => s.id).sort(), [template.id, a[1]!.id].sort());
});

test('prune removes what no snapshot uses and keeps what they use', async () => {
  const { repo, target } = await newRepository();
  const mem = target as MemoryTarget;
  const root = freshDir();
  writeFileSync(join(root, 'kept'), randomBytes(400_000));
  writeFileSync(join(root, 'replaced'), randomBytes(2 << 20));
  const first = await backupTree(repo, root, 'v');
  writeFileSync(join(root, 'replaced'), randomBytes(2 << 20));
  const second = await backupTree(repo, root, 'v');
  const bytes = (): number => mem.names('data').reduce((n, p) => n + mem.files.get(`data/${p}`)!.length, 0);
  const before = bytes();
  await forgetSnapshots(repo, { policy: { last: 1 } });
  const dry = await pruneRepository(repo, { dryRun: true });
  assert.equal(bytes(), before, 'a dry run deletes nothing');
  const report = await pruneRepository(repo, { maxUnusedPercent: 0 });
  assert.deepEqual({ ...report, indexFilesReplaced: 0 }, { ...dry, indexFilesReplaced: 0, packsWritten: report.packsWritten });
  assert.ok(report.bytesFreed >= 2 << 20, `freed ${report.bytesFreed}`);
  assert.ok(before - bytes() >= 2 << 20);
  const reopened = await Repository.open(target, { password: PASSWORD });
  await assert.rejects(reopened.loadSnapshot(first.id));
  const check = await checkRepository(reopened, { readData: 100 });
  assert.equal(check.ok, true, JSON.stringify(check.problems));
  assert.equal(check.problems.length, 0, 'no pack is left unreferenced');
  const out = freshDir();
  await restoreSnapshot(reopened, second.id, out);
  assert.ok(readFileSync(join(out, 'replaced')).equals(readFileSync(join(root, 'replaced'))));
  assert.ok(readFileSync(join(out, 'kept')).equals(readFileSync(join(root, 'kept'))));
});

test('prune recovers packs no index lists from their headers (a lost index file)', async () => {
  const { repo, target } = await newRepository();
  const mem = target as MemoryTarget;
  const root = freshDir();
  for (let i = 0; i < 10; i++) writeFileSync(join(root, `f${i}`), randomBytes(100_000));
  const snap = await backupTree(repo, root, 'v');
  for (const name of mem.names('index')) mem.files.delete(`index/${name}`);
  const broken = await checkRepository(await Repository.open(target, { password: PASSWORD }));
  assert.equal(broken.ok, false);
  const report = await pruneRepository(await Repository.open(target, { password: PASSWORD }));
  assert.ok(report.packsRecovered > 0);
  assert.equal(report.packsDeleted, 0);
  const repaired = await Repository.open(target, { password: PASSWORD });
  assert.equal((await checkRepository(repaired, { readData: 100 })).ok, true);
  const out = freshDir();
  await restoreSnapshot(repaired, snap.id, out);
  assert.ok(readFileSync(join(out, 'f3')).equals(readFileSync(join(root, 'f3'))));
});

test('prune deletes nothing when a snapshot tree cannot be read', async () => {
  const { repo, target } = await newRepository();
  const mem = target as MemoryTarget;
  const root = freshDir();
  writeFileSync(join(root, 'f'), randomBytes(10_000));
  const snap = await backupTree(repo, root, 'v');
  const loc = repo.index.get(Buffer.from(snap.tree, 'hex'))!;
  mem.files.get(`data/${loc.pack.name}`)![loc.offset + 5]! ^= 1;
  const files = [...mem.files.keys()].sort();
  await assert.rejects(pruneRepository(await Repository.open(target, { password: PASSWORD })), Conflict);
  assert.deepEqual([...mem.files.keys()].sort(), files);
});
