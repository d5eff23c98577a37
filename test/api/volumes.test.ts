// The /volumes endpoints over a real socket: status codes, bodies, and the
// spec's edge cases (docker-volumes-spec.md section 10, 1–33, 76–78).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon, removeNetworkDevices } from '../helpers/daemon.js';
import { api } from '../helpers/http.js';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d.stop();
  removeNetworkDevices(d.dataRoot);
  const { unmountUnder } = await import('../helpers/daemon.js');
  unmountUnder(d.dir);
  const { rmSync } = await import('node:fs');
  rmSync(d.dir, { recursive: true, force: true });
});

const call = (method: string, path: string, body?: unknown, opts?: Parameters<typeof api>[4]) => api(d.socket, method, path, body, opts);
const filters = (f: unknown) => encodeURIComponent(JSON.stringify(f));

test('ping answers HEAD and GET with negotiation headers', async () => {
  const head = await call('HEAD', '/_ping');
  assert.equal(head.status, 200);
  assert.equal(head.headers['api-version'], '1.47');
  assert.equal(head.headers['ostype'], 'linux');
  assert.equal(head.headers['docker-experimental'], 'false');
  const get = await call('GET', '/_ping');
  assert.equal(get.text, 'OK');
});

test('version prefix: too new is 400 JSON, too old 400 plain text, unknown route 404', async () => {
  const tooNew = await call('GET', '/v1.99/volumes');
  assert.equal(tooNew.status, 400);
  assert.deepEqual(tooNew.json, { message: 'client version 1.99 is too new. Maximum supported API version is 1.47' });
  const tooOld = await call('GET', '/v1.11/volumes');
  assert.equal(tooOld.status, 400);
  assert.match(tooOld.headers['content-type'] as string, /text\/plain/);
  assert.equal(tooOld.text.trim(), 'client version 1.11 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version');
  const unknown = await call('GET', '/v1.41/nonexistent');
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.json, { message: 'page not found' });
  const putOld = await call('PUT', '/v1.41/volumes/x', {});
  assert.equal(putOld.status, 404);
  assert.deepEqual(putOld.json, { message: 'page not found' });
  const putNew = await call('PUT', '/v1.47/volumes/x', {});
  assert.equal(putNew.status, 503);
});

test('create is idempotent and keeps the original labels and options (edge 1, 2)', async () => {
  const a = await call('POST', '/volumes/create', { Name: 'e1', Labels: { k: 'v' } });
  assert.equal(a.status, 201);
  assert.deepEqual(Object.keys(a.json), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.match(a.json.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  assert.equal(a.json.Mountpoint, join(d.dataRoot, 'volumes', 'e1', '_data'));
  assert.equal(a.json.Options, null);
  const b = await call('POST', '/volumes/create', { Name: 'e1', Labels: { k2: 'v2' }, DriverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  assert.equal(b.status, 201);
  assert.deepEqual(b.json.Labels, { k: 'v' });
  assert.equal(b.json.Options, null);
});

test('null versus {} for Labels and Options (spec 1.3)', async () => {
  const empty = await call('POST', '/volumes/create', { Name: 'e-empty', Labels: {}, DriverOpts: {} });
  assert.deepEqual(empty.json.Labels, {});
  assert.deepEqual(empty.json.Options, {});
  const none = await call('POST', '/volumes/create', { Name: 'e-null' });
  assert.equal(none.json.Labels, null);
  const inspect = await call('GET', '/volumes/e-empty');
  assert.deepEqual(inspect.json.Labels, {});
  assert.equal('Status' in inspect.json, false);
});

test('unknown driver is 404, bad names 400, too long 500 (edge 4–7)', async () => {
  const r = await call('POST', '/volumes/create', { Name: 'e4', Driver: 'nosuchdrv' });
  assert.equal(r.status, 404);
  assert.equal(r.json.message, 'create e4: error looking up volume plugin nosuchdrv: plugin "nosuchdrv" not found');
  const short = await call('POST', '/volumes/create', { Name: 'a' });
  assert.equal(short.status, 400);
  assert.equal(short.json.message, 'create a: volume name is too short, names should be at least two alphanumeric characters');
  const slash = await call('POST', '/volumes/create', { Name: 'specr/x' });
  assert.equal(slash.status, 400);
  assert.equal(
    slash.json.message,
    'create specr/x: "specr/x" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
  );
  const long = await call('POST', '/volumes/create', { Name: 'x'.repeat(256) });
  assert.equal(long.status, 500);
  assert.match(long.json.message, /file name too long$/);
  assert.equal((await call('POST', '/volumes/create', { Name: 'y'.repeat(255) })).status, 201);
});

test('a ClusterVolumeSpec (docker volume create --scope, --availability...) is a swarm request from 1.42: 503 as dockerd outside a swarm; ignored below', async () => {
  const spec = { Name: 'cl-1', ClusterVolumeSpec: { Scope: 'multi', AccessMode: { Scope: 'multi' } } };
  const r = await call('POST', '/v1.47/volumes/create', spec);
  assert.equal(r.status, 503);
  assert.equal(r.json.message, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  assert.equal((await call('GET', '/volumes/cl-1')).status, 404, 'nothing was made');
  const old = await call('POST', '/v1.41/volumes/create', spec);
  assert.equal(old.status, 201, old.text);
  assert.equal(old.json.Name, 'cl-1');
  assert.equal((await call('POST', '/v1.47/volumes/create', { Name: 'cl-2', ClusterVolumeSpec: null })).status, 201);
  for (const name of ['cl-1', 'cl-2']) assert.equal((await call('DELETE', `/volumes/${name}`)).status, 204);
});

test('anonymous create with {} and with no body (edge 8, 9)', async () => {
  for (const r of [await call('POST', '/volumes/create', {}), await call('POST', '/volumes/create')]) {
    assert.equal(r.status, 201);
    assert.match(r.json.Name, /^[0-9a-f]{64}$/);
    assert.deepEqual(r.json.Labels, { 'com.docker.volume.anonymous': '' });
  }
});

test('driver option errors (edge 10–12)', async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ foo: 'bar' }, 'create e10: invalid option: "foo"'],
    [{ type: 'tmpfs' }, 'create e10: missing required option: "device"'],
    [{ o: 'size=1m' }, 'create e10: missing required option: "device"'],
    [{ size: '10m' }, 'create e10: quota size requested but no quota support'],
  ];
  for (const [opts, message] of cases) {
    const r = await call('POST', '/volumes/create', { Name: 'e10', DriverOpts: opts });
    assert.equal(r.status, 400);
    assert.equal(r.json.message, message);
  }
});

test('inspect and remove of missing volumes (edge 15, 16, 19)', async () => {
  const missing = await call('GET', '/volumes/missing');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { message: 'get missing: no such volume' });
  const empty = await call('GET', '/volumes/');
  assert.equal(empty.status, 404);
  assert.equal(empty.json.message, 'get: no such volume');
  const del = await call('DELETE', '/volumes/missing');
  assert.equal(del.status, 404);
  assert.equal(del.json.message, 'get missing: no such volume');
  const force = await call('DELETE', '/volumes/missing?force=true');
  assert.equal(force.status, 204);
  assert.equal(force.text, '');
  await call('POST', '/volumes/create', { Name: 'e19' });
  assert.equal((await call('DELETE', '/volumes/e19?force=0')).status, 204);
});

test('list: filters, legacy format, errors (edge 20–25)', async () => {
  for (const n of ['f-specr-1', 'specr-l2', 'flt-x']) await call('POST', '/volumes/create', { Name: n, Labels: n === 'flt-x' ? { env: '' } : { env: 'prod', tier: 'db' } });
  const names = async (f: unknown) => {
    const r = await call('GET', `/volumes?filters=${filters(f)}`);
    assert.equal(r.status, 200, r.text);
    return (r.json.Volumes as Array<{ Name: string }>).map((v) => v.Name).sort();
  };
  assert.deepEqual(await names({ name: { specr: true } }), ['f-specr-1', 'specr-l2']);
  assert.deepEqual(await names({ name: { '^specr-l': true } }), ['specr-l2']);
  assert.deepEqual(await names({ name: ['flt-x'] }), ['flt-x']);
  assert.deepEqual(await names({ name: { 'flt-x': false } }), ['flt-x']);
  assert.deepEqual(await names({ label: { 'env=prod': true, tier: true }, name: { 'f-': true } }), ['f-specr-1']);
  assert.deepEqual(await names({ label: { 'env=': true } }), ['flt-x']);
  for (const [f, msg] of [
    [{ dangling: { yes: true } }, "invalid filter 'dangling=[yes]'"],
    [{ bogus: { x: true } }, "invalid filter 'bogus'"],
    [{ 'label!': { x: true } }, "invalid filter 'label!'"],
  ] as const) {
    const r = await call('GET', `/volumes?filters=${filters(f)}`);
    assert.equal(r.status, 400);
    assert.equal(r.json.message, msg);
  }
  const bad = await call('GET', '/volumes?filters=nope');
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /^error reading volume filters: invalid filter/);
  const all = await call('GET', '/volumes');
  assert.equal(all.json.Warnings, null);
});

test('prune at 1.47, 1.41 and its filter errors (edge 26–32)', async () => {
  const anon = (await call('POST', '/volumes/create', {})).json.Name as string;
  await call('POST', '/volumes/create', { Name: 'pr-n1' });
  await call('POST', '/volumes/create', { Name: 'pr-tmpfs', DriverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  writeFileSync(join(d.dataRoot, 'volumes', anon, '_data', 'blob'), Buffer.alloc(102400));
  const r = await call('POST', `/v1.47/volumes/prune?filters=${filters({ label: { 'com.docker.volume.anonymous': true } })}`);
  assert.equal(r.status, 200);
  assert.ok(r.json.VolumesDeleted.includes(anon));
  assert.ok(!r.json.VolumesDeleted.includes('pr-n1'));
  assert.ok(r.json.SpaceReclaimed >= 102400);
  const e29a = await call('POST', `/volumes/prune?filters=${filters({ all: { true: true, false: true } })}`);
  assert.equal(e29a.status, 400);
  assert.equal(e29a.json.message, "invalid filter 'all=[true false]': only one value is expected");
  const e29b = await call('POST', `/volumes/prune?filters=${filters({ all: { maybe: true } })}`);
  assert.equal(e29b.status, 400);
  assert.equal(e29b.json.message, 'invalid filter \'all\': strconv.ParseBool: parsing "maybe": invalid syntax');
  const bogus = await call('POST', `/volumes/prune?filters=${filters({ dangling: { true: true } })}`);
  assert.equal(bogus.status, 400);
  const keep = await call('POST', `/v1.41/volumes/prune?filters=${filters({ 'label!': { env: true } })}`);
  assert.ok(keep.json.VolumesDeleted.includes('pr-n1'), 'API 1.41 prunes named volumes');
  assert.ok(!keep.json.VolumesDeleted.includes('pr-tmpfs'), 'volumes with options are never pruned');
  assert.ok(!keep.json.VolumesDeleted.includes('f-specr-1'), 'label! keeps labelled volumes');
  const nothing = await call('POST', `/volumes/prune?filters=${filters({ all: { true: true }, label: { 'never-there': true } })}`);
  assert.deepEqual(nothing.json, { VolumesDeleted: [], SpaceReclaimed: 0 });
});

test('malformed requests get 4xx and the daemon keeps serving', async () => {
  const ct = await call('POST', '/volumes/create', undefined, { rawBody: '{"Name":"ct"}', contentType: 'text/plain' });
  assert.equal(ct.status, 400);
  assert.equal(ct.json.message, "unsupported Content-Type header (text/plain): must be 'application/json'");
  const broken = await call('POST', '/volumes/create', undefined, { rawBody: '{"Name":' });
  assert.equal(broken.status, 400);
  assert.match(broken.json.message, /^invalid JSON: /);
  const trailing = await call('POST', '/volumes/create', undefined, { rawBody: '{"Name":"tr"} {}' });
  assert.equal(trailing.status, 400);
  const wrongType = await call('POST', '/volumes/create', { Name: 12 });
  assert.equal(wrongType.status, 400);
  const big = await call('POST', '/volumes/create', undefined, { rawBody: '{"Name":"' + 'x'.repeat(5 * 1024 * 1024) + '"}' });
  assert.equal(big.status, 413);
  const array = await call('POST', '/volumes/create', [1, 2]);
  assert.equal(array.status, 400);
  assert.equal((await call('GET', '/_ping')).status, 200);
});

test('system df reports local volumes without options with size and refcount', async () => {
  await call('POST', '/volumes/create', { Name: 'df-vol' });
  writeFileSync(join(d.dataRoot, 'volumes', 'df-vol', '_data', 'f'), Buffer.alloc(4096));
  const r = await call('GET', '/system/df');
  assert.equal(r.status, 200);
  const v = (r.json.Volumes as Array<{ Name: string; UsageData: { Size: number; RefCount: number } }>).find((x) => x.Name === 'df-vol');
  assert.deepEqual(v?.UsageData, { RefCount: 0, Size: 4096 });
  assert.ok(!(r.json.Volumes as Array<{ Name: string }>).some((x) => x.Name === 'pr-tmpfs'));
});

test('events stream volume create and destroy', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await call('POST', '/volumes/create', { Name: 'ev-1' });
  await call('DELETE', '/volumes/ev-1');
  const until = Math.floor(Date.now() / 1000) + 1;
  const r = await call('GET', `/events?since=${since}&until=${until}&filters=${filters({ type: ['volume'], volume: ['ev-1'] })}`);
  const events = r.text.trim().split('\n').map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } });
  assert.deepEqual(events.map((e) => e.Action), ['create', 'destroy']);
  assert.deepEqual(events[0]!.Actor, { ID: 'ev-1', Attributes: { driver: 'local' } });
});

test('info and version carry the fields the docker CLI reads', async () => {
  const info = await call('GET', '/info');
  assert.deepEqual(info.json.Plugins.Volume, ['local']);
  assert.equal(info.json.DockerRootDir, d.dataRoot);
  assert.equal(info.json.Swarm.LocalNodeState, 'inactive');
  const version = await call('GET', '/v1.24/version');
  assert.equal(version.json.Components[0].Name, 'Engine');
  assert.equal(version.json.ApiVersion, '1.47');
});

test('a hostile name pattern cannot stall the daemon (RE2 semantics, linear time)', { timeout: 120_000 }, async () => {
  const name = 'a'.repeat(40);
  assert.equal((await call('POST', '/volumes/create', { Name: name })).status, 201);
  const [ls, cs, ping] = await Promise.all([
    call('GET', `/volumes?filters=${filters({ name: ['^(a+)+b$'] })}`),
    call('GET', `/containers/json?all=1&filters=${filters({ name: ['^(a+)+b$', '(x+x+)+y'] })}`),
    call('GET', '/_ping'),
  ]);
  assert.equal(ls.status, 200);
  assert.deepEqual(ls.json.Volumes, []);
  assert.equal(cs.status, 200);
  assert.deepEqual(cs.json, []);
  assert.equal(ping.text, 'OK');
  // Go's syntax, not JavaScript's: a character class Go has, and a lookahead Go refuses (exact match only).
  const posix = await call('GET', `/volumes?filters=${filters({ name: ['^[[:alpha:]]{40}$'] })}`);
  assert.deepEqual(posix.json.Volumes.map((v: { Name: string }) => v.Name), [name]);
  const lookahead = await call('GET', `/volumes?filters=${filters({ name: ['a(?=a)'] })}`);
  assert.deepEqual(lookahead.json.Volumes, []);
  assert.equal((await call('DELETE', `/volumes/${name}`)).status, 204);
});

test('user-keyed maps keep a __proto__ key (labels, driver options)', async () => {
  const body = '{"Name":"proto1","Labels":{"__proto__":"x","a":"b"},"DriverOpts":{"__proto__":"y"}}';
  const c = await call('POST', '/volumes/create', undefined, { rawBody: body });
  assert.equal(c.status, 400, c.text); // the local driver refuses unknown options, '__proto__' included
  assert.match(c.json.message, /__proto__/);
  const ok = await call('POST', '/volumes/create', undefined, { rawBody: '{"Name":"proto1","Labels":{"__proto__":"x","a":"b"}}' });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.text.includes('"Labels":{"__proto__":"x","a":"b"}'), true, ok.text);
  const inspect = await call('GET', '/volumes/proto1');
  assert.equal(inspect.text.includes('"Labels":{"__proto__":"x","a":"b"}'), true, inspect.text);
  const ls = await call('GET', `/volumes?filters=${filters({ label: ['__proto__=x'] })}`);
  assert.deepEqual(ls.json.Volumes.map((v: { Name: string }) => v.Name), ['proto1']);
  assert.equal((await call('DELETE', '/volumes/proto1')).status, 204);
});

test('swarm mode and managed plugins are answered as by a dockerd outside a swarm with none installed', async () => {
  const manager = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
  for (const [method, path] of [['GET', '/swarm'], ['GET', '/nodes'], ['GET', '/services'], ['GET', '/tasks'], ['GET', '/secrets'], ['GET', '/configs'], ['POST', '/services/create'], ['GET', '/services/x/logs'], ['DELETE', '/secrets/x']] as const) {
    const r = await call(method, `/v1.47${path}`);
    assert.equal(r.status, 503, `${method} ${path}`);
    assert.equal(r.json.message, manager);
  }
  const leave = await call('POST', '/v1.47/swarm/leave');
  assert.deepEqual([leave.status, leave.json.message], [503, 'This node is not part of a swarm']);
  assert.equal((await call('POST', '/v1.47/swarm/init', {})).status, 501);
  const plugins = await call('GET', '/v1.47/plugins');
  assert.deepEqual([plugins.status, plugins.json], [200, []]);
});
