// The S3 target against s3rver (a local S3 server, started here): the
// conformance suite, then what only S3 has (multipart uploads, keys,
// settings from the environment, a missing bucket, refused credentials, an
// unreachable endpoint).
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Forbidden, InvalidParameter, Unavailable } from '../../../src/errors.js';
import { openS3Target, type S3Target, type S3TargetOptions } from '../../../src/backup/targets/s3.js';
import { openTarget } from '../../../src/backup/targets/open.js';
import { failsWith } from '../../helpers/errors.js';
import { S3RVER_CREDENTIALS, startS3rver, type TestS3 } from '../../helpers/s3rver.js';
import { fileName, generated, listed, targetConformance } from './conformance.js';

const BUCKET = 'berth-test';
const TOP_BUCKET = 'berth-top';
const MiB = 1024 * 1024;

let s3: TestS3 | undefined;
before(async () => {
  s3 = await startS3rver([BUCKET, TOP_BUCKET]);
});
after(async () => {
  await s3?.stop();
});

function endpoint(): string {
  assert.ok(s3, 's3rver is running');
  return s3.endpoint;
}

/** A target on s3rver under a fresh prefix (so it starts empty), closed after the test. */
async function openOnS3rver(t: TestContext, options: Partial<S3TargetOptions> = {}): Promise<S3Target> {
  const target = await openS3Target({
    bucket: BUCKET,
    prefix: `t-${randomBytes(6).toString('hex')}/repo`,
    endpoint: endpoint(),
    ...S3RVER_CREDENTIALS,
    env: {},
    ...options,
  });
  t.after(() => target.destroy());
  return target;
}

/** Counts the SDK commands a target sends, by name, from now on. */
function countCommands(target: S3Target): Map<string, number> {
  const counts = new Map<string, number>();
  target.client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName ?? '?', (counts.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return counts;
}

/**
 * An HTTP proxy in front of s3rver that answers some requests itself with
 * 500 InternalError, which S3 asks clients to retry: those `fails` picks
 * (by the SDK's attempt number, from its amz-sdk-request header). Closed
 * after the test.
 */
async function failingProxy(t: TestContext, fails: (attempt: number) => boolean): Promise<{ endpoint: string; failed: () => number }> {
  const upstream = new URL(endpoint());
  let failed = 0;
  const server = createHttpServer((req, res) => {
    const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request']))?.[1]);
    if (fails(attempt)) {
      failed++;
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>');
      });
      return;
    }
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, failed: () => failed };
}

/** A 127.0.0.1 port nothing listens on: bound, then closed. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Parts of S3's minimum size, and listings two keys a page, so that the
// suite's bodies go up in several parts and its listings turn pages. One
// part at a time keeps what a streamed put holds (the part being sent, the
// next being cut: about 18 MiB) well apart from the 40 MiB body the suite
// checks is never gathered.
targetConformance({
  name: 's3 (s3rver)',
  location: /^s3:berth-test\/t-[0-9a-f]{12}\/repo$/,
  open: (t) => openOnS3rver(t, { partSize: 5 * MiB, partUploads: 1, listPageSize: 2 }),
});

test('s3: bodies above 16 MiB, or streamed past it, go up in 16 MiB parts; smaller ones in one PutObject', { timeout: 120_000 }, async (t) => {
  const target = await openOnS3rver(t);
  const counts = countCommands(target);
  const cases = [
    { body: () => generated(40 * MiB), parts: 3 },
    { body: () => randomBytes(40 * MiB), parts: 3 },
    { body: () => generated(MiB), parts: 0 },
    { body: () => randomBytes(16 * MiB), parts: 0 },
  ];
  for (const { body, parts } of cases) {
    counts.clear();
    const name = fileName('data');
    const given = body();
    await target.put('data', name, given);
    const label = `${Buffer.isBuffer(given) ? 'whole' : 'streamed'} body, ${parts} parts`;
    assert.equal(counts.get('UploadPartCommand') ?? 0, parts, label);
    assert.equal(counts.get('CompleteMultipartUploadCommand') ?? 0, parts > 0 ? 1 : 0, label);
    assert.equal(counts.get('PutObjectCommand') ?? 0, parts > 0 ? 0 : 1, label);
  }
});

test('s3: failed requests are retried by the SDK; a server that keeps failing is reported after the attempts', { timeout: 60_000 }, async (t) => {
  // Every first attempt fails: each request, multipart parts included, succeeds on its retry.
  const flaky = await failingProxy(t, (attempt) => attempt === 1);
  const target = await openOnS3rver(t, { endpoint: flaky.endpoint, partSize: 5 * MiB });
  const hash = createHash('sha256');
  const name = fileName('data');
  await target.put('data', name, generated(12 * MiB, { hash }));
  assert.equal(createHash('sha256').update(await target.get('data', name)).digest('hex'), hash.digest('hex'));
  assert.deepEqual(await listed(target, 'data'), [{ name, size: 12 * MiB }]);
  assert.ok(flaky.failed() >= 7, `${flaky.failed()} requests failed`);

  const refusing = await failingProxy(t, () => true);
  const refused = await openOnS3rver(t, { endpoint: refusing.endpoint, maxAttempts: 2 });
  await assert.rejects(
    refused.get('config', 'config'),
    failsWith(Unavailable, `${refusing.endpoint} answered 500 InternalError: We encountered an internal error. Please try again. (after 2 attempts)`),
  );
  assert.equal(refusing.failed(), 2);
});

// s3rver answers AbortMultipartUpload with 405 (it does not implement it):
// what is tested is that the abort is sent, and the body's error still wins.
test('s3: a multipart upload whose body fails is aborted', { timeout: 60_000 }, async (t) => {
  const target = await openOnS3rver(t, { partSize: 5 * MiB });
  const counts = countCommands(target);
  const failure = new Error('the source broke');
  await assert.rejects(target.put('data', fileName('data'), generated(12 * MiB, { failure })), (e) => e === failure);
  assert.equal(counts.get('CreateMultipartUploadCommand'), 1);
  assert.equal(counts.get('AbortMultipartUploadCommand'), 1);
  assert.equal(counts.get('CompleteMultipartUploadCommand') ?? 0, 0);
});

test('s3: keys are <prefix>/<kind>/<name>, data fanned out; an empty prefix is the bucket\'s top', async (t) => {
  const prefix = `t-${randomBytes(6).toString('hex')}`;
  const data = `ab${'0'.repeat(62)}`;
  const index = fileName('index');
  const keys = async (bucket: string, under: string) => {
    const out = await prefixed.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: under }));
    return (out.Contents ?? []).map((o) => o.Key).sort();
  };
  const prefixed = await openOnS3rver(t, { prefix });
  await prefixed.put('data', data, Buffer.from('d'));
  await prefixed.put('index', index, Buffer.from('i'));
  assert.deepEqual(await keys(BUCKET, `${prefix}/`), [`${prefix}/data/ab/${data}`, `${prefix}/index/${index}`]);

  const top = await openOnS3rver(t, { bucket: TOP_BUCKET, prefix: '' });
  assert.equal(top.location, `s3:${TOP_BUCKET}`);
  await top.put('data', data, Buffer.from('d'));
  await top.put('config', 'config', Buffer.from('c'));
  assert.deepEqual(await keys(TOP_BUCKET, ''), ['config/config', `data/ab/${data}`]);
  assert.deepEqual(await listed(top, 'data'), [{ name: data, size: 1 }]);
});

test('s3: listings turn ListObjectsV2 pages', async (t) => {
  const target = await openOnS3rver(t, { listPageSize: 2 });
  const names = Array.from({ length: 5 }, () => fileName('snapshots'));
  await Promise.all(names.map((name) => target.put('snapshots', name, Buffer.from(name))));
  const counts = countCommands(target);
  assert.deepEqual((await listed(target, 'snapshots')).map((f) => f.name), names.sort());
  assert.equal(counts.get('ListObjectsV2Command'), 3);
});

test('s3: listings skip keys the layout does not put there', async (t) => {
  const target = await openOnS3rver(t);
  const other = await openOnS3rver(t, { prefix: target.location.slice(`s3:${BUCKET}/`.length) + '/data/ab' });
  // `other`'s keys lie under `target`'s data/ab/ but one level too deep.
  await other.put('index', fileName('index'), Buffer.from('nested'));
  const name = `ab${'2'.repeat(62)}`;
  await target.put('data', name, Buffer.from('x'));
  assert.deepEqual(await listed(target, 'data'), [{ name, size: 1 }]);
});

test('s3: a missing bucket is a clear error for every operation', async (t) => {
  const target = await openOnS3rver(t, { bucket: 'no-such-bucket' });
  const operations: [string, () => Promise<unknown>][] = [
    ['get', () => target.get('config', 'config')],
    ['getRange', () => target.getRange('config', 'config', 0, 1)],
    ['put', () => target.put('config', 'config', Buffer.from('c'))],
    ['streamed put', () => target.put('data', fileName('data'), generated(1024))],
    ['stat', () => target.stat('config', 'config')],
    ['delete', () => target.delete('config', 'config')],
    ['list', () => listed(target, 'snapshots')],
  ];
  for (const [what, operation] of operations) {
    await assert.rejects(operation(), failsWith(InvalidParameter, `${target.location}: bucket "no-such-bucket" does not exist at ${endpoint()}`), what);
  }
});

test('s3: credentials the server refuses give a clear 403 message', async (t) => {
  const target = await openOnS3rver(t, { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'whatever' });
  for (const operation of [() => target.put('locks', fileName('locks'), Buffer.from('l')), () => listed(target, 'locks'), () => target.get('config', 'config')]) {
    await assert.rejects(operation(), failsWith(Forbidden, `access denied by ${endpoint()} (403 InvalidAccessKeyId`, 'AWS_ACCESS_KEY_ID'));
  }
});

test('s3: an endpoint that refuses connections fails with a message naming it, after the configured attempts', { timeout: 30_000 }, async (t) => {
  const port = await refusingPort();
  const unreachable = `http://127.0.0.1:${port}`;
  // Two attempts: the SDK's retry runs once, without the default's longer backoff.
  const target = await openOnS3rver(t, { endpoint: unreachable, maxAttempts: 2 });
  for (const operation of [() => target.get('config', 'config'), () => target.put('data', fileName('data'), generated(1024)), () => listed(target, 'index')]) {
    await assert.rejects(operation(), failsWith(Unavailable, `cannot reach the S3 endpoint ${unreachable} (after 2 attempts)`, 'ECONNREFUSED'));
  }
});

test('s3: openTarget takes the endpoint, region and credentials from the environment, secrets also from _FILE', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-s3-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'access-key-id');
  const secretFile = join(dir, 'secret-access-key');
  writeFileSync(keyFile, `${S3RVER_CREDENTIALS.accessKeyId}\n`);
  writeFileSync(secretFile, S3RVER_CREDENTIALS.secretAccessKey);
  const env = { AWS_ENDPOINT_URL: endpoint(), AWS_REGION: 'eu-west-3', AWS_ACCESS_KEY_ID_FILE: keyFile, AWS_SECRET_ACCESS_KEY_FILE: secretFile };
  const prefix = `t-${randomBytes(6).toString('hex')}`;
  const target = await openTarget(`s3://${BUCKET}/${prefix}`, { env });
  t.after(() => (target as S3Target).destroy());
  assert.equal(target.location, `s3:${BUCKET}/${prefix}`);
  await target.put('keys', 'k1', Buffer.from('key'));
  assert.equal((await target.get('keys', 'k1')).toString(), 'key');

  // The key id really comes from the file: a wrong one there is refused.
  writeFileSync(keyFile, 'NOT-A-KEY\n');
  const refused = await openTarget(`s3:${BUCKET}/${prefix}`, { env });
  t.after(() => (refused as S3Target).destroy());
  await assert.rejects(refused.get('keys', 'k1'), Forbidden);

  // An endpoint in the repository wins over the environment's.
  const spelled = await openTarget(`s3:${endpoint()}/${BUCKET}/${prefix}`, { env: { ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ACCESS_KEY_ID_FILE: '', AWS_ACCESS_KEY_ID: 'S3RVER' } });
  t.after(() => (spelled as S3Target).destroy());
  assert.equal((await spelled.get('keys', 'k1')).toString(), 'key');
});

test('s3: with an endpoint the client addresses buckets by path, in the region given', async (t) => {
  const target = await openOnS3rver(t, { region: 'eu-central-1' });
  assert.equal(await target.client.config.region(), 'eu-central-1');
  assert.equal(target.client.config.forcePathStyle, true);
});
