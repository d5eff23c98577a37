// Go's time.ParseDuration and Duration.String: the values and the error
// texts of Go 1.22's time package, and their round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/go/time.js';

test('parseDuration: what Go accepts, in nanoseconds', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['5s', 5e9],
    ['30s', 30e9],
    ['1478s', 1478e9],
    ['-5s', -5e9],
    ['+5s', 5e9],
    ['-0', 0],
    ['+0', 0],
    ['5.0s', 5e9],
    ['5.6s', 5.6e9],
    ['5.s', 5e9],
    ['.5s', 0.5e9],
    ['1.0s', 1e9],
    ['1.00s', 1e9],
    ['1.004s', 1.004e9],
    ['1.0040s', 1.004e9],
    ['100.00100s', 100.001e9],
    ['10ns', 10],
    ['11us', 11e3],
    ['12\u00b5s', 12e3],
    ['12\u03bcs', 12e3],
    ['13ms', 13e6],
    ['14s', 14e9],
    ['15m', 15 * 60e9],
    ['16h', 16 * 3600e9],
    ['3h30m', 3.5 * 3600e9],
    ['10.5s4m', 4 * 60e9 + 10.5e9],
    ['-2m3.4s', -(2 * 60e9 + 3.4e9)],
    ['1h2m3s4ms5us6ns', 3600e9 + 2 * 60e9 + 3e9 + 4e6 + 5e3 + 6],
    ['39h9m14.425s', 39 * 3600e9 + 9 * 60e9 + 14.425e9],
    ['52763797000ns', 52763797000],
    ['0.3333333333333333333h', 20 * 60e9],
  ];
  for (const [text, ns] of cases) assert.equal(parseDuration(text), ns, text);
});

test("parseDuration: Go's errors, word for word", () => {
  const cases: Array<[string, string]> = [
    ['', 'time: invalid duration ""'],
    ['3', 'time: missing unit in duration "3"'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.', 'time: invalid duration "."'],
    ['-.', 'time: invalid duration "-."'],
    ['.s', 'time: invalid duration ".s"'],
    ['+.s', 'time: invalid duration "+.s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['soon', 'time: invalid duration "soon"'],
    ['1\u00e9s', 'time: unknown unit "\\xc3\\xa9s" in duration "1\\xc3\\xa9s"'],
    ['5s"', 'time: unknown unit "s\\"" in duration "5s\\""'],
  ];
  for (const [text, message] of cases) assert.throws(() => parseDuration(text), { message }, JSON.stringify(text));
});

test('formatDuration: Duration.String', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1, '1ns'],
    [1100, '1.1\u00b5s'],
    [2.2e6, '2.2ms'],
    [3.3e9, '3.3s'],
    [4 * 60e9 + 5e9, '4m5s'],
    [4 * 60e9 + 5.001e9, '4m5.001s'],
    [5 * 3600e9 + 6 * 60e9 + 7.001e9, '5h6m7.001s'],
    [8 * 60e9 + 1, '8m0.000000001s'],
    [3600e9, '1h0m0s'],
    [-1, '-1ns'],
    [-1.5e9, '-1.5s'],
    [500e6, '500ms'],
  ];
  for (const [ns, text] of cases) assert.equal(formatDuration(ns), text, String(ns));
  assert.equal(formatDuration(9223372036854775807n), '2562047h47m16.854775807s');
});

test('parseDuration reads back what formatDuration writes', () => {
  fc.assert(
    fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (ns) => {
      assert.equal(parseDuration(formatDuration(ns)), ns);
    }),
  );
});
