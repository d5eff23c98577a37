// --repo spellings and how they are refused (src/backup/targets/open.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidParameter } from '../../../src/errors.js';
import { failsWith } from '../../helpers/errors.js';
import { openTarget, parseRepository, type RepositoryAddress } from '../../../src/backup/targets/open.js';
import { LocalTarget } from '../../../src/backup/targets/local.js';
import { S3Target } from '../../../src/backup/targets/s3.js';

test('repository spellings parse to a local path or an S3 bucket, prefix and endpoint', () => {
  const cases: [string, RepositoryAddress][] = [
    ['/srv/backups', { type: 'local', path: '/srv/backups' }],
    ['/srv/backups/', { type: 'local', path: '/srv/backups' }],
    ['/srv/../srv/a:b', { type: 'local', path: '/srv/a:b' }],
    ['local:/srv/backups', { type: 'local', path: '/srv/backups' }],
    ['s3://bucket', { type: 's3', bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { type: 's3', bucket: 'bucket', prefix: '' }],
    ['s3://bucket/host-1/volumes/', { type: 's3', bucket: 'bucket', prefix: 'host-1/volumes' }],
    ['s3:bucket/prefix', { type: 's3', bucket: 'bucket', prefix: 'prefix' }],
    ['s3:my.bucket_2', { type: 's3', bucket: 'my.bucket_2', prefix: '' }],
    ['s3:https://minio.lan:9000/bucket/a/b', { type: 's3', bucket: 'bucket', prefix: 'a/b', endpoint: 'https://minio.lan:9000' }],
    ['s3:http://127.0.0.1:9000/bucket', { type: 's3', bucket: 'bucket', prefix: '', endpoint: 'http://127.0.0.1:9000' }],
    ['s3:https://s3.eu-west-3.amazonaws.com/bucket/with%20space', { type: 's3', bucket: 'bucket', prefix: 'with space', endpoint: 'https://s3.eu-west-3.amazonaws.com' }],
  ];
  for (const [repo, expected] of cases) assert.deepEqual(parseRepository(repo), expected, repo);
});

test('a location a target reports parses back to the same repository', () => {
  assert.deepEqual(parseRepository(new LocalTarget('/srv/backups').location), { type: 'local', path: '/srv/backups' });
  assert.deepEqual(parseRepository('s3:bucket/a/b'), parseRepository('s3://bucket/a/b'));
});

test('a relative path is refused unless the caller gives a working directory', () => {
  for (const repo of ['backups', './backups', '../backups', 'local:backups', '~/backups']) {
    assert.throws(() => parseRepository(repo), failsWith(InvalidParameter, 'is relative: give an absolute path (the daemon has no working directory'), repo);
  }
  assert.deepEqual(parseRepository('backups', '/home/me'), { type: 'local', path: '/home/me/backups' });
  assert.deepEqual(parseRepository('../b', '/home/me'), { type: 'local', path: '/home/b' });
  assert.deepEqual(parseRepository('./a:b', '/home/me'), { type: 'local', path: '/home/me/a:b' });
});

test('invalid repositories are refused with a message saying what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['', /^no repository given \(expected PATH, s3:\/\/bucket\/prefix/],
    ['   ', /^no repository given/],
    ['local:', /no path/],
    ['ftp://host/x', /unsupported scheme "ftp:"/],
    ['sftp:user@host:/srv', /unsupported scheme "sftp:"/],
    ['a:b', /unsupported scheme "a:".*starts with "\.\/"/],
    ['s3://', /no bucket/],
    ['s3:', /no bucket/],
    ['s3:/prefix-only/', /no bucket/],
    ['s3:///bucket', /no bucket/],
    ['s3://ab', /bucket name "ab": 3 to 63/],
    ['s3://bucket!/x', /bucket name "bucket!"/],
    [`s3://${'b'.repeat(64)}`, /bucket name/],
    ['s3://-bucket', /bucket name "-bucket"/],
    ['s3://bucket/a//b', /empty, "\." or "\.\." segment/],
    ['s3://bucket/a/../b', /empty, "\." or "\.\." segment/],
    ['s3://bucket/x?region=eu', /a query or fragment is not allowed/],
    ['s3://key:secret@bucket/x', /credentials do not belong in the repository/],
    ['s3:https://key:secret@host/bucket', /credentials do not belong in the URL/],
    ['s3:https://host/bucket?x=1', /a query or fragment is not allowed/],
    ['s3:https://host', /no bucket/],
    ['s3:https://host/bucket/%zz', /malformed %-escape/],
    ['s3:http://', /not a URL/],
  ];
  for (const [repo, message] of cases) {
    assert.throws(() => parseRepository(repo), failsWith(InvalidParameter, message), repo);
  }
});

test('openTarget opens the target the repository names', async () => {
  const local = await openTarget('backups', { cwd: '/srv' });
  assert.ok(local instanceof LocalTarget);
  assert.equal(local.location, 'local:/srv/backups');
  const s3 = await openTarget('s3://bucket/p', { env: { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });
  assert.ok(s3 instanceof S3Target);
  assert.equal(s3.location, 's3:bucket/p');
  s3.destroy();
});

test('openTarget refuses two different endpoints, in the repository and in the settings', async () => {
  await assert.rejects(
    openTarget('s3:https://one.example/bucket', { s3: { endpoint: 'https://two.example' } }),
    /names the endpoint https:\/\/one\.example and the S3 endpoint setting says https:\/\/two\.example/,
  );
  const same = await openTarget('s3:https://one.example/bucket', { s3: { endpoint: 'https://one.example/' }, env: {} });
  assert.equal(same.location, 's3:bucket');
  (same as S3Target).destroy();
});
