import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conflict, NotFound, SystemError, VolumeInUse, withContext } from '../src/errors.js';

test('withContext prefixes the message and keeps class, kind, fields and the original as cause', () => {
  const original = new VolumeInUse('v', ['c1', 'c2']);
  const wrapped = withContext(original, 'prune');
  assert.ok(wrapped instanceof VolumeInUse);
  assert.ok(wrapped instanceof Conflict);
  assert.notEqual(wrapped, original);
  assert.equal(wrapped.kind, 'conflict');
  assert.equal(wrapped.name, 'VolumeInUse');
  assert.equal(wrapped.message, 'prune: remove v: volume is in use - [c1, c2]');
  assert.deepEqual((wrapped as VolumeInUse).refs, ['c1', 'c2']);
  assert.equal(wrapped.cause, original);
  assert.equal(original.message, 'remove v: volume is in use - [c1, c2]', 'the original is left as it was');
  assert.match(wrapped.stack ?? '', /^VolumeInUse: prune: remove v/);
});

test('withContext keeps simple classes and turns anything else into a SystemError', () => {
  const nf = withContext(new NotFound('no such volume'), 'get v');
  assert.ok(nf instanceof NotFound);
  assert.equal(nf.message, 'get v: no such volume');
  const io = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
  const sys = withContext(io, 'create v');
  assert.ok(sys instanceof SystemError);
  assert.equal(sys.message, 'create v: EIO: i/o error');
  assert.equal(sys.cause, io);
  assert.equal(withContext('text thrown', 'x').message, 'x: text thrown');
});
