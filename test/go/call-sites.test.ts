// The core's messages that quote or parse like Go go through src/go, so they
// match dockerd for every input, control characters and odd sizes included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidParameter } from '../../src/errors.js';
import { localVolumeNameError, validateLocalName } from '../../src/volumes/names.js';
import { LocalDriver } from '../../src/volumes/drivers/local.js';

const TAIL = ' includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path';

test('volume names are quoted with strconv.Quote at the API and in -v', () => {
  // JSON.stringify would give \u0001 and leave DEL and U+200B unescaped; Go does not.
  const cases: Array<[string, string]> = [
    ['ab\x01', '"ab\\x01"'],
    ['ab\x7f', '"ab\\x7f"'],
    ['ab\u200b', '"ab\\u200b"'],
    ['a b\tc', '"a b\\tc"'],
    ['aé!', '"aé!"'],
  ];
  for (const [name, quoted] of cases) {
    assert.throws(() => validateLocalName(name), (e: Error) => e instanceof InvalidParameter && e.message === quoted + TAIL, name);
    assert.equal(localVolumeNameError(name), quoted + TAIL, name);
  }
});

test('the local driver parses size with go-units RAMInBytes and maps its error to a 400', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-go-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const driver = new LocalDriver(root);
  const cases: Array<[string, string]> = [
    ['abc', "invalid size: 'abc'"],
    ['1.5.5g', 'strconv.ParseFloat: parsing "1.5.5": invalid syntax'],
    ['10x', "invalid suffix: 'x'"],
    ['10m', 'quota size requested but no quota support'],
  ];
  for (const [size, message] of cases) {
    assert.throws(() => driver.validateOptions({ size }), (e: Error) => e instanceof InvalidParameter && e.message === message, size);
  }
  assert.doesNotThrow(() => driver.validateOptions({ size: '0' }));
});
