import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { volumeService } from '../helpers/volume-service.js';
import { readMountInfo } from '../../src/util/mount.js';
import { VolumeInUse, NotFound, InvalidParameter, Conflict } from '../../src/errors.js';

test('create lays out volumes/NAME/_data as docker does and is idempotent', async (t) => {
  const { service, root, events } = await volumeService(t);
  const v = await service.create({ name: 'v1', labels: { k: 'v' } });
  assert.equal(v.mountpoint, join(root, 'volumes', 'v1', '_data'));
  assert.equal(statSync(join(root, 'volumes', 'v1')).mode & 0o777, 0o701);
  assert.equal(statSync(v.mountpoint).mode & 0o777, 0o755);
  assert.equal(existsSync(join(root, 'volumes', 'v1', 'opts.json')), false);
  const again = await service.create({ name: 'v1', labels: { k2: 'v2' }, driverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  assert.deepEqual(again.labels, { k: 'v' });
  assert.equal(again.options, null);
  assert.equal(events.filter((e) => e.Action === 'create').length, 1);
});

test('anonymous volumes get 64 hex names and the anonymous label', async (t) => {
  const { service } = await volumeService(t);
  const v = await service.create({});
  assert.match(v.name, /^[0-9a-f]{64}$/);
  assert.doesNotMatch(v.name.slice(0, 12), /^[0-9]{12}$/);
  assert.deepEqual(v.labels, { 'com.docker.volume.anonymous': '' });
});

test('name validation uses docker messages', async (t) => {
  const { service } = await volumeService(t);
  await assert.rejects(service.create({ name: 'a' }), {
    message: 'create a: volume name is too short, names should be at least two alphanumeric characters',
  });
  for (const bad of ['-bad', 'a/b', '.ab', 'ab c']) {
    await assert.rejects(service.create({ name: bad }), (e: Error) => {
      assert.ok(e instanceof InvalidParameter);
      assert.equal(
        e.message,
        `create ${bad}: ${JSON.stringify(bad)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
      return true;
    });
  }
  for (const good of ['a.b', 'a_b-c.D', 'x'.repeat(255)]) await service.create({ name: good });
  await assert.rejects(service.create({ name: 'y'.repeat(256) }), /file name too long/);
  assert.equal(service.has('y'.repeat(256)), false);
});

test('driver options are validated at create', async (t) => {
  const { service } = await volumeService(t);
  await assert.rejects(service.create({ name: 'o1', driverOpts: { foo: 'bar' } }), { message: 'create o1: invalid option: "foo"' });
  await assert.rejects(service.create({ name: 'o2', driverOpts: { type: 'tmpfs' } }), { message: 'create o2: missing required option: "device"' });
  await assert.rejects(service.create({ name: 'o3', driverOpts: { o: 'size=1m' } }), { message: 'create o3: missing required option: "device"' });
  await assert.rejects(service.create({ name: 'o4', driverOpts: { device: 'tmpfs' } }), { message: 'create o4: missing required option: "type"' });
  await assert.rejects(service.create({ name: 'o5', driverOpts: { size: '10m' } }), { message: 'create o5: quota size requested but no quota support' });
  await assert.rejects(service.create({ name: 'o6', driverOpts: { size: 'abc' } }), { message: "create o6: invalid size: 'abc'" });
  assert.deepEqual(service.list().map((v) => v.name), []);
  const v = await service.create({ name: 'tmp', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=10m,uid=1000' } });
  assert.deepEqual(JSON.parse(readFileSync(join(v.mountpoint, '..', 'opts.json'), 'utf8')), {
    MountType: 'tmpfs',
    MountOpts: 'size=10m,uid=1000',
    MountDevice: 'tmpfs',
    Quota: { Size: 0 },
  });
});

test('a tmpfs-backed volume is mounted on first use and unmounted after the last', async (t) => {
  const { service } = await volumeService(t);
  const v = await service.create({ name: 'tv', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=10m,uid=1000' } });
  const mounted = () => readMountInfo().filter((m) => m.mountPoint === v.mountpoint);
  assert.equal(mounted().length, 0, 'not mounted at create');
  await service.mount('tv', 'c1');
  assert.equal(mounted().length, 1);
  assert.equal(mounted()[0]!.fsType, 'tmpfs');
  assert.match(mounted()[0]!.superOptions, /size=10240k/);
  assert.match(mounted()[0]!.superOptions, /uid=1000/);
  await service.mount('tv', 'c2');
  assert.equal(mounted().length, 1, 'second user does not mount again');
  await service.unmount('tv', 'c1');
  assert.equal(mounted().length, 1, 'still mounted while c2 uses it');
  await service.unmount('tv', 'c2');
  assert.equal(mounted().length, 0, 'unmounted after the last user');
});

test('a bind volume with a missing device fails at mount with docker text', async (t) => {
  const { service, root } = await volumeService(t);
  await service.create({ name: 'bb', driverOpts: { type: 'none', o: 'bind', device: '/nonexistent-berth' } });
  const data = join(root, 'volumes', 'bb', '_data');
  await assert.rejects(service.mount('bb', 'r'), {
    message: `error while mounting volume '${data}': failed to mount local volume: mount /nonexistent-berth:${data}, flags: 0x1000: no such file or directory`,
  });
  const src = join(root, 'bindsrc');
  mkdirSync(src);
  writeFileSync(join(src, 'hello'), 'hi');
  await service.create({ name: 'bok', driverOpts: { type: 'none', o: 'bind', device: src } });
  const p = await service.mount('bok', 'r');
  assert.equal(readFileSync(join(p, 'hello'), 'utf8'), 'hi');
  await service.unmount('bok', 'r');
  assert.equal(existsSync(join(p, 'hello')), false);
});

test('remove refuses volumes in use, force does not override, missing+force is fine', async (t) => {
  const { service } = await volumeService(t);
  await service.create({ name: 'used' });
  service.addRef('used', 'c'.repeat(64));
  await assert.rejects(service.remove('used'), (e: Error) => e instanceof VolumeInUse && e.message === `remove used: volume is in use - [${'c'.repeat(64)}]`);
  await assert.rejects(service.remove('used', { force: true }), VolumeInUse);
  await assert.rejects(service.remove('missing'), (e: Error) => e instanceof NotFound && e.message === 'get missing: no such volume');
  await service.remove('missing', { force: true });
  service.removeRef('used', 'c'.repeat(64));
  await service.remove('used');
  assert.equal(service.has('used'), false);
});

test('list filters: name regex, label AND, dangling, driver', async (t) => {
  const { service } = await volumeService(t);
  await service.create({ name: 'my-specr-1', labels: { env: 'prod', tier: 'db' } });
  await service.create({ name: 'specr-l2', labels: { env: 'prod' } });
  await service.create({ name: 'other', labels: { env: '' } });
  service.addRef('other', 'x');
  const names = (f: Parameters<typeof service.list>[0]) => service.list(f).map((v) => v.name).sort();
  assert.deepEqual(names({ name: ['specr'] }), ['my-specr-1', 'specr-l2']);
  assert.deepEqual(names({ name: ['^specr-l'] }), ['specr-l2']);
  assert.deepEqual(names({ name: ['[invalid'] }), []);
  assert.deepEqual(names({ label: ['env=prod', 'tier'] }), ['my-specr-1']);
  assert.deepEqual(names({ label: ['env='] }), ['other']);
  assert.deepEqual(names({ dangling: true }), ['my-specr-1', 'specr-l2']);
  assert.deepEqual(names({ dangling: false }), ['other']);
  assert.deepEqual(names({ driver: ['loc'] }), []);
  assert.deepEqual(names({ driver: ['local'] }), ['my-specr-1', 'other', 'specr-l2']);
});

test('prune: anonymous only unless all, never options, label and label!', async (t) => {
  const { service } = await volumeService(t);
  const anon = await service.create({});
  await service.create({ name: 'n1' });
  await service.create({ name: 'keep1', labels: { keep: '1' } });
  await service.create({ name: 'opts', driverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  await service.create({ name: 'inuse' });
  service.addRef('inuse', 'c');
  writeFileSync(join(anon.mountpoint, 'f'), Buffer.alloc(1000));
  let r = await service.prune({ label: [], notLabel: [], all: false });
  assert.deepEqual(r.volumesDeleted, [anon.name]);
  assert.equal(r.spaceReclaimed, 1000);
  r = await service.prune({ label: [], notLabel: ['keep'], all: true });
  assert.deepEqual(r.volumesDeleted, ['n1']);
  r = await service.prune({ label: [], notLabel: [], all: true });
  assert.deepEqual(r.volumesDeleted, ['keep1']);
  r = await service.prune({ label: [], notLabel: [], all: true });
  assert.deepEqual(r.volumesDeleted, []);
  assert.deepEqual(service.list().map((v) => v.name).sort(), ['inuse', 'opts']);
});

test('only one prune at a time', async (t) => {
  const { service } = await volumeService(t);
  for (let i = 0; i < 20; i++) await service.create({ name: `p${i}` });
  const first = service.prune({ label: [], notLabel: [], all: true });
  await assert.rejects(service.prune({ label: [], notLabel: [], all: true }), (e: Error) => e instanceof Conflict && e.message === 'a prune operation is already running');
  assert.equal((await first).volumesDeleted.length, 20);
});

test('restart: metadata survives, hand-made directories are adopted, vanished ones dropped', async (t) => {
  const fx = await volumeService(t);
  await fx.service.create({ name: 'kept', labels: { a: '1' } });
  await fx.service.create({ name: 'gone' });
  fx.service.addRef('kept', 'container-1');
  mkdirSync(join(fx.root, 'volumes', 'manualvol', '_data'), { recursive: true });
  const { rmSync } = await import('node:fs');
  rmSync(join(fx.root, 'volumes', 'gone'), { recursive: true });
  const s = await fx.reopen();
  assert.deepEqual(s.list().map((v) => v.name).sort(), ['kept', 'manualvol']);
  assert.deepEqual((await s.get('kept')).labels, { a: '1' });
  assert.equal((await s.get('manualvol')).labels, null);
  assert.deepEqual(s.refs('kept'), ['container-1']);
});
