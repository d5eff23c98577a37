// Config.Volumes as dockerd's mergeAndVerifyConfig leaves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeConfig } from '../../src/containers/config.js';

const base = { Image: 'busybox', Cmd: ['true'] };
// Maps are copied into null-prototype objects (so `__proto__` is a plain key).
const volumesOf = (body: Record<string, unknown>, image: Parameters<typeof mergeConfig>[1]): unknown => {
  const v = mergeConfig(body, image).config.Volumes;
  return v ? { ...v } : v;
};

test('Config.Volumes: {} from the CLI (only named volumes and binds) becomes null', () => {
  assert.equal(mergeConfig({ ...base, Volumes: {} }, {}).config.Volumes, null);
  assert.equal(mergeConfig(base, {}).config.Volumes, null);
  assert.equal(mergeConfig({ ...base, Volumes: {} }, { Volumes: {} }).config.Volumes, null);
});

test('Config.Volumes: anonymous volumes of the request and the image are kept and merged', () => {
  assert.deepEqual(volumesOf({ ...base, Volumes: { '/a': {} } }, {}), { '/a': {} });
  assert.deepEqual(volumesOf({ ...base, Volumes: {} }, { Volumes: { '/img': {} } }), { '/img': {} });
  assert.deepEqual(volumesOf({ ...base, Volumes: { '/a': {} } }, { Volumes: { '/img': {} } }), { '/a': {}, '/img': {} });
});
