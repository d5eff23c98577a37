// check on damaged repositories (restic's damaged fixtures, made on the
// fly): one flipped byte in a data pack, a missing pack, a missing index
// entry, a damaged tree pack, a damaged snapshot file. Each time check
// fails and names the affected snapshots and file paths; a sound
// repository passes, and a write-only key checks what it can.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRepository, type CheckReport } from '../../../src/backup/engine/check.js';
import { encodeIndexFile, decodeIndexFile } from '../../../src/backup/repo/index-file.js';
import { Repository } from '../../../src/backup/repo/repository.js';
import { generateIdentity } from '../../../src/backup/repo/recipients.js';
import type { SnapshotRecord } from '../../../src/backup/repo/snapshot.js';
import { MemoryTarget } from '../../helpers/memory-target.js';
import { backupTree, newRepository, PASSWORD } from '../../helpers/backup.js';

let work: string;
let root: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-backup-check-'));
  root = join(work, 'volume');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs', 'report.pdf'), randomBytes(300_000));
  writeFileSync(join(root, 'notes.txt'), 'small notes\n');
});
after(() => rmSync(work, { recursive: true, force: true }));

/** A repository with one snapshot of the volume, and a second volume whose snapshot holds only its own file. */
async function fixture(): Promise<{ repo: Repository; mem: MemoryTarget; snap: SnapshotRecord; other: SnapshotRecord }> {
  const { repo, target } = await newRepository();
  const snap = await backupTree(repo, root, 'vol');
  const otherRoot = join(work, `other-${Math.random()}`);
  mkdirSync(otherRoot);
  writeFileSync(join(otherRoot, 'unrelated'), randomBytes(50_000));
  const other = await backupTree(repo, otherRoot, 'other');
  return { repo: await Repository.open(target, { password: PASSWORD }), mem: target as MemoryTarget, snap, other };
}

/** The pack holding a data blob of the file at `path` in the snapshot. */
async function packOfFile(repo: Repository, snap: SnapshotRecord, path: string[]): Promise<{ pack: string; blob: Buffer; offset: number }> {
  let tree = await repo.loadTree(Buffer.from(snap.tree, 'hex'));
  let node = tree.nodes[0]!;
  for (const part of path) {
    if (node.type !== 'directory') throw new Error('not a directory');
    tree = await repo.loadTree(node.subtree);
    node = tree.nodes.find((n) => n.name.toString() === part)!;
  }
  if (node.type !== 'file') throw new Error('not a file');
  const loc = repo.index.get(node.content[0]!)!;
  return { pack: loc.pack.name, blob: node.content[0]!, offset: loc.offset };
}

function affectedPaths(report: CheckReport, snapshot: string): string[] {
  return report.affected.find((a) => a.snapshot === snapshot)?.paths.map((p) => p.path) ?? [];
}

test('a sound repository passes check, with and without reading all data', async () => {
  const { repo } = await fixture();
  const report = await checkRepository(repo, { readData: 100 });
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.snapshots, 2);
  assert.equal(report.packsRead, report.packs);
  assert.deepEqual(report.affected, []);
});

test('one corrupted byte in a data pack: read-data names the snapshot and the file', async () => {
  const { repo, mem, snap, other } = await fixture();
  const { pack, offset } = await packOfFile(repo, snap, ['docs', 'report.pdf']);
  mem.files.get(`data/${pack}`)![offset + 100]! ^= 0x01;
  // The structure is intact: only reading the data finds it.
  assert.equal((await checkRepository(repo)).ok, true);
  const report = await checkRepository(repo, { readData: 100 });
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p) => p.kind === 'pack-damaged'));
  assert.deepEqual(affectedPaths(report, snap.id), ['docs/report.pdf']);
  assert.deepEqual(affectedPaths(report, other.id), []);
});

test('a missing pack: check names every file whose data was in it', async () => {
  const { repo, mem, snap } = await fixture();
  const { pack } = await packOfFile(repo, snap, ['docs', 'report.pdf']);
  mem.files.delete(`data/${pack}`);
  const report = await checkRepository(repo);
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p) => p.kind === 'pack-missing'));
  const paths = affectedPaths(report, snap.id);
  assert.ok(paths.includes('docs/report.pdf'), paths.join());
  assert.ok(report.affected.every((a) => a.paths.every((p) => /missing/.test(p.problem))));
});

test('a missing index entry: check names the file whose blob no index lists', async () => {
  const { repo, mem, snap, other } = await fixture();
  const { blob } = await packOfFile(repo, snap, ['notes.txt']);
  for (const name of mem.names('index')) {
    const packs = decodeIndexFile(await repo.loadMetadata('index', name), 'index');
    const kept = packs.map((p) => ({ ...p, blobs: p.blobs.filter((b) => !b.id.equals(blob)) }));
    if (kept.every((p, i) => p.blobs.length === packs[i]!.blobs.length)) continue;
    mem.files.delete(`index/${name}`);
    await repo.saveMetadata('index', encodeIndexFile(kept));
  }
  const report = await checkRepository(await Repository.open(mem, { password: PASSWORD }));
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p) => p.kind === 'blob-missing'));
  assert.deepEqual(affectedPaths(report, snap.id), ['notes.txt']);
  assert.deepEqual(affectedPaths(report, other.id), []);
});

test('a damaged tree pack: check names the directories whose listing is lost', async () => {
  const { repo, mem, snap } = await fixture();
  const root = (await repo.loadTree(Buffer.from(snap.tree, 'hex'))).nodes[0]!;
  assert.equal(root.type, 'directory');
  const docs = (await repo.loadTree(root.type === 'directory' ? root.subtree : Buffer.alloc(0))).nodes.find((n) => n.name.toString() === 'docs')!;
  const loc = repo.index.get(docs.type === 'directory' ? docs.subtree : Buffer.alloc(0))!;
  mem.files.get(`data/${loc.pack.name}`)![loc.offset + 20]! ^= 0x80;
  const report = await checkRepository(await Repository.open(mem, { password: PASSWORD }));
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p) => p.kind === 'blob-damaged'));
  assert.deepEqual(affectedPaths(report, snap.id), ['docs']);
});

test('a damaged snapshot file is reported, the others still checked', async () => {
  const { repo, mem, snap, other } = await fixture();
  mem.files.get(`snapshots/${snap.id}`)![40]! ^= 0x01;
  const report = await checkRepository(repo);
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p) => p.kind === 'snapshot-damaged' && p.message.includes(snap.id.slice(0, 8))));
  assert.equal(report.snapshots, 1);
  assert.deepEqual(affectedPaths(report, other.id), []);
});

test('a write-only key checks the structure and pack headers but cannot walk trees', async () => {
  const { repo, mem } = await fixture();
  const identity = generateIdentity();
  await repo.addKey('write-only', { recipient: identity.recipient });
  const writer = await Repository.open(mem, { identity: identity.identity });
  const report = await checkRepository(writer, { readData: 100 });
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.treesChecked, false);
  // A flipped header byte is seen without the read key: the header no longer matches the pack's name.
  const pack = mem.names('data')[0]!;
  const bytes = mem.files.get(`data/${pack}`)!;
  bytes[bytes.length - 60]! ^= 0x01;
  assert.equal((await checkRepository(writer, { readData: 100 })).ok, false);
});

test('packs no index lists are a warning, not an error', async () => {
  const { repo, mem } = await fixture();
  await mem.put('data', 'ab'.repeat(32), randomBytes(1000));
  const report = await checkRepository(repo);
  assert.equal(report.ok, true);
  assert.ok(report.problems.some((p) => p.kind === 'pack-unreferenced' && p.severity === 'warning'));
});
