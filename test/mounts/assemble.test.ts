// Whole-container mount assembly (5.5, 6.1, 6.5, 6.7; edge cases 40, 42, 64, 67, 68, 70).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assembleMounts,
  parseBind,
  resolveVolumeMount,
  sortByDepth,
  type AssembleMountsInput,
} from '../../src/mounts/parse.js';
import type { FileProbe, MountPoint } from '../../src/mounts/types.js';
import { decodeMounts } from '../../src/api/decode/mounts.js';

const probe: FileProbe = { exists: (p) => p === '/srv/data', isDirectory: (p) => p === '/srv/data' };
const base = { apiVersion: '1.47', probe } satisfies AssembleMountsInput;

/** HostConfig.Mounts as a request carries them: decoded by the API layer first, as the route does. */
type RequestMounts = Omit<AssembleMountsInput, 'mounts'> & { mounts?: unknown[] };
function assemble(input: RequestMounts) {
  return assembleMounts({ ...input, mounts: decodeMounts(input.mounts, input.apiVersion) });
}

function byDest(mounts: MountPoint[]): Record<string, MountPoint> {
  return Object.fromEntries(mounts.map((m) => [m.destination, m]));
}

// A container "A" with an anonymous volume at /anon3 (from -v /anon3), a named one and a bind.
const containerA: MountPoint[] = [
  { type: 'volume', name: 'f'.repeat(64), source: '/var/lib/berth/volumes/fff/_data', destination: '/anon3', driver: 'local', mode: '', rw: true, propagation: '', copyData: true, anonymous: true, origin: 'config-volumes' },
  { type: 'volume', name: 'named', source: '/var/lib/berth/volumes/named/_data', destination: '/n', driver: 'local', mode: 'z', rw: true, propagation: '', copyData: true, anonymous: false, origin: 'binds', modeDefaulted: true },
  { type: 'bind', name: '', source: '/srv/data', destination: '/b', driver: '', mode: 'ro', rw: false, propagation: 'rprivate', copyData: false, anonymous: false, origin: 'binds', createMountpoint: true },
];
const getContainerMounts = (ref: string): MountPoint[] | undefined => (ref === 'A' ? containerA : undefined);

const duplicateCases: Array<{ title: string; input: Partial<RequestMounts>; message: string }> = [
  { title: 'edge 42: -v vol:/x -v vol2:/x', input: { binds: ['vol:/x', 'vol2:/x'] }, message: 'Duplicate mount point: /x' },
  { title: 'binds compare cleaned destinations', input: { binds: ['vol:/x', '/srv/data:/x/'] }, message: 'Duplicate mount point: /x' },
  { title: 'edge 42: -v v:/x --mount dst=/x', input: { binds: ['v1:/x'], mounts: [{ Type: 'volume', Source: 'm1', Target: '/x' }] }, message: 'Duplicate mount point: /x' },
  { title: 'mount duplicates name the raw target', input: { binds: ['v1:/x'], mounts: [{ Type: 'volume', Source: 'm1', Target: '/x/' }] }, message: 'Duplicate mount point: /x/' },
  { title: 'two --mount at one destination', input: { mounts: [{ Type: 'volume', Source: 'm1', Target: '/x' }, { Type: 'tmpfs', Target: '/x' }] }, message: 'Duplicate mount point: /x' },
  { title: 'edge 42: -v v:/x --tmpfs /x', input: { binds: ['v1:/x'], tmpfs: { '/x': '' } }, message: 'Duplicate mount point: /x' },
  { title: 'edge 68: --volumes-from missing', input: { volumesFrom: ['missing'] }, message: 'No such container: missing' },
  { title: 'edge 68: --volumes-from A:rshared', input: { volumesFrom: ['A:rshared'] }, message: 'invalid mode: rshared' },
  { title: 'edge 68: --volumes-from A:nocopy', input: { volumesFrom: ['A:nocopy'] }, message: 'invalid mode: nocopy' },
  { title: 'volume names are checked after duplicates', input: { binds: ['v1:/x', 'b/ad:/x'] }, message: 'Duplicate mount point: /x' },
  { title: 'Mounts are validated before Binds are parsed', input: { binds: ['v1:/x:bogus'], mounts: [{ Type: 'foo', Target: '/y' }] }, message: 'invalid mount config for type "foo": mount type unknown' },
  { title: 'Tmpfs destinations are validated before Binds', input: { binds: ['v1:/x:bogus'], tmpfs: { rel: '' } }, message: "invalid mount path: 'rel' mount path must be absolute" },
];

for (const c of duplicateCases) {
  test(`assembleMounts error: ${c.title}`, () => {
    assert.throws(() => assemble({ ...base, getContainerMounts, ...c.input }), { name: 'InvalidParameter', message: c.message });
  });
}

test('assembleMounts: Binds errors keep their 500 class', () => {
  assert.throws(() => assemble({ ...base, binds: ['/data:ro'] }), { name: 'SystemError', message: "invalid volume specification: '/data:ro'" });
});

test('assembleMounts: edge 67 — --volumes-from A:ro copies every mount point read-only, Mode empty, no copy-up', () => {
  const { mounts } = assemble({ ...base, getContainerMounts, volumesFrom: ['A:ro'] });
  const m = byDest(mounts);
  assert.equal(mounts.length, 3);
  const anon = m['/anon3']!;
  assert.equal(anon.name, 'f'.repeat(64));
  assert.equal(anon.source, '/var/lib/berth/volumes/fff/_data');
  assert.equal(anon.rw, false);
  assert.equal(anon.mode, '');
  assert.equal(anon.copyData, false);
  assert.equal(anon.anonymous, true, 'a copy of an anonymous volume is removed by rm -v');
  assert.equal(anon.origin, 'volumes-from');
  assert.equal(m['/n']!.anonymous, false);
  assert.equal(m['/n']!.mode, '');
  assert.equal(m['/n']!.modeDefaulted, undefined);
  assert.equal(m['/b']!.type, 'bind');
  assert.equal(m['/b']!.propagation, 'rprivate');
  assert.equal(m['/b']!.rw, false);
  // the source container's records are untouched
  assert.equal(containerA[0]!.rw, true);
});

test('assembleMounts: --volumes-from keeps RW when both allow it', () => {
  const { mounts } = assemble({ ...base, getContainerMounts, volumesFrom: ['A'] });
  const m = byDest(mounts);
  assert.equal(m['/anon3']!.rw, true);
  assert.equal(m['/b']!.rw, false);
});

test('assembleMounts: a bind replaces a --volumes-from mount at the same destination', () => {
  const { mounts } = assemble({ ...base, getContainerMounts, volumesFrom: ['A'], binds: ['mine:/anon3'] });
  const m = byDest(mounts);
  assert.equal(mounts.length, 3);
  assert.equal(m['/anon3']!.name, 'mine');
  assert.equal(m['/anon3']!.origin, 'binds');
});

test('assembleMounts: edge 64 / 6.5 — image volumes become anonymous only where free', () => {
  const { mounts } = assemble({
    ...base,
    binds: ['specr-named1:/data'],
    imageVolumes: { '/data': {}, '/other': {} },
  });
  const m = byDest(mounts);
  assert.equal(mounts.length, 2);
  assert.equal(m['/data']!.name, 'specr-named1');
  assert.equal(m['/data']!.anonymous, false);
  assert.deepEqual(
    { ...m['/other']! },
    { type: 'volume', name: '', source: '', destination: '/other', driver: '', mode: '', rw: true, propagation: '', copyData: true, anonymous: true, origin: 'image' },
  );
});

test('assembleMounts: edge 70 — -v /anon4 (Config.Volumes) gives Mode "" and uses the VolumeDriver', () => {
  const { mounts } = assemble({ ...base, volumeDriver: 'myplug', configVolumes: { '/anon4/': {} }, imageVolumes: { '/anon4': {} } });
  assert.equal(mounts.length, 1);
  assert.equal(mounts[0]!.destination, '/anon4');
  assert.equal(mounts[0]!.mode, '');
  assert.equal(mounts[0]!.driver, 'myplug');
  assert.equal(mounts[0]!.origin, 'config-volumes');
});

test('assembleMounts: edge 40 — the CLI sends a:/x as a Config.Volumes key; the daemon keeps it as destination', () => {
  const { mounts } = assemble({ ...base, configVolumes: { 'a:/x': {} } });
  assert.equal(mounts.length, 1);
  assert.equal(mounts[0]!.destination, 'a:/x');
  assert.equal(mounts[0]!.name, '', 'no volume named "a"');
  assert.equal(mounts[0]!.anonymous, true);
});

test('assembleMounts: tmpfs destinations block image volumes and are returned apart', () => {
  const { mounts, tmpfs } = assemble({ ...base, tmpfs: { '/t': 'size=64k' }, imageVolumes: { '/t': {} } });
  assert.equal(mounts.length, 0);
  assert.equal(tmpfs.length, 1);
  assert.deepEqual(tmpfs[0]!.tmpfsOptions, ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=64k']);
});

test('assembleMounts: VolumeDriver applies to Binds volumes, not to Mounts; warning from API 1.48', () => {
  const input: RequestMounts = {
    ...base,
    volumeDriver: 'myplug',
    binds: ['b1:/b'],
    mounts: [{ Type: 'volume', Source: 'm1', Target: '/m' }],
  };
  const r47 = assemble(input);
  const m = byDest(r47.mounts);
  assert.equal(m['/b']!.driver, 'myplug');
  assert.equal(m['/b']!.mode, '');
  assert.equal(m['/m']!.driver, '');
  assert.equal(m['/m']!.mode, 'z');
  assert.deepEqual(r47.warnings, []);
  const r48 = assemble({ ...input, apiVersion: '1.48' });
  assert.deepEqual(r48.warnings, [
    "WARNING: the container-wide volume-driver configuration is ignored for volumes specified via 'mount'. Use '--mount type=volume,volume-driver=...' instead",
  ]);
});

test('assembleMounts: a full mix keeps every kind with the right Mode', () => {
  const { mounts } = assemble({
    ...base,
    binds: ['/srv/data:/y:ro,rslave', 'specr-b:/x:rw,Z,nocopy,cached'],
    mounts: [
      { Type: 'volume', Source: 'specr-mv', Target: '/mv' },
      { Type: 'volume', Target: '/anonm' },
      { Type: 'tmpfs', Target: '/tm' },
      { Type: 'bind', Source: '/srv/data', Target: '/w', ReadOnly: true, BindOptions: { Propagation: 'shared' } },
    ],
    configVolumes: { '/anon4': {} },
  });
  const m = byDest(mounts);
  const summary = (d: string): [string, string, boolean, string] => [m[d]!.type, m[d]!.mode, m[d]!.rw, m[d]!.propagation];
  assert.deepEqual(summary('/y'), ['bind', 'ro,rslave', false, 'rslave']);
  assert.deepEqual(summary('/x'), ['volume', 'rw,Z,nocopy,cached', true, '']);
  assert.deepEqual(summary('/mv'), ['volume', 'z', true, '']);
  assert.deepEqual(summary('/anonm'), ['volume', 'z', true, '']);
  assert.deepEqual(summary('/tm'), ['tmpfs', '', true, '']);
  assert.deepEqual(summary('/w'), ['bind', '', false, 'shared']);
  assert.deepEqual(summary('/anon4'), ['volume', '', true, '']);
  assert.equal(m['/anonm']!.anonymous, true);
  assert.equal(m['/anon4']!.anonymous, true);
  assert.equal(m['/mv']!.anonymous, false);
});

test('resolveVolumeMount: fills name/driver/source; the implicit z only stays for local', () => {
  const mp = parseBind('vol:/x', { volumeDriver: '' });
  const local = resolveVolumeMount(mp, { name: 'vol', driver: 'local', mountpoint: '/var/lib/berth/volumes/vol/_data' });
  assert.equal(local.mode, 'z');
  assert.equal(local.source, '/var/lib/berth/volumes/vol/_data');
  assert.equal(local.driver, 'local');
  const plugin = resolveVolumeMount(mp, { name: 'vol', driver: 'myplug', mountpoint: '/mnt/p/vol' });
  assert.equal(plugin.mode, '');
  const explicit = resolveVolumeMount(parseBind('vol:/x:z', { volumeDriver: '' }), { name: 'vol', driver: 'myplug', mountpoint: '/p' });
  assert.equal(explicit.mode, 'z');
  const anon = resolveVolumeMount(parseBind('/data', { volumeDriver: '' }), { name: 'a'.repeat(64), driver: 'local', mountpoint: '/m' });
  assert.equal(anon.name, 'a'.repeat(64));
  assert.equal(anon.anonymous, true);
});

test('sortByDepth: parents first, stable within a depth', () => {
  const ds = ['/a/b/c', '/z', '/a/b', '/a', '/', '/etc/resolv.conf', '/etc/', '/b/'];
  const sorted = sortByDepth(ds.map((destination) => ({ destination }))).map((m) => m.destination);
  assert.deepEqual(sorted, ['/z', '/a', '/', '/etc/', '/b/', '/a/b', '/etc/resolv.conf', '/a/b/c']);
});
