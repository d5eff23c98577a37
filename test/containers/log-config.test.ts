// HostConfig.LogConfig as dockerd checks it: driver names and option keys
// at create, values at start, and the settings berth keeps the log with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLogConfig, logSettings } from '../../src/containers/log-config.js';

test('create: the default driver, option keys per driver, unknown and unsupported drivers', () => {
  assert.deepEqual(checkLogConfig(undefined), { Type: 'json-file', Config: {} });
  assert.deepEqual(checkLogConfig({ Type: '', Config: { 'max-size': '10m' } }), { Type: 'json-file', Config: { 'max-size': '10m' } });
  assert.deepEqual(checkLogConfig({ Type: 'none', Config: { anything: 'x' } }), { Type: 'none', Config: { anything: 'x' } });
  assert.deepEqual(checkLogConfig({ Type: 'local', Config: { compress: 'false' } }), { Type: 'local', Config: { compress: 'false' } });
  assert.throws(() => checkLogConfig({ Type: 'nope' }), { message: 'error looking up logging plugin nope: plugin "nope" not found' });
  assert.throws(() => checkLogConfig({ Type: 'json-file', Config: { colour: 'red' } }), { message: "unknown log opt 'colour' for json-file log driver" });
  assert.throws(() => checkLogConfig({ Type: 'local', Config: { tag: 'x' } }), { message: "unknown log opt 'tag' for log driver local" });
  assert.throws(() => checkLogConfig({ Type: 'journald' }), /logging driver "journald" is not supported by berth/);
});

test('start: sizes in decimal units, max-file and compress rules, local defaults, none', () => {
  assert.deepEqual(logSettings({ Type: 'json-file', Config: {} }), { kept: true, maxSize: null, maxFile: 1, compress: false });
  assert.deepEqual(logSettings({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3', compress: 'true' } }), { kept: true, maxSize: 10_000_000, maxFile: 3, compress: true });
  assert.deepEqual(logSettings({ Type: 'local', Config: {} }), { kept: true, maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true });
  assert.deepEqual(logSettings({ Type: 'none', Config: {} }), { kept: false, maxSize: null, maxFile: 1, compress: false });
  const fails = (config: Record<string, string>, message: string) =>
    assert.throws(() => logSettings({ Type: 'json-file', Config: config }), { message: `failed to initialize logging driver: ${message}` });
  fails({ 'max-size': 'lots' }, "invalid size: 'lots'");
  fails({ 'max-size': '0' }, 'max-size must be a positive number');
  fails({ 'max-file': 'two' }, 'strconv.Atoi: parsing "two": invalid syntax');
  fails({ 'max-file': '0' }, 'max-file cannot be less than 1');
  fails({ compress: 'maybe' }, 'strconv.ParseBool: parsing "maybe": invalid syntax');
  fails({ 'max-size': '1k', compress: 'true' }, 'compress cannot be true when max-file is less than 2 or max-size is not set');
});
