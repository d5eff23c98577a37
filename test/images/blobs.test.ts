// Layer blobs in the image store: every layer keeps a blob (gzip written by
// berth, or the archive's own gzip), `save` gives back the layers byte for
// byte from them, records of layers that are gone are dropped at start, and
// digest references live beside tags as moby keeps them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readDockerSave } from '../../src/images/archive/docker-save-reader.js';
import { makeSaveArchive, makeStore, makeTar, sha256, standardBusyboxLayer, streamOf } from './helpers.js';

const top = makeTar([{ path: 'etc/', type: 'dir' }, { path: 'etc/extra', content: 'extra\n' }]);

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

test('loaded layers get a gzip blob; save gives back configs and layers byte for byte', async (t) => {
  const { dir, store } = makeStore(t);
  const base = standardBusyboxLayer();
  await store.load(streamOf(makeSaveArchive([{ layers: [base, top], repoTags: ['saved:1'] }])));
  const rec = store.resolve('saved:1');
  for (const diffId of rec.layers) {
    const [blob] = store.blobsOf(diffId.slice(7));
    assert.equal(blob?.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    assert.equal(`sha256:${sha256(readFileSync(store.blobPath(blob.digest)))}`, blob.digest);
  }
  const archive = await collect(await store.save(['saved:1']));
  const staging = mkdtempSync(join(dir, 'read-'));
  const [image] = await readDockerSave(streamOf(archive) as AsyncIterable<Buffer>, staging);
  assert.deepEqual(image!.tags, ['saved:1']);
  assert.equal(`sha256:${image!.hex}`, rec.id);
  assert.deepEqual(readFileSync(image!.layerFiles[0]!), base);
  assert.deepEqual(readFileSync(image!.layerFiles[1]!), top);

  // Into a second store: the same image.
  const other = makeStore(t).store;
  assert.deepEqual(await other.load(streamOf(archive)), ['Loaded image: saved:1']);
  assert.equal(other.resolve('saved:1').id, rec.id);
  await assert.rejects(store.save(['nothing:here']), { name: 'NotFound', message: 'No such image: nothing:here' });
});

test('an imported gzip tar is kept as its own blob', async (t) => {
  const { store } = makeStore(t);
  const gz = gzipSync(top);
  const rec = await store.importRootfs(streamOf(gz), { reference: 'imported:gz' });
  const blobs = store.blobsOf(rec.layers[0]!.slice(7));
  assert.deepEqual(
    blobs.map((b) => [b.digest, b.size]),
    [[`sha256:${sha256(gz)}`, gz.length]],
  );
});

test('at start, blobs and records of layers that are gone are removed; the rest stays', async (t) => {
  const { store, reopen } = makeStore(t);
  await store.load(streamOf(makeSaveArchive([{ layers: [top], repoTags: ['keep:1'] }])));
  const layerHex = store.resolve('keep:1').layers[0]!.slice(7);
  const kept = store.blobsOf(layerHex)[0]!.digest.slice(7);
  const root = store.root;
  writeFileSync(join(root, 'blobs', 'sha256', 'f'.repeat(64)), 'stray blob');
  writeFileSync(join(root, 'distribution', `${'e'.repeat(64)}.json`), JSON.stringify({ diffId: `sha256:${'e'.repeat(64)}`, blobs: [] }));
  const reopened = reopen();
  assert.deepEqual(readdirSync(join(root, 'blobs', 'sha256')), [kept]);
  assert.deepEqual(readdirSync(join(root, 'distribution')), [`${layerHex}.json`]);
  assert.equal(reopened.blobsOf(layerHex)[0]!.digest, `sha256:${kept}`);
  assert.equal(existsSync(reopened.blobPath(`sha256:${kept}`)), true);
});

test('digest references: kept beside tags, listed as RepoDigests, dropped with their repository\'s last tag', async (t) => {
  const { store, reopen } = makeStore(t);
  await store.load(streamOf(makeSaveArchive([{ layers: [top], repoTags: ['app:1'] }])));
  const hex = store.resolve('app:1').id.slice(7);
  const digest = `sha256:${'d'.repeat(64)}`;
  await store.addReferences(hex, [`app@${digest}`, `other@${digest}`]);
  assert.deepEqual(store.resolve(`app@${digest}`).repoDigests, [`app@${digest}`, `other@${digest}`]);
  const repos = JSON.parse(readFileSync(join(store.root, 'repositories.json'), 'utf8'));
  assert.equal(repos.SchemaVersion, 2);
  assert.equal(repos.Repositories.app[`app@${digest}`], `sha256:${hex}`);
  assert.deepEqual(reopen().resolve('app:1').repoDigests, [`app@${digest}`, `other@${digest}`]);
  // Untagging app's last tag also drops app's digest; other@ keeps the image.
  assert.deepEqual(await store.remove('app:1'), [{ Untagged: 'app:1' }, { Untagged: `app@${digest}` }]);
  assert.deepEqual(store.resolve(`other@${digest}`).repoTags, []);
  const out = await store.remove(`other@${digest}`);
  assert.deepEqual(out.slice(0, 2), [{ Untagged: `other@${digest}` }, { Deleted: `sha256:${hex}` }]);
});
