import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStore, makeSaveArchive, makeTar, streamOf, sha256 } from './helpers.js';

const L0 = makeTar([{ path: 'base.txt', content: 'base\n' }, { path: 'shared/', type: 'dir' }]);
const L1 = makeTar([{ path: 'a.txt', content: 'a\n' }]);
const L2 = makeTar([{ path: 'b.txt', content: 'b\n' }]);
const id = (layer: Buffer): string => `sha256:${sha256(layer)}`;

async function twoImages(t: Parameters<typeof makeStore>[0]) {
  const ts = makeStore(t);
  await ts.store.load(streamOf(makeSaveArchive([{ layers: [L0, L1], repoTags: ['a:latest'] }])));
  await ts.store.load(streamOf(makeSaveArchive([{ layers: [L0, L2], repoTags: ['b:latest', 'b:v2'], config: { Cmd: ['b'] } }])));
  return ts;
}

test('layers are shared between images and refcounted; rmi deletes only unused layers', async (t) => {
  const { store } = await twoImages(t);
  assert.equal(store.layerRefCount(id(L0)), 2);
  assert.equal(store.layerRefCount(id(L1)), 1);
  assert.equal(store.layerRefCount(id(L2)), 1);
  assert.equal(readdirSync(join(store.root, 'layers')).length, 3, 'shared layer unpacked once');

  const a = store.resolve('a');
  const out = await store.remove('a:latest');
  assert.deepEqual(out, [{ Untagged: 'a:latest' }, { Deleted: a.id }, { Deleted: id(L1) }]);
  assert.equal(store.layerRefCount(id(L0)), 1);
  assert.equal(store.layerRefCount(id(L1)), 0);
  assert.ok(store.layerDir(id(L0)) && existsSync(store.layerDir(id(L0))!), 'shared layer kept');
  assert.equal(store.layerDir(id(L1)), null);
  assert.ok(!existsSync(join(store.root, 'layers', sha256(L1))));
  assert.ok(!existsSync(join(store.root, 'imagedb', `${a.id.slice(7)}.json`)));
  assert.throws(() => store.resolve(a.id), { name: 'NotFound' });

  const b = store.resolve('b');
  // Two tags: removing one only untags.
  assert.deepEqual(await store.remove('b:v2'), [{ Untagged: 'b:v2' }]);
  assert.deepEqual(store.resolve(b.id).repoTags, ['b:latest']);
  // By ID: untag + delete, with the now-unused layers.
  const out2 = await store.remove(b.id.slice(7, 19));
  assert.deepEqual(out2, [{ Untagged: 'b:latest' }, { Deleted: b.id }, { Deleted: id(L0) }, { Deleted: id(L2) }]);
  assert.deepEqual(readdirSync(join(store.root, 'layers')), []);
  assert.deepEqual(readdirSync(join(store.root, 'l')), [], 'short links removed with their layers');
  assert.deepEqual(store.list(), []);
  await assert.rejects(store.remove('b'), { name: 'NotFound', message: 'No such image: b' });
});

test('rmi conflicts: multiple references, containers using the image, force', async (t) => {
  const { store } = await twoImages(t);
  const b = store.resolve('b:latest');
  const short = b.id.slice(7, 19);

  await assert.rejects(store.remove(b.id), {
    name: 'Conflict',
    message: `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
  });
  const container = 'c0ffee1234567890c0ffee1234567890c0ffee1234567890c0ffee1234567890';
  const inUse = (imageId: string): string[] => (imageId === b.id ? [container] : []);

  // Untagging one of two tags is fine even when in use.
  assert.deepEqual(await store.remove('b:v2', { inUse }), [{ Untagged: 'b:v2' }]);
  // The last tag of a used image needs force.
  await assert.rejects(store.remove('b:latest', { inUse }), {
    name: 'Conflict',
    message: `conflict: unable to remove repository reference "b:latest" (must force) - container c0ffee123456 is using its referenced image ${short}`,
  });
  await assert.rejects(store.remove(short, { inUse }), {
    name: 'Conflict',
    message: `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container c0ffee123456`,
  });
  // Forced while a container using it runs: the last tag goes, the image stays (dangling) with its layers; by ID, force cannot override it.
  const running = inUse;
  assert.deepEqual(await store.remove('b:latest', { inUse, running, force: true }), [{ Untagged: 'b:latest' }]);
  assert.deepEqual(store.resolve(b.id).repoTags, []);
  assert.ok(store.layerDir(id(L2)));
  await assert.rejects(store.remove(b.id, { inUse, running, force: true }), {
    name: 'Conflict',
    message: `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container c0ffee123456`,
  });
  assert.ok(store.find(b.id));
  // Used by a stopped container only, it is deleted when forced (dockerd); a container's own rootfs record would keep the layers.
  const out = await store.remove(b.id, { inUse, force: true });
  assert.deepEqual(out, [{ Deleted: b.id }, { Deleted: id(L2) }]);
  assert.equal(store.layerRefCount(id(L0)), 1, 'a still holds the shared layer');

  // Forced delete by ID of a multiply-tagged unused image removes all tags.
  await store.tag('a', 'a:second');
  await store.tag('a', 'other/repo:x');
  const a = store.resolve('a');
  const forced = await store.remove(a.id, { force: true });
  assert.deepEqual(forced, [
    { Untagged: 'a:latest' },
    { Untagged: 'a:second' },
    { Untagged: 'other/repo:x' },
    { Deleted: a.id },
    { Deleted: id(L0) },
    { Deleted: id(L1) },
  ]);
});

test('concurrent loads of the same layers do not corrupt them', async (t) => {
  const { store } = makeStore(t);
  const big = makeTar(Array.from({ length: 200 }, (_, i) => ({ path: `d${i % 7}/f${i}`, content: `file ${i}\n`.repeat(50) })));
  const archives = [0, 1, 2, 3].map((i) => makeSaveArchive([{ layers: [L0, big], repoTags: [`img${i}:latest`], config: { Cmd: [`c${i}`] } }]));
  const results = await Promise.all(archives.map((a) => store.load(streamOf(a))));
  assert.deepEqual(results.flat().sort(), ['Loaded image: img0:latest', 'Loaded image: img1:latest', 'Loaded image: img2:latest', 'Loaded image: img3:latest']);
  assert.equal(store.layerRefCount(id(big)), 4);
  assert.equal(readdirSync(join(store.root, 'layers')).length, 2);
  assert.equal(readdirSync(join(store.root, 'tmp')).length, 0, 'losing unpacks were discarded');
  const dir = store.layerDir(id(big))!;
  for (let i = 0; i < 200; i++) assert.equal(readFileSync(join(dir, `d${i % 7}`, `f${i}`), 'utf8'), `file ${i}\n`.repeat(50));
  // Concurrent removal and load of an image sharing a layer: the shared layer survives.
  await Promise.all([store.remove('img0'), store.remove('img1'), store.remove('img2'), store.load(streamOf(archives[0]!)), store.remove('img3')]);
  assert.ok(store.find('img0'));
  assert.ok(existsSync(join(store.layerDir(id(big))!, 'd0', 'f0')));
});

test('startup removes leftovers: temp unpacks and layers no image references', async (t) => {
  const { store, reopen } = makeStore(t);
  await store.load(streamOf(makeSaveArchive([{ layers: [L0, L1], repoTags: ['a:latest'] }])));
  const a = store.resolve('a');
  // Simulate a crash mid-unpack and a crash during rmi (config gone, layers left).
  mkdirSync(join(store.root, 'tmp', 'layer-deadbeef', 'diff'), { recursive: true });
  writeFileSync(join(store.root, 'tmp', 'layer-deadbeef', 'diff', 'junk'), 'x');
  rmSync(join(store.root, 'imagedb', `${a.id.slice(7)}.json`));
  const again = reopen();
  assert.deepEqual(readdirSync(join(again.root, 'tmp')), []);
  assert.deepEqual(readdirSync(join(again.root, 'layers')), []);
  assert.deepEqual(again.list(), []);
  const state = JSON.parse(readFileSync(join(again.root, 'repositories.json'), 'utf8'));
  assert.ok(state.Repositories, 'state file still readable');
});
