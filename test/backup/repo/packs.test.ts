// Packs, index files and the blob store: a pack opens with the repository's
// private key only, its header lists its boxes, a tampered box is caught;
// index files round-trip; the store claims a blob once however often it is
// offered, and what it flushes is indexed and durable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { blobId, openBlob } from '../../../src/backup/repo/blob.js';
import { x25519Generate } from '../../../src/backup/repo/crypto.js';
import { RepositoryCorrupt } from '../../../src/backup/repo/errors.js';
import { decodeIndexFile, encodeIndexFile } from '../../../src/backup/repo/index-file.js';
import { openPackHeader, packKeyForReader, PackWriter, parseTrailer, TRAILER_BYTES } from '../../../src/backup/repo/pack.js';
import { Repository } from '../../../src/backup/repo/repository.js';
import { MemoryTarget } from '../../helpers/memory-target.js';
import { newRepository, PASSWORD } from '../../helpers/backup.js';

const idKey = randomBytes(32);

function packOf(blobs: Buffer[], repoKeys = x25519Generate()) {
  const w = new PackWriter('aes-256-gcm', repoKeys.publicKey, 3, 1 << 16);
  for (const b of blobs) w.add('data', blobId(idKey, b), b);
  return { sealed: w.seal(), repoKeys };
}

test('a pack is read back through its trailer and header with the repository private key', () => {
  const blobs = [Buffer.alloc(100_000, 7), randomBytes(5000), Buffer.alloc(0)];
  const { sealed, repoKeys } = packOf(blobs);
  const bytes = sealed.bytes;
  const { ephemeral, headerLength } = parseTrailer(bytes.subarray(bytes.length - TRAILER_BYTES), 'pack');
  const key = packKeyForReader(repoKeys.privateKey, repoKeys.publicKey, ephemeral);
  const headerBox = bytes.subarray(bytes.length - TRAILER_BYTES - headerLength, bytes.length - TRAILER_BYTES);
  const header = openPackHeader('aes-256-gcm', key, ephemeral, headerBox, bytes.length, 'pack');
  assert.deepEqual(header, sealed.blobs);
  // The repetitive blob was compressed, the random one stored raw.
  assert.deepEqual(header.map((b) => b.compressed), [true, false, false]);
  header.forEach((b, i) => assert.ok(openBlob('aes-256-gcm', key, idKey, b, bytes.subarray(b.offset, b.offset + b.length), 'blob').equals(blobs[i]!)));
  // Another key pair does not open it.
  const other = x25519Generate();
  assert.throws(() => openPackHeader('aes-256-gcm', packKeyForReader(other.privateKey, repoKeys.publicKey, ephemeral), ephemeral, headerBox, bytes.length, 'pack'), RepositoryCorrupt);
});

test('a flipped byte in a box, a swapped ID or a wrong length is caught', () => {
  const blobs = [randomBytes(3000), randomBytes(3000)];
  const { sealed, repoKeys } = packOf(blobs);
  const key = packKeyForReader(repoKeys.privateKey, repoKeys.publicKey, sealed.ephemeral);
  const [a, b] = sealed.blobs as [(typeof sealed.blobs)[0], (typeof sealed.blobs)[0]];
  const boxA = Buffer.from(sealed.bytes.subarray(a.offset, a.offset + a.length));
  boxA[100]! ^= 1;
  assert.throws(() => openBlob('aes-256-gcm', key, idKey, a, boxA, 'blob'), RepositoryCorrupt);
  const boxB = sealed.bytes.subarray(b.offset, b.offset + b.length);
  assert.throws(() => openBlob('aes-256-gcm', key, idKey, { ...b, id: a.id }, boxB, 'blob'), RepositoryCorrupt);
  assert.throws(() => openBlob('aes-256-gcm', key, idKey, { ...b, rawLength: b.rawLength + 1 }, boxB, 'blob'), RepositoryCorrupt);
});

test('index files round-trip', () => {
  const { sealed } = packOf([randomBytes(10), randomBytes(20)]);
  const packs = [{ name: sealed.name, ephemeral: sealed.ephemeral, size: sealed.size, blobs: sealed.blobs }];
  assert.deepEqual(decodeIndexFile(encodeIndexFile(packs), 'index'), packs);
});

test('the blob store claims a blob once, across calls and volumes, and flushes it durably', async () => {
  const { repo, target } = await newRepository();
  const ids = [randomBytes(32), randomBytes(32)];
  assert.deepEqual(repo.blobs.claim([ids[0]!, ids[0]!, ids[1]!]), [true, false, true]);
  assert.deepEqual(repo.blobs.claim(ids), [false, false]);
  const tree = Buffer.from('some tree');
  const treeId = await repo.blobs.storeTree(tree);
  assert.ok((await repo.blobs.storeTree(tree)).equals(treeId));
  // Claimed data blobs must come in a pack from their packer; this one never will, so the test packs them itself.
  const w = new PackWriter(repo.config.aead, repo.secrets.write.publicKey, 3, 1 << 16);
  const data = [randomBytes(100), randomBytes(200)];
  const realIds = data.map((d) => repo.blobs.id(d));
  assert.deepEqual(repo.blobs.claim(realIds), [true, true]);
  data.forEach((d, i) => w.add('data', realIds[i]!, d));
  repo.blobs.addPack(w.seal());
  await repo.blobs.flush();
  const mem = target as MemoryTarget;
  assert.equal(mem.names('index').length, 1);
  assert.equal(mem.names('data').length, 2, 'one data pack and one tree pack');
  const again = await Repository.open(target, { password: PASSWORD });
  assert.ok((await again.loadBlob(realIds[1]!)).equals(data[1]!));
  assert.ok((await again.loadBlob(treeId)).equals(tree));
  assert.deepEqual(again.blobs.claim(realIds), [false, false]);
});

test('an index file written by another process is picked up by loadIndex', async () => {
  const { repo, target } = await newRepository();
  const other = await Repository.open(target, { password: PASSWORD });
  const id = await other.blobs.storeTree(Buffer.from('from elsewhere'));
  await other.blobs.flush();
  assert.equal(repo.index.has(id), false);
  await repo.loadIndex();
  assert.equal(repo.index.has(id), true);
});

test('a damaged index file does not stop the repository from opening', async () => {
  const { repo, target } = await newRepository();
  await repo.blobs.storeTree(Buffer.from('x'));
  await repo.blobs.flush();
  const mem = target as MemoryTarget;
  const name = mem.names('index')[0]!;
  mem.files.get(`index/${name}`)![10]! ^= 0xff;
  const again = await Repository.open(new MemoryTargetView(mem), { password: PASSWORD });
  assert.deepEqual([...again.damagedIndexFiles.keys()], [name]);
});

/** The same files seen through a second target object (a second process's view). */
class MemoryTargetView extends MemoryTarget {
  constructor(source: MemoryTarget) {
    super();
    for (const [k, v] of source.files) this.files.set(k, v);
  }
}
