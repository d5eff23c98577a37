import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringWidth, tabwrite } from '../../../src/cli/format/tabwriter.js';

test('docker defaults: minwidth 10, padding 3', () => {
  assert.equal(tabwrite('DRIVER\tVOLUME NAME\nlocal\tv1\n'), 'DRIVER    VOLUME NAME\nlocal     v1\n');
});

test('a wide cell widens its column to cell + padding', () => {
  assert.equal(
    tabwrite('DRIVER\tVOLUME NAME\nlocal\tv1\nspecrdrv\tv2\n'),
    'DRIVER     VOLUME NAME\nlocal      v1\nspecrdrv   v2\n',
  );
});

test('the last cell of a line is never padded', () => {
  assert.equal(tabwrite('a\tb\n'), 'a         b\n');
  assert.equal(tabwrite('only\n'), 'only\n');
  assert.equal(tabwrite('a\t\n'), 'a         \n');
});

test('column blocks end at the first line without that column (Go semantics)', () => {
  const input = 'aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n';
  assert.equal(
    tabwrite(input, { minwidth: 0, padding: 1 }),
    'aaaa bbb d\naa   b   dd\na    \naa   cccc eee\n',
  );
  // A line with no tab at all splits every column.
  assert.equal(
    tabwrite('x\ty\nheader\nlonger-cell\tz\n', { minwidth: 0, padding: 1 }),
    'x y\nheader\nlonger-cell z\n',
  );
});

test('empty input, missing trailing newline and trailing tabs', () => {
  assert.equal(tabwrite(''), '');
  assert.equal(tabwrite('a\tb'), 'a         b');
  // An unterminated last line drops its trailing empty cell, so "b" is the last cell.
  assert.equal(tabwrite('a\tb\t'), 'a         b');
});

test('\\v terminates cells; \\f ends every column block', () => {
  assert.equal(tabwrite('a\vb\n', { minwidth: 0, padding: 1 }), 'a b\n');
  assert.equal(tabwrite('a\tb\n\flonger\tc\n', { minwidth: 0, padding: 1 }), 'a b\n\nlonger c\n');
});

test('cells are measured in terminal columns', () => {
  assert.equal(stringWidth('abc'), 3);
  assert.equal(stringWidth('héllo'), 5);
  assert.equal(stringWidth('e\u0301'), 1);
  assert.equal(stringWidth('世界'), 4);
  assert.equal(stringWidth('😀'), 2);
  assert.equal(stringWidth('a\u200bb'), 2);
  assert.equal(tabwrite('世界\tx\nab\ty\n', { minwidth: 0, padding: 1 }), '世界 x\nab   y\n');
});
