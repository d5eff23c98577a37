// Pulls from a real registry (Debian's docker-registry on 127.0.0.1, plain
// HTTP: loopback is insecure by default, as for dockerd) through the docker
// CLI and the berth CLI against berthd: schema 2 and OCI/zstd images, a
// multi-platform index, pull by digest, `docker run` of a missing image, a
// Docker Hub name through a registry mirror, and the failures: an unknown
// image, a corrupted blob, a download cut short (resumed with Range) and a
// registry killed mid-pull (nothing stored; a later pull works).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { berth, docker, dockerOk, run, DOCKER, type RunResult } from '../helpers/run.js';
import { busyboxImage, fetchManifest, registryBlobFile, registryRequest, saveArchiveFile, skopeoPush, startProxy, startRegistry, type RegistryProxy, type TestRegistry } from '../helpers/registry.js';
import { imageStoreFiles } from '../helpers/image-store.js';
import { cleanups } from '../helpers/cleanups.js';

const scope = cleanups();
let d: TestDaemon & { cleanup: () => Promise<void> };
let reg: TestRegistry;
let proxy: RegistryProxy;
let work: string;
const dk = (...args: string[]): Promise<RunResult> => docker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);

const SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-pull-'));
  reg = await startRegistry(scope);
  proxy = await startProxy(scope, reg.port);
  // The registry doubles as a Docker Hub mirror: docker.io/library/busybox resolves to it.
  d = await startDaemon(undefined, ['--registry-mirror', `http://${reg.host}`, '--max-download-attempts', '2']);
  const push = async (ref: string, marker: string, opts: Parameters<typeof skopeoPush>[3] = {}, extra: Record<string, unknown> = {}): Promise<void> => {
    await skopeoPush(reg, saveArchiveFile([busyboxImage('x:1', extra, marker)], work), ref, opts);
  };
  await push('busybox:latest', 'busybox\n');
  await push('library/busybox:latest', 'via the mirror\n');
  await push('oci/zstd:1', 'zstd layer\n', { format: 'oci', compress: 'zstd' });
  await push('corrupt:1', 'to be corrupted\n');
  await push('resume:1', 'resumed\n');
  await push('killed:1', 'killed mid-pull\n');
  await push('multi:amd64', 'amd64\n');
  await push('multi:arm64', 'arm64\n', {}, { Labels: { arch: 'arm64' } });
});

after(async () => {
  await d?.cleanup();
  await scope.run();
  rmSync(work, { recursive: true, force: true });
});

/** Layer ids are the first 12 hex digits of the layer's blob digest. */
async function layerIds(repo: string, tag: string): Promise<string[]> {
  const m = await fetchManifest(reg, repo, tag, SCHEMA2);
  return m.json.layers!.map((l) => l.digest.slice(7, 19));
}

test('docker pull prints moby messages, records the digest, and the image runs', async () => {
  const [layer] = await layerIds('busybox', 'latest');
  const { digest } = await fetchManifest(reg, 'busybox', 'latest', SCHEMA2);
  const r = await dk('pull', `${reg.host}/busybox`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      'Using default tag: latest',
      'latest: Pulling from busybox',
      `${layer}: Pulling fs layer`,
      `${layer}: Verifying Checksum`,
      `${layer}: Download complete`,
      `${layer}: Pull complete`,
      `Digest: ${digest}`,
      `Status: Downloaded newer image for ${reg.host}/busybox:latest`,
      `${reg.host}/busybox:latest`,
      '',
    ].join('\n'),
  );
  assert.match(await ok('images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}', `${reg.host}/busybox`), new RegExp(`^${reg.host}/busybox latest ${digest}\n$`));
  assert.equal(await ok('run', '--rm', `${reg.host}/busybox`, 'cat', '/etc/registry-marker'), 'busybox\n');
  const again = await dk('pull', `${reg.host}/busybox:latest`);
  assert.equal(again.stdout, `latest: Pulling from busybox\nDigest: ${digest}\nStatus: Image is up to date for ${reg.host}/busybox:latest\n${reg.host}/busybox:latest\n`);
});

test('berth pull prints what docker pull prints', async () => {
  await ok('rmi', `${reg.host}/busybox`);
  const viaBerth = await berth(d.env, 'pull', `${reg.host}/busybox`);
  assert.equal(viaBerth.code, 0, viaBerth.stderr);
  await ok('rmi', `${reg.host}/busybox`);
  const viaDocker = await dk('pull', `${reg.host}/busybox`);
  assert.equal(viaBerth.stdout, viaDocker.stdout);
});

test('docker run of a missing image pulls it first', async () => {
  const r = await dk('run', '--rm', `${reg.host}/resume:1`, 'cat', '/etc/registry-marker');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'resumed\n');
  assert.match(r.stderr, new RegExp(`^Unable to find image '${reg.host}/resume:1' locally\n1: Pulling from resume\n`));
  assert.match(r.stderr, /Status: Downloaded newer image for /);
  await ok('rmi', `${reg.host}/resume:1`);
  const viaBerth = await berth(d.env, 'run', '--rm', `${reg.host}/resume:1`, 'cat', '/etc/registry-marker');
  assert.equal(viaBerth.code, 0, viaBerth.stderr);
  assert.equal(viaBerth.stdout, 'resumed\n');
  assert.equal(viaBerth.stderr, r.stderr, 'berth run pulls with the same lines as docker run');
  await ok('rmi', `${reg.host}/resume:1`);
});

test('an OCI image with zstd layers: pulled, stored as it came, run', async () => {
  const m = await fetchManifest(reg, 'oci/zstd', '1', OCI_MANIFEST);
  assert.equal(m.json.layers![0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
  const r = await berth(d.env, 'pull', `${reg.host}/oci/zstd:1`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1: Pulling from oci\/zstd\n/);
  assert.ok(imageStoreFiles(d.dataRoot).blobs.includes(m.json.layers![0]!.digest.slice(7)), 'the zstd blob is kept by its digest');
  assert.equal((await berth(d.env, 'run', '--rm', `${reg.host}/oci/zstd:1`, 'cat', '/etc/registry-marker')).stdout, 'zstd layer\n');
});

test('pull by digest: the image is known by its digest only', async () => {
  const { digest } = await fetchManifest(reg, 'busybox', 'latest', SCHEMA2);
  await dk('rmi', `${reg.host}/busybox`);
  const r = await dk('pull', `${reg.host}/busybox@${digest}`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${digest}: Pulling from busybox\n`));
  assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/busybox@${digest}\n${reg.host}/busybox@${digest}\n$`));
  assert.equal(await ok('images', '--digests', '--format', '{{.Tag}} {{.Digest}}', `${reg.host}/busybox`), `<none> ${digest}\n`);
  assert.equal(await ok('run', '--rm', `${reg.host}/busybox@${digest}`, 'cat', '/etc/registry-marker'), 'busybox\n');
  const wrong = await dk('pull', `${reg.host}/busybox@sha256:${'0'.repeat(64)}`);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /Error response from daemon: manifest for .*busybox@sha256:0{64} not found: manifest unknown/);
});

test('a multi-platform index resolves to linux/amd64, or to --platform', async () => {
  const amd = await fetchManifest(reg, 'multi', 'amd64', SCHEMA2);
  const arm = await fetchManifest(reg, 'multi', 'arm64', SCHEMA2);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      manifests: [
        { mediaType: SCHEMA2, digest: arm.digest, size: arm.body.length, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        { mediaType: SCHEMA2, digest: amd.digest, size: amd.body.length, platform: { architecture: 'amd64', os: 'linux' } },
      ],
    }),
  );
  const put = await registryRequest(reg, 'PUT', '/v2/multi/manifests/latest', { headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.list.v2+json' }, body: index });
  assert.equal(put.status, 201, put.body.toString());
  const indexDigest = String(put.headers['docker-content-digest']);
  const r = await dk('pull', `${reg.host}/multi`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Digest: ${indexDigest}\n`), 'the digest printed and recorded is the index');
  assert.equal(await ok('run', '--rm', `${reg.host}/multi`, 'cat', '/etc/registry-marker'), 'amd64\n');
  const armPull = await dk('pull', '--platform', 'linux/arm64', `${reg.host}/multi:latest`);
  assert.equal(armPull.code, 0, armPull.stderr);
  assert.equal(await ok('image', 'inspect', '--format', '{{index .Config.Labels "arch"}}', `${reg.host}/multi`), 'arm64\n');
  const none = await dk('pull', '--platform', 'linux/s390x', `${reg.host}/multi`);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
});

test('a Docker Hub name is normalised to docker.io/library and pulled through the mirror', async () => {
  const r = await dk('pull', 'busybox');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Using default tag: latest\nlatest: Pulling from library\/busybox\n/);
  assert.match(r.stdout, /Status: Downloaded newer image for busybox:latest\ndocker\.io\/library\/busybox:latest\n$/);
  assert.equal(await ok('run', '--rm', 'docker.io/library/busybox:latest', 'cat', '/etc/registry-marker'), 'via the mirror\n');
});

test('an unknown image fails with moby\'s message, from both CLIs', async () => {
  for (const cli of [docker, berth]) {
    const r = await cli(d.env, 'pull', `${reg.host}/nope`);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: manifest for ${reg.host}/nope:latest not found: manifest unknown: manifest unknown\n`);
  }
  const runMissing = await dk('run', '--rm', `${reg.host}/nope:2`);
  assert.equal(runMissing.code, 125);
  assert.match(runMissing.stderr, /Unable to find image '.*\/nope:2' locally\ndocker: Error response from daemon: manifest for .*\/nope:2 not found: manifest unknown/);
  const unreachable = await dk('pull', '127.0.0.1:1/x');
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /Error response from daemon: Get "http:\/\/127\.0\.0\.1:1\/v2\/": dial tcp 127\.0\.0\.1:1: connect: connection refused/);
});

test('a corrupted blob fails the pull with a digest mismatch and leaves nothing stored', async () => {
  const m = await fetchManifest(reg, 'corrupt', '1', SCHEMA2);
  const layer = m.json.layers![0]!;
  const file = registryBlobFile(reg, layer.digest);
  const bytes = readFileSync(file);
  const middle = Math.floor(bytes.length / 2);
  bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
  writeFileSync(file, bytes);
  const before = imageStoreFiles(d.dataRoot);
  const r = await dk('pull', `${reg.host}/corrupt:1`);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Verifying Checksum/);
  assert.equal(r.stderr, `filesystem layer verification failed for digest ${layer.digest}\n`);
  assert.deepEqual(imageStoreFiles(d.dataRoot), before);
  assert.equal((await dk('image', 'inspect', `${reg.host}/corrupt:1`)).code, 1);
});

test('a download cut short is retried and resumed with a Range request', async () => {
  const m = await fetchManifest(reg, 'resume', '1', SCHEMA2);
  const layer = m.json.layers![0]!;
  proxy.plan(layer.digest, { kind: 'cut', after: 100_000 });
  const r = await dk('pull', `${proxy.host}/resume:1`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${layer.digest.slice(7, 19)}: Retrying in 5 seconds\n`));
  const gets = proxy.blobRequests.filter((b) => b.digest === layer.digest);
  assert.equal(gets.length, 2);
  assert.equal(gets[0]!.range, undefined);
  // The retry asks for what is missing: from what arrived before the cut (the proxy sent 100000 bytes).
  const from = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
  assert.ok(from > 0 && from <= 100_000, `resumed from ${gets[1]!.range}`);
  assert.equal(await ok('run', '--rm', `${proxy.host}/resume:1`, 'cat', '/etc/registry-marker'), 'resumed\n');
});

test('a registry killed mid-pull: the pull fails, nothing is half-stored, and a later pull works', async () => {
  const before = imageStoreFiles(d.dataRoot);
  const layer = (await fetchManifest(reg, 'killed', '1', SCHEMA2)).json.layers![0]!;
  proxy.plan(layer.digest, { kind: 'hold', after: 64 * 1024 });
  const pulling = run(DOCKER, ['pull', `${proxy.host}/killed:1`], { env: d.env, timeoutMs: 120_000 });
  await proxy.held();
  await reg.kill();
  proxy.dropAll();
  const r = await pulling;
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Retrying in 5 seconds/);
  assert.match(r.stderr, /blobs\/sha256:[0-9a-f]{64}|connection reset|socket hang up/);
  assert.deepEqual(imageStoreFiles(d.dataRoot), before, 'no layer, blob, image, reference or temporary file is left');

  await reg.restart();
  const again = await dk('pull', `${proxy.host}/killed:1`);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await ok('run', '--rm', `${proxy.host}/killed:1`, 'cat', '/etc/registry-marker'), 'killed mid-pull\n');
});
