import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NIL_MAP, formatValue, sprint, sprintf, sprintln, typeName } from '../../src/go/fmt.js';

test('formatValue prints like fmt %v', () => {
  assert.equal(formatValue('text'), 'text');
  assert.equal(formatValue(42), '42');
  assert.equal(formatValue(-7), '-7');
  assert.equal(formatValue(1.5), '1.5');
  assert.equal(formatValue(1e21), '1e+21');
  assert.equal(formatValue(2 ** 60), '1.152921504606847e+18');
  assert.equal(formatValue(12n), '12');
  assert.equal(formatValue(true), 'true');
  assert.equal(formatValue(null), '<nil>');
  assert.equal(formatValue(['a', 'b', 'c']), '[a b c]');
  assert.equal(formatValue([]), '[]');
  assert.equal(formatValue([1, null, 'x']), '[1 <nil> x]');
  assert.equal(formatValue({ b: 2, a: 'x', c: [1] }), 'map[a:x b:2 c:[1]]');
  assert.equal(formatValue({ m: { z: 1 } }), 'map[m:map[z:1]]');
  assert.equal(formatValue(NIL_MAP), 'map[]');
  assert.equal(formatValue({}), 'map[]');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(NaN), 'NaN');
});

test('maps leave out methods and undefined entries', () => {
  assert.equal(formatValue({ a: 1, f: () => 1, u: undefined }), 'map[a:1]');
});

test('typeName uses Go type names', () => {
  assert.equal(typeName('s'), 'string');
  assert.equal(typeName(1), 'int');
  assert.equal(typeName(1.5), 'float64');
  assert.equal(typeName(false), 'bool');
  assert.equal(typeName(['a']), '[]string');
  assert.equal(typeName([1]), '[]interface {}');
  assert.equal(typeName({ a: 'x' }), 'map[string]string');
  assert.equal(typeName({ a: 1 }), 'map[string]interface {}');
  assert.equal(typeName(NIL_MAP), 'map[string]string');
  assert.equal(typeName(null), '<nil>');
});

test('sprint adds spaces only between non-string operands', () => {
  assert.equal(sprint(['a', 'b']), 'ab');
  assert.equal(sprint([1, 2]), '1 2');
  assert.equal(sprint(['a', 1, 2, 'b']), 'a1 2b');
  assert.equal(sprint([null, null]), '<nil> <nil>');
  assert.equal(sprintln(['a', 'b', 1]), 'a b 1\n');
  assert.equal(sprintln([]), '\n');
});

test('sprintf basic verbs', () => {
  assert.equal(sprintf('%s=%d', ['x', 5]), 'x=5');
  assert.equal(sprintf('%v %v', [[1, 2], { k: 'v' }]), '[1 2] map[k:v]');
  assert.equal(sprintf('%q', ['a"b']), '"a\\"b"');
  assert.equal(sprintf('%#q', ['ab']), '`ab`');
  assert.equal(sprintf('%q', [['a', 'b']]), '["a" "b"]');
  assert.equal(sprintf('%t', [true]), 'true');
  assert.equal(sprintf('%x %X %o %O %b', [255, 255, 8, 8, 5]), 'ff FF 10 0o10 101');
  assert.equal(sprintf('%#x %#o', [255, 8]), '0xff 010');
  assert.equal(sprintf('%x', ['hi']), '6869');
  assert.equal(sprintf('% x', ['hi']), '68 69');
  assert.equal(sprintf('%c%c', [72, 0x4e16]), 'H世');
  assert.equal(sprintf('%U', [0x41]), 'U+0041');
  assert.equal(sprintf('%#U', [0x41]), "U+0041 'A'");
  assert.equal(sprintf('%T %T', ['s', 1.5]), 'string float64');
  assert.equal(sprintf('100%%', []), '100%');
});

test('sprintf width, precision and flags', () => {
  assert.equal(sprintf('[%5s]', ['ab']), '[   ab]');
  assert.equal(sprintf('[%-5s]', ['ab']), '[ab   ]');
  assert.equal(sprintf('[%.2s]', ['héllo']), '[hé]');
  assert.equal(sprintf('[%5d]', [42]), '[   42]');
  assert.equal(sprintf('[%-5d]', [42]), '[42   ]');
  assert.equal(sprintf('[%05d]', [-42]), '[-0042]');
  assert.equal(sprintf('[%+d]', [42]), '[+42]');
  assert.equal(sprintf('[% d]', [42]), '[ 42]');
  assert.equal(sprintf('[%.3d]', [7]), '[007]');
  assert.equal(sprintf('[%.0d]', [0]), '[]');
  assert.equal(sprintf('[%*d]', [4, 7]), '[   7]');
  assert.equal(sprintf('[%-*d]', [4, 7]), '[7   ]');
  assert.equal(sprintf('[%.*f]', [1, 2.25]), '[2.2]');
  assert.equal(sprintf('[%8.3f]', [3.14159]), '[   3.142]');
  assert.equal(sprintf('[%08.3f]', [-3.14159]), '[-003.142]');
  assert.equal(sprintf('[%+.1e]', [12345.678]), '[+1.2e+04]');
  assert.equal(sprintf('[%g]', [0.000012]), '[1.2e-05]');
  assert.equal(sprintf('[%.4g]', [1234567]), '[1.235e+06]');
  assert.equal(sprintf('[%6.2f]', [Infinity]), '[  +Inf]');
  assert.equal(sprintf('[%f]', [1.5]), '[1.500000]');
});

test('sprintf reports bad verbs, missing and extra arguments like Go', () => {
  assert.equal(sprintf('%d', ['hi']), '%!d(string=hi)');
  assert.equal(sprintf('%d', [1.5]), '%!d(float64=1.5)');
  assert.equal(sprintf('%s', [true]), '%!s(bool=true)');
  assert.equal(sprintf('%s', [null]), '%!s(<nil>)');
  assert.equal(sprintf('%d %d', [1]), '1 %!d(MISSING)');
  assert.equal(sprintf('%d', [1, 'x', null]), '1%!(EXTRA string=x, <nil>)');
  assert.equal(sprintf('%', []), '%!(NOVERB)');
  assert.equal(sprintf('%z', [1]), '%!z(int=1)');
  assert.equal(sprintf('%[2]d %[1]d', [1, 2]), '2 1');
  assert.equal(sprintf('%[3]d', [1]), '%!d(BADINDEX)');
  assert.equal(sprintf('%*d', ['x', 1]), '%!(BADWIDTH)1');
});
