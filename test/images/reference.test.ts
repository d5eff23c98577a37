import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeTagRef, parseReference, familiarName } from '../../src/images/reference.js';

test('references normalise to docker\'s familiar name:tag', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'busybox:latest'],
    ['busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'busybox:latest'],
    ['docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox', 'busybox:latest'],
    ['docker.io/foo/bar:v1', 'foo/bar:v1'],
    ['foo/bar', 'foo/bar:latest'],
    ['localhost/x', 'localhost/x:latest'],
    ['localhost:5000/x/y:t', 'localhost:5000/x/y:t'],
    ['registry.example.com/a/b', 'registry.example.com/a/b:latest'],
    ['foo/a_b.c-d__e---f:T.a-g_1', 'foo/a_b.c-d__e---f:T.a-g_1'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeTagRef(input), want, input);
  const ref = parseReference('docker.io/library/busybox:1');
  assert.deepEqual(ref, { domain: 'docker.io', path: 'library/busybox', tag: '1' });
  assert.equal(familiarName(ref), 'busybox');
});

test('invalid references are refused with docker\'s messages', () => {
  assert.throws(() => normalizeTagRef('Busybox'), { name: 'InvalidParameter', message: 'invalid reference format: repository name (Busybox) must be lowercase' });
  for (const bad of ['', ':tag', 'a:', 'a:-bad', 'a//b', 'a/', '-a', 'a:' + 'x'.repeat(129), 'a b']) {
    assert.throws(() => normalizeTagRef(bad), { name: 'InvalidParameter' }, JSON.stringify(bad));
  }
  assert.throws(() => normalizeTagRef('a@sha256:' + 'a'.repeat(64)), { message: 'refusing to create a tag with a digest reference' });
  assert.throws(() => normalizeTagRef('a'.repeat(64)), { message: /cannot specify 64-byte hexadecimal strings/ });
});
