// VolumeService over a registry of several drivers: it reaches each one only
// through the VolumeDriver interfaces, keeps driver errors' kinds, and
// publishes docker's volume mount/unmount events for container uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound, NotImplemented } from '../../src/errors.js';
import { volumeService } from '../helpers/volume-service.js';
import { ScratchDriver, coreOnly } from './scratch-driver.js';

const withScratch = (root: string) => [new ScratchDriver(join(root, 'scratch')), coreOnly(new ScratchDriver(join(root, 'core')), 'core')];

test('volumes are created on the driver asked for, and every driver is listed', async (t) => {
  const { service, root } = await volumeService(t, withScratch);
  assert.deepEqual(service.driverNames(), ['core', 'local', 'scratch']);
  const s = await service.create({ name: 'sv', driver: 'scratch', driverOpts: { mode: '0700' } });
  assert.equal(s.driver, 'scratch');
  assert.equal(s.mountpoint, join(root, 'scratch', 'sv', 'data'));
  assert.ok(existsSync(s.mountpoint));
  const l = await service.create({ name: 'lv' });
  assert.equal(l.driver, 'local');
  assert.deepEqual(service.list({ driver: ['scratch'] }).map((v) => v.name), ['sv']);
  await assert.rejects(service.create({ name: 'sv', driver: 'local' }), Conflict);
  await service.remove('sv');
  assert.equal(existsSync(join(root, 'scratch', 'sv')), false);
});

test('a driver error keeps its class and kind, gets the operation in front and the original as cause', async (t) => {
  const { service } = await volumeService(t, withScratch);
  await assert.rejects(service.create({ name: 'bad', driver: 'scratch', driverOpts: { size: '1m' } }), (e: unknown) => {
    assert.ok(e instanceof InvalidParameter);
    assert.equal(e.kind, 'invalid-parameter');
    assert.equal(e.message, 'create bad: invalid option: "size"');
    assert.ok(e.cause instanceof InvalidParameter);
    assert.equal((e.cause as Error).message, 'invalid option: "size"');
    return true;
  });
  await service.create({ name: 'held', driver: 'scratch' });
  await service.mount('held', 'user');
  await assert.rejects(service.remove('held'), (e: unknown) => {
    assert.ok(e instanceof Conflict);
    assert.equal(e.message, 'remove held: volume has active mounts');
    return true;
  });
  await service.unmount('held', 'user');
  await service.remove('held');
});

test('mount and unmount publish docker volume events only for a container use', async (t) => {
  const { service, events } = await volumeService(t, withScratch);
  await service.create({ name: 'ev', driver: 'scratch' });
  const volumeEvents = () => events.filter((e) => e.Type === 'volume' && (e.Action === 'mount' || e.Action === 'unmount'));
  await service.mount('ev', 'copy-up');
  await service.unmount('ev', 'copy-up');
  assert.deepEqual(volumeEvents(), []);
  await service.mount('ev', 'c1', { container: 'c1', destination: '/data', propagation: '', readWrite: false });
  await service.unmount('ev', 'c1', { container: 'c1' });
  assert.deepEqual(
    volumeEvents().map((e) => [e.Action, e.Actor.ID, e.Actor.Attributes]),
    [
      ['mount', 'ev', { container: 'c1', destination: '/data', driver: 'scratch', propagation: '', 'read/write': 'false' }],
      ['unmount', 'ev', { container: 'c1', driver: 'scratch' }],
    ],
  );
  await assert.rejects(service.mount('missing', 'c2', { container: 'c2', destination: '/x', propagation: '', readWrite: true }), NotFound);
  assert.equal(volumeEvents().length, 2, 'a failed mount publishes nothing');
});

test('a driver without optional abilities: mount gives its path, no direct data access', async (t) => {
  const { service, root } = await volumeService(t, withScratch);
  const v = await service.create({ name: 'plain', driver: 'core' });
  assert.equal(await service.mount('plain', 'c1'), join(root, 'core', 'plain', 'data'));
  assert.equal(v.mountpoint, join(root, 'core', 'plain', 'data'));
  await service.unmount('plain', 'c1');
  assert.throws(() => service.dataPath('plain'), NotImplemented);
  assert.equal(service.dataPath(((await service.create({ name: 'withdata', driver: 'scratch' })).name)), join(root, 'scratch', 'withdata', 'data'));
  assert.throws(() => service.dataPath('nope'), NotFound);
  await service.remove('plain');
  assert.equal(service.has('plain'), false);
});

test('restore adopts volumes any driver holds without a record', async (t) => {
  const fx = await volumeService(t, withScratch);
  await fx.service.create({ name: 'recorded', driver: 'scratch' });
  // Made by hand under the scratch root while the daemon was down.
  mkdirSync(join(fx.root, 'scratch', 'handmade', 'data'), { recursive: true });
  writeFileSync(join(fx.root, 'scratch', 'handmade', 'options.json'), '{}');
  const s = await fx.reopen();
  assert.deepEqual(
    s.list().map((v) => [v.name, v.driver]).sort(),
    [
      ['handmade', 'scratch'],
      ['recorded', 'scratch'],
    ],
  );
});

test('knownNonEmpty: only volumes whose data can be seen without mounting', async (t) => {
  const { service } = await volumeService(t, withScratch);
  const s = await service.create({ name: 'seen', driver: 'scratch' });
  assert.equal(service.knownNonEmpty('seen'), false, 'empty');
  writeFileSync(join(s.mountpoint, 'f'), 'x');
  assert.equal(service.knownNonEmpty('seen'), true);
  const core = await service.create({ name: 'unseen', driver: 'core' });
  writeFileSync(join(core.mountpoint, 'f'), 'x');
  assert.equal(service.knownNonEmpty('unseen'), false, 'no data access');
  const tmp = await service.create({ name: 'tmp', driverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  writeFileSync(join(tmp.mountpoint, 'f'), 'x');
  assert.equal(service.knownNonEmpty('tmp'), false, 'data only while mounted');
  assert.equal(service.knownNonEmpty('missing'), false);
});
