import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, symlinkSync, rmSync, readlinkSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteReader, readTar } from '../../../src/archive/tar/reader.js';
import {
  copyInfoDestinationPath, copyInfoSourcePath, extractArchive, packSource, prepareArchiveCopy, preserveTrailingDotOrSeparator,
  rebasePath, splitCpArg, splitPathDirEntry, type CopyInfo,
} from '../../../src/cli/commands/cp.js';

test('splitCpArg: container:path vs local paths', () => {
  assert.deepEqual(splitCpArg('c1:/data'), { container: 'c1', path: '/data' });
  assert.deepEqual(splitCpArg('/abs:x'), { container: '', path: '/abs:x' });
  assert.deepEqual(splitCpArg('./file:name'), { container: '', path: './file:name' });
  assert.deepEqual(splitCpArg('plain'), { container: '', path: 'plain' });
  assert.deepEqual(splitCpArg('-'), { container: '', path: '-' });
});

test('SplitPathDirEntry and PreserveTrailingDotOrSeparator', () => {
  assert.deepEqual(splitPathDirEntry('/a/b'), { dir: '/a', base: 'b' });
  assert.deepEqual(splitPathDirEntry('/a/b/'), { dir: '/a', base: 'b' });
  assert.deepEqual(splitPathDirEntry('/a/b/.'), { dir: '/a/b', base: '.' });
  assert.deepEqual(splitPathDirEntry('/'), { dir: '/', base: '/' });
  assert.equal(preserveTrailingDotOrSeparator('/x/d', 'd/'), '/x/d/');
  assert.equal(preserveTrailingDotOrSeparator('/x/d', 'd/.'), '/x/d/.');
  assert.equal(preserveTrailingDotOrSeparator('/x/d', 'd'), '/x/d');
});

const info = (path: string, exists: boolean, isDir: boolean, rebaseName = ''): CopyInfo => ({ path, exists, isDir, rebaseName });

test('PrepareArchiveCopy decides where to extract and what to rename', () => {
  assert.deepEqual(prepareArchiveCopy(info('/s/data', true, true), info('/d/exist', true, true)), { dstDir: '/d/exist' });
  assert.deepEqual(prepareArchiveCopy(info('/s/data', true, true), info('/d/new', false, false)), { dstDir: '/d', rebase: { from: 'data', to: 'new' } });
  assert.deepEqual(prepareArchiveCopy(info('/s/f', true, false), info('/d/file', true, false)), { dstDir: '/d', rebase: { from: 'f', to: 'file' } });
  assert.deepEqual(prepareArchiveCopy(info('/s/f', true, false), info('/d/new', false, false)), { dstDir: '/d', rebase: { from: 'f', to: 'new' } });
  assert.deepEqual(prepareArchiveCopy(info('/s/data/.', true, true), info('/d/new', false, false)), { dstDir: '/d', rebase: { from: '.', to: 'new' } });
  assert.throws(() => prepareArchiveCopy(info('/s/data', true, true), info('/d/file', true, false)), /cannot copy directory/);
  assert.throws(() => prepareArchiveCopy(info('/s/f', true, false), info('/d/nodir/', false, false)), /no such directory/);
});

test('rebasing archive entry names', () => {
  assert.equal(rebasePath('data/', 'data', 'new'), 'new/');
  assert.equal(rebasePath('data/sub/b', 'data', 'new'), 'new/sub/b');
  assert.equal(rebasePath('database', 'data', 'new'), 'database');
  assert.equal(rebasePath('./', '.', 'new'), 'new/');
  assert.equal(rebasePath('./a', '.', 'new'), 'new/a');
  assert.equal(rebasePath('a', '.', 'new'), 'new/a');
});

test('local source and destination info', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cp-'));
  try {
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'f'), 'x');
    symlinkSync('data', join(dir, 'link'));
    assert.deepEqual(copyInfoSourcePath(join(dir, 'data'), false), info(join(dir, 'data'), true, true));
    assert.deepEqual(copyInfoSourcePath(join(dir, 'data') + '/.', false), info(join(dir, 'data') + '/.', true, true));
    assert.deepEqual(copyInfoSourcePath(join(dir, 'link'), false), info(join(dir, 'link'), true, false));
    assert.deepEqual(copyInfoSourcePath(join(dir, 'link'), true), info(join(dir, 'data'), true, true, 'link'));
    assert.throws(() => copyInfoSourcePath(join(dir, 'nope'), false), /^CliError: lstat .*nope: no such file or directory$|lstat .*nope: no such file or directory/);
    assert.deepEqual(copyInfoDestinationPath(join(dir, 'link')), info(join(dir, 'data'), true, true));
    assert.deepEqual(copyInfoDestinationPath(join(dir, 'new')), info(join(dir, 'new'), false, false));
    assert.throws(() => copyInfoDestinationPath(join(dir, 'a', 'b')), /stat .*\/a: no such file or directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pack a local tree under a new name and extract it elsewhere, modes and links kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cp-'));
  try {
    mkdirSync(join(dir, 'src', 'data', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'src', 'data', 'a'), 'a\n');
    writeFileSync(join(dir, 'src', 'data', 'sub', 'b'), 'b\n');
    chmodSync(join(dir, 'src', 'data', 'sub'), 0o750);
    symlinkSync('a', join(dir, 'src', 'data', 'l'));
    const src = copyInfoSourcePath(join(dir, 'src', 'data'), false);
    const plan = prepareArchiveCopy(src, info('/target/renamed', false, false));
    const names: string[] = [];
    for await (const e of readTar(new ByteReader(packSource(src, plan.rebase)))) names.push(e.header.path);
    assert.deepEqual(names.sort(), ['renamed/', 'renamed/a', 'renamed/l', 'renamed/sub/', 'renamed/sub/b']);

    // Extract an archive rooted at "data" into out/ as "copy" (docker cp c:/data out/copy).
    mkdirSync(join(dir, 'out'));
    await extractArchive(packSource(src), { dstDir: join(dir, 'out'), rebase: { from: 'data', to: 'copy' } });
    assert.equal(readFileSync(join(dir, 'out', 'copy', 'sub', 'b'), 'utf8'), 'b\n');
    assert.equal(readlinkSync(join(dir, 'out', 'copy', 'l')), 'a');
    assert.equal(statSync(join(dir, 'out', 'copy', 'sub')).mode & 0o777, 0o750);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
