// Repositories migration 1: Docker's unversioned repositories.json gains
// SchemaVersion 1 and keeps every tag; an image store opened on such a file
// keeps its tags and writes the file back versioned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { EventBus } from '../../../../src/events/bus.js';
import { ImageService } from '../../../../src/images/service.js';
import { REPOSITORIES_SCHEMA_VERSION, repositoriesMigrations, upgradeRepositories } from '../../../../src/store/migrations/repositories/index.js';

const id = `sha256:${'a'.repeat(64)}`;
const unversioned = {
  Repositories: { app: { 'app:1': id, 'app:latest': id } },
  LastTagTime: { [id]: '2026-01-02T03:04:05.000000006Z' },
};

test('repositories migration 1 (schema-version): an unversioned document keeps its tags and gets SchemaVersion 1', () => {
  const { doc, upgraded } = upgradeRepositories(structuredClone(unversioned), repositoriesMigrations.filter((m) => m.version <= 1));
  assert.equal(upgraded, true);
  assert.deepEqual(doc, { SchemaVersion: 1, ...unversioned });
  const again = upgradeRepositories(doc, repositoriesMigrations.filter((m) => m.version <= 1));
  assert.deepEqual(again, { doc, upgraded: false }, 'a version-1 document is left alone');
});

test('repositories.json that is newer, or not a document, is refused', () => {
  assert.throws(() => upgradeRepositories({ ...unversioned, SchemaVersion: REPOSITORIES_SCHEMA_VERSION + 1 }), /is newer than this berth supports/);
  assert.throws(() => upgradeRepositories({ ...unversioned, SchemaVersion: '1' }), /is not a version/);
  assert.throws(() => upgradeRepositories([]), /not a JSON object/);
});

test('an image store opened on an unversioned repositories.json keeps its tags and writes it versioned', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-repos-migration-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  writeFileSync(join(rootfs, 'file'), 'content\n');
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', tar, '.']);
  const root = join(dir, 'image');
  const open = (): ImageService => new ImageService({ root, log: pino({ level: 'silent' }), events: new EventBus() });
  const rec = await open().importRootfs(Readable.from(readFileSync(tar)), { reference: 'app:1' });

  // The file as berth wrote it before versioning.
  const file = join(root, 'repositories.json');
  const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.equal(written.SchemaVersion, REPOSITORIES_SCHEMA_VERSION);
  delete written.SchemaVersion;
  writeFileSync(file, JSON.stringify(written));

  const reopened = open();
  assert.equal(reopened.resolve('app:1').id, rec.id);
  const upgraded = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(upgraded, { SchemaVersion: REPOSITORIES_SCHEMA_VERSION, ...written });
});
