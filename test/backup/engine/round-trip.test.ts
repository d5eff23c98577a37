// Backup and restore of real trees: the fidelity fixture comes back exactly
// (full manifests, data extents and content hashes included); two volumes
// share their blobs; an incremental backup reads only what changed and,
// with the cache, needs no tree from the repository; a write-only key backs
// up (incrementally, from its cache) and lists, but cannot restore; large
// files in fixed blocks store only the blocks that changed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, openSync, closeSync, rmSync, writeFileSync, writeSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { findParent, type BackupProgress } from '../../../src/backup/engine/backup.js';
import { restoreSnapshot } from '../../../src/backup/engine/restore.js';
import { Repository } from '../../../src/backup/repo/repository.js';
import { generateIdentity } from '../../../src/backup/repo/recipients.js';
import { WriteOnlyKey } from '../../../src/backup/repo/errors.js';
import { InvalidParameter } from '../../../src/errors.js';
import { buildFixture, fullManifest } from '../../helpers/tree-manifest.js';
import { MemoryTarget } from '../../helpers/memory-target.js';
import { backupTree, newRepository, PASSWORD, scratchSpace } from '../../helpers/backup.js';

const scratch = scratchSpace('backup-rt');
const freshDir = scratch.fresh;

let fixture: string;

before(() => {
  fixture = join(scratch.root, 'fixture');
  buildFixture(fixture);
});

/** Nothing writes to these trees while they are backed up: what was read before a backup began is trusted. */
const STILL = { racyWindowMs: 0 };

test('the fidelity fixture survives backup and restore exactly', async () => {
  const { repo } = await newRepository();
  const expected = fullManifest(fixture);
  const backupProgress: BackupProgress[] = [];
  const snap = await backupTree(repo, fixture, 'fixture', { onProgress: (p) => backupProgress.push(p) });
  assert.equal(snap.summary.files, expected.length - 1);
  // Progress knew the totals from the start (each inode's data once) and ended with what was added.
  const inodes = expected.filter((e) => e.type === 'file' && (e.linkGroup === undefined || e.linkGroup === e.path));
  assert.equal(backupProgress[0]!.totalFiles, expected.length);
  assert.equal(backupProgress.at(-1)!.totalBytes, inodes.reduce((n, e) => n + e.size, 0));
  assert.equal(backupProgress.at(-1)!.bytesAdded, snap.summary.bytesAdded);
  const out = freshDir();
  const progress: number[] = [];
  const r = await restoreSnapshot(repo, snap.id, out, { onProgress: (p) => progress.push(p.files) });
  assert.deepEqual(fullManifest(out), expected);
  assert.equal(r.files, expected.length);
  assert.equal(progress.at(-1), expected.length);
});

test('restore refuses a directory that is not empty', async () => {
  const { repo } = await newRepository();
  const snap = await backupTree(repo, fixture, 'fixture');
  const out = freshDir();
  writeFileSync(join(out, 'here'), 'x');
  await assert.rejects(restoreSnapshot(repo, snap.id, out), InvalidParameter);
});

test('two volumes with the same content share their blobs', async () => {
  const { repo } = await newRepository();
  const a = freshDir();
  for (let i = 0; i < 20; i++) writeFileSync(join(a, `f${i}`), randomBytes(100_000 + i));
  writeFileSync(join(a, 'big'), randomBytes(3 << 20));
  const b = freshDir();
  cpSync(a, b, { recursive: true });
  writeFileSync(join(b, 'only-in-b'), randomBytes(50_000));
  const first = await backupTree(repo, a, 'a');
  const second = await backupTree(repo, b, 'b');
  assert.ok(first.summary.bytesAdded > 5_000_000);
  // b adds its one new file and its trees, nothing of what a stored.
  assert.ok(second.summary.bytesAdded < 60_000, `b added ${second.summary.bytesAdded}`);
  const out = freshDir();
  await restoreSnapshot(repo, second.id, out);
  assert.ok(readFileSync(join(out, 'big')).equals(readFileSync(join(a, 'big'))));
});

test('an incremental backup reads only what changed and reuses the rest', async () => {
  const { repo, target } = await newRepository();
  const root = freshDir();
  for (let d = 0; d < 5; d++) {
    mkdirSync(join(root, `d${d}`));
    for (let i = 0; i < 40; i++) writeFileSync(join(root, `d${d}`, `f${i}`), randomBytes(20_000));
  }
  const cache = freshDir();
  const first = await backupTree(repo, root, 'v', { ...STILL, cacheDir: cache });
  writeFileSync(join(root, 'd2', 'f7'), randomBytes(20_000));
  writeFileSync(join(root, 'd4', 'new'), randomBytes(1000));
  rmSync(join(root, 'd0', 'f0'));
  const mem = target as MemoryTarget;
  const readsBefore = mem.calls.getRange + mem.calls.get;
  const second = await backupTree(repo, root, 'v', { ...STILL, cacheDir: cache, parent: await findParent(repo, 'v') });
  assert.equal(second.parent, first.id);
  // Two files were read; their blobs, the changed trees and the root are new.
  assert.ok(second.summary.bytesAdded < 25_000 + 1000 + 4 * 8000, `added ${second.summary.bytesAdded}`);
  // The parent's trees came from the cache: nothing was read from the repository but the snapshot list and index.
  const packReads = mem.calls.getRange + mem.calls.get - readsBefore;
  assert.ok(packReads <= 4, `${packReads} reads`);
  const out = freshDir();
  await restoreSnapshot(repo, second.id, out);
  assert.deepEqual(fullManifest(out).map((e) => [e.path, e.content]), fullManifest(root).map((e) => [e.path, e.content]));
});

test('a write-only key backs up, incrementally from its cache, and lists, but cannot restore or diff', async () => {
  const { repo, target } = await newRepository();
  const identity = generateIdentity();
  await repo.addKey('write-only', { recipient: identity.recipient });
  const writer = await Repository.open(target, { identity: identity.identity });
  const root = freshDir();
  for (let i = 0; i < 30; i++) writeFileSync(join(root, `f${i}`), randomBytes(10_000));
  const cache = freshDir();
  const first = await backupTree(writer, root, 'w', { ...STILL, cacheDir: cache });
  writeFileSync(join(root, 'f3'), randomBytes(10_000));
  const second = await backupTree(writer, root, 'w', { ...STILL, cacheDir: cache, parent: first.id });
  assert.ok(second.summary.bytesAdded < 20_000, `added ${second.summary.bytesAdded}`);
  assert.deepEqual((await writer.listSnapshots()).map((s) => s.id).sort(), [first.id, second.id].sort());
  await assert.rejects(restoreSnapshot(writer, second.id, freshDir()), WriteOnlyKey);
  // Without the cache it backs up everything again, reading every file, and still stores only what is new.
  const third = await backupTree(writer, root, 'w', { ...STILL, cacheDir: freshDir(), parent: second.id });
  assert.ok(third.summary.bytesAdded < 10_000, `added ${third.summary.bytesAdded}`);
  // The full key restores what the write-only key wrote.
  const out = freshDir();
  await restoreSnapshot(await Repository.open(target, { password: PASSWORD }), third.id, out);
  assert.deepEqual(fullManifest(out).map((e) => e.content), fullManifest(root).map((e) => e.content));
});

test('large files in fixed blocks store only the blocks scattered writes touched', async () => {
  // A small-scale twin of the 2 GiB database case: fixed blocks from 8 MiB of data, 16 KiB blocks.
  const { repo } = await newRepository(new MemoryTarget(), { chunker: { min: 64 << 10, avg: 128 << 10, max: 1 << 20, fixedFrom: 8 << 20 } });
  const root = freshDir();
  const db = join(root, 'db');
  writeFileSync(db, randomBytes(40 << 20)); // two parts of 32 MiB: read by both threads
  const cache = freshDir();
  const first = await backupTree(repo, root, 'db', { ...STILL, cacheDir: cache });
  const fd = openSync(db, 'r+');
  for (let i = 0; i < 80; i++) writeSync(fd, randomBytes(4096), 0, 4096, Math.floor(Math.random() * ((40 << 20) / 4096)) * 4096);
  closeSync(fd);
  const second = await backupTree(repo, root, 'db', { ...STILL, cacheDir: cache, parent: first.id });
  // At most 80 blocks of 16 KiB, plus the file's new block list (2,560 IDs) in its tree.
  assert.ok(second.summary.bytesAdded < 80 * 16_500 + 2560 * 33 + 10_000, `added ${second.summary.bytesAdded}`);
  const out = freshDir();
  await restoreSnapshot(repo, second.id, out);
  assert.ok(readFileSync(join(out, 'db')).equals(readFileSync(db)));
});

test('a parent whose trees cannot be read costs reading the files again, not the backup', async () => {
  const { repo, target } = await newRepository();
  const root = freshDir();
  mkdirSync(join(root, 'sub'));
  for (let i = 0; i < 10; i++) writeFileSync(join(root, 'sub', `f${i}`), randomBytes(10_000));
  const first = await backupTree(repo, root, 'v', STILL);
  // Damage the parent's tree of sub/, then change a file there (so the new snapshot has trees of its own).
  const rootNode = (await repo.loadTree(Buffer.from(first.tree, 'hex'))).nodes[0]!;
  const sub = (await repo.loadTree(rootNode.type === 'directory' ? rootNode.subtree : Buffer.alloc(0))).nodes[0]!;
  const loc = repo.index.get(sub.type === 'directory' ? sub.subtree : Buffer.alloc(0))!;
  (target as MemoryTarget).files.get(`data/${loc.pack.name}`)![loc.offset + 3]! ^= 1;
  writeFileSync(join(root, 'sub', 'f0'), randomBytes(10_000));
  const reopened = await Repository.open(target, { password: PASSWORD });
  const second = await backupTree(reopened, root, 'v', { ...STILL, parent: first.id });
  const out = freshDir();
  await restoreSnapshot(reopened, second.id, out);
  assert.deepEqual(fullManifest(out).map((e) => e.content), fullManifest(root).map((e) => e.content));
});
