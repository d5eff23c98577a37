// CLI-side parsing of -v, --mount and --tmpfs (docker CLI 28.2; spec 5.1, 5.3, 5.4; edge 40, 50, 51, 56).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMountFlag, parseTmpfsFlag, readCsvRecord, splitVolumeSpec, type VolumeFlagTarget } from '../../../src/cli/commands/mount-flags.js';
import type { ApiMount } from '../../../src/api/types/index.js';

const volumeValid: Array<{ spec: string; cwd?: string; want: VolumeFlagTarget }> = [
  { spec: '/data', want: { field: 'Volumes', value: '/data' } },
  { spec: 'relpath', want: { field: 'Volumes', value: 'relpath' } },
  { spec: 'ab', want: { field: 'Volumes', value: 'ab' } },
  { spec: '/d', want: { field: 'Volumes', value: '/d' } },
  // edge 40: a single letter before ':' is a Windows drive → no source
  { spec: 'a:/x', want: { field: 'Volumes', value: 'a:/x' } },
  { spec: 'c:/x', want: { field: 'Volumes', value: 'c:/x' } },
  { spec: 'vol:/x', want: { field: 'Binds', value: 'vol:/x' } },
  { spec: 'vol:/x:ro', want: { field: 'Binds', value: 'vol:/x:ro' } },
  { spec: '/h:/c:ro,rslave', want: { field: 'Binds', value: '/h:/c:ro,rslave' } },
  // edge 50: ./ sources become absolute against the CLI's cwd
  { spec: './rel:/x', cwd: '/tmp', want: { field: 'Binds', value: '/tmp/rel:/x' } },
  { spec: '../up/:/x:ro', cwd: '/tmp/sub', want: { field: 'Binds', value: '/tmp/up:/x:ro' } },
  { spec: '.:/x', cwd: '/work/dir', want: { field: 'Binds', value: '/work/dir:/x' } },
  { spec: '.hidden:/x', cwd: '/w', want: { field: 'Binds', value: '/w/.hidden:/x' } },
  // edge 51: no tilde expansion
  { spec: '~/x:/y', want: { field: 'Binds', value: '~/x:/y' } },
  // the drive-letter rule also eats the first ':' of `x::/y` (source "x:"); the daemon then rejects it
  { spec: 'x::/y', want: { field: 'Binds', value: 'x::/y' } },
  // a named volume that starts with a letter and a colon of its own is still a name
  { spec: 'ab:/x', want: { field: 'Binds', value: 'ab:/x' } },
];

for (const c of volumeValid) {
  test(`splitVolumeSpec ok: ${c.spec}`, () => {
    assert.deepEqual(splitVolumeSpec(c.spec, c.cwd ?? '/home/u'), c.want);
  });
}

const volumeInvalid: Array<{ spec: string; message: string }> = [
  { spec: '', message: 'invalid empty volume spec' },
  { spec: 'ab::/y', message: 'invalid spec: ab::/y: empty section between colons' },
  { spec: ':/x', message: 'invalid spec: :/x: empty section between colons' },
  { spec: 'vol:/x:', message: 'invalid spec: vol:/x:: empty section between colons' },
  { spec: '/a:/b:ro:extra', message: 'invalid spec: /a:/b:ro:extra: too many colons' },
];

for (const c of volumeInvalid) {
  test(`splitVolumeSpec error: ${JSON.stringify(c.spec)}`, () => {
    assert.throws(() => splitVolumeSpec(c.spec, '/'), { name: 'InvalidParameter', message: c.message });
  });
}

/** Parsed maps are null-prototype dictionaries (they keep a '__proto__' key). */
const dict = (o: Record<string, string>): Record<string, string> => Object.assign(Object.create(null) as Record<string, string>, o);

const mountValid: Array<{ csv: string; cwd?: string; want: ApiMount }> = [
  // edge 56
  {
    csv: 'type=volume,src=specr-mv,dst=/mv,volume-label=a=b,volume-opt=type=tmpfs,volume-opt=device=tmpfs',
    want: { Type: 'volume', Source: 'specr-mv', Target: '/mv', VolumeOptions: { Labels: dict({ a: 'b' }), DriverConfig: { Options: dict({ type: 'tmpfs', device: 'tmpfs' }) } } },
  },
  { csv: 'dst=/x', want: { Type: 'volume', Target: '/x' } },
  { csv: 'type=volume,target=/anonm', want: { Type: 'volume', Target: '/anonm' } },
  { csv: 'type=bind,src=./rel,dst=/x', cwd: '/tmp', want: { Type: 'bind', Source: '/tmp/rel', Target: '/x' } },
  { csv: 'type=bind,source=/h,destination=/c,readonly', want: { Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true } },
  { csv: 'type=bind,source=/h,destination=/c,ro=1', want: { Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true } },
  { csv: 'type=volume,src=v,dst=/x,readonly=false', want: { Type: 'volume', Source: 'v', Target: '/x' } },
  // keys are case-insensitive; type values are lowered
  { csv: 'TYPE=Bind,SRC=/a,Target=/b,RO', want: { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true } },
  { csv: 'type=bind,src=/a,dst=/b,bind-propagation=RShared', want: { Type: 'bind', Source: '/a', Target: '/b', BindOptions: { Propagation: 'rshared' } } },
  { csv: 'type=bind,src=/a,dst=/b,readonly,bind-recursive=readonly,bind-propagation=rprivate', want: { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rprivate', ReadOnlyForceRecursive: true } } },
  { csv: 'type=bind,src=/a,dst=/b,readonly,bind-recursive=writable', want: { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true, BindOptions: { ReadOnlyNonRecursive: true } } },
  { csv: 'type=bind,src=/a,dst=/b,bind-recursive=disabled', want: { Type: 'bind', Source: '/a', Target: '/b', BindOptions: { NonRecursive: true } } },
  { csv: 'type=bind,src=/a,dst=/b,bind-recursive=enabled', want: { Type: 'bind', Source: '/a', Target: '/b' } },
  { csv: 'type=volume,dst=/x,volume-nocopy', want: { Type: 'volume', Target: '/x', VolumeOptions: { NoCopy: true } } },
  { csv: 'type=volume,dst=/x,volume-nocopy=false', want: { Type: 'volume', Target: '/x', VolumeOptions: {} } },
  { csv: 'type=volume,src=v,dst=/x,volume-subpath=sub/dir', want: { Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: 'sub/dir' } } },
  { csv: 'type=volume,src=v,dst=/x,volume-driver=myplug', want: { Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { DriverConfig: { Name: 'myplug' } } } },
  { csv: 'type=volume,src=v,dst=/x,volume-label=k,volume-label==x', want: { Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Labels: dict({ k: '' }) } } },
  // quoted CSV fields keep their commas
  {
    csv: 'type=volume,dst=/n,"volume-opt=o=addr=1.2.3.4,nfsvers=4",volume-opt=type=nfs',
    want: { Type: 'volume', Target: '/n', VolumeOptions: { DriverConfig: { Options: dict({ o: 'addr=1.2.3.4,nfsvers=4', type: 'nfs' }) } } },
  },
  { csv: '"type=volume","dst=/a ""b"""', want: { Type: 'volume', Target: '/a "b"' } },
  { csv: 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=0700', want: { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o700 } } },
  { csv: 'type=tmpfs,dst=/t,tmpfs-size=64k,tmpfs-mode=1770', want: { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 65536, Mode: 0o1770 } } },
  { csv: 'type=tmpfs,dst=/t,tmpfs-size=1.5GiB', want: { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1610612736 } } },
  { csv: 'type=tmpfs,dst=/t,tmpfs-size=512', want: { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 512 } } },
  { csv: 'type=volume,src=v,dst=/x,consistency=Cached', want: { Type: 'volume', Source: 'v', Target: '/x', Consistency: 'cached' } },
  { csv: 'type=image,src=busybox,dst=/img,image-subpath=bin', want: { Type: 'image', Source: 'busybox', Target: '/img', ImageOptions: { Subpath: 'bin' } } },
];

for (const c of mountValid) {
  test(`parseMountFlag ok: ${c.csv}`, () => {
    assert.deepEqual(parseMountFlag(c.csv, c.cwd ?? '/home/u'), c.want);
  });
}

test('parseMountFlag: bind-nonrecursive still works, with the CLI warning', () => {
  const warnings: string[] = [];
  const m = parseMountFlag('type=bind,src=/a,dst=/b,bind-nonrecursive', '/', (w) => warnings.push(w));
  assert.deepEqual(m, { Type: 'bind', Source: '/a', Target: '/b', BindOptions: { NonRecursive: true } });
  assert.deepEqual(warnings, ['bind-nonrecursive is deprecated, use bind-recursive=disabled instead']);
});

const mountInvalid: Array<{ csv: string; message: string }> = [
  { csv: 'type=volume,dst=/x,bind-propagation=rshared', message: "cannot mix 'bind-*' options with mount type 'volume'" },
  { csv: 'type=bind,src=/a,dst=/x,volume-nocopy', message: "cannot mix 'volume-*' options with mount type 'bind'" },
  { csv: 'type=volume,dst=/x,tmpfs-size=1m', message: "cannot mix 'tmpfs-*' options with mount type 'volume'" },
  { csv: 'type=volume,dst=/x,image-subpath=a', message: "cannot mix 'image-*' options with mount type 'volume'" },
  { csv: 'type=tmpfs,dst=/x,volume-driver=d', message: "cannot mix 'volume-*' options with mount type 'tmpfs'" },
  { csv: 'type=tmpfs,dst=/x,tmpfs-size=abc', message: 'invalid value for tmpfs-size: abc' },
  { csv: 'type=tmpfs,dst=/x,tmpfs-size=-1', message: 'invalid value for tmpfs-size: -1' },
  { csv: 'type=tmpfs,dst=/x,tmpfs-mode=999', message: 'invalid value for tmpfs-mode: 999' },
  { csv: 'type=tmpfs,dst=/x,tmpfs-mode=', message: 'invalid value for tmpfs-mode: ' },
  { csv: 'src=v', message: 'target is required' },
  { csv: 'type=bind,src=/a,dst=', message: 'target is required' },
  { csv: 'type=,dst=/x', message: 'type is required' },
  { csv: 'foo=bar,dst=/x', message: "unexpected key 'foo' in 'foo=bar'" },
  { csv: 'Foo=bar,dst=/x', message: "unexpected key 'foo' in 'Foo=bar'" },
  { csv: 'x,dst=/x', message: "invalid field 'x' must be a key=value pair" },
  { csv: 'dst=/x,,ro', message: "invalid field '' must be a key=value pair" },
  { csv: 'readonly=x,dst=/x', message: 'invalid value for readonly: x' },
  { csv: 'ro=yes,dst=/x', message: 'invalid value for ro: yes' },
  { csv: 'dst=/x,volume-nocopy=maybe', message: 'invalid value for volume-nocopy: maybe' },
  { csv: 'type=bind,src=/a,dst=/b,bind-recursive=bogus', message: 'invalid value for bind-recursive: bogus (must be "enabled", "disabled", "writable", or "readonly")' },
  { csv: 'type=bind,src=/a,dst=/b,bind-recursive=writable', message: "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction" },
  { csv: 'type=bind,src=/a,dst=/b,bind-recursive=readonly', message: "option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction" },
  { csv: 'type=bind,src=/a,dst=/b,ro,bind-recursive=readonly', message: "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction" },
  // CSV syntax errors, worded like Go's encoding/csv
  { csv: 'dst=/a"b', message: 'parse error on line 1, column 7: bare " in non-quoted-field' },
  { csv: '"type=volume', message: 'parse error on line 1, column 13: extraneous or missing " in quoted-field' },
  { csv: '"a"b,dst=/x', message: 'parse error on line 1, column 3: extraneous or missing " in quoted-field' },
  { csv: '', message: 'EOF' },
];

for (const c of mountInvalid) {
  test(`parseMountFlag error: ${JSON.stringify(c.csv)}`, () => {
    assert.throws(() => parseMountFlag(c.csv, '/'), { name: 'InvalidParameter', message: c.message });
  });
}

test('readCsvRecord: only the first record, quoted newlines kept', () => {
  assert.deepEqual(readCsvRecord('a,b\nc,d'), ['a', 'b']);
  assert.deepEqual(readCsvRecord('\n\na,"x\ny",b'), ['a', 'x\ny', 'b']);
  assert.deepEqual(readCsvRecord('a,'), ['a', '']);
  assert.deepEqual(readCsvRecord('a\r\n'), ['a']);
});

const tmpfsFlag: Array<[string, [string, string]]> = [
  ['/t:size=64k', ['/t', 'size=64k']],
  ['/t', ['/t', '']],
  ['/t:', ['/t', '']],
  ['/t:mode=1777,uid=1:x', ['/t', 'mode=1777,uid=1:x']],
];

for (const [flag, want] of tmpfsFlag) {
  test(`parseTmpfsFlag: ${flag}`, () => {
    assert.deepEqual(parseTmpfsFlag(flag), want);
  });
}
