// The backup freeze on real runc containers (ContainerService.freeze, driven
// in a berthd of its own): it pauses the running users and leaves paused
// ones as they are, always thaws (success, error, time limit), and a berthd
// killed with -9 in the middle of a freeze thaws at its next start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeStatus, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { docker, dockerOk } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { startFreezeDriver, type FreezeDriver } from '../helpers/freeze-driver-client.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let driver: FreezeDriver | undefined;
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
});
after(async () => {
  await driver?.stop();
  await d.cleanup();
});

async function sleeper(name: string): Promise<string> {
  return (await ok('run', '-d', '--name', name, 'busybox', 'sleep', '600')).trim();
}

/** The driver as this file's daemon (berthd stopped first); the next test that needs berthd restarts it. */
async function useDriver(): Promise<FreezeDriver> {
  driver ??= await startFreezeDriver(d);
  return driver;
}

test('a freeze pauses the running ones, keeps a paused one paused, returns the work and thaws', async (t) => {
  t.after(() => docker(d.env, 'rm', '-f', 'f-run', 'f-paused', 'f-stopped'));
  const drv = await useDriver();
  const since = Math.floor(Date.now() / 1000) - 1;
  const running = await sleeper('f-run');
  const paused = await sleeper('f-paused');
  await ok('pause', 'f-paused');
  const stopped = (await ok('create', '--name', 'f-stopped', 'busybox', 'true')).trim();

  drv.send({ op: 'freeze', ids: [running, paused, stopped, running], work: 'ok', maxMs: 30_000 });
  const frozen = await drv.next();
  assert.deepEqual(frozen.frozen, { [running]: 'paused', [paused]: 'paused', [stopped]: 'none' });
  assert.deepEqual(frozen.journal, { containers: [running] }, 'only what the freeze paused is journalled');
  const done = await drv.next();
  assert.deepEqual(done.result, frozen.frozen);
  assert.ok(done.frozenMs > 0);
  assert.equal(runtimeStatus(d.dataRoot, running), 'running');
  assert.equal(runtimeStatus(d.dataRoot, paused), 'paused', 'a container paused before the freeze stays paused');
  assert.equal(existsSync(join(d.dataRoot, 'freeze.json')), false);
  const events = await ok('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=pause', '--filter', 'event=unpause', '--format', '{{.Actor.Attributes.name}} {{.Action}}');
  assert.equal(events, 'f-paused pause\nf-run pause\nf-run unpause\n');
});

test('a freeze thaws when the work fails and when it runs past its limit', async (t) => {
  t.after(() => docker(d.env, 'rm', '-f', 'f-fail'));
  const id = await sleeper('f-fail');
  const drv = await useDriver();

  drv.send({ op: 'freeze', ids: [id], work: 'fail', maxMs: 30_000 });
  assert.deepEqual((await drv.next()).frozen, { [id]: 'paused' });
  assert.deepEqual(await drv.next(), { error: 'work failed', name: 'Error' });
  assert.equal(runtimeStatus(d.dataRoot, id), 'running');

  drv.send({ op: 'freeze', ids: [id], work: 'until-abort', maxMs: 500 });
  assert.deepEqual((await drv.next()).frozen, { [id]: 'paused' });
  const timedOut = await drv.next();
  assert.equal(timedOut.name, 'FreezeTimeout');
  assert.equal(timedOut.error, `the freeze ran past its limit of 500ms; thawed container ${id.slice(0, 12)}`);
  assert.equal(runtimeStatus(d.dataRoot, id), 'running');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', id), 'running\n');
  assert.equal(existsSync(join(d.dataRoot, 'freeze.json')), false);
});

test('the users of a volume: running and paused containers that mount it, read-write when any of their mounts is', async (t) => {
  t.after(() => docker(d.env, 'rm', '-f', 'u-rw', 'u-ro', 'u-both', 'u-paused', 'u-stopped', 'u-other'));
  const drv = await useDriver();
  const rw = await ok('run', '-d', '--name', 'u-rw', '-v', 'shared:/data', 'busybox', 'sleep', '600');
  const ro = await ok('run', '-d', '--name', 'u-ro', '-v', 'shared:/data:ro', 'busybox', 'sleep', '600');
  const both = await ok('run', '-d', '--name', 'u-both', '-v', 'shared:/a:ro', '--mount', 'type=volume,src=shared,dst=/b', 'busybox', 'sleep', '600');
  const paused = await ok('run', '-d', '--name', 'u-paused', '-v', 'shared:/data', 'busybox', 'sleep', '600');
  await ok('pause', 'u-paused');
  await ok('create', '--name', 'u-stopped', '-v', 'shared:/data', 'busybox', 'true');
  await ok('run', '-d', '--name', 'u-other', '-v', 'other:/data', 'busybox', 'sleep', '600');
  drv.send({ op: 'users', volume: 'shared' });
  const { users } = await drv.next();
  const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
  assert.deepEqual(
    [...users].sort(byName),
    [
      { id: both.trim(), name: 'u-both', readWrite: true },
      { id: paused.trim(), name: 'u-paused', readWrite: true },
      { id: ro.trim(), name: 'u-ro', readWrite: false },
      { id: rw.trim(), name: 'u-rw', readWrite: true },
    ],
  );
});

test('berthd killed with -9 in the middle of a freeze thaws the containers at its next start', async (t) => {
  t.after(() => docker(d.env, 'rm', '-f', 'f-crash', 'f-user'));
  const id = await sleeper('f-crash');
  const user = await sleeper('f-user');
  await ok('pause', 'f-user');
  const drv = await useDriver();

  drv.send({ op: 'freeze', ids: [id, user], work: 'hang', maxMs: 600_000 });
  assert.deepEqual((await drv.next()).frozen, { [id]: 'paused', [user]: 'paused' });
  await drv.kill9();
  driver = undefined;
  assert.equal(runtimeStatus(d.dataRoot, id), 'paused', 'nothing thaws a killed daemon\'s freeze until the next start');

  await d.restart();
  assert.equal(runtimeStatus(d.dataRoot, id), 'running');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'f-crash'), 'running false\n');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', 'f-user'), 'paused\n', 'the freeze did not pause it, so it is not thawed');
  assert.equal(existsSync(join(d.dataRoot, 'freeze.json')), false);
  assert.match(d.logs(), /thawed containers an interrupted freeze left paused/);
});
