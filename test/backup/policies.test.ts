// PolicyStore: policies validated and kept in berth.db, found by ID, name or
// prefix, removed with their runs and stored credentials; run history kept
// to the newest N; repository credentials outside the database, files of
// the administrator's checked before they are read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openDatabase } from '../../src/store/db.js';
import { CredentialStore } from '../../src/backup/credentials.js';
import { PolicyStore, type PolicyRun, type PolicySpec } from '../../src/backup/policies.js';
import { Conflict, Forbidden, InvalidParameter, NotFound } from '../../src/errors.js';

function setup(t: TestContext, opts: { keptRuns?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-policies-'));
  const db = openDatabase(join(dir, 'berth.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const credentials = new CredentialStore(join(dir, 'backup', 'credentials'));
  return { dir, db, credentials, store: new PolicyStore(db, credentials, opts) };
}

const SPEC: PolicySpec = {
  name: 'nightly',
  selector: { labels: ['com.example.backup', 'tier=db'] },
  schedule: '0 3 * * *',
  jitterMs: 15 * 60_000,
  retention: { keepDaily: 7, keepWeekly: 4, within: '2d' },
  repository: 's3://bucket/berth',
  consistency: 'freeze',
  tags: ['nightly'],
};

const run = (policyId: string, started: number, extra: Partial<PolicyRun> = {}): PolicyRun => ({
  policyId,
  started,
  durationMs: 1200,
  snapshots: [`snap-${started}`],
  bytesAdded: 4096,
  freezeMs: 35,
  error: null,
  ...extra,
});

test('create, get (ID, name, prefix), list and remove; stored credentials live in a 0600 file of their own', async (t) => {
  const { db, credentials, store } = setup(t);
  const before = Date.now();
  const p = await store.create(SPEC, { secrets: { password: 'hunter2', s3: { accessKeyId: 'AK', secretAccessKey: 'SK' } } });
  assert.match(p.id, /^[0-9a-f]{64}$/);
  assert.deepEqual({ ...p, id: undefined, created: undefined }, { ...SPEC, id: undefined, credentials: { kind: 'stored' }, created: undefined });
  assert.ok(p.created >= before && p.created <= Date.now());
  assert.deepEqual(store.get(p.id), p);
  assert.deepEqual(store.get('nightly'), p);
  assert.deepEqual(store.get(p.id.slice(0, 6)), p);
  assert.deepEqual(store.list(), [p]);

  // No secret in the database, the file is the owner's only.
  const dump = JSON.stringify(db.prepare('SELECT * FROM backup_policies').all());
  assert.doesNotMatch(dump, /hunter2|SK/);
  const file = join(credentials.dir, `${p.id}.json`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(credentials.dir).mode & 0o777, 0o700);
  assert.deepEqual(await store.readCredentials(p), { password: 'hunter2', s3: { accessKeyId: 'AK', secretAccessKey: 'SK' } });

  const other = await store.create({ ...SPEC, name: 'hourly', schedule: '@hourly', selector: { volumes: ['data'] } }, { secrets: { identity: 'AGE-SECRET-KEY-1' } });
  assert.deepEqual(store.list().map((x) => x.name), ['nightly', 'hourly']);
  await assert.rejects(store.create(SPEC, { secrets: { password: 'x' } }), (e: Error) => e instanceof Conflict && e.message === 'backup policy "nightly" already exists');

  assert.deepEqual(store.remove('nightly'), p);
  assert.equal(existsSync(file), false, 'its credentials go with it');
  assert.throws(() => store.get('nightly'), (e: Error) => e instanceof NotFound && e.message === 'No such backup policy: nightly');
  assert.throws(() => store.remove(p.id), NotFound);
  assert.deepEqual(store.list(), [other]);
});

test('an ambiguous ID prefix is refused; a hex name is found as a name first', async (t) => {
  const { store } = setup(t);
  const made = [];
  for (let i = 0; i < 40; i++) made.push(await store.create({ ...SPEC, name: `p${i}` }, { secrets: { password: 'pw' } }));
  // Among 40 random IDs two share a first hex digit.
  const first = made.map((p) => p.id[0]!);
  const shared = first.find((c, i) => first.indexOf(c) !== i)!;
  assert.throws(() => store.get(shared), (e: Error) => e instanceof InvalidParameter && e.message === `multiple backup policies found with provided prefix: ${shared}`);
  const named = await store.create({ ...SPEC, name: 'abc' }, { secrets: { password: 'pw' } });
  assert.equal(store.get('abc').id, named.id);
  assert.throws(() => store.get('zz-missing'), NotFound);
});

test('policies are checked before anything is stored', async (t) => {
  const { credentials, store } = setup(t);
  const refusals: Array<[Partial<PolicySpec>, string]> = [
    [{ name: '-x' }, 'invalid backup policy: name: names start with a letter or digit, then letters, digits, "_", "." or "-"'],
    [{ selector: { volumes: [] } }, 'invalid backup policy: selector.volumes: Too small: expected array to have >=1 items'],
    [{ selector: { names: ['data'] } as never }, 'invalid backup policy: selector: either {"volumes": [names]} or {"labels": [filters]}'],
    [{ schedule: '0 3 * *' }, 'invalid schedule "0 3 * *": a cron expression has 5 fields (minute hour day-of-month month day-of-week), not 4'],
    [{ retention: {} }, 'invalid backup policy: retention: at least one keep rule (a forget without rules is refused)'],
    [{ retention: { keepLast: 0 } }, 'invalid backup policy: retention.keepLast: Too small: expected number to be >0'],
    [{ retention: { within: '2 days' } }, 'invalid backup policy: retention.within: a span of years, months, days and hours such as "1y6m", "30d" or "12h"'],
    [{ jitterMs: -1 }, 'invalid backup policy: jitterMs: Too small: expected number to be >=0'],
    [{ consistency: 'snapshot' as never }, 'invalid backup policy: consistency: Invalid option: expected one of "freeze"|"stop"|"none"'],
    [{ repository: '' }, 'invalid backup policy: repository: Too small: expected string to have >=1 characters'],
  ];
  for (const [change, message] of refusals) {
    await assert.rejects(store.create({ ...SPEC, ...change }, { secrets: { password: 'pw' } }), (e: Error) => e instanceof InvalidParameter && e.message === message, message);
  }
  await assert.rejects(store.create(SPEC, { secrets: {} }), (e: Error) => e instanceof InvalidParameter && e.message === 'repository credentials: a repository needs a password or an identity');
  await assert.rejects(store.create(SPEC, { file: 'relative/creds.json' }), (e: Error) => e instanceof InvalidParameter && e.message === 'repository credentials file: path: an absolute path');
  assert.deepEqual(store.list(), []);
  assert.deepEqual(readdirSync(credentials.dir), []);
});

test("an administrator's credentials file is named, not copied, and read only when only its owner can", async (t) => {
  const { dir, db, store } = setup(t);
  const file = join(dir, 'repo-creds.json');
  writeFileSync(file, JSON.stringify({ password: 'from-file', repo: 'ignored' }), { mode: 0o600 });
  const p = await store.create(SPEC, { file });
  assert.deepEqual(p.credentials, { kind: 'file', path: file });
  assert.match(JSON.stringify(db.prepare('SELECT credentials FROM backup_policies').get()), /repo-creds\.json/);
  assert.deepEqual(await store.readCredentials(p), { password: 'from-file' });

  chmodSync(file, 0o640);
  await assert.rejects(store.readCredentials(p), (e: Error) => e instanceof Forbidden && e.message === `repository credentials ${file}: mode 0640 lets others read it: chmod 600 it`);
  chmodSync(file, 0o600);
  chownSync(file, 1000, 1000);
  await assert.rejects(store.readCredentials(p), (e: Error) => e instanceof Forbidden && e.message === `repository credentials ${file}: owned by uid 1000, not by root`);
  chownSync(file, 0, 0);
  writeFileSync(file, '{"password": ');
  await assert.rejects(store.readCredentials(p), InvalidParameter);
  rmSync(file);
  await assert.rejects(store.readCredentials(p), NotFound);
  writeFileSync(file, '{"password":"kept"}', { mode: 0o600 });
  store.remove(p.id);
  assert.equal(readFileSync(file, 'utf8'), '{"password":"kept"}', "removing the policy leaves the administrator's file alone");
});

test('runs: newest first, the newest N kept per policy, none for a removed policy', async (t) => {
  const { store } = setup(t, { keptRuns: 3 });
  const a = await store.create(SPEC, { secrets: { password: 'pw' } });
  const b = await store.create({ ...SPEC, name: 'other' }, { secrets: { password: 'pw' } });
  for (let i = 1; i <= 5; i++) store.recordRun(run(a.id, i * 1000));
  store.recordRun(run(b.id, 500, { snapshots: [], bytesAdded: 0, freezeMs: null, error: 'repository locked' }));
  assert.deepEqual(
    store.lastRuns(a.id).map((r) => r.started),
    [5000, 4000, 3000],
  );
  assert.deepEqual(store.lastRuns(a.id, 1), [run(a.id, 5000)]);
  assert.deepEqual(store.lastRuns(b.id), [run(b.id, 500, { snapshots: [], bytesAdded: 0, freezeMs: null, error: 'repository locked' })]);
  store.remove(a.id);
  assert.deepEqual(store.lastRuns(a.id), []);
  assert.throws(() => store.recordRun(run(a.id, 6000)), NotFound);
});

test('stored credentials of policies that are gone are removed at start', async (t) => {
  const { credentials, store } = setup(t);
  const kept = await store.create(SPEC, { secrets: { password: 'pw' } });
  const orphan = 'f'.repeat(64);
  await credentials.store(orphan, { password: 'left behind' });
  writeFileSync(join(credentials.dir, `.${orphan}.json.tmp-abc`), '{');
  writeFileSync(join(credentials.dir, 'README'), 'not ours');
  assert.deepEqual(store.removeOrphanCredentials(), [orphan]);
  assert.deepEqual(readdirSync(credentials.dir).sort(), [`${kept.id}.json`, 'README'].sort());
  assert.equal(JSON.parse(readFileSync(join(credentials.dir, `${kept.id}.json`), 'utf8')).password, 'pw');
});
