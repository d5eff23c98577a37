import { test } from 'node:test';
import assert from 'node:assert/strict';
import { naturalCompare, naturalLess } from '../../../src/cli/format/natural-sort.js';

test('digit runs compare numerically', () => {
  assert.deepEqual(['v10', 'v2', 'v1', 'v20', 'v3'].sort(naturalCompare), ['v1', 'v2', 'v3', 'v10', 'v20']);
  assert.deepEqual(['abc5', 'abc1', 'abc01', 'ab', 'abc10', 'abc2'].sort(naturalCompare), ['ab', 'abc1', 'abc01', 'abc2', 'abc5', 'abc10']);
});

test('pairs match sortorder.NaturalLess', () => {
  const cases: [string, string, boolean][] = [
    ['0', '00', true],
    ['00', '0', false],
    ['aa', 'ab', true],
    ['ab', 'abc', true],
    ['abc', 'ad', true],
    ['ab1', 'ab2', true],
    ['ab1c', 'ab1c', false],
    ['ab12', 'abc', true],
    ['ab2a', 'ab10', true],
    ['a0001', 'a0000001', true],
    ['a10', 'abcdefgh2', true],
    ['a1b', 'a01b', true],
    ['a01b', 'a1b', false],
    ['ab01b', 'ab010b', true],
    ['a01b001', 'a001b01', true],
    ['a001b01', 'a01b001', false],
    ['a1', 'a1x', true],
    ['1ax', '1b', true],
    ['1b', '1ax', false],
    ['082', '83', true],
    ['083a', '9a', false],
    ['9a', '083a', true],
    ['аб2аб', 'аб10аб', true],
  ];
  for (const [a, b, less] of cases) assert.equal(naturalLess(a, b), less, `${a} < ${b}`);
});

test('non-digits compare bytewise: uppercase before lowercase', () => {
  assert.deepEqual(['b', 'B', 'a', 'A'].sort(naturalCompare), ['A', 'B', 'a', 'b']);
  assert.equal(naturalCompare('same', 'same'), 0);
  assert.equal(naturalCompare('x2', 'x10'), -1);
  assert.equal(naturalCompare('x10', 'x2'), 1);
});
