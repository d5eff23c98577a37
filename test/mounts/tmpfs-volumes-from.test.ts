// HostConfig.Tmpfs (5.4, edge 54/55) and VolumesFrom specs (5.5, edge 68).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeTmpfsOptions, parseTmpfs, parseVolumesFrom } from '../../src/mounts/parse.js';

const D = ['noexec', 'nosuid', 'nodev', 'rprivate'];

const tmpfsValid: Array<{ dest: string; opts: string; destination?: string; options: string[]; rw?: boolean }> = [
  { dest: '/t', opts: '', options: D },
  { dest: '/t', opts: 'size=64k', options: [...D, 'size=64k'] },
  // edge 55: exec cancels the default noexec
  { dest: '/x', opts: 'exec,size=64k', options: ['nosuid', 'nodev', 'rprivate', 'exec', 'size=64k'] },
  { dest: '/x/', opts: 'size=1m,size=2m', destination: '/x', options: [...D, 'size=2m'] },
  { dest: '/x', opts: 'ro', options: [...D, 'ro'], rw: false },
  { dest: '/x', opts: 'ro,rw', options: [...D, 'rw'], rw: true },
  { dest: '/x', opts: 'shared', options: ['noexec', 'nosuid', 'nodev', 'shared'] },
  { dest: '/x', opts: 'suid,dev,defaults', options: ['noexec', 'rprivate', 'suid', 'dev'] },
  { dest: '/x', opts: 'uid=1000,gid=1000,mode=1777,nr_inodes=10k,nr_blocks=4,mpol=default', options: [...D, 'uid=1000', 'gid=1000', 'mode=1777', 'nr_inodes=10k', 'nr_blocks=4', 'mpol=default'] },
  { dest: '/x', opts: 'noatime,relatime', options: [...D, 'noatime', 'relatime'] },
];

for (const c of tmpfsValid) {
  test(`parseTmpfs ok: ${c.dest} ${JSON.stringify(c.opts)}`, () => {
    const mp = parseTmpfs(c.dest, c.opts);
    assert.deepEqual(mp.tmpfsOptions, c.options);
    assert.equal(mp.destination, c.destination ?? c.dest);
    assert.equal(mp.type, 'tmpfs');
    assert.equal(mp.origin, 'tmpfs');
    assert.equal(mp.rw, c.rw ?? true);
    assert.equal(mp.mode, '');
    assert.equal(mp.propagation, '');
  });
}

const tmpfsInvalid: Array<{ dest: string; opts: string; message: string }> = [
  // edge 54
  { dest: '/x', opts: 'foo=bar', message: 'invalid tmpfs option "foo"' },
  { dest: '/x', opts: 'foo', message: 'invalid tmpfs option "foo"' },
  { dest: '/x', opts: 'size', message: 'invalid tmpfs option "size"' },
  { dest: '/x', opts: 'size=1m,,exec', message: 'invalid tmpfs option ""' },
  { dest: 'rel', opts: '', message: "invalid mount path: 'rel' mount path must be absolute" },
  { dest: '', opts: '', message: "invalid mount path: '' mount path must be absolute" },
  { dest: '/', opts: '', message: "invalid specification: destination can't be '/'" },
  { dest: '/a/..', opts: '', message: "invalid specification: destination can't be '/'" },
];

for (const c of tmpfsInvalid) {
  test(`parseTmpfs error: ${JSON.stringify(c.dest)} ${JSON.stringify(c.opts)}`, () => {
    assert.throws(() => parseTmpfs(c.dest, c.opts), { name: 'InvalidParameter', message: c.message });
  });
}

test('mergeTmpfsOptions: one propagation mode, last wins; order kept', () => {
  assert.deepEqual(mergeTmpfsOptions(['rprivate', 'nosuid', 'rshared', 'bind']), ['nosuid', 'bind']);
  assert.deepEqual(mergeTmpfsOptions(['size=1m', 'mode=700', 'size=2m']), ['mode=700', 'size=2m']);
});

const vfValid: Array<{ spec: string; container: string; mode: string; rw: boolean }> = [
  { spec: 'A', container: 'A', mode: 'rw', rw: true },
  { spec: 'A:', container: 'A', mode: 'rw', rw: true },
  { spec: 'A:ro', container: 'A', mode: 'ro', rw: false },
  { spec: 'A:rw', container: 'A', mode: 'rw', rw: true },
  { spec: 'A:z', container: 'A', mode: 'z', rw: true },
  { spec: 'A:ro,Z', container: 'A', mode: 'ro,Z', rw: false },
  { spec: 'A:consistent', container: 'A', mode: 'consistent', rw: true },
];

for (const c of vfValid) {
  test(`parseVolumesFrom ok: ${c.spec}`, () => {
    assert.deepEqual(parseVolumesFrom(c.spec), { container: c.container, mode: c.mode, rw: c.rw });
  });
}

const vfInvalid: Array<{ spec: string; message: string }> = [
  { spec: '', message: 'volumes-from specification cannot be an empty string' },
  // edge 68
  { spec: 'A:rshared', message: 'invalid mode: rshared' },
  { spec: 'A:nocopy', message: 'invalid mode: nocopy' },
  { spec: 'A:ro,slave', message: 'invalid mode: ro,slave' },
  { spec: 'A:bogus', message: 'invalid mode: bogus' },
  { spec: 'A:ro,rw', message: 'invalid mode: ro,rw' },
];

for (const c of vfInvalid) {
  test(`parseVolumesFrom error: ${JSON.stringify(c.spec)}`, () => {
    assert.throws(() => parseVolumesFrom(c.spec), { name: 'InvalidParameter', message: c.message });
  });
}
