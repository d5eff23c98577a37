// Extraction that merges into a directory with content, as docker cp
// extracts: what a member replaces and what stays, Docker's refusal to
// replace a directory with a non-directory and back, whose files they
// become, and the hostile-archive refusals, which hold here as they do in
// an empty staging directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { exportTree, extractTree, type MergeOptions } from '../../src/archive/tree.js';
import { END_OF_ARCHIVE } from '../../src/archive/tar/writer.js';
import { Conflict, InvalidArchive } from '../../src/errors.js';
import { buildFixture, manifest } from '../helpers/tree-manifest.js';
import { link, member } from '../helpers/tar-member.js';

let work: string;
let counter = 0;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-merge-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

function freshDir(name = 'dst'): string {
  const dir = join(work, `${name}-${++counter}`);
  mkdirSync(dir);
  return dir;
}

function merging(opts: Partial<MergeOptions> = {}): { merge: MergeOptions } {
  return { merge: { owner: 'archive', overwriteDirNonDir: false, ...opts } };
}

function extract(parts: Buffer[], dir: string, opts: Parameters<typeof extractTree>[2]): ReturnType<typeof extractTree> {
  return extractTree(Readable.from([Buffer.concat([...parts, END_OF_ARCHIVE])]), dir, opts);
}

const text = (p: string): string => readFileSync(p, 'utf8');
const dir = (path: string, mode = 0o755, mtimeNs = 0n) => member({ path, type: 'directory', mode, size: 0, mtimeNs });

async function rejectsWith(p: Promise<unknown>, cls: typeof Conflict | typeof InvalidArchive, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `${cls.name}, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test('a file replaces a file (a new inode: a hard link to the old one keeps the old data), a directory merges into a directory, the rest stays', async () => {
  const dst = freshDir();
  writeFileSync(join(dst, 'keep'), 'untouched\n');
  writeFileSync(join(dst, 'f'), 'old\n');
  linkSync(join(dst, 'f'), join(dst, 'f-link'));
  mkdirSync(join(dst, 'd'), { mode: 0o700 });
  writeFileSync(join(dst, 'd', 'inner'), 'inner\n');
  chmodSync(dst, 0o711);
  const oldInode = statSync(join(dst, 'f')).ino;

  await extract(
    [dir('./', 0o777, 5_000_000_000n), member({ path: './f' }, Buffer.from('new\n')), dir('./d', 0o750, 7_000_000_001n), member({ path: './d/added' }, Buffer.from('added\n'))],
    dst,
    merging(),
  );
  assert.equal(text(join(dst, 'f')), 'new\n');
  assert.notEqual(statSync(join(dst, 'f')).ino, oldInode);
  assert.equal(text(join(dst, 'f-link')), 'old\n');
  assert.equal(text(join(dst, 'keep')), 'untouched\n');
  assert.equal(text(join(dst, 'd', 'inner')), 'inner\n');
  assert.equal(text(join(dst, 'd', 'added')), 'added\n');
  // The directory member's metadata lands on the directory that was there.
  const d = statSync(join(dst, 'd'), { bigint: true });
  assert.equal(Number(d.mode & 0o7777n), 0o750);
  assert.equal(d.mtimeNs, 7_000_000_001n);
  // The target directory keeps its own metadata, as docker cp leaves it (its mtime moves with the new entries).
  assert.equal(statSync(dst).mode & 0o7777, 0o711);
});

test('a directory is not replaced by a non-directory, nor a non-directory by a directory, unless asked (noOverwriteDirNonDir)', async () => {
  const dst = freshDir();
  mkdirSync(join(dst, 'd'));
  writeFileSync(join(dst, 'd', 'inner'), 'inner\n');
  writeFileSync(join(dst, 'f'), 'file\n');
  const outside = freshDir('outside');
  symlinkSync(outside, join(dst, 'ld'));

  await rejectsWith(extract([member({ path: './d' }, Buffer.from('x'))], dst, merging()), Conflict, new RegExp(`^cannot overwrite directory "${dst}/d" with non-directory "${dst}"$`));
  await rejectsWith(extract([dir('./f')], dst, merging()), Conflict, new RegExp(`^cannot overwrite non-directory "${dst}/f" with directory "${dst}"$`));
  // A symlink to a directory is not a directory.
  await rejectsWith(extract([dir('./ld')], dst, merging()), Conflict, /cannot overwrite non-directory ".*\/ld" with directory/);
  assert.equal(text(join(dst, 'd', 'inner')), 'inner\n');
  assert.equal(text(join(dst, 'f')), 'file\n');
  assert.equal(readlinkSync(join(dst, 'ld')), outside);

  await extract([member({ path: './d' }, Buffer.from('now a file\n')), dir('./f'), dir('./ld'), member({ path: './ld/in' }, Buffer.from('in\n'))], dst, merging({ overwriteDirNonDir: true }));
  assert.equal(text(join(dst, 'd')), 'now a file\n');
  assert.ok(lstatSync(join(dst, 'f')).isDirectory());
  assert.ok(lstatSync(join(dst, 'ld')).isDirectory());
  assert.equal(text(join(dst, 'ld', 'in')), 'in\n');
  assert.deepEqual(readdirSync(outside), []);
});

test('what is at a member name is replaced, never written through; an existing symlink or file is no parent', async () => {
  const dst = freshDir();
  const outside = freshDir('outside');
  writeFileSync(join(outside, 'victim'), 'keep\n');
  symlinkSync(join(outside, 'victim'), join(dst, 'x'));
  symlinkSync(outside, join(dst, 'p'));
  writeFileSync(join(dst, 'file'), 'file\n');

  await extract([member({ path: 'x' }, Buffer.from('new\n'))], dst, merging());
  assert.ok(lstatSync(join(dst, 'x')).isFile());
  assert.equal(text(join(dst, 'x')), 'new\n');
  assert.equal(text(join(outside, 'victim')), 'keep\n');

  // No member names p itself: it would be followed as a parent, and is refused instead.
  await rejectsWith(extract([member({ path: 'p/evil' }, Buffer.from('x'))], dst, merging()), Conflict, /cannot extract p\/evil: .*\/p is a symbolic link/);
  await rejectsWith(extract([member({ path: 'file/x' }, Buffer.from('x'))], dst, merging()), Conflict, /file is not a directory/);
  assert.deepEqual(readdirSync(outside), ['victim']);
});

test('hostile archives are refused when merging too, and nothing lands outside', async () => {
  const outside = freshDir('outside');
  const refused = async (parts: Buffer[], pattern: RegExp) => {
    const dst = freshDir();
    writeFileSync(join(dst, 'existing'), 'there before\n');
    await rejectsWith(extract(parts, dst, merging()), InvalidArchive, pattern);
  };
  await refused([member({ path: '../escape' }, Buffer.from('x'))], /outside of the directory/);
  await refused([member({ path: 'a/../../escape' }, Buffer.from('x'))], /outside of the directory/);
  await refused([member({ path: `${outside}/abs` }, Buffer.from('x'))], /absolute name/);
  await refused([link('l', outside), member({ path: 'l/through' }, Buffer.from('x'))], /beneath l, which is not a directory/);
  await refused([link('h', '/etc/passwd', 'hardlink')], /absolute name/);
  await refused([link('h', '../../etc/passwd', 'hardlink')], /outside of the directory/);
  // A file of the directory is not a member of the archive: no link to it.
  await refused([link('h', 'existing', 'hardlink')], /not an earlier file in the archive/);
  assert.deepEqual(readdirSync(outside), []);

  // `..` that stays inside is resolved on the name, as docker cp does: d is never made.
  const dst = freshDir();
  await extract([member({ path: 'd/../b' }, Buffer.from('b\n'))], dst, merging());
  assert.equal(text(join(dst, 'b')), 'b\n');
  assert.equal(existsSync(join(dst, 'd')), false);
});

test('owners: the archive\'s (docker cp -a), fixed ids (root, as docker cp without -a), or none set (the docker CLI on the client)', async () => {
  const archive = [member({ path: './d', type: 'directory', mode: 0o755, uid: 1234, gid: 5678 }), member({ path: './d/f', uid: 1234, gid: 5678 }, Buffer.from('f\n'))];
  const owners = async (owner: MergeOptions['owner']) => {
    const dst = freshDir();
    mkdirSync(join(dst, 'd'));
    chownSync(join(dst, 'd'), 4321, 4321);
    await extract(archive, dst, merging({ owner }));
    const ids = (p: string) => `${lstatSync(p).uid}:${lstatSync(p).gid}`;
    return { dir: ids(join(dst, 'd')), file: ids(join(dst, 'd', 'f')) };
  };
  assert.deepEqual(await owners('archive'), { dir: '1234:5678', file: '1234:5678' });
  assert.deepEqual(await owners({ uid: 0, gid: 0 }), { dir: '0:0', file: '0:0' });
  const me = `${process.getuid!()}:${process.getgid!()}`;
  assert.deepEqual(await owners('process'), { dir: '4321:4321', file: me });
});

test('the fidelity fixture (xattrs, ACLs, hard-link groups, sparse files, devices) merges exactly under a new name beside what was there', async () => {
  const fixture = join(work, 'fixture');
  buildFixture(fixture);
  const dst = freshDir();
  writeFileSync(join(dst, 'other'), 'other\n');
  const rename = (name: Buffer): Buffer => (name.subarray(0, 4).equals(Buffer.from('data')) ? Buffer.concat([Buffer.from('copy'), name.subarray(4)]) : name);
  await extractTree(exportTree(fixture, { topName: 'data' }), dst, { ...merging(), rename });
  assert.deepEqual(manifest(join(dst, 'copy')), manifest(fixture));
  assert.equal(text(join(dst, 'other')), 'other\n');
  assert.deepEqual(readdirSync(dst).sort(), ['copy', 'other']);
});

test('writer threads: files replacing existing ones, and a hard link to one of them, are written as on one thread', async () => {
  const dst = freshDir();
  for (let i = 0; i < 400; i++) writeFileSync(join(dst, `f${i}`), 'old\n');
  const parts = Array.from({ length: 400 }, (_, i) => member({ path: `./f${i}` }, Buffer.from(`new ${i}\n`)));
  parts.push(link('./h', 'f399', 'hardlink'));
  const r = await extract(parts, dst, { ...merging(), writers: 2 });
  assert.equal(r.files, 401);
  for (let i = 0; i < 400; i++) assert.equal(text(join(dst, `f${i}`)), `new ${i}\n`);
  assert.equal(lstatSync(join(dst, 'h')).ino, lstatSync(join(dst, 'f399')).ino);
});
