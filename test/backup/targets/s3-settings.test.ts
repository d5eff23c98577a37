// Where an S3 target's endpoint, region and credentials come from (src/backup/targets/s3-settings.ts).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidParameter } from '../../../src/errors.js';
import { failsWith } from '../../helpers/errors.js';
import { checkEndpoint, resolveS3Settings } from '../../../src/backup/targets/s3-settings.js';

function secretFile(t: TestContext, contents: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-s3-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'secret');
  writeFileSync(file, contents);
  return file;
}

test('explicit settings win over the environment', async () => {
  const env = { AWS_ENDPOINT_URL: 'http://env:9000', AWS_REGION: 'env-region', AWS_ACCESS_KEY_ID: 'env-id', AWS_SECRET_ACCESS_KEY: 'env-secret' };
  assert.deepEqual(await resolveS3Settings({ endpoint: 'https://flag/', region: 'flag-region', accessKeyId: 'id', secretAccessKey: 'secret' }, env), {
    endpoint: 'https://flag',
    region: 'flag-region',
    credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
  });
});

test('the environment as the AWS SDK reads it: AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL, AWS_REGION, a session token', async () => {
  const env = {
    AWS_ENDPOINT_URL: 'http://general:1',
    AWS_ENDPOINT_URL_S3: 'http://s3-only:2',
    AWS_REGION: 'eu-north-1',
    AWS_ACCESS_KEY_ID: 'id',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: 'token',
  };
  assert.deepEqual(await resolveS3Settings({}, env), {
    endpoint: 'http://s3-only:2',
    region: 'eu-north-1',
    credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' },
  });
});

test('nothing set: AWS, us-east-1, and the SDK\'s own credential chain', async () => {
  assert.deepEqual(await resolveS3Settings({}, {}), { endpoint: undefined, region: 'us-east-1', credentials: undefined });
  assert.equal((await resolveS3Settings({}, { AWS_DEFAULT_REGION: 'ap-south-1' })).region, 'ap-south-1');
});

test('_FILE variants read the secret from a file, without its trailing newline', async (t) => {
  const env = { AWS_ACCESS_KEY_ID_FILE: secretFile(t, 'id-from-file\n'), AWS_SECRET_ACCESS_KEY_FILE: secretFile(t, 'secret from file\r\n') };
  assert.deepEqual((await resolveS3Settings({}, env)).credentials, { accessKeyId: 'id-from-file', secretAccessKey: 'secret from file' });
});

test('contradictory or incomplete credentials are refused, naming the variables', async (t) => {
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [{ AWS_ACCESS_KEY_ID: 'a', AWS_ACCESS_KEY_ID_FILE: secretFile(t, 'b'), AWS_SECRET_ACCESS_KEY: 's' }, /both AWS_ACCESS_KEY_ID and AWS_ACCESS_KEY_ID_FILE are set/],
    [{ AWS_ACCESS_KEY_ID: 'a' }, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.*needs its secret access key/],
    [{ AWS_SECRET_ACCESS_KEY_FILE: secretFile(t, 's') }, /needs its secret access key, and the other way round/],
    [{ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY_FILE: '/nonexistent/secret' }, /AWS_SECRET_ACCESS_KEY_FILE: cannot read \/nonexistent\/secret: ENOENT/],
    [{ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY_FILE: secretFile(t, '\n') }, /AWS_SECRET_ACCESS_KEY_FILE: .* is empty/],
    [{ AWS_ENDPOINT_URL: 'minio:9000' }, /invalid S3 endpoint "minio:9000": the scheme must be http or https/],
  ];
  for (const [env, message] of cases) {
    await assert.rejects(resolveS3Settings({}, env), failsWith(InvalidParameter, message), JSON.stringify(env));
  }
  await assert.rejects(resolveS3Settings({ accessKeyId: 'only-the-id' }, {}), /S3 credentials: an S3 access key id needs its secret access key/);
});

test('endpoints must be http or https URLs without credentials, query or fragment', () => {
  assert.equal(checkEndpoint('https://minio.lan:9000/'), 'https://minio.lan:9000');
  for (const [endpoint, message] of [
    ['not a url', /not a URL/],
    ['ftp://host', /the scheme must be http or https/],
    ['https://user:pw@host', /credentials do not belong in the URL/],
    ['https://host/?x=1', /a query or fragment is not allowed/],
  ] as const) {
    assert.throws(() => checkEndpoint(endpoint), message, endpoint);
  }
});
