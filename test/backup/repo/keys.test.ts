// Opening a repository: passphrase and recipient keys, wrong credentials,
// adding and removing keys (changing a passphrase rewrites no data, the
// last full key stays), write-only keys that cannot read, and the config's
// version guard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Repository } from '../../../src/backup/repo/repository.js';
import { generateIdentity, parseIdentity, parseRecipient } from '../../../src/backup/repo/recipients.js';
import { RepositoryCorrupt, WrongCredentials, WriteOnlyKey } from '../../../src/backup/repo/errors.js';
import { sealEnvelope } from '../../../src/backup/repo/envelope.js';
import { Conflict, InvalidParameter, NotFound } from '../../../src/errors.js';
import { MemoryTarget } from '../../helpers/memory-target.js';
import { CHEAP_SCRYPT, newRepository, PASSWORD } from '../../helpers/backup.js';

test('a repository opens with its passphrase and refuses a wrong one clearly', async () => {
  const { repo, target } = await newRepository();
  const again = await Repository.open(target, { password: PASSWORD });
  assert.equal(again.id, repo.id);
  assert.equal(again.access, 'full');
  await assert.rejects(Repository.open(target, { password: 'wrong' }), (e: Error) => e instanceof WrongCredentials && /wrong passphrase or identity/.test(e.message));
  await assert.rejects(Repository.open(new MemoryTarget(), { password: PASSWORD }), NotFound);
  await assert.rejects(Repository.open(target, {}), InvalidParameter);
});

test('init refuses an existing repository and needs a credential', async () => {
  const { target } = await newRepository();
  await assert.rejects(Repository.init(target, { password: 'x', scrypt: CHEAP_SCRYPT }), Conflict);
  await assert.rejects(Repository.init(new MemoryTarget(), {}), InvalidParameter);
});

test('recipients: the identity opens the key wrapped to it, another identity does not', async () => {
  const alice = generateIdentity();
  const bob = generateIdentity();
  const target = new MemoryTarget();
  const repo = await Repository.init(target, { recipients: [alice.recipient] });
  const opened = await Repository.open(target, { identity: alice.identity });
  assert.equal(opened.id, repo.id);
  await assert.rejects(Repository.open(target, { identity: bob.identity }), WrongCredentials);
  await assert.rejects(Repository.open(target, { password: PASSWORD }), WrongCredentials);
  // Text forms check themselves: a typo is refused before anything is sealed to it.
  assert.equal(parseIdentity(`# created by keygen\n${alice.identity}\n`).recipient, alice.recipient);
  const typo = alice.recipient.slice(0, -2) + (alice.recipient.endsWith('a') ? 'bb' : 'aa');
  assert.throws(() => parseRecipient(typo), InvalidParameter);
  assert.throws(() => parseIdentity('BERTH-IDENTITY-1AAAA'), InvalidParameter);
});

test('changing the passphrase rewrites only key files; the old passphrase stops working', async () => {
  const { repo, target } = await newRepository();
  const before = new Map([...(target as MemoryTarget).files].filter(([k]) => !k.startsWith('keys/')));
  await repo.changePassword('new secret', CHEAP_SCRYPT);
  const after = new Map([...(target as MemoryTarget).files].filter(([k]) => !k.startsWith('keys/')));
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  for (const [k, v] of before) assert.ok(after.get(k)!.equals(v), `${k} was rewritten`);
  await assert.rejects(Repository.open(target, { password: PASSWORD }), WrongCredentials);
  assert.equal((await Repository.open(target, { password: 'new secret' })).id, repo.id);
});

test('keys: add, list, remove by prefix; the last full key cannot be removed', async () => {
  const { repo, target } = await newRepository();
  const added = await repo.addKey('full', { password: 'second', scrypt: CHEAP_SCRYPT });
  const listed = await repo.listKeys();
  assert.equal(listed.length, 2);
  assert.ok(listed.every((k) => k.kind === 'full' && k.wrappedFor === 'passphrase'));
  await repo.removeKey(repo.keyId.slice(0, 8));
  assert.deepEqual((await repo.listKeys()).map((k) => k.id), [added.id]);
  await assert.rejects(repo.removeKey(added.id), (e: Error) => e instanceof Conflict && /last full key/.test(e.message));
  const writeOnly = await repo.addKey('write-only', { password: 'writer', scrypt: CHEAP_SCRYPT });
  // A write-only key does not count: the full one is still the last.
  await assert.rejects(repo.removeKey(added.id), Conflict);
  await repo.removeKey(writeOnly.id);
  assert.equal((await Repository.open(target, { password: 'second' })).access, 'full');
});

test('a write-only key opens without the read secret and cannot add full keys or read data', async () => {
  const { repo, target } = await newRepository();
  const identity = generateIdentity();
  await repo.addKey('write-only', { recipient: identity.recipient });
  const writer = await Repository.open(target, { identity: identity.identity });
  assert.equal(writer.access, 'write-only');
  assert.equal(writer.secrets.read, undefined);
  await assert.rejects(writer.addKey('full', { password: 'escalate', scrypt: CHEAP_SCRYPT }), WriteOnlyKey);
  const treeId = await writer.blobs.storeTree(Buffer.from('a tree blob'));
  await writer.blobs.flush();
  await assert.rejects(writer.loadBlob(treeId), WriteOnlyKey);
  // The full key reads what the write-only key wrote.
  const reader = await Repository.open(target, { password: PASSWORD });
  assert.equal((await reader.loadBlob(treeId)).toString(), 'a tree blob');
  // And the write-only key may add another write-only key.
  assert.equal((await writer.addKey('write-only', { password: 'w2', scrypt: CHEAP_SCRYPT })).kind, 'write-only');
});

test('a repository of a newer format version is refused with a clear message', async () => {
  const { repo, target } = await newRepository();
  const newer = Buffer.from(JSON.stringify({ version: 2, id: repo.id }));
  await target.put('config', 'config', sealEnvelope(repo.config.aead, repo.secrets.write.metadata, 'config', 'config', newer));
  await assert.rejects(Repository.open(target, { password: PASSWORD }), (e: Error) => e instanceof RepositoryCorrupt && /version 2 is newer/.test(e.message));
});

test('a key file copied from another repository does not open this one', async () => {
  const a = await newRepository();
  const b = await newRepository();
  const memA = a.target as MemoryTarget;
  const memB = b.target as MemoryTarget;
  for (const name of memB.names('keys')) memB.files.delete(`keys/${name}`);
  for (const name of memA.names('keys')) memB.files.set(`keys/${name}`, memA.files.get(`keys/${name}`)!);
  // A's secrets do not decrypt B's config.
  await assert.rejects(Repository.open(b.target, { password: PASSWORD }), RepositoryCorrupt);
});

test('ChaCha20-Poly1305 repositories work like AES-GCM ones', async () => {
  const { repo, target } = await newRepository(new MemoryTarget(), { aead: 'chacha20-poly1305' });
  const id = await repo.blobs.storeTree(Buffer.from('chacha tree'));
  await repo.blobs.flush();
  const again = await Repository.open(target, { password: PASSWORD });
  assert.equal(again.config.aead, 'chacha20-poly1305');
  assert.equal((await again.loadBlob(id)).toString(), 'chacha tree');
});
