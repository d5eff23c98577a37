// Pure helpers of the runtime process layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrlfNormalizer, signalName, signalNumber } from '../../../src/containers/runtime/process-io.js';

test('CrlfNormalizer: bare LF becomes CRLF, CRLF stays, state carries across chunks', () => {
  const n = new CrlfNormalizer();
  const run = (...chunks: string[]) => chunks.map((c) => n.push(Buffer.from(c, 'latin1')).toString('latin1')).join('');
  assert.equal(run('a\nb\r\nc'), 'a\r\nb\r\nc');
  assert.equal(run('x\r', '\ny\n'), 'x\r\ny\r\n');
  assert.equal(run('\n\n'), '\r\n\r\n');
  assert.equal(run('\r', ''), '\r');
  assert.equal(run('\n'), '\n', 'the empty chunk kept the CR state');
  assert.equal(run('\r\r\n'), '\r\r\n');
  const same = Buffer.from('no newline');
  assert.equal(new CrlfNormalizer().push(same), same, 'no copy when nothing changes');
});

test('signal names and numbers', () => {
  assert.equal(signalNumber('KILL'), 9);
  assert.equal(signalNumber('SIGTERM'), 15);
  assert.equal(signalNumber('sigusr1'), 10);
  assert.equal(signalNumber('2'), 2);
  assert.equal(signalNumber(19), 19);
  assert.equal(signalName(9), 'SIGKILL');
  assert.equal(signalName(1000), undefined);
  assert.throws(() => signalNumber('NOPE'));
});
