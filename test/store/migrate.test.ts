// migrate() refuses what it does not know rather than guessing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migrations } from '../../src/store/migrations/index.js';
import { databaseAt, upgradeTo } from './migrations/helpers.js';

test('migrations are numbered 1, 2, 3... in order', () => {
  assert.deepEqual(migrations.map((m) => m.version), migrations.map((_, i) => i + 1));
});

test('a database newer than this berth is refused, not opened', () => {
  const db = databaseAt(migrations.length);
  db.pragma('user_version = 99');
  assert.throws(() => upgradeTo(db, migrations.length), {
    message: `metadata database schema version 99 is newer than this berth supports (${migrations.length})`,
  });
  db.close();
});
