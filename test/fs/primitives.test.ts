import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataExtents } from '../../src/fs/extents.js';
import { exchangePaths, syncFilesystem } from '../../src/fs/exchange.js';
import { devMajor, devMinor, mknod, S_IFCHR, S_IFIFO, setTimes } from '../../src/fs/nodes.js';
import { joinPath } from '../../src/fs/path.js';
import { reflink } from '../../src/fs/reflink.js';
import { getXattr, readXattrs, setXattr } from '../../src/fs/xattrs.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('xattrs: binary and empty values, trusted namespace, on a non-UTF-8 name, never through a symlink', (t) => {
  const dir = scratch(t);
  const name = joinPath(dir, Buffer.from([0x6e, 0xff, 0x65]));
  writeFileSync(name, 'x');
  setXattr(name, 'user.bin', Buffer.from([0, 0xff, 1]));
  setXattr(name, 'user.empty', Buffer.alloc(0));
  setXattr(name, 'trusted.t', Buffer.from('v'));
  const all = readXattrs(name);
  assert.deepEqual([...all.keys()], ['trusted.t', 'user.bin', 'user.empty']);
  assert.deepEqual(all.get('user.bin'), Buffer.from([0, 0xff, 1]));
  assert.equal(all.get('user.empty')!.length, 0);
  symlinkSync(name, join(dir, 'link'));
  assert.equal(getXattr(join(dir, 'link'), 'user.bin'), undefined);
  assert.throws(() => setXattr(join(dir, 'missing'), 'user.x', Buffer.from('1')), { code: 'ENOENT' });
});

test('data extents find the holes of a sparse file', (t) => {
  const dir = scratch(t);
  const f = join(dir, 'sparse');
  const fd = openSync(f, 'w');
  writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, 1 << 20);
  writeSync(fd, Buffer.alloc(10, 2), 0, 10, 8 << 20);
  closeSync(fd);
  const rfd = openSync(f, 'r');
  const extents = dataExtents(rfd, lstatSync(f).size);
  closeSync(rfd);
  assert.equal(extents.length, 2);
  assert.equal(extents[0]!.offset, 1 << 20);
  assert.ok(extents[0]!.length >= 4096);
  assert.equal(extents[1]!.offset + extents[1]!.length, (8 << 20) + 10);
});

test('mknod makes FIFOs and devices; setTimes sets nanoseconds on a symlink itself', (t) => {
  const dir = scratch(t);
  mknod(join(dir, 'fifo'), S_IFIFO, 0o640);
  mknod(join(dir, 'null'), S_IFCHR, 0o666, 1, 3);
  assert.ok(lstatSync(join(dir, 'fifo')).isFIFO());
  const st = lstatSync(join(dir, 'null'), { bigint: true });
  assert.ok(st.isCharacterDevice());
  assert.deepEqual([devMajor(st.rdev), devMinor(st.rdev)], [1, 3]);
  writeFileSync(join(dir, 'target'), '');
  symlinkSync('target', join(dir, 'link'));
  setTimes(join(dir, 'link'), 1_700_000_000_123_456_789n);
  assert.equal(lstatSync(join(dir, 'link'), { bigint: true }).mtimeNs, 1_700_000_000_123_456_789n);
  assert.notEqual(lstatSync(join(dir, 'target'), { bigint: true }).mtimeNs, 1_700_000_000_123_456_789n);
  setTimes(join(dir, 'target'), -1_500_000_000n);
  assert.equal(lstatSync(join(dir, 'target'), { bigint: true }).mtimeNs, -1_500_000_000n);
});

test('exchangePaths swaps two directories; syncFilesystem and reflink answer on ext4/tmpfs', (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'a', 'f'), 'from a');
  exchangePaths(join(dir, 'a'), join(dir, 'b'));
  assert.equal(readFileSync(join(dir, 'b', 'f'), 'utf8'), 'from a');
  assert.throws(() => exchangePaths(join(dir, 'a'), join(dir, 'missing')), { code: 'ENOENT' });
  syncFilesystem(dir);
  writeFileSync(join(dir, 'src'), 'data');
  const s = openSync(join(dir, 'src'), 'r');
  const d = openSync(join(dir, 'dst'), 'w');
  const cloned = reflink(d, s);
  closeSync(s);
  closeSync(d);
  // ext4 and tmpfs cannot reflink: the answer is false and the target untouched.
  if (!cloned) assert.equal(readFileSync(join(dir, 'dst'), 'utf8'), '');
  else assert.equal(readFileSync(join(dir, 'dst'), 'utf8'), 'data');
});
