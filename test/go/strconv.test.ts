import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareGoStrings, formatFloat, parseBool, parseGoFloat, parseGoInt, quote, quoteRune, unquote, unquoteCharLiteral, utf8Length,
} from '../../src/go/strconv.js';

test('formatFloat shortest %g switches to exponent form like Go', () => {
  assert.equal(formatFloat(123456, 'g', -1), '123456');
  assert.equal(formatFloat(1e6, 'g', -1), '1e+06');
  assert.equal(formatFloat(1234567, 'g', -1), '1.234567e+06');
  assert.equal(formatFloat(0.0001, 'g', -1), '0.0001');
  assert.equal(formatFloat(0.00001, 'g', -1), '1e-05');
  assert.equal(formatFloat(0.1 + 0.2, 'g', -1), '0.30000000000000004');
  assert.equal(formatFloat(5e-324, 'g', -1), '5e-324');
  assert.equal(formatFloat(1e100, 'g', -1), '1e+100');
  assert.equal(formatFloat(-0, 'g', -1), '-0');
  assert.equal(formatFloat(0, 'g', -1), '0');
});

test('formatFloat with precision', () => {
  assert.equal(formatFloat(1.5, 'g', 4), '1.5');
  assert.equal(formatFloat(102.4, 'g', 4), '102.4');
  assert.equal(formatFloat(1.234567, 'g', 4), '1.235');
  assert.equal(formatFloat(999.95, 'g', 4), '1000');
  assert.equal(formatFloat(10000, 'g', 4), '1e+04');
  assert.equal(formatFloat(0.0001234, 'g', 3), '0.000123');
  assert.equal(formatFloat(0, 'g', 4), '0');
  assert.equal(formatFloat(100, 'e', 2), '1.00e+02');
  assert.equal(formatFloat(0, 'e', 3), '0.000e+00');
  assert.equal(formatFloat(123.456, 'e', -1), '1.23456e+02');
  assert.equal(formatFloat(3.14159, 'f', 2), '3.14');
  assert.equal(formatFloat(0.009, 'f', 2), '0.01');
  assert.equal(formatFloat(0.0009, 'f', 2), '0.00');
  assert.equal(formatFloat(1e21, 'f', -1), '1000000000000000000000');
  assert.equal(formatFloat(-2.5, 'E', 1), '-2.5E+00');
});

test('formatFloat rounds exact ties to even, as Go does (unlike toFixed)', () => {
  assert.equal(formatFloat(2.5, 'f', 0), '2');
  assert.equal(formatFloat(3.5, 'f', 0), '4');
  assert.equal(formatFloat(0.125, 'f', 2), '0.12');
  assert.equal(formatFloat(0.375, 'f', 2), '0.38');
  assert.equal(formatFloat(12.125, 'g', 4), '12.12');
  // 1.005 is really 1.00499999999999989..., so it rounds down.
  assert.equal(formatFloat(1.005, 'f', 2), '1.00');
});

test('formatFloat special values', () => {
  assert.equal(formatFloat(Infinity, 'g', -1), '+Inf');
  assert.equal(formatFloat(-Infinity, 'f', 2), '-Inf');
  assert.equal(formatFloat(NaN, 'e', 2), 'NaN');
});

test('parseGoFloat accepts Go float syntax only', () => {
  assert.equal(parseGoFloat('1.5'), 1.5);
  assert.equal(parseGoFloat('.5'), 0.5);
  assert.equal(parseGoFloat('1.'), 1);
  assert.equal(parseGoFloat('-1e3'), -1000);
  assert.equal(parseGoFloat('1_000'), 1000);
  assert.equal(parseGoFloat('0x1p4'), 16);
  assert.equal(parseGoFloat('0x1.8p1'), 3);
  assert.equal(parseGoFloat('Inf'), Infinity);
  assert.ok(Number.isNaN(parseGoFloat('nan')));
  assert.throws(() => parseGoFloat(''), { message: 'strconv.ParseFloat: parsing "": invalid syntax' });
  assert.throws(() => parseGoFloat('1.2.3'), { message: 'strconv.ParseFloat: parsing "1.2.3": invalid syntax' });
  assert.throws(() => parseGoFloat('1__0'), /invalid syntax/);
  assert.throws(() => parseGoFloat('0x10'), /invalid syntax/);
  assert.throws(() => parseGoFloat('1e999'), { message: 'strconv.ParseFloat: parsing "1e999": value out of range' });
});

test('parseGoInt handles base prefixes like ParseInt(s, 0, 64)', () => {
  assert.equal(parseGoInt('42'), 42n);
  assert.equal(parseGoInt('-0x1F'), -31n);
  assert.equal(parseGoInt('017'), 15n);
  assert.equal(parseGoInt('0o17'), 15n);
  assert.equal(parseGoInt('0b101'), 5n);
  assert.equal(parseGoInt('1_000'), 1000n);
  assert.equal(parseGoInt('0'), 0n);
  assert.throws(() => parseGoInt('09'), /invalid syntax/);
  assert.throws(() => parseGoInt('1.5'), /invalid syntax/);
  assert.throws(() => parseGoInt('9223372036854775808'), /value out of range/);
});

test('quote and quoteRune escape like strconv', () => {
  assert.equal(quote('hi'), '"hi"');
  assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quote('tab\there\n'), '"tab\\there\\n"');
  assert.equal(quote('\x00\x7f'), '"\\x00\\x7f"');
  assert.equal(quote('héllo 世界'), '"héllo 世界"');
  assert.equal(quote('\u00a0'), '"\\u00a0"');
  assert.equal(quote('é', true), '"\\u00e9"');
  assert.equal(quoteRune(97), "'a'");
  assert.equal(quoteRune(39), "'\\''");
  assert.equal(quoteRune(10), "'\\n'");
});

test('unquote decodes Go string and character literals', () => {
  assert.equal(unquote('"a\\tb\\n"'), 'a\tb\n');
  assert.equal(unquote('"\\x41\\u00e9\\U0001F600\\101"'), 'Aé😀A');
  assert.equal(unquote('`raw\\n`'), 'raw\\n');
  assert.equal(unquote('`a\rb`'), 'ab');
  assert.throws(() => unquote('"\\q"'), /invalid syntax/);
  assert.throws(() => unquote('"\\\'"'), /invalid syntax/);
  assert.equal(unquoteCharLiteral("'a'"), 97);
  assert.equal(unquoteCharLiteral("'\\n'"), 10);
  assert.equal(unquoteCharLiteral("'世'"), 0x4e16);
  assert.throws(() => unquoteCharLiteral("'ab'"), /malformed character constant/);
});

test('utf8Length and Go string ordering', () => {
  assert.equal(utf8Length('héllo'), 6);
  assert.equal(utf8Length('😀'), 4);
  assert.ok(compareGoStrings('a', 'b') < 0);
  assert.ok(compareGoStrings('B', 'a') < 0);
  assert.ok(compareGoStrings('ab', 'a') > 0);
  // UTF-8 byte order puts U+FFFD before U+1F600, unlike UTF-16 code units.
  assert.ok(compareGoStrings('\uFFFD', '😀') < 0);
  assert.equal(compareGoStrings('x', 'x'), 0);
});

test('parseBool accepts exactly strconv.ParseBool\'s spellings', () => {
  for (const s of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseBool(s), true, s);
  for (const s of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseBool(s), false, s);
  for (const s of ['', 'yes', 'tRUE', ' true', '2']) assert.equal(parseBool(s), undefined, s);
});
