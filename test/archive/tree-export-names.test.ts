// The tree exporter's member names for docker cp: a directory's tree below
// its basename ("dir/", "dir/a", hard links naming "dir/..."), a file or a
// symlink as its one member, and the default "./" names unchanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { execFileSync } from 'node:child_process';
import { exportTree, extractTree } from '../../src/archive/tree.js';
import { ByteReader, readTar, type TarHeader } from '../../src/archive/tar/reader.js';
import { setXattr } from '../../src/fs/xattrs.js';
import { setTimes } from '../../src/fs/nodes.js';
import { buildFixture, manifest } from '../helpers/tree-manifest.js';

let work: string;
let tree: string;

interface Listed {
  header: TarHeader;
  data: Buffer;
}

async function list(tar: Buffer): Promise<Listed[]> {
  const out: Listed[] = [];
  for await (const e of readTar(new ByteReader(Readable.from([tar])), { requireEnd: true })) {
    const chunks: Buffer[] = [];
    for await (const c of e.body()) chunks.push(Buffer.from(c));
    out.push({ header: e.header, data: Buffer.concat(chunks) });
  }
  return out;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-export-names-'));
  tree = join(work, 'dir');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'a'), 'a\n');
  linkSync(join(tree, 'a'), join(tree, 'sub', 'hl'));
  symlinkSync('a', join(tree, 'l'));
  symlinkSync('/etc/passwd', join(tree, 'abs'));
});
after(() => rmSync(work, { recursive: true, force: true }));

test('a directory exported under its basename: the top member and everything below it carry the name, hard links too', async () => {
  const members = await list(await buffer(exportTree(tree, { topName: 'dir' })));
  assert.deepEqual(
    members.map((m) => [m.header.path, m.header.type, m.header.linkpath]),
    [
      ['dir/', 'directory', ''],
      ['dir/a', 'file', ''],
      ['dir/abs', 'symlink', '/etc/passwd'],
      ['dir/l', 'symlink', 'a'],
      ['dir/sub/', 'directory', ''],
      ['dir/sub/hl', 'hardlink', 'dir/a'],
    ],
  );
  // GNU tar reads the names the same way.
  const listed = execFileSync('tar', ['-tf', '-'], { input: await buffer(exportTree(tree, { topName: 'dir' })), encoding: 'utf8' });
  assert.equal(listed, 'dir/\ndir/a\ndir/abs\ndir/l\ndir/sub/\ndir/sub/hl\n');
});

test('the default top name "." is the volume archive, byte for byte, and a worker thread writes the same names', async () => {
  const plain = await buffer(exportTree(tree));
  assert.ok(plain.equals(await buffer(exportTree(tree, { topName: '.' }))));
  assert.deepEqual(
    (await list(plain)).map((m) => m.header.path),
    ['./', './a', './abs', './l', './sub/', './sub/hl'],
  );
  const named = await buffer(exportTree(tree, { topName: 'renamed' }));
  assert.ok(named.equals(await buffer(exportTree(tree, { topName: 'renamed', worker: true }))));
});

test('a file is exported as its one member under the name given, with its metadata and xattrs', async () => {
  const file = join(work, 'single');
  writeFileSync(file, 'single file\n');
  chmodSync(file, 0o4755);
  setXattr(file, 'user.note', Buffer.from([0, 1, 2, 0xff]));
  setTimes(file, 1_700_000_000_123_456_789n);
  const members = await list(await buffer(exportTree(file, { topName: 'copy.txt' })));
  assert.equal(members.length, 1);
  const [m] = members;
  assert.equal(m!.header.path, 'copy.txt');
  assert.equal(m!.header.type, 'file');
  assert.equal(m!.header.mode, 0o4755);
  assert.equal(m!.header.mtimeNs, 1_700_000_000_123_456_789n);
  assert.deepEqual(m!.header.xattrs.get('user.note'), Buffer.from([0, 1, 2, 0xff]));
  assert.equal(m!.data.toString(), 'single file\n');
});

test('a symlink is exported as a link, never followed, whatever its target', async () => {
  for (const [name, target] of [['abs', '/etc/passwd'], ['l', 'a']] as const) {
    const members = await list(await buffer(exportTree(join(tree, name), { topName: name })));
    assert.deepEqual(
      members.map((m) => [m.header.path, m.header.type, m.header.linkpath, m.data.length]),
      [[name, 'symlink', target, 0]],
    );
  }
});

test('the fidelity fixture exported under a name extracts exactly below that name', async () => {
  const fixture = join(work, 'fixture');
  buildFixture(fixture);
  const out = join(work, 'out');
  mkdirSync(out);
  await extractTree(exportTree(fixture, { topName: 'tree' }), out);
  assert.deepEqual(manifest(join(out, 'tree')), manifest(fixture));
});
