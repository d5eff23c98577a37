// Backups through berthd and the berth CLI with real containers: a running
// container's volume backed up (frozen, not stopped) and restored into a new
// volume with the full manifest intact, locally and on S3 (s3rver); writers
// that update two files, or two volumes of one compose project, in order are
// never seen half-done; restore --replace stops and starts the users; stop
// and none; hooks; a write-only key; a wrong passphrase; policies run now.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { berth as runBerth, docker as runDocker, type RunResult } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { buildFixture, fullManifest } from '../helpers/tree-manifest.js';
import { S3RVER_CREDENTIALS, startS3rver, type TestS3 } from '../helpers/s3rver.js';
import type { ApiPolicy, ApiSnapshot } from '../../src/api/types/backup.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let work: string;
let env: NodeJS.ProcessEnv;
let s3: TestS3 | undefined;

const dataDir = (vol: string) => join(d.dataRoot, 'volumes', vol, '_data');
const docker = (...args: string[]): Promise<RunResult> => runDocker(d.env, ...args);
const berth = (extra: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> => runBerth({ ...env, ...extra }, ...args);
async function ok(...args: string[]): Promise<string> {
  const r = await berth({}, ...args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
async function dockerOk(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
  work = mkdtempSync(join(tmpdir(), 'berth-backup-e2e-'));
  env = { ...d.env, BERTH_PASSWORD: 'correct horse', BERTH_REPOSITORY: join(work, 'repo') };
  await ok('backup', 'init');
});
after(async () => {
  if (process.env.DUMP_LOGS) process.stderr.write(d.logs());
  await docker('rm', '-f', 'bk-writer', 'bk-pair', 'bk-user', 'bk-hooked', 'bk-db', 'bk-wal');
  await s3?.stop();
  await d.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const snapshotsOf = async (volume: string, extra: NodeJS.ProcessEnv = {}): Promise<ApiSnapshot[]> => {
  const r = await berth(extra, 'backup', 'ls', '--volume', volume, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ApiSnapshot);
};

/** Container events between two times, as `docker events` reports them. */
async function containerEvents(since: number, until: number): Promise<Array<{ Action: string; Actor: { Attributes: { name: string } } }>> {
  const out = await dockerOk('events', '--since', String(since), '--until', String(until), '--filter', 'type=container', '--format', '{{json .}}');
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: { name: string } } });
}

test('a running container\'s volume: frozen for the backup, restored into a new volume exactly', async () => {
  await dockerOk('volume', 'create', '--label', 'app=fixture', 'bk-src');
  buildFixture(dataDir('bk-src'));
  const want = fullManifest(dataDir('bk-src'));
  await dockerOk('run', '-d', '--name', 'bk-writer', '-v', 'bk-src:/data', 'busybox', 'sleep', '600');
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = (await ok('volume', 'backup', 'bk-src', '--tag', 'first', '--progress', 'none')).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const [snap] = await snapshotsOf('bk-src');
  assert.equal(snap!.Id, id);
  assert.equal(snap!.Consistency, 'freeze');
  assert.equal(typeof snap!.FreezeMs, 'number');
  assert.deepEqual(snap!.Tags, ['first']);
  assert.deepEqual(snap!.Labels, { app: 'fixture' });
  assert.ok(snap!.Files >= want.length - 1 && snap!.BytesAdded > 0, JSON.stringify(snap));
  // The writer was paused for the freeze and thawed after; it is running now.
  const events = (await containerEvents(since, Math.ceil(Date.now() / 1000) + 1)).filter((e) => e.Actor.Attributes.name === 'bk-writer').map((e) => e.Action);
  assert.deepEqual(events.filter((a) => a === 'pause' || a === 'unpause'), ['pause', 'unpause']);
  assert.equal((await dockerOk('inspect', '--format', '{{.State.Status}}', 'bk-writer')).trim(), 'running');

  assert.equal((await ok('volume', 'restore', id, '--to', 'bk-restored', '--progress', 'none')).trim(), 'bk-restored');
  assert.deepEqual(fullManifest(dataDir('bk-restored')), want);
  assert.equal((await dockerOk('volume', 'inspect', '--format', '{{json .Labels}}', 'bk-restored')).trim(), '{"app":"fixture"}');
  // An existing name is refused: --to makes new volumes only.
  const again = await berth({}, 'volume', 'restore', id, '--to', 'bk-restored', '--progress', 'none');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /volume bk-restored already exists/);
  await dockerOk('rm', '-f', 'bk-writer');
});

test('writers that update two files, or two volumes of one compose project, in order are never seen half-done', async () => {
  for (const v of ['bk-db', 'bk-wal']) await dockerOk('volume', 'create', '--label', 'com.docker.compose.project=shop', v);
  // x is written before y, each by a rename: at any instant y == x or y == x - 1.
  const loop = 'i=0; while :; do i=$((i+1)); echo $i > /a/x.tmp && mv /a/x.tmp /a/x; echo $i > /b/y.tmp && mv /b/y.tmp /b/y; done';
  await dockerOk('run', '-d', '--name', 'bk-pair', '-v', 'bk-db:/a', '-v', 'bk-wal:/b', 'busybox', 'sh', '-c', loop);
  // A second writer with both files in one volume.
  const inOne = 'i=0; while :; do i=$((i+1)); echo $i > /a/p.tmp && mv /a/p.tmp /a/p; echo $i > /a/q.tmp && mv /a/q.tmp /a/q; done';
  await dockerOk('run', '-d', '--name', 'bk-db', '-v', 'bk-db:/a', 'busybox', 'sh', '-c', inOne);
  for (let round = 0; round < 4; round++) {
    const ids = (await ok('volume', 'backup', '--filter', 'label=com.docker.compose.project=shop', '--progress', 'none')).trim().split('\n');
    assert.equal(ids.length, 2, 'one snapshot per volume of the project');
    const snaps = [...(await snapshotsOf('bk-db')), ...(await snapshotsOf('bk-wal'))].filter((s) => ids.includes(s.Id));
    assert.equal(snaps.length, 2);
    assert.ok(snaps[0]!.Group !== null && snaps[0]!.Group === snaps[1]!.Group, 'one snapshot group, one freeze');
    const restored = snaps.map((s) => `bk-r${round}-${s.Volume}`);
    for (const [i, s] of snaps.entries()) await ok('volume', 'restore', s.Id, '--to', restored[i]!, '--progress', 'none');
    const read = (vol: string, f: string) => Number(readFileSync(join(dataDir(vol), f), 'utf8').trim());
    const db = restored.find((r) => r.endsWith('bk-db'))!;
    const wal = restored.find((r) => r.endsWith('bk-wal'))!;
    // Across the two volumes (one freeze for both containers)...
    const x = read(db, 'x');
    const y = read(wal, 'y');
    assert.ok(y === x || y === x - 1, `round ${round}: x=${x} y=${y}`);
    // ...and within one volume.
    const p = read(db, 'p');
    const q = read(db, 'q');
    assert.ok(q === p || q === p - 1, `round ${round}: p=${p} q=${q}`);
    // Restored volumes carry the project's label too: out of the next round's filter.
    await dockerOk('volume', 'rm', ...restored);
  }
  await dockerOk('rm', '-f', 'bk-pair', 'bk-db');
});

test('restore --replace stops the volume\'s running containers for the swap and starts them again; the data is exactly the snapshot', async () => {
  await dockerOk('volume', 'create', 'bk-live');
  writeFileSync(join(dataDir('bk-live'), 'state'), 'v1\n');
  await dockerOk('run', '-d', '--name', 'bk-user', '-v', 'bk-live:/data', 'busybox', 'sleep', '600');
  const id = (await ok('volume', 'backup', 'bk-live', '--progress', 'none')).trim();
  const want = fullManifest(dataDir('bk-live'));
  writeFileSync(join(dataDir('bk-live'), 'state'), 'v2\n');
  writeFileSync(join(dataDir('bk-live'), 'extra'), 'not in the snapshot\n');
  const startedBefore = (await dockerOk('inspect', '--format', '{{.State.StartedAt}}', 'bk-user')).trim();
  await ok('volume', 'restore', id, '--replace', 'bk-live', '--progress', 'none');
  assert.deepEqual(fullManifest(dataDir('bk-live')), want);
  const state = JSON.parse(await dockerOk('inspect', '--format', '{{json .State}}', 'bk-user')) as { Running: boolean; StartedAt: string };
  assert.equal(state.Running, true);
  assert.notEqual(state.StartedAt, startedBefore, 'it was stopped and started again');
  assert.equal((await dockerOk('exec', 'bk-user', 'cat', '/data/state')).trim(), 'v1', 'the container sees the restored data');
  await dockerOk('rm', '-f', 'bk-user');
});

test('consistency stop and none; pre and post hooks from container labels', async () => {
  await dockerOk('volume', 'create', 'bk-hooks');
  await dockerOk(
    'run',
    '-d',
    '--name',
    'bk-hooked',
    '-v',
    'bk-hooks:/data',
    '--label',
    'berth.backup.pre=echo dumped > /data/dump',
    '--label',
    'berth.backup.post=rm /data/dump',
    'busybox',
    'sleep',
    '600',
  );
  const id = (await ok('volume', 'backup', 'bk-hooks', '--progress', 'none')).trim();
  await ok('volume', 'restore', id, '--to', 'bk-hooks-r', '--progress', 'none');
  assert.equal(readFileSync(join(dataDir('bk-hooks-r'), 'dump'), 'utf8'), 'dumped\n', 'the pre hook ran before the backup');
  assert.throws(() => readFileSync(join(dataDir('bk-hooks'), 'dump')), /ENOENT/, 'the post hook ran after');

  const stopped = await berth({}, 'volume', 'backup', 'bk-hooks', '--consistency', 'stop', '--progress', 'none');
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /containers stopped/);
  assert.equal((await dockerOk('inspect', '--format', '{{.State.Running}}', 'bk-hooked')).trim(), 'true', 'started again after a stop backup');
  const none = await berth({}, 'volume', 'backup', 'bk-hooks', '--consistency', 'none', '--progress', 'none');
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stderr, /WARNING: .*not point-in-time/);
  const modes = (await snapshotsOf('bk-hooks')).map((s) => s.Consistency);
  assert.deepEqual(modes, ['freeze', 'stop', 'none']);

  await dockerOk('rm', '-f', 'bk-hooked');
  await dockerOk('run', '-d', '--name', 'bk-hooked', '-v', 'bk-hooks:/data', '--label', 'berth.backup.pre=exit 3', 'busybox', 'sleep', '600');
  const failed = await berth({}, 'volume', 'backup', 'bk-hooks', '--progress', 'none');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /exit 3|exited with 3|code 3/);
  await dockerOk('rm', '-f', 'bk-hooked');
});

test('a write-only key backs up and lists but cannot restore; a wrong passphrase is a clear error', async () => {
  await dockerOk('volume', 'create', 'bk-wo');
  writeFileSync(join(dataDir('bk-wo'), 'f'), 'secret data\n');
  const keyId = (await berth({ BERTH_NEW_PASSWORD: 'host only' }, 'backup', 'key', 'add', '--write-only')).stdout.trim();
  assert.match(keyId, /^[0-9a-f]{64}$/);
  const host = { BERTH_PASSWORD: 'host only' };
  const b = await berth(host, 'volume', 'backup', 'bk-wo', '--progress', 'none');
  assert.equal(b.code, 0, b.stderr);
  const id = b.stdout.trim();
  assert.ok((await snapshotsOf('bk-wo', host)).some((s) => s.Id === id));
  const r = await berth(host, 'volume', 'restore', id, '--to', 'bk-wo-r', '--progress', 'none');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /write-only key/);
  assert.equal((await docker('volume', 'inspect', 'bk-wo-r')).code, 1, 'nothing was created');
  // The full key reads what the write-only host wrote.
  await ok('volume', 'restore', id, '--to', 'bk-wo-r', '--progress', 'none');
  assert.equal(readFileSync(join(dataDir('bk-wo-r'), 'f'), 'utf8'), 'secret data\n');
  const wrong = await berth({ BERTH_PASSWORD: 'wrong' }, 'backup', 'ls');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /wrong passphrase/);
  const keys = (await ok('backup', 'key', 'list', '--format', 'json')).trim().split('\n').map((l) => JSON.parse(l) as { Kind: string });
  assert.deepEqual(keys.map((k) => k.Kind).sort(), ['full', 'write-only']);
});

test('S3: a backup into s3rver restores exactly', async () => {
  s3 = await startS3rver(['berth-bk']);
  const s3env = { BERTH_REPOSITORY: 's3://berth-bk/berth', AWS_ENDPOINT_URL: s3.endpoint, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
  const init = await berth(s3env, 'backup', 'init');
  assert.equal(init.code, 0, init.stderr);
  const id = (await berth(s3env, 'volume', 'backup', 'bk-src', '--progress', 'none')).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const r = await berth(s3env, 'volume', 'restore', id, '--to', 'bk-s3-restored', '--progress', 'none');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fullManifest(dataDir('bk-s3-restored')), fullManifest(dataDir('bk-src')));
  const check = await berth(s3env, 'backup', 'check', '--read-data');
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /no errors were found/);
});

test('diff, forget (never every snapshot of a volume) and a policy run now', async () => {
  const [a, b] = (await snapshotsOf('bk-hooks')).map((s) => s.Id);
  const diff = await ok('backup', 'diff', a!, b!);
  assert.match(diff, /Files: \d+ added, \d+ removed, \d+ changed/);
  const dry = await ok('backup', 'forget', '--volume', 'bk-hooks', '--keep-last', '1', '--dry-run');
  assert.match(dry, /volume bk-hooks: keep 1 snapshots, would remove 2/);
  const refused = await berth({}, 'backup', 'forget', a!, b!, (await snapshotsOf('bk-hooks'))[2]!.Id);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /every snapshot|all snapshots|last snapshot/);

  await ok('backup', 'policy', 'create', 'nightly', '--volume', 'bk-live', '--schedule', '0 3 * * *', '--jitter', '10m', '--keep-last', '2');
  const before = (await ok('backup', 'policy', 'ls', '--format', 'json')).trim().split('\n').map((l) => JSON.parse(l) as ApiPolicy);
  assert.equal(before[0]!.Name, 'nightly');
  assert.equal(before[0]!.LastRun, null);
  assert.ok(before[0]!.NextRun !== null);
  for (let i = 0; i < 3; i++) assert.match((await ok('backup', 'policy', 'run', 'nightly')).trim(), /^[0-9a-f]{64}$/);
  const [after] = (await ok('backup', 'policy', 'ls', '--format', 'json')).trim().split('\n').map((l) => JSON.parse(l) as ApiPolicy);
  assert.equal(after!.LastRun!.Error, null);
  assert.ok(after!.LastRun!.BytesAdded >= 0 && after!.LastRun!.DurationMs >= 0);
  assert.equal((await snapshotsOf('bk-live')).length, 2, 'the policy\'s retention kept the last two');
  await ok('backup', 'policy', 'rm', 'nightly');
  assert.equal((await ok('backup', 'policy', 'ls', '--format', 'json')).trim(), '');
});
