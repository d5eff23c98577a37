// Migration 4 adds backup policies and their runs to a version-3 database,
// keeping its volumes and containers; PolicyStore works on the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialStore } from '../../../src/backup/credentials.js';
import { PolicyStore } from '../../../src/backup/policies.js';
import { columns, databaseAt, upgradeTo, userVersion } from './helpers.js';

test('migration 4 (backup-policies): a version-3 database keeps its rows and gets backup_policies and backup_runs', (t) => {
  const db = databaseAt(3);
  db.prepare('INSERT INTO volumes VALUES (?, ?, ?, ?, ?)').run('data', 'local', null, null, 1700000000000);
  db.prepare('INSERT INTO volume_refs VALUES (?, ?)').run('data', 'c'.repeat(64));
  db.prepare('INSERT INTO containers (id, name, record) VALUES (?, ?, ?)').run('c'.repeat(64), 'web', '{"id":"x"}');

  upgradeTo(db, 4);
  assert.equal(userVersion(db), 4);
  assert.deepEqual(db.prepare('SELECT name FROM volumes').all(), [{ name: 'data' }]);
  assert.deepEqual(db.prepare('SELECT * FROM volume_refs').all(), [{ volume: 'data', ref: 'c'.repeat(64) }]);
  assert.deepEqual(db.prepare('SELECT id, name, record, record_version FROM containers').all(), [{ id: 'c'.repeat(64), name: 'web', record: '{"id":"x"}', record_version: 1 }]);
  assert.deepEqual(columns(db, 'backup_policies'), ['id', 'name', 'selector', 'schedule', 'jitter_ms', 'retention', 'repository', 'credentials', 'consistency', 'tags', 'created_at']);
  assert.deepEqual(columns(db, 'backup_runs'), ['id', 'policy', 'started_at', 'duration_ms', 'snapshots', 'bytes_added', 'freeze_ms', 'error']);

  const insert = db.prepare(
    `INSERT INTO backup_policies (id, name, selector, schedule, retention, repository, credentials, consistency, created_at)
     VALUES (?, ?, '{"volumes":["data"]}', '@daily', '{"keepLast":3}', '/backups', '{"kind":"stored"}', ?, 1)`,
  );
  assert.throws(() => insert.run('a'.repeat(64), 'odd', 'snapshot'), /CHECK constraint failed/);
  insert.run('a'.repeat(64), 'nightly', 'freeze');
  assert.throws(() => insert.run('b'.repeat(64), 'nightly', 'none'), /UNIQUE/);
  db.prepare('INSERT INTO backup_runs (policy, started_at, duration_ms) VALUES (?, 1, 2)').run('a'.repeat(64));
  assert.throws(() => db.prepare('INSERT INTO backup_runs (policy, started_at, duration_ms) VALUES (?, 1, 2)').run('nope'), /FOREIGN KEY/);

  // The store reads what the migration made, and a removed policy takes its runs with it.
  const dir = mkdtempSync(join(tmpdir(), 'berth-m4-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new PolicyStore(db, new CredentialStore(join(dir, 'credentials')));
  const [policy] = store.list();
  assert.deepEqual(
    { ...policy },
    {
      id: 'a'.repeat(64),
      name: 'nightly',
      selector: { volumes: ['data'] },
      schedule: '@daily',
      jitterMs: 0,
      retention: { keepLast: 3 },
      repository: '/backups',
      credentials: { kind: 'stored' },
      consistency: 'freeze',
      tags: [],
      created: 1,
    },
  );
  assert.equal(store.lastRuns(policy!.id).length, 1);
  store.remove('nightly');
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM backup_runs').get(), { n: 0 });
  db.close();
});
