import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NIL_MAP } from '../../src/go/fmt.js';
import { JSONMarshalError, marshalJSON } from '../../src/go/json.js';

test('marshals scalars and containers compactly with sorted keys', () => {
  assert.equal(marshalJSON({ b: 1, a: 'x', c: [true, null, 2.5] }), '{"a":"x","b":1,"c":[true,null,2.5]}');
  assert.equal(marshalJSON([]), '[]');
  assert.equal(marshalJSON({}), '{}');
  assert.equal(marshalJSON(null), 'null');
  assert.equal(marshalJSON(undefined), 'null');
  assert.equal(marshalJSON(NIL_MAP), 'null');
  assert.equal(marshalJSON({ m: NIL_MAP }), '{"m":null}');
  assert.equal(marshalJSON({ skip: undefined, keep: 0 }), '{"keep":0}');
});

test('numbers are encoded like encoding/json floats', () => {
  assert.equal(marshalJSON(1e20), '100000000000000000000');
  assert.equal(marshalJSON(1e21), '1e+21');
  assert.equal(marshalJSON(1e-7), '1e-7');
  assert.equal(marshalJSON(1.5e-10), '1.5e-10');
  assert.equal(marshalJSON(0.000001), '0.000001');
  assert.equal(marshalJSON(123.456), '123.456');
  assert.throws(() => marshalJSON(NaN), JSONMarshalError);
  assert.throws(() => marshalJSON({ x: Infinity }), { message: 'json: unsupported value: +Inf' });
});

test('strings escape like Go, HTML escaping optional', () => {
  assert.equal(marshalJSON('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(marshalJSON('\n\r\t\b\f\x01'), '"\\n\\r\\t\\b\\f\\u0001"');
  assert.equal(marshalJSON('<a&b>'), '"\\u003ca\\u0026b\\u003e"');
  assert.equal(marshalJSON('<a&b>', { escapeHTML: false }), '"<a&b>"');
  assert.equal(marshalJSON('\u2028\u2029', { escapeHTML: false }), '"\\u2028\\u2029"');
  assert.equal(marshalJSON('héllo 😀'), '"héllo 😀"');
  assert.equal(marshalJSON('\ud800'), '"\\ufffd"');
});

test('zero-argument methods are marshalled under their names', () => {
  const ctx = { Name: () => 'v1', Driver: () => 'local', Label: (k: string) => k };
  assert.equal(marshalJSON(ctx), '{"Driver":"local","Name":"v1"}');
  class Ctx {
    constructor(private readonly n: string) {}
    Name(): string {
      return this.n;
    }
  }
  assert.equal(marshalJSON(new Ctx('x')), '{"Name":"x","n":"x"}');
});

test('functions and cycles cannot be marshalled', () => {
  assert.throws(() => marshalJSON(() => 1), { message: 'json: unsupported type: func()' });
  const a: Record<string, unknown> = {};
  a.self = a;
  assert.throws(() => marshalJSON(a), JSONMarshalError);
});
