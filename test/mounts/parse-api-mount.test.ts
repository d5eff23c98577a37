// HostConfig.Mounts parsing (spec 5.3, 6.4, 9; edge cases 49, 52, 53, 56, 60, 70).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseApiMount, type ParseApiMountOptions } from '../../src/mounts/parse.js';
import type { FileProbe, MountPoint } from '../../src/mounts/types.js';
import { decodeMounts } from '../../src/api/decode/mounts.js';

/** One HostConfig.Mounts entry as a request carries it: decoded and version-ruled by the API layer, then parsed. */
function parseMount(raw: unknown, opts: ParseApiMountOptions): MountPoint {
  return parseApiMount(decodeMounts([raw], opts.apiVersion)[0]!, opts);
}

/** A probe that knows a fixed set of paths. */
function fakeProbe(paths: string[]): FileProbe {
  const set = new Set(paths);
  const norm = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  return { exists: (p) => set.has(norm(p)), isDirectory: (p) => set.has(norm(p)) };
}
const probe = fakeProbe(['/tmp/specr-bindsrc', '/srv/data']);

const NAME_CHARS = 'includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path';

interface ValidCase {
  title: string;
  mount: unknown;
  api?: string;
  want: Partial<MountPoint>;
}

const valid: ValidCase[] = [
  {
    title: 'edge 56: named volume with labels and driver options',
    mount: { Type: 'volume', Source: 'specr-mv', Target: '/mv', VolumeOptions: { Labels: { a: 'b' }, DriverConfig: { Options: { device: 'tmpfs', type: 'tmpfs' } } } },
    want: { type: 'volume', name: 'specr-mv', destination: '/mv', driver: '', mode: 'z', rw: true, propagation: '', copyData: true, anonymous: false, origin: 'mounts', volumeLabels: { a: 'b' }, volumeDriverOpts: { device: 'tmpfs', type: 'tmpfs' } },
  },
  {
    title: 'edge 70: --mount anonymous volume shows Mode z',
    mount: { Type: 'volume', Target: '/anonm' },
    want: { type: 'volume', name: '', anonymous: true, mode: 'z', rw: true, copyData: true },
  },
  {
    title: 'edge 60: volume-nocopy',
    mount: { Type: 'volume', Source: 'v1', Target: '/x', VolumeOptions: { NoCopy: true } },
    want: { copyData: false, mode: 'z' },
  },
  {
    title: 'volume driver from DriverConfig (no z for plugins)',
    mount: { Type: 'volume', Source: 'v1', Target: '/x/', VolumeOptions: { DriverConfig: { Name: 'myplug' } } },
    want: { driver: 'myplug', mode: '', destination: '/x' },
  },
  {
    title: 'read-only named volume',
    mount: { Type: 'volume', Source: 'v1', Target: '/x', ReadOnly: true },
    want: { rw: false, mode: 'z' },
  },
  {
    title: 'volume subpath at 1.45',
    mount: { Type: 'volume', Source: 'v1', Target: '/x', VolumeOptions: { Subpath: 'a/b' } },
    api: '1.45',
    want: { subpath: 'a/b' },
  },
  {
    title: '6.4: read-only bind with shared propagation',
    mount: { Type: 'bind', Source: '/tmp/specr-bindsrc', Target: '/w', ReadOnly: true, BindOptions: { Propagation: 'shared' } },
    want: { type: 'bind', name: '', source: '/tmp/specr-bindsrc', destination: '/w', mode: '', rw: false, propagation: 'shared', createMountpoint: false, copyData: false },
  },
  {
    title: 'bind default propagation rprivate, recursion options',
    mount: { Type: 'bind', Source: '/srv/data/', Target: '/d', BindOptions: { NonRecursive: true } },
    want: { source: '/srv/data', propagation: 'rprivate', bindNonRecursive: true },
  },
  {
    title: 'bind read-only force-recursive at 1.44',
    mount: { Type: 'bind', Source: '/srv/data', Target: '/d', ReadOnly: true, BindOptions: { Propagation: 'rprivate', ReadOnlyForceRecursive: true } },
    api: '1.44',
    want: { rw: false, bindReadOnlyForceRecursive: true, bindReadOnlyNonRecursive: undefined },
  },
  {
    title: 'API 1.43: read-only binds are non-recursive',
    mount: { Type: 'bind', Source: '/srv/data', Target: '/d', ReadOnly: true },
    api: '1.43',
    want: { bindReadOnlyNonRecursive: true },
  },
  {
    title: 'missing bind source with CreateMountpoint (API >= 1.42)',
    mount: { Type: 'bind', Source: '/does/not/exist', Target: '/x', BindOptions: { CreateMountpoint: true } },
    want: { createMountpoint: true, source: '/does/not/exist' },
  },
  {
    title: 'API 1.41: mismatched TmpfsOptions on a bind are dropped',
    mount: { Type: 'bind', Source: '/srv/data', Target: '/x', TmpfsOptions: { SizeBytes: 1 } },
    api: '1.41',
    want: { type: 'bind' },
  },
  {
    title: 'API 1.41: mismatched VolumeOptions on a tmpfs are dropped',
    mount: { Type: 'tmpfs', Target: '/t', VolumeOptions: { NoCopy: true } },
    api: '1.41',
    want: { type: 'tmpfs' },
  },
  {
    title: '5.4: --mount type=tmpfs shows in Mounts with empty Mode',
    mount: { Type: 'tmpfs', Target: '/tm' },
    want: { type: 'tmpfs', name: '', source: '', destination: '/tm', mode: '', rw: true, propagation: '', tmpfsOptions: ['noexec', 'nosuid', 'nodev', 'rprivate'] },
  },
  {
    title: '5.4: tmpfs size and mode become options',
    mount: { Type: 'tmpfs', Target: '/tm', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o700 } },
    want: { tmpfsOptions: ['noexec', 'nosuid', 'nodev', 'rprivate', 'mode=700', 'size=1m'] },
  },
  {
    title: 'tmpfs sizes: g, k, plain bytes; read-only',
    mount: { Type: 'tmpfs', Target: '/tm', ReadOnly: true, TmpfsOptions: { SizeBytes: 3 * 2 ** 30, Mode: 0o1777 } },
    want: { rw: false, tmpfsOptions: ['noexec', 'nosuid', 'nodev', 'rprivate', 'ro', 'mode=1777', 'size=3g'] },
  },
  {
    title: 'tmpfs size 64k',
    mount: { Type: 'tmpfs', Target: '/tm', TmpfsOptions: { SizeBytes: 65536 } },
    want: { tmpfsOptions: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=64k'] },
  },
  {
    title: 'tmpfs size not a multiple of 1k',
    mount: { Type: 'tmpfs', Target: '/tm', TmpfsOptions: { SizeBytes: 1500 } },
    want: { tmpfsOptions: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1500'] },
  },
  {
    title: 'TmpfsOptions.Options exec at 1.46 cancels noexec',
    mount: { Type: 'tmpfs', Target: '/tm', TmpfsOptions: { Options: [['exec']] } },
    api: '1.46',
    want: { tmpfsOptions: ['nosuid', 'nodev', 'rprivate', 'exec'] },
  },
  {
    title: 'TmpfsOptions.Options ignored below 1.46',
    mount: { Type: 'tmpfs', Target: '/tm', TmpfsOptions: { Options: [['bogus']] } },
    api: '1.45',
    want: { tmpfsOptions: ['noexec', 'nosuid', 'nodev', 'rprivate'] },
  },
  {
    title: 'JSON keys match case-insensitively, like Go',
    mount: { type: 'volume', source: 'v1', target: '/x', readonly: true },
    want: { type: 'volume', name: 'v1', destination: '/x', rw: false },
  },
  {
    title: 'null option blocks are absent',
    mount: { Type: 'volume', Source: 'v1', Target: '/x', BindOptions: null, TmpfsOptions: null },
    want: { type: 'volume' },
  },
];

for (const c of valid) {
  test(`parseApiMount ok: ${c.title}`, () => {
    const mp = parseMount(c.mount, { apiVersion: c.api ?? '1.47', probe });
    for (const [k, v] of Object.entries(c.want)) {
      assert.deepEqual(mp[k as keyof MountPoint], v, `field ${k}`);
    }
    assert.deepEqual(mp.apiMount, c.mount);
  });
}

interface InvalidCase {
  title: string;
  mount: unknown;
  api?: string;
  name?: string;
  message: string;
}

const invalid: InvalidCase[] = [
  { title: 'edge 49', mount: { Type: 'bind', Source: '/does/not/exist', Target: '/x' }, message: 'invalid mount config for type "bind": bind source path does not exist: /does/not/exist' },
  { title: '5.3 live', mount: { Type: 'bind', Source: '/tmp/specr-nope', Target: '/x' }, message: 'invalid mount config for type "bind": bind source path does not exist: /tmp/specr-nope' },
  { title: 'CreateMountpoint ignored below 1.42', api: '1.41', mount: { Type: 'bind', Source: '/does/not/exist', Target: '/x', BindOptions: { CreateMountpoint: true } }, message: 'invalid mount config for type "bind": bind source path does not exist: /does/not/exist' },
  { title: 'edge 52', mount: { Type: 'volume', Source: '/tmp', Target: '/x' }, message: `create /tmp: "/tmp" ${NAME_CHARS}` },
  { title: 'edge 53', mount: { Type: 'tmpfs', Source: 'foo', Target: '/x' }, message: 'invalid mount config for type "tmpfs": field Source must not be specified' },
  { title: 'unknown type', mount: { Type: 'foo', Target: '/x' }, message: 'invalid mount config for type "foo": mount type unknown' },
  { title: 'npipe is unknown on Linux', mount: { Type: 'npipe', Source: 'x', Target: '/x' }, message: 'invalid mount config for type "npipe": mount type unknown' },
  { title: 'empty target', mount: { Type: 'volume', Source: 'v1' }, message: 'invalid mount config for type "volume": field Target must not be empty' },
  { title: 'bind without source', mount: { Type: 'bind', Target: '/x' }, message: 'invalid mount config for type "bind": field Source must not be empty' },
  { title: 'relative bind source', mount: { Type: 'bind', Source: 'rel', Target: '/x' }, message: "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute" },
  { title: 'relative target', mount: { Type: 'volume', Source: 'v1', Target: 'rel' }, message: "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute" },
  { title: 'target /', mount: { Type: 'volume', Source: 'v1', Target: '/' }, message: "invalid mount config for type \"volume\": invalid specification: destination can't be '/'" },
  { title: 'target /x/..', mount: { Type: 'tmpfs', Target: '/x/..' }, message: "invalid mount config for type \"tmpfs\": invalid specification: destination can't be '/'" },
  { title: 'bad propagation', mount: { Type: 'bind', Source: '/srv/data', Target: '/x', BindOptions: { Propagation: 'bogus' } }, message: 'invalid mount config for type "bind": invalid propagation mode: bogus' },
  // router checks at API >= 1.42
  { title: 'BindOptions on a volume (1.47)', mount: { Type: 'volume', Source: 'v1', Target: '/x', BindOptions: {} }, message: 'BindOptions must not be specified on mount type "volume"' },
  { title: 'VolumeOptions on a bind (1.47)', mount: { Type: 'bind', Source: '/srv/data', Target: '/x', VolumeOptions: {} }, message: 'VolumeOptions must not be specified on mount type "bind"' },
  { title: 'TmpfsOptions on a volume (1.47)', mount: { Type: 'volume', Source: 'v1', Target: '/x', TmpfsOptions: {} }, message: 'TmpfsOptions must not be specified on mount type "volume"' },
  { title: 'BindOptions on a tmpfs (1.42)', api: '1.42', mount: { Type: 'tmpfs', Target: '/x', BindOptions: { Propagation: 'shared' } }, message: 'BindOptions must not be specified on mount type "tmpfs"' },
  // below 1.42 the parser's own message
  { title: 'BindOptions on a volume (1.41)', api: '1.41', mount: { Type: 'volume', Source: 'v1', Target: '/x', BindOptions: {} }, message: 'invalid mount config for type "volume": field BindOptions must not be specified' },
  { title: 'BindOptions on a tmpfs (1.24)', api: '1.24', mount: { Type: 'tmpfs', Target: '/x', BindOptions: {} }, message: 'invalid mount config for type "tmpfs": field BindOptions must not be specified' },
  // subpaths
  { title: 'subpath below 1.45', api: '1.44', mount: { Type: 'volume', Source: 'v1', Target: '/x', VolumeOptions: { Subpath: 'a' } }, message: 'VolumeOptions.Subpath needs API v1.45 or newer' },
  { title: 'subpath ..', mount: { Type: 'volume', Source: 'v1', Target: '/x', VolumeOptions: { Subpath: '../a' } }, message: 'invalid mount config for type "volume": subpath must be a relative path within the volume' },
  { title: 'subpath absolute', mount: { Type: 'volume', Source: 'v1', Target: '/x', VolumeOptions: { Subpath: '/a' } }, message: 'invalid mount config for type "volume": subpath must be a relative path within the volume' },
  { title: 'subpath on anonymous volume', mount: { Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } }, message: 'invalid mount config for type "volume": must not set Subpath when using anonymous volumes' },
  { title: 'read-only anonymous volume', mount: { Type: 'volume', Target: '/x', ReadOnly: true }, message: 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes' },
  { title: 'ReadOnlyForceRecursive below 1.44', api: '1.43', mount: { Type: 'bind', Source: '/srv/data', Target: '/x', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true } }, message: 'BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer' },
  { title: 'tmpfs option not exec/noexec', mount: { Type: 'tmpfs', Target: '/x', TmpfsOptions: { Options: [['nosuid']] } }, message: 'invalid mount config for type "tmpfs": invalid option: nosuid' },
  { title: 'tmpfs option array length', mount: { Type: 'tmpfs', Target: '/x', TmpfsOptions: { Options: [['exec', 'a', 'b']] } }, message: 'invalid mount config for type "tmpfs": invalid option array length' },
  { title: 'image mounts are not supported', name: 'NotImplemented', mount: { Type: 'image', Source: 'busybox', Target: '/img' }, message: 'mount type "image" is not supported' },
  { title: 'JSON type error', mount: { Type: 'volume', Source: 'v1', Target: 5 }, message: 'json: cannot unmarshal number 5 into Go struct field Mount.Target of type string' },
  { title: 'JSON type error (bool)', mount: { Type: 'volume', Source: 'v1', Target: '/x', ReadOnly: 'yes' }, message: 'json: cannot unmarshal string into Go struct field Mount.ReadOnly of type bool' },
  { title: 'not an object', mount: 'volume', message: 'json: cannot unmarshal string into Go value of type mount.Mount' },
];

for (const c of invalid) {
  test(`parseApiMount error: ${c.title}`, () => {
    assert.throws(() => parseMount(c.mount, { apiVersion: c.api ?? '1.47', probe }), {
      name: c.name ?? 'InvalidParameter',
      message: c.message,
    });
  });
}

test('parseApiMount: does not mutate its input when stripping (API 1.41)', () => {
  const m = { Type: 'bind', Source: '/srv/data', Target: '/x', BindOptions: { CreateMountpoint: true }, TmpfsOptions: { SizeBytes: 1 } };
  const copy = structuredClone(m);
  parseMount(m, { apiVersion: '1.41', probe });
  assert.deepEqual(m, copy);
});

test('parseApiMount: the daemon root rule applies to --mount binds too', () => {
  const p = fakeProbe(['/var/lib/berth/x']);
  const mp = parseMount({ Type: 'bind', Source: '/var/lib/berth/x', Target: '/x' }, { apiVersion: '1.47', probe: p, daemonRoot: '/var/lib/berth' });
  assert.equal(mp.propagation, 'rslave');
});
