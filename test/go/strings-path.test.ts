import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cut, splitN } from '../../src/go/strings.js';
import { cleanPath, isLocalPath } from '../../src/go/path.js';

test('splitN: at most n parts, the rest kept in the last one', () => {
  assert.deepEqual(splitN('a:b:c:d', ':', 3), ['a', 'b', 'c:d']);
  assert.deepEqual(splitN('a:b', ':', 5), ['a', 'b']);
  assert.deepEqual(splitN('abc', ':', 2), ['abc']);
  assert.deepEqual(splitN('', ':', 2), ['']);
  assert.deepEqual(splitN('a::b', '::', 2), ['a', 'b']);
  assert.deepEqual(splitN('a:b', ':', 1), ['a:b']);
});

test('cut: before, after, found', () => {
  assert.deepEqual(cut('k=v=w', '='), ['k', 'v=w', true]);
  assert.deepEqual(cut('k', '='), ['k', '', false]);
  assert.deepEqual(cut('=v', '='), ['', 'v', true]);
});

test('cleanPath is path.Clean', () => {
  const cases: Array<[string, string]> = [
    ['', '.'], ['.', '.'], ['/', '/'], ['//a//b/', '/a/b'], ['a/./b', 'a/b'], ['a/../..', '..'],
    ['/../a', '/a'], ['../../a/b/..', '../../a'], ['a/b/../../c', 'c'], ['/a/b/../../..', '/'],
  ];
  for (const [input, want] of cases) assert.equal(cleanPath(input), want, input);
});

test('isLocalPath is filepath.IsLocal on Unix', () => {
  for (const p of ['a', 'a/b', 'a/../b', './a', '..a', 'a/..']) assert.equal(isLocalPath(p), true, p);
  for (const p of ['', '/a', '..', '../a', 'a/../../b']) assert.equal(isLocalPath(p), false, p);
});
