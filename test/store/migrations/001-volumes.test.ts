// Migration 1 turns an empty database into one that holds volumes and their references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columns, databaseAt, upgradeTo, userVersion } from './helpers.js';

test('migration 1 (volumes): an empty database gets the volumes and volume_refs tables', () => {
  const db = databaseAt(0);
  assert.equal(userVersion(db), 0);
  upgradeTo(db, 1);
  assert.equal(userVersion(db), 1);
  assert.deepEqual(columns(db, 'volumes'), ['name', 'driver', 'labels', 'options', 'created_at']);
  assert.deepEqual(columns(db, 'volume_refs'), ['volume', 'ref']);
  db.prepare('INSERT INTO volumes VALUES (?, ?, ?, ?, ?)').run('v', 'local', null, '{"type":"tmpfs"}', 1);
  db.prepare('INSERT INTO volume_refs VALUES (?, ?)').run('v', 'c1');
  db.prepare('DELETE FROM volumes WHERE name = ?').run('v');
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM volume_refs').get(), { n: 0 }, 'references go with their volume');
  db.close();
});
