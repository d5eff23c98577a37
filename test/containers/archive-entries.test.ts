// checkUploadEntry: which upload entries docker cp refuses before anything is extracted (issue 6, item 9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUploadEntry } from '../../src/containers/archive.js';
import { InvalidParameter } from '../../src/errors.js';
import type { TarEntryType } from '../../src/archive/tar/reader.js';

test('entries inside the destination are accepted, symlinks whatever their target', () => {
  const accepted: Array<{ path: string; type: TarEntryType; linkpath?: string }> = [
    { path: 'a', type: 'file' },
    { path: 'd/../b', type: 'file' },
    { path: './x/y', type: 'directory' },
    { path: 'abs', type: 'symlink', linkpath: '/etc/passwd' },
    { path: 'up', type: 'symlink', linkpath: '../../../../etc' },
    { path: 'hl', type: 'hardlink', linkpath: 'd/file' },
  ];
  for (const e of accepted) {
    assert.doesNotThrow(() => checkUploadEntry(e, '/data'), e.path);
  }
});

test("'..' breakouts, absolute names and hard links out are refused with InvalidParameter", () => {
  const cases: Array<[{ path: string; type: TarEntryType; linkpath?: string }, RegExp]> = [
    [{ path: '../x', type: 'file' }, /"\.\.\/x" is outside of "\/data"/],
    [{ path: 'a/../../x', type: 'file' }, /is outside of/],
    [{ path: '..', type: 'directory' }, /is outside of/],
    [{ path: '/etc/x', type: 'file' }, /absolute path/],
    [{ path: 'hl', type: 'hardlink', linkpath: '../../etc/shadow' }, /invalid hardlink/],
    [{ path: 'hl', type: 'hardlink', linkpath: '/etc/shadow' }, /invalid hardlink/],
  ];
  for (const [e, message] of cases) {
    assert.throws(() => checkUploadEntry(e, '/data'), (err: unknown) => err instanceof InvalidParameter && message.test((err as Error).message), e.path);
  }
});
