// POST /containers/create under contention and failure (issue 6, item 10):
// one name gives one container and Docker's 409 to everyone else, and a
// create that fails at any step leaves nothing it took behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { api } from '../helpers/http.js';
import { importTestImages } from '../helpers/images.js';
import { readMountInfo } from '../../src/util/mount.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
});
after(async () => {
  await d.cleanup();
});

const call = (method: string, path: string, body?: unknown) => api(d.socket, method, path, body);

async function volumeNames(): Promise<string[]> {
  const r = await call('GET', '/volumes');
  assert.equal(r.status, 200);
  return (r.json.Volumes as { Name: string }[]).map((v) => v.Name).sort();
}

async function containerIds(): Promise<string[]> {
  const r = await call('GET', '/containers/json?all=1');
  assert.equal(r.status, 200);
  return (r.json as { Id: string }[]).map((c) => c.Id).sort();
}

function containerDirs(): string[] {
  return readdirSync(join(d.dataRoot, 'containers')).sort();
}

function rootfsMounts(): string[] {
  return readMountInfo()
    .map((m) => m.mountPoint)
    .filter((p) => p.startsWith(join(d.dataRoot, 'containers') + '/'));
}

async function refsOf(volume: string): Promise<number> {
  const r = await call('GET', '/system/df?type=volume');
  assert.equal(r.status, 200);
  const v = (r.json.Volumes as { Name: string; UsageData: { RefCount: number } }[]).find((x) => x.Name === volume);
  assert.ok(v, `volume ${volume} not in df`);
  return v.UsageData.RefCount;
}

test('20 parallel creates of one name: one 201, 19 Docker 409s, no volumes or directories left by the losers', async () => {
  const volumesBefore = await volumeNames();
  const dirsBefore = containerDirs();
  // Each request names its own volume and has an anonymous one (busybox:latest has VOLUME /data).
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      call('POST', '/containers/create?name=dup', { Image: 'busybox:latest', Cmd: ['true'], HostConfig: { Binds: [`dupvol${i}:/named`] } }).then((r) => ({ i, r })),
    ),
  );
  const created = results.filter(({ r }) => r.status === 201);
  const conflicts = results.filter(({ r }) => r.status === 409);
  assert.equal(created.length, 1, `statuses: ${results.map(({ r }) => `${r.status} ${r.text.trim()}`).join('; ')}`);
  assert.equal(conflicts.length, 19, `statuses: ${results.map(({ r }) => r.status).join(',')}`);
  const winner = created[0]!;
  const id = winner.r.json.Id as string;
  for (const { r } of conflicts) {
    assert.equal(
      r.json?.message,
      `Conflict. The container name "/dup" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
  // Only the winner's volumes were made: its named one and its anonymous /data.
  const volumesAfter = await volumeNames();
  const added = volumesAfter.filter((v) => !volumesBefore.includes(v));
  assert.equal(added.length, 2, `volumes added: ${added.join(', ')}`);
  assert.ok(added.includes(`dupvol${winner.i}`), `winner's volume missing: ${added.join(', ')}`);
  assert.ok(added.some((v) => /^[0-9a-f]{64}$/.test(v)), `winner's anonymous volume missing: ${added.join(', ')}`);
  assert.deepEqual(containerDirs(), [...dirsBefore, id].sort());
  assert.deepEqual(await containerIds(), [id]);
  assert.equal(await refsOf(`dupvol${winner.i}`), 1);

  const rm = await call('DELETE', `/containers/${id}?v=1`);
  assert.equal(rm.status, 204);
  assert.equal(await refsOf(`dupvol${winner.i}`), 0);
  const del = await call('DELETE', `/volumes/dupvol${winner.i}`);
  assert.equal(del.status, 204);
  assert.deepEqual(await volumeNames(), volumesBefore);
  assert.deepEqual(containerDirs(), dirsBefore);
});

test('generated names never collide under parallel creates', async () => {
  const results = await Promise.all(Array.from({ length: 40 }, () => call('POST', '/containers/create', { Image: 'busybox:secret', Cmd: ['true'] })));
  assert.deepEqual(
    results.map((r) => r.status),
    results.map(() => 201),
    results.map((r) => r.text).join('; '),
  );
  const ids = results.map((r) => r.json.Id as string);
  const names = await Promise.all(ids.map(async (id) => (await call('GET', `/containers/${id}/json`)).json.Name as string));
  assert.equal(new Set(names).size, names.length, `duplicate names: ${names.join(', ')}`);
  for (const id of ids) assert.equal((await call('DELETE', `/containers/${id}`)).status, 204);
  assert.deepEqual(await containerIds(), []);
});

test('a create that fails after making volumes (copy-up over a file) releases every volume, reference, mount and directory', async () => {
  const volumesBefore = await volumeNames();
  const dirsBefore = containerDirs();
  const shared = 'latefail-shared';
  const made = await call('POST', '/volumes/create', { Name: shared });
  assert.equal(made.status, 201);
  // busybox:filevol has VOLUME /etc/app over a file: copy-up refuses it, after
  // the named, pre-existing and anonymous volumes were all taken.
  const r = await call('POST', '/containers/create?name=latefail', {
    Image: 'busybox:filevol',
    Cmd: ['true'],
    HostConfig: { Binds: ['latefail-named:/named', `${shared}:/shared`], Mounts: [{ Type: 'volume', Target: '/anon' }] },
  });
  assert.equal(r.status, 500, r.text);
  assert.match(r.json?.message ?? '', /cannot mount volume over existing file/);
  // The volume the client made beforehand stays, unreferenced; the ones the create made are gone.
  assert.deepEqual(await volumeNames(), [...volumesBefore, shared].sort());
  assert.equal(await refsOf(shared), 0);
  assert.deepEqual(containerDirs(), dirsBefore);
  assert.deepEqual(rootfsMounts(), []);
  assert.deepEqual(await containerIds(), []);
  // And the name is free again.
  const again = await call('POST', '/containers/create?name=latefail', { Image: 'busybox:secret', Cmd: ['true'] });
  assert.equal(again.status, 201, again.text);
  assert.equal((await call('DELETE', `/containers/${again.json.Id}`)).status, 204);
  assert.equal((await call('DELETE', `/volumes/${shared}`)).status, 204);
});
