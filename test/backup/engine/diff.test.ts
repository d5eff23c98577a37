// diff of two snapshots: added, removed and changed paths, with what
// changed; a directory added or removed brings its entries along; a type
// change is a removal and an addition; unchanged subtrees are not read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chownSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffSnapshots } from '../../../src/backup/engine/diff.js';
import { backupTree, newRepository } from '../../helpers/backup.js';

let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-backup-diff-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

test('diff names what was added, removed and changed, and how', async () => {
  const { repo } = await newRepository();
  const root = join(work, 'v');
  mkdirSync(join(root, 'keep', 'deep'), { recursive: true });
  mkdirSync(join(root, 'old-dir'));
  writeFileSync(join(root, 'keep', 'deep', 'same'), 'same\n');
  writeFileSync(join(root, 'old-dir', 'a'), 'a\n');
  writeFileSync(join(root, 'content'), 'before\n');
  writeFileSync(join(root, 'mode'), 'm\n');
  writeFileSync(join(root, 'owner'), 'o\n');
  writeFileSync(join(root, 'becomes-link'), 'file\n');
  symlinkSync('target-1', join(root, 'link'));
  const a = await backupTree(repo, root, 'v');
  writeFileSync(join(root, 'content'), 'after, longer\n');
  chmodSync(join(root, 'mode'), 0o600);
  chownSync(join(root, 'owner'), 1234, 1234);
  rmSync(join(root, 'old-dir'), { recursive: true });
  mkdirSync(join(root, 'new-dir'));
  writeFileSync(join(root, 'new-dir', 'b'), 'b\n');
  unlinkSync(join(root, 'becomes-link'));
  symlinkSync('elsewhere', join(root, 'becomes-link'));
  unlinkSync(join(root, 'link'));
  symlinkSync('target-2', join(root, 'link'));
  const b = await backupTree(repo, root, 'v');
  const diff = await diffSnapshots(repo, a.id.slice(0, 8), b.id);
  const rows = diff.entries.map((e) => `${e.change} ${e.path.toString()}${e.fields ? ` ${e.fields.filter((f) => f !== 'mtime').join(',')}` : ''}`);
  for (const expected of [
    'changed content content,size',
    'changed mode mode',
    'changed owner owner',
    'removed old-dir',
    'removed old-dir/a',
    'added new-dir',
    'added new-dir/b',
    'removed becomes-link',
    'added becomes-link',
    'changed link target',
  ]) {
    assert.ok(rows.includes(expected), `${expected} missing from:\n${rows.join('\n')}`);
  }
  assert.ok(!rows.some((r) => r.includes('keep/deep')), 'an unchanged subtree is not listed');
  assert.equal(diff.added, 3);
  assert.equal(diff.removed, 3);
  // Nothing changed between a snapshot and itself.
  assert.deepEqual((await diffSnapshots(repo, b.id, b.id)).entries, []);
});
