// Migration 2 adds container records to a database of volumes, keeping its volumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columns, databaseAt, upgradeTo, userVersion } from './helpers.js';

test('migration 2 (containers): a version-1 database keeps its volumes and gets the containers table', () => {
  const db = databaseAt(1);
  db.prepare('INSERT INTO volumes VALUES (?, ?, ?, ?, ?)').run('data', 'local', '{"k":"v"}', null, 1700000000000);
  db.prepare('INSERT INTO volume_refs VALUES (?, ?)').run('data', 'c'.repeat(64));
  upgradeTo(db, 2);
  assert.equal(userVersion(db), 2);
  assert.deepEqual(db.prepare('SELECT * FROM volumes').all(), [
    { name: 'data', driver: 'local', labels: '{"k":"v"}', options: null, created_at: 1700000000000 },
  ]);
  assert.deepEqual(db.prepare('SELECT * FROM volume_refs').all(), [{ volume: 'data', ref: 'c'.repeat(64) }]);
  assert.deepEqual(columns(db, 'containers'), ['id', 'name', 'record']);
  db.prepare('INSERT INTO containers VALUES (?, ?, ?)').run('a'.repeat(64), 'web', '{}');
  assert.throws(() => db.prepare('INSERT INTO containers VALUES (?, ?, ?)').run('b'.repeat(64), 'web', '{}'), /UNIQUE/);
  db.close();
});
