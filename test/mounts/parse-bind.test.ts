// HostConfig.Binds parsing (spec 5.2, 6.4; edge cases 41, 43–47, 51, 69).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, type ParseBindOptions } from '../../src/mounts/parse.js';
import type { MountPoint } from '../../src/mounts/types.js';

const NAME_CHARS = 'includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path';

interface ValidCase {
  raw: string;
  opts?: Partial<ParseBindOptions>;
  want: Partial<MountPoint>;
}

const valid: ValidCase[] = [
  // edge 69: named volume without mode shows Mode "z"
  { raw: 'vol:/x', want: { type: 'volume', name: 'vol', source: '', destination: '/x', driver: '', mode: 'z', rw: true, propagation: '', copyData: true, anonymous: false, origin: 'binds' } },
  // edge 43: destination cleaned
  { raw: 'vol:/x/', want: { destination: '/x', mode: 'z' } },
  // edge 69: ro
  { raw: 'vol:/x:ro', want: { mode: 'ro', rw: false, propagation: '', copyData: true } },
  // spec 6.4 live example
  { raw: 'specr-b:/x:rw,Z,nocopy,cached', want: { type: 'volume', name: 'specr-b', mode: 'rw,Z,nocopy,cached', rw: true, copyData: false } },
  { raw: 'vol:/x:z', want: { mode: 'z', rw: true } },
  // an empty third part is an empty mode
  { raw: 'vol:/x:', want: { mode: 'z', rw: true } },
  { raw: 'vol:/x:nocopy', want: { mode: 'nocopy', copyData: false } },
  { raw: 'vol:/x:ro,delegated', want: { mode: 'ro,delegated', rw: false } },
  // spec 6.4 live bind examples
  { raw: '/tmp/specr-bindsrc:/y:ro,rslave', want: { type: 'bind', name: '', source: '/tmp/specr-bindsrc', destination: '/y', driver: '', mode: 'ro,rslave', rw: false, propagation: 'rslave', copyData: false, anonymous: false, createMountpoint: true } },
  { raw: '/tmp/specr-bindsrc:/z', want: { type: 'bind', mode: '', rw: true, propagation: 'rprivate', createMountpoint: true } },
  { raw: '/src:/x:shared', want: { propagation: 'shared', mode: 'shared' } },
  { raw: '/src:/x:z', want: { type: 'bind', mode: 'z', propagation: 'rprivate' } },
  { raw: '/src:/x:consistent', want: { type: 'bind', mode: 'consistent' } },
  { raw: '/src/../src2/:/a/./b//', want: { source: '/src2', destination: '/a/b' } },
  // one part: an anonymous volume
  { raw: '/data', want: { type: 'volume', name: '', destination: '/data', mode: 'z', anonymous: true, copyData: true } },
  // HostConfig.VolumeDriver applies to volumes from Binds
  { raw: 'vol:/x', opts: { volumeDriver: 'myplug' }, want: { driver: 'myplug', mode: '' } },
  { raw: 'vol:/x', opts: { volumeDriver: 'local' }, want: { driver: 'local', mode: 'z' } },
  { raw: '/h:/x', opts: { volumeDriver: 'myplug' }, want: { type: 'bind', driver: '' } },
  // plugin drivers take any name
  { raw: '~/x:/y', opts: { volumeDriver: 'myplug' }, want: { type: 'volume', name: '~/x' } },
  // API < 1.44: read-only binds stay non-recursive
  { raw: '/h:/x:ro', opts: { apiVersion: '1.43' }, want: { rw: false, bindReadOnlyNonRecursive: true } },
  { raw: '/h:/x:ro', opts: { apiVersion: '1.44' }, want: { rw: false, bindReadOnlyNonRecursive: undefined } },
  // sources in (or above) the daemon root default to rslave
  { raw: '/var/lib/berth/volumes/x:/x', opts: { daemonRoot: '/var/lib/berth' }, want: { propagation: 'rslave', mode: '' } },
  { raw: '/:/host', opts: { daemonRoot: '/var/lib/berth' }, want: { propagation: 'rslave' } },
  { raw: '/var/lib/berth:/x:rshared', opts: { daemonRoot: '/var/lib/berth' }, want: { propagation: 'rshared' } },
  { raw: '/srv:/x', opts: { daemonRoot: '/var/lib/berth' }, want: { propagation: 'rprivate' } },
];

for (const c of valid) {
  test(`parseBind ok: ${c.raw} ${JSON.stringify(c.opts ?? {})}`, () => {
    const mp = parseBind(c.raw, { volumeDriver: '', ...c.opts });
    for (const [k, v] of Object.entries(c.want)) {
      assert.deepEqual(mp[k as keyof MountPoint], v, `field ${k}`);
    }
  });
}

interface InvalidCase {
  raw: string;
  opts?: Partial<ParseBindOptions>;
  name: 'SystemError' | 'InvalidParameter';
  message: string;
}

const invalid: InvalidCase[] = [
  // edge 41
  { raw: '/data:ro', name: 'SystemError', message: "invalid volume specification: '/data:ro'" },
  { raw: '/data:rw,z', name: 'SystemError', message: "invalid volume specification: '/data:rw,z'" },
  { raw: ':/x', name: 'SystemError', message: "invalid volume specification: ':/x'" },
  { raw: 'a:/b:ro:extra', name: 'SystemError', message: "invalid volume specification: 'a:/b:ro:extra'" },
  { raw: 'vol:', name: 'SystemError', message: "invalid volume specification: 'vol:'" },
  { raw: 'vol::ro', name: 'SystemError', message: `invalid volume specification: 'vol::ro': invalid mount config for type "volume": field Target must not be empty` },
  // edge 44
  { raw: 'vol:rel', name: 'SystemError', message: `invalid volume specification: 'vol:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute` },
  { raw: 'specr-b:rel', name: 'SystemError', message: `invalid volume specification: 'specr-b:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute` },
  { raw: 'vol:/', name: 'SystemError', message: `invalid volume specification: 'vol:/': invalid mount config for type "volume": invalid specification: destination can't be '/'` },
  { raw: '/h:/..', name: 'SystemError', message: `invalid volume specification: '/h:/..': invalid mount config for type "bind": invalid specification: destination can't be '/'` },
  { raw: 'rel', name: 'SystemError', message: `invalid volume specification: 'rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute` },
  // edge 45
  { raw: 'vol:/x:ro,rw', name: 'SystemError', message: 'invalid mode: ro,rw' },
  { raw: 'vol:/x:bogus', name: 'SystemError', message: 'invalid mode: bogus' },
  { raw: 'vol:/x:ro,Z,z', name: 'SystemError', message: 'invalid mode: ro,Z,z' },
  { raw: 'vol:/x:consistent,delegated', name: 'SystemError', message: 'invalid mode: consistent,delegated' },
  { raw: '/h:/x:shared,rslave', name: 'SystemError', message: 'invalid mode: shared,rslave' },
  // edge 46
  { raw: 'vol:/x:rshared', name: 'SystemError', message: `invalid volume specification: 'vol:/x:rshared': invalid mount config for type "volume": field BindOptions must not be specified` },
  { raw: 'specr-b:/x:rw,Z,nocopy,rshared,cached', name: 'SystemError', message: `invalid volume specification: 'specr-b:/x:rw,Z,nocopy,rshared,cached': invalid mount config for type "volume": field BindOptions must not be specified` },
  // edge 47
  { raw: '/host:/x:nocopy', name: 'SystemError', message: `invalid volume specification: '/host:/x:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified` },
  { raw: '/tmp/specr:/x:nocopy', name: 'SystemError', message: `invalid volume specification: '/tmp/specr:/x:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified` },
  // edge 51 and 5.2: not absolute → a volume name, checked by the local driver
  { raw: '~/x:/y', name: 'InvalidParameter', message: `create ~/x: "~/x" ${NAME_CHARS}` },
  { raw: 'rel/path:/x', name: 'InvalidParameter', message: `create rel/path: "rel/path" ${NAME_CHARS}` },
  { raw: '-bad:/x', name: 'InvalidParameter', message: `create -bad: "-bad" ${NAME_CHARS}` },
  { raw: 'a:/x', name: 'InvalidParameter', message: 'create a: volume name is too short, names should be at least two alphanumeric characters' },
  { raw: 'a:/x', opts: { volumeDriver: 'local' }, name: 'InvalidParameter', message: 'create a: volume name is too short, names should be at least two alphanumeric characters' },
  // a private propagation for a source inside the daemon root
  {
    raw: '/var/lib/berth/x:/x:private',
    opts: { daemonRoot: '/var/lib/berth' },
    name: 'InvalidParameter',
    message: 'invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root, daemon root: "/var/lib/berth", bind mount source: "/var/lib/berth/x", propagation: "private"',
  },
];

for (const c of invalid) {
  test(`parseBind error: ${c.raw}`, () => {
    assert.throws(() => parseBind(c.raw, { volumeDriver: '', ...c.opts }), { name: c.name, message: c.message });
  });
}

test('parseBind: a 2-part spec whose second part is empty is a valid mode, hence invalid spec', () => {
  assert.throws(() => parseBind('vol:', { volumeDriver: '' }), { message: "invalid volume specification: 'vol:'" });
});

test('parseBind: checkLocalVolumeNames=false leaves names to the volume service', () => {
  const mp = parseBind('~/x:/y', { volumeDriver: '', checkLocalVolumeNames: false });
  assert.equal(mp.name, '~/x');
});

test('parseBind: modeDefaulted marks the implicit z', () => {
  assert.equal(parseBind('vol:/x', { volumeDriver: '' }).modeDefaulted, true);
  assert.equal(parseBind('vol:/x:z', { volumeDriver: '' }).modeDefaulted, undefined);
});
