// Manifests as registries serve them, and choosing a list's entry for a platform.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlatform, layerCompression, parseManifest, parsePlatform, selectManifest, type ManifestIndex } from '../../src/registry/manifest.js';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;

test('platforms are normalised as containerd does', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/arm/6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(formatPlatform(parsePlatform('Linux/ARM/v7')), 'linux/arm/v7');
  assert.throws(() => parsePlatform('linux//amd64'), /unknown operating system or architecture/);
});

test('a list entry is chosen by os, architecture and variant; none is a NotFound', () => {
  const index: ManifestIndex = {
    schemaVersion: 2,
    manifests: [
      { digest: digest('a'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
      { digest: digest('b'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { digest: digest('c'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { digest: digest('d'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: digest('e'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
    ],
  };
  assert.equal(selectManifest(index, parsePlatform('linux/amd64')).digest, digest('d'));
  assert.equal(selectManifest(index, parsePlatform('linux/arm64')).digest, digest('c'));
  assert.equal(selectManifest(index, parsePlatform('linux/arm/v7')).digest, digest('b'));
  assert.equal(selectManifest(index, parsePlatform('linux/arm/v6')).digest, digest('a'));
  assert.throws(() => selectManifest(index, parsePlatform('windows/amd64')), { name: 'NotFound', message: 'no matching manifest for windows/amd64 in the manifest list entries' });
});

test('manifests: schema 2, OCI, lists; schema 1 refused with moby\'s message; garbage refused', () => {
  const image = { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { digest: digest('1'), size: 2 }, layers: [{ digest: digest('2'), size: 3, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }] };
  const parsed = parseManifest(Buffer.from(JSON.stringify(image)), 'application/json', 'x');
  assert.equal(parsed.kind, 'image');
  const oci = { schemaVersion: 2, config: { digest: digest('1'), size: 2 }, layers: [] };
  assert.equal(parseManifest(Buffer.from(JSON.stringify(oci)), 'application/vnd.oci.image.manifest.v1+json', 'x').kind, 'image');
  const list = { schemaVersion: 2, manifests: [{ digest: digest('3'), size: 4, platform: { os: 'linux', architecture: 'amd64' } }] };
  assert.equal(parseManifest(Buffer.from(JSON.stringify(list)), 'application/vnd.oci.image.index.v1+json', 'x').kind, 'index');
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 1, fsLayers: [] })), 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'docker.io/library/old'), {
    message: /^Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed\. Suggest the author of docker\.io\/library\/old to upgrade/,
  });
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":2}'), 'application/vnd.oci.image.manifest.v1+json', 'x'), { message: 'unsupported manifest format' });
  assert.throws(() => parseManifest(Buffer.from('not json'), 'application/json', 'x'), /invalid manifest for x/);
});

test('layer media types map to their compression; foreign and unknown layers have none', () => {
  assert.equal(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
  assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip');
  assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
  assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar'), 'none');
  assert.equal(layerCompression('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), null);
});
