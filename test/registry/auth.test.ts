// Credentials and challenges: X-Registry-Auth as the docker CLI encodes it,
// config.json's "auth" field, and WWW-Authenticate parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authConfigFrom, decodeAuthHeader, encodeAuthHeader, hasCredentials, parseChallenges, repositoryScope } from '../../src/registry/auth.js';

test('X-Registry-Auth: base64url JSON both ways; standard base64 and garbage are read as dockerd reads them', () => {
  const auth = { username: 'u', password: 'p>?~', serveraddress: '127.0.0.1:5000' };
  const header = encodeAuthHeader(auth);
  assert.doesNotMatch(header, /[+/]/, 'URL-safe alphabet');
  assert.deepEqual(decodeAuthHeader(header), auth);
  assert.deepEqual(decodeAuthHeader(Buffer.from(JSON.stringify(auth)).toString('base64')), auth);
  assert.deepEqual(decodeAuthHeader('e30='), {});
  assert.deepEqual(decodeAuthHeader('not base64 json'), {});
  assert.deepEqual(decodeAuthHeader(undefined), {});
  assert.deepEqual(decodeAuthHeader(Buffer.from('[1,2]').toString('base64')), {});
});

test('config.json\'s "auth" gives the username and password when they are not set', () => {
  assert.deepEqual(authConfigFrom({ auth: Buffer.from('me:pa:ss').toString('base64') }), { auth: Buffer.from('me:pa:ss').toString('base64'), username: 'me', password: 'pa:ss' });
  assert.deepEqual(authConfigFrom({ username: 'x', password: 'y', auth: Buffer.from('me:p').toString('base64') }).username, 'x');
  assert.equal(hasCredentials({ username: 'x' }), false);
  assert.equal(hasCredentials({ username: 'x', password: '' }), true);
  assert.equal(hasCredentials({ identitytoken: 't' }), true);
  assert.deepEqual(authConfigFrom({ username: 3, password: null }), {});
});

test('WWW-Authenticate: schemes, quoted parameters with commas and escapes, several challenges', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="berth test"'), [{ scheme: 'basic', params: { realm: 'berth test' } }]);
  assert.deepEqual(parseChallenges(['Basic realm=x', 'Bearer realm="a\\"b", error=insufficient_scope']), [
    { scheme: 'basic', params: { realm: 'x' } },
    { scheme: 'bearer', params: { realm: 'a"b', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
  assert.equal(repositoryScope('library/busybox', ['pull', 'push']), 'repository:library/busybox:pull,push');
});
