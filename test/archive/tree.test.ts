// The tree codec against real files: the fidelity fixture (every file type,
// ids, modes, ns mtimes, xattrs of every namespace, ACLs, capability,
// hard-link groups, sparse files, non-UTF-8 names, deep paths) survives
// export→extract, export→GNU tar, GNU tar→extract and clone exactly, data
// extents included; hostile and broken archives are refused and nothing
// lands outside the target.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { cloneTree, exportTree, extractTree, measureTree } from '../../src/archive/tree.js';
import { END_OF_ARCHIVE } from '../../src/archive/tar/writer.js';
import { InvalidArchive } from '../../src/errors.js';
import { buildFixture, fullManifest, manifest, type Entry } from '../helpers/tree-manifest.js';
import { link, member } from '../helpers/tar-member.js';

const TAR_FLAGS = ['--format=posix', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-S'];

let work: string;
let fixture: string;
let expected: Array<Entry & { extents?: string }>;
let counter = 0;

function freshDir(): string {
  const dir = join(work, `out-${++counter}`);
  mkdirSync(dir);
  return dir;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-tree-'));
  fixture = join(work, 'fixture');
  buildFixture(fixture);
  expected = fullManifest(fixture);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('the fixture has what the fidelity list asks for', () => {
  const types = new Set(expected.map((e) => e.type));
  for (const t of ['file', 'dir', 'symlink', 'fifo', 'char', 'block']) assert.ok(types.has(t), t);
  assert.ok(expected.some((e) => e.sparse), 'a sparse file');
  assert.ok(expected.some((e) => Object.keys(e.xattrs).includes('security.capability')));
  assert.ok(expected.some((e) => Object.keys(e.xattrs).includes('system.posix_acl_default')));
  assert.ok(expected.some((e) => e.uid > 65535));
  assert.ok(expected.some((e) => /[\x80-\xff]/.test(e.path)));
});

test('export then extract is exact, and progress counts every member', async () => {
  const tarball = await buffer(exportTree(fixture));
  const out = freshDir();
  const seen: number[] = [];
  const p = await extractTree(Readable.from([tarball]), out, { onProgress: (x) => seen.push(x.files) });
  assert.deepEqual(fullManifest(out), expected);
  assert.equal(p.files, expected.length);
  assert.equal(seen.at(-1), expected.length);
  const totals = await measureTree(fixture);
  assert.equal(totals.files, expected.length);
});

test('GNU tar reads berth archives without a warning and extracts them exactly', async () => {
  const file = join(work, 'berth.tar');
  writeFileSync(file, await buffer(exportTree(fixture)));
  const out = freshDir();
  const r = spawnSync('tar', [...TAR_FLAGS, '-xpf', file, '-C', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // The one note GNU tar 1.34 prints: it does not know POSIX's hdrcharset=BINARY, which berth writes
  // for the non-UTF-8 names (without it bsdtar fails on them); the names still come out byte-exact.
  assert.equal(r.stderr.replace("tar: Ignoring unknown extended header keyword 'hdrcharset'\n", ''), '');
  assert.deepEqual(fullManifest(out), expected);
  const bsd = spawnSync('bsdtar', ['-tf', file], { encoding: 'utf8' });
  if (bsd.error === undefined) {
    assert.equal(bsd.status, 0, bsd.stderr);
    assert.equal(bsd.stderr, '');
  }
});

test('an archive file read by position (data copied file to file) extracts exactly, also from an offset and with writer threads', async () => {
  const tarball = execFileSync('tar', [...TAR_FLAGS, '-C', fixture, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  const junk = Buffer.alloc(777, 0x41);
  const file = join(work, 'by-position.tar');
  writeFileSync(file, Buffer.concat([junk, tarball]));
  const fd = openSync(file, 'r');
  try {
    for (const writers of [0, 1]) {
      const out = freshDir();
      const seen: number[] = [];
      await extractTree({ fd, offset: junk.length }, out, { writers, onProgress: (p) => seen.push(p.archiveBytes) });
      assert.deepEqual(fullManifest(out), expected, `writers: ${writers}`);
      assert.equal(seen.at(-1), tarball.length, 'the whole archive was read');
    }
  } finally {
    closeSync(fd);
  }
});

test('an archive file cut short or hostile is refused when read by position, as when streamed', async () => {
  const tarball = execFileSync('tar', [...TAR_FLAGS, '-C', fixture, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  const cut = join(work, 'cut.tar');
  writeFileSync(cut, tarball.subarray(0, Math.floor(tarball.length / 2)));
  const hostile = join(work, 'hostile-by-position.tar');
  writeFileSync(hostile, Buffer.concat([member({ path: '../escape', type: 'file' }, Buffer.from('bad')), END_OF_ARCHIVE]));
  for (const [file, why] of [
    [cut, /unexpected end of archive/],
    [hostile, /\.\./],
  ] as const) {
    const fd = openSync(file, 'r');
    try {
      const out = freshDir();
      await assert.rejects(extractTree({ fd }, out), (e: Error) => e instanceof InvalidArchive && why.test(e.message));
    } finally {
      closeSync(fd);
    }
  }
  assert.equal(existsSync(join(work, 'escape')), false);
});

test('archives made by GNU tar extract exactly', async () => {
  const tarball = execFileSync('tar', [...TAR_FLAGS, '-C', fixture, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  const out = freshDir();
  await extractTree(Readable.from([tarball]), out);
  assert.deepEqual(fullManifest(out), expected);
});

test('clone is exact (a copy on ext4, which cannot reflink)', async () => {
  const out = freshDir();
  const r = await cloneTree(fixture, out);
  assert.deepEqual(fullManifest(out), expected);
  assert.equal(r.files, expected.length);
  assert.equal(typeof r.reflinked, 'boolean');
});

test('a large tree is cloned by several threads, exactly: link groups across top-level entries stay whole, the root last', async () => {
  // The fidelity fixture plus enough small files in several top-level
  // directories to make cloneTree split the work; hard links join some of them.
  const big = join(work, 'big-tree');
  execFileSync('cp', ['-a', `${fixture}/.`, big]);
  for (let d = 0; d < 6; d++) {
    mkdirSync(join(big, `top${d}`));
    for (let i = 0; i < 500; i++) writeFileSync(join(big, `top${d}`, `f${i}`), `${d}/${i}\n`.repeat(i % 7));
  }
  execFileSync('ln', [join(big, 'top0', 'f1'), join(big, 'top5', 'link-to-top0-f1')]);
  execFileSync('ln', [join(big, 'top2', 'f2'), join(big, 'top3', 'link-to-top2-f2')]);
  execFileSync('touch', ['-d', '2001-02-03 04:05:06.789', big]);
  const want = fullManifest(big);
  const out = freshDir();
  let planned: { bytes: number; files: number } | undefined;
  let last = { bytes: 0, files: 0 };
  const r = await cloneTree(big, out, { parallelism: 3, onPlanned: (t) => (planned = t), onProgress: (p) => (last = p) });
  assert.deepEqual(fullManifest(out), want);
  assert.deepEqual(planned, await measureTree(big));
  assert.equal(r.files, want.length);
  assert.deepEqual(last, { bytes: r.bytes, files: r.files });
  assert.equal(lstatSync(join(out, 'top5', 'link-to-top0-f1')).ino, lstatSync(join(out, 'top0', 'f1')).ino);
});

test('a failing share stops the clone with its error', async () => {
  const big = join(work, 'big-unreadable');
  for (let d = 0; d < 3; d++) {
    mkdirSync(join(big, `top${d}`), { recursive: true });
    for (let i = 0; i < 1000; i++) writeFileSync(join(big, `top${d}`, `f${i}`), 'x');
  }
  // The target already holds top1, so the share that copies it fails with EEXIST.
  const out = freshDir();
  mkdirSync(join(out, 'top1'));
  await assert.rejects(cloneTree(big, out, { parallelism: 3 }), /EEXIST|file exists/);
});

async function refused(parts: Buffer[], pattern: RegExp): Promise<string> {
  const out = freshDir();
  await assert.rejects(extractTree(Readable.from([Buffer.concat(parts)]), out), (e: unknown) => {
    assert.ok(e instanceof InvalidArchive, `InvalidArchive, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
  return out;
}

test('hostile archives are refused and nothing is written outside the target', async () => {
  const outside = join(work, 'outside');
  mkdirSync(outside, { recursive: true });
  await refused([member({ path: './../escape' }, Buffer.from('x')), END_OF_ARCHIVE], /contains "\.\."/);
  await refused([member({ path: 'a/../../escape' }, Buffer.from('x')), END_OF_ARCHIVE], /contains "\.\."/);
  await refused([member({ path: `${outside}/abs` }, Buffer.from('x')), END_OF_ARCHIVE], /absolute name/);
  await refused([link('./l', outside), member({ path: './l/through' }, Buffer.from('x')), END_OF_ARCHIVE], /beneath l, which is not a directory/);
  await refused([link('./h', '/etc/passwd', 'hardlink'), END_OF_ARCHIVE], /absolute name|not an earlier file/);
  await refused([link('./h', 'later', 'hardlink'), member({ path: './later' }, Buffer.from('x')), END_OF_ARCHIVE], /not an earlier file/);
  await refused([member({ path: './d', type: 'directory', size: 0 }), link('./h', 'd', 'hardlink'), END_OF_ARCHIVE], /not an earlier file/);
  assert.deepEqual(readdirSync(outside), []);
});

test('truncated, corrupt and empty archives are refused', async () => {
  const good = await buffer(exportTree(fixture));
  // Cut mid-data, and cut exactly after a member (before the end marker): both are truncated.
  await refused([good.subarray(0, Math.floor(good.length / 2))], /unexpected end of archive/);
  const one = member({ path: './only' }, Buffer.from('content'));
  await refused([one], /no end-of-archive marker/);
  const bad = Buffer.from(one);
  bad[10] = bad[10]! ^ 0xff;
  await refused([bad, END_OF_ARCHIVE], /bad checksum/);
  await refused([Buffer.from('this is not a tar archive at all'.repeat(20))], /bad checksum|unexpected end/);
  await refused([], /empty archive/);
});

test('a member replacing an earlier symlink replaces the link, never its target', async () => {
  const outside = join(work, 'victim');
  writeFileSync(outside, 'keep');
  const out = freshDir();
  const parts = [
    member({ path: './x', type: 'symlink', linkpath: Buffer.from(outside), size: 0 }),
    member({ path: './x' }, Buffer.from('new')),
    END_OF_ARCHIVE,
  ];
  await extractTree(Readable.from([Buffer.concat(parts)]), out);
  assert.equal(readFileSync(outside, 'utf8'), 'keep');
  assert.ok(lstatSync(join(out, 'x')).isFile());
  assert.equal(readFileSync(join(out, 'x'), 'utf8'), 'new');
  assert.ok(existsSync(outside));
});

/** `n` small regular files at the top level: enough to make extractTree start its writer threads. */
const manyFiles = (n: number, prefix = 'f') => Array.from({ length: n }, (_, i) => member({ path: `./${prefix}${i}` }, Buffer.from(`${prefix}${i}\n`)));

test('writer threads: a large tree (and a file bigger than what may be in flight) extracts exactly', async () => {
  const big = join(work, 'writers-src');
  execFileSync('cp', ['-a', `${fixture}/.`, big]);
  for (let d = 0; d < 4; d++) {
    mkdirSync(join(big, `dir${d}`));
    for (let i = 0; i < 300; i++) writeFileSync(join(big, `dir${d}`, `f${i}`), `${d}:${i}\n`.repeat(i % 9));
  }
  // 80 MiB: more than the 64 MiB an extraction may have in flight to its threads.
  writeFileSync(join(big, 'dir3', 'large'), Buffer.alloc(80 << 20, 0x5a));
  execFileSync('ln', [join(big, 'dir0', 'f7'), join(big, 'dir3', 'link-to-dir0-f7')]);
  const want = fullManifest(big);
  for (const writers of [1, 3]) {
    const out = freshDir();
    const r = await extractTree(exportTree(big), out, { writers });
    assert.deepEqual(fullManifest(out), want, `writers ${writers}`);
    assert.equal(r.files, want.length);
  }
});

test('writer threads: refusals, replacements and links behave as on one thread', async () => {
  const outside = join(work, 'outside-writers');
  mkdirSync(outside, { recursive: true });
  const opts = { writers: 2 };
  const refusedMany = async (tail: Buffer[], pattern: RegExp) => {
    const out = freshDir();
    await assert.rejects(extractTree(Readable.from([Buffer.concat([...manyFiles(400), ...tail])]), out, opts), pattern);
  };
  await refusedMany([member({ path: './../escape' }, Buffer.from('x')), END_OF_ARCHIVE], /contains "\.\."/);
  await refusedMany([member({ path: './l', type: 'symlink', linkpath: Buffer.from(outside), size: 0 }), member({ path: './l/x' }, Buffer.from('x')), END_OF_ARCHIVE], /not a directory/);
  await refusedMany([member({ path: './tail' }, Buffer.from('cut short'))], /no end-of-archive marker/);
  assert.deepEqual(readdirSync(outside), []);

  // A later member replaces a file a thread wrote; a hard link to a thread's file joins its group.
  const out = freshDir();
  const parts = [
    ...manyFiles(400),
    member({ path: './f399' }, Buffer.from('replaced\n')),
    member({ path: './h', type: 'hardlink', linkpath: Buffer.from('f398'), size: 0 }),
    END_OF_ARCHIVE,
  ];
  const r = await extractTree(Readable.from([Buffer.concat(parts)]), out, opts);
  assert.equal(r.files, 402);
  assert.equal(readFileSync(join(out, 'f399'), 'utf8'), 'replaced\n');
  assert.equal(lstatSync(join(out, 'h')).ino, lstatSync(join(out, 'f398')).ino);
  assert.equal(readFileSync(join(out, 'h'), 'utf8'), 'f398\n');
});

test('writer threads: a write that fails in a thread fails the extraction with its error', async () => {
  const out = freshDir();
  // The staging directory is not empty as promised: the thread's O_EXCL create of f350 fails.
  writeFileSync(join(out, 'f350'), 'in the way');
  await assert.rejects(extractTree(Readable.from([Buffer.concat([...manyFiles(400), END_OF_ARCHIVE])]), out, { writers: 2 }), (e: unknown) => {
    assert.equal((e as NodeJS.ErrnoException).code, 'EEXIST');
    assert.match((e as Error).message, /file already exists|EEXIST/);
    return true;
  });
});

test('an export on a worker thread is byte for byte the export on this one; its errors and aborts reach the stream', async () => {
  const here = await buffer(exportTree(fixture));
  let last = { bytes: 0, files: 0 };
  const there = await buffer(exportTree(fixture, { worker: true, onProgress: (p) => (last = p) }));
  assert.ok(there.equals(here));
  assert.equal(last.files, expected.length);

  // A tree that cannot be read: the thread's error ends the stream.
  const missing = join(work, 'no-such-tree');
  await assert.rejects(buffer(exportTree(missing, { worker: true })), /ENOENT/);

  const abort = new AbortController();
  const s = exportTree(fixture, { worker: true, signal: abort.signal });
  abort.abort(new Error('client went away'));
  await assert.rejects(buffer(s), /client went away/);
});
