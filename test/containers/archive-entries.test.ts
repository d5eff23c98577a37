// checkUploadEntry: which upload entries docker cp refuses before anything is extracted (issue 6, item 9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUploadEntry } from '../../src/containers/archive.js';
import { InvalidParameter } from '../../src/errors.js';

test('entries inside the destination are accepted, symlinks whatever their target', () => {
  for (const e of [
    { path: 'a', type: 'File' },
    { path: 'd/../b', type: 'File' },
    { path: './x/y', type: 'Directory' },
    { path: 'abs', type: 'SymbolicLink', linkpath: '/etc/passwd' },
    { path: 'up', type: 'SymbolicLink', linkpath: '../../../../etc' },
    { path: 'hl', type: 'Link', linkpath: 'd/file' },
  ]) {
    assert.doesNotThrow(() => checkUploadEntry(e, '/data'), e.path);
  }
});

test("'..' breakouts, absolute names and hard links out are refused with InvalidParameter", () => {
  const cases: Array<[{ path: string; type: string; linkpath?: string }, RegExp]> = [
    [{ path: '../x', type: 'File' }, /"\.\.\/x" is outside of "\/data"/],
    [{ path: 'a/../../x', type: 'File' }, /is outside of/],
    [{ path: '..', type: 'Directory' }, /is outside of/],
    [{ path: '/etc/x', type: 'File' }, /absolute path/],
    [{ path: 'hl', type: 'Link', linkpath: '../../etc/shadow' }, /invalid hardlink/],
    [{ path: 'hl', type: 'Link', linkpath: '/etc/shadow' }, /invalid hardlink/],
  ];
  for (const [e, message] of cases) {
    assert.throws(() => checkUploadEntry(e, '/data'), (err: unknown) => err instanceof InvalidParameter && message.test((err as Error).message), e.path);
  }
});
