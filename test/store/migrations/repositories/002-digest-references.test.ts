// Repositories migration 2: a version-1 document is taken as it is (it can
// only hold tags) and marked version 2, so an older berth refuses a file that
// may hold digest references rather than reading them as tags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repositoriesMigrations, upgradeRepositories } from '../../../../src/store/migrations/repositories/index.js';

const id = `sha256:${'b'.repeat(64)}`;

test('repositories migration 2 (digest-references): a version-1 document keeps its tags and becomes version 2', () => {
  const v1 = { SchemaVersion: 1, Repositories: { app: { 'app:1': id } }, LastTagTime: { [id]: '2026-01-02T03:04:05Z' } };
  const { doc, upgraded } = upgradeRepositories(structuredClone(v1), repositoriesMigrations.filter((m) => m.version <= 2));
  assert.equal(upgraded, true);
  assert.deepEqual(doc, { ...v1, SchemaVersion: 2 });
  const withDigest = { ...doc, Repositories: { app: { 'app:1': id, [`app@sha256:${'c'.repeat(64)}`]: id } } };
  assert.throws(() => upgradeRepositories(withDigest, repositoriesMigrations.filter((m) => m.version <= 1)), /schema version 2 is newer than this berth supports \(1\)/);
});
