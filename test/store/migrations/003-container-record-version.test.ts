// Migration 3 gives every container row a record_version; rows written
// before it are shape 1, and ContainerRecords reads and rewrites them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerRecords, CONTAINER_RECORD_VERSION } from '../../../src/containers/records.js';
import type { ContainerRecord } from '../../../src/containers/types.js';
import { columns, databaseAt, upgradeTo, userVersion } from './helpers.js';

test('migration 3 (container-record-version): version-2 rows are kept and marked shape 1', () => {
  const db = databaseAt(2);
  const ids = ['1'.repeat(64), '2'.repeat(64)];
  const oldRecords = ids.map((id, i) => ({ id, name: `c${i}`, config: { Image: 'busybox' }, state: { Status: 'exited', ExitCode: i } }));
  for (const r of oldRecords) db.prepare('INSERT INTO containers VALUES (?, ?, ?)').run(r.id, r.name, JSON.stringify(r));

  upgradeTo(db, 3);
  assert.equal(userVersion(db), 3);
  assert.deepEqual(columns(db, 'containers'), ['id', 'name', 'record', 'record_version']);
  const rows = db.prepare('SELECT id, name, record, record_version FROM containers ORDER BY id').all();
  assert.deepEqual(
    rows,
    oldRecords.map((r) => ({ id: r.id, name: r.name, record: JSON.stringify(r), record_version: 1 })),
  );

  // The current code reads the old rows unchanged and writes its own version (shape 2 since migration 5, networks).
  assert.equal(CONTAINER_RECORD_VERSION, 2);
  const records = new ContainerRecords(db);
  assert.deepEqual(records.get(ids[0]!), oldRecords[0]);
  const renamed = { ...oldRecords[1]!, name: 'renamed' } as unknown as ContainerRecord;
  records.update(renamed);
  assert.deepEqual(db.prepare('SELECT name, record_version FROM containers WHERE id = ?').get(ids[1]!), { name: 'renamed', record_version: CONTAINER_RECORD_VERSION });
  records.insert({ ...oldRecords[0]!, id: '3'.repeat(64), name: 'new' } as unknown as ContainerRecord);
  assert.deepEqual(db.prepare('SELECT record_version FROM containers WHERE id = ?').get('3'.repeat(64)), { record_version: CONTAINER_RECORD_VERSION });
  db.close();
});
