// Every decoder of the repository format (and the local tree cache's), fuzzed (fast-check): on random
// bytes, and on valid objects with bytes flipped, cut off or inserted, each
// either decodes or throws RepositoryCorrupt with a message; nothing else
// escapes (no TypeError, RangeError, allocation failure) and nothing hangs.
// Valid trees also round-trip. FUZZ_RUNS sets the runs per property.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { decodeConfig, encodeConfig, DEFAULT_CHUNKER } from '../../../src/backup/repo/config.js';
import { openEnvelope, sealEnvelope } from '../../../src/backup/repo/envelope.js';
import { RepositoryCorrupt } from '../../../src/backup/repo/errors.js';
import { decodeIndexFile, encodeIndexFile } from '../../../src/backup/repo/index-file.js';
import { decodeKeyFile, makeKeyFile } from '../../../src/backup/repo/keys.js';
import { decodeLock } from '../../../src/backup/repo/lock.js';
import { decodePackHeader, encodePackHeader, openPackHeader, packKeyForReader, PackWriter, parseTrailer, TRAILER_BYTES } from '../../../src/backup/repo/pack.js';
import { x25519Generate } from '../../../src/backup/repo/crypto.js';
import { decodeSecrets, encodeSecrets, generateSecrets } from '../../../src/backup/repo/secrets.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from '../../../src/backup/repo/snapshot.js';
import { decodeTree, encodeTree, type Tree, type TreeNode } from '../../../src/backup/repo/tree.js';
import { TreeCache } from '../../../src/backup/engine/tree-cache.js';
import { idKey } from '../../../src/backup/repo/blob-index.js';
import { blobId } from '../../../src/backup/repo/blob.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHEAP_SCRYPT } from '../../helpers/backup.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Runs `decode`; anything thrown must be a RepositoryCorrupt with a message. */
function decodesOrRefuses(decode: () => unknown): void {
  try {
    decode();
  } catch (e) {
    if (!(e instanceof RepositoryCorrupt) || e.message === '') throw new Error(`a decoder threw ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
  }
}

/** A valid encoding with random damage: bytes flipped, the end cut off, bytes inserted. */
function damaged(valid: Buffer): fc.Arbitrary<Buffer> {
  const flip = fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
  const cut = fc.record({ kind: fc.constant('cut' as const), at: fc.nat() });
  const insert = fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) });
  return fc.array(fc.oneof(flip, cut, insert), { minLength: 1, maxLength: 4 }).map((edits) => {
    let b = Buffer.from(valid);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      if (e.kind === 'flip') b[at] = e.value;
      else if (e.kind === 'cut') b = b.subarray(0, at);
      else b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
    }
    return b;
  });
}

const anyBytes = fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u));
const anyJson = fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)));

function fuzz(name: string, valid: Buffer, decode: (b: Buffer) => unknown): void {
  test(`fuzz: ${name}`, { timeout: 120_000 }, () => {
    decode(valid); // the valid one decodes
    for (const arb of [anyBytes, anyJson, damaged(valid)]) {
      fc.assert(fc.property(arb, (b) => decodesOrRefuses(() => decode(b))), { numRuns: RUNS });
    }
  });
}

// --- trees ---

const name = fc.uint8Array({ minLength: 1, maxLength: 20 }).map((u) => Buffer.from(u)).filter((n) => !n.includes(0x2f) && !n.includes(0) && !(n.length <= 2 && n.every((b) => b === 0x2e)));
const id32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((u) => Buffer.from(u));
const xattrs = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^(user|trusted|security|system)\.[a-z_]{1,12}$/), fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u))), { selector: (x) => x[0], maxLength: 3 })
  .map((pairs) => new Map(pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1))));
const base = fc.record({
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.nat(),
  gid: fc.nat(),
  mtimeNs: fc.bigInt({ min: -(1n << 62n), max: 1n << 62n }),
  ctimeNs: fc.bigInt({ min: 0n, max: 1n << 62n }),
  inode: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  links: fc.integer({ min: 1, max: 100 }),
  xattrs,
});
const node: fc.Arbitrary<Omit<TreeNode, 'name'>> = fc.oneof(
  base.chain((b) => id32.map((subtree) => ({ ...b, type: 'directory' as const, subtree }))),
  base.chain((b) =>
    fc.record({ size: fc.integer({ min: 1, max: 1 << 30 }), content: fc.array(id32, { minLength: 1, maxLength: 3 }), fixed: fc.boolean() }).map((f) => ({
      ...b,
      type: 'file' as const,
      size: f.size,
      chunking: f.fixed ? { kind: 'fixed' as const, block: 16384 } : { kind: 'cdc' as const },
      extents: f.size > 10 ? [{ offset: 1, length: 2 }, { offset: 5, length: f.size - 5 }] : undefined,
      content: f.content,
    })),
  ),
  base.chain((b) => fc.uint8Array({ minLength: 1, maxLength: 30 }).filter((t) => !t.includes(0)).map((t) => ({ ...b, type: 'symlink' as const, target: Buffer.from(t) }))),
  base.map((b) => ({ ...b, type: 'fifo' as const })),
  base.chain((b) => fc.record({ major: fc.nat(), minor: fc.nat() }).map((d) => ({ ...b, type: 'chardev' as const, ...d }))),
);
const tree: fc.Arbitrary<Tree> = fc
  .uniqueArray(fc.tuple(name, node), { selector: (x) => x[0].toString('latin1'), maxLength: 6 })
  .map((pairs) => ({
    kind: 'directory' as const,
    nodes: pairs
      .sort((a, b) => Buffer.compare(a[0], b[0]))
      .map(([n, rest]) => {
        const full = { ...rest, name: n } as TreeNode;
        if (full.type === 'file' && full.extents === undefined) delete full.extents;
        return full;
      }),
  }));

test('trees round-trip through their encoding', () => {
  fc.assert(fc.property(tree, (t) => assert.deepEqual(decodeTree(encodeTree(t), 'tree'), t)), { numRuns: RUNS });
});

const sampleTree = fc.sample(tree.filter((t) => t.nodes.length >= 3), { numRuns: 1, seed: 7 })[0]!;
fuzz('tree', encodeTree(sampleTree), (b) => decodeTree(b, 'tree'));
fuzz('root tree', encodeTree({ kind: 'root', nodes: [{ ...(sampleTree.nodes.find((n) => n.type === 'directory') ?? { type: 'directory', subtree: randomBytes(32), mode: 0o755, uid: 0, gid: 0, mtimeNs: 1n, ctimeNs: 1n, inode: 2n, links: 2, xattrs: new Map() }), name: Buffer.alloc(0) } as TreeNode] }), (b) => decodeTree(b, 'tree'));

// --- packs and index files ---

const repoKeys = x25519Generate();
const writer = new PackWriter('aes-256-gcm', repoKeys.publicKey, 3, 1 << 16);
for (let i = 0; i < 5; i++) writer.add(i % 2 ? 'tree' : 'data', randomBytes(32), randomBytes(100 * i));
const sealed = writer.seal();
const packKey = packKeyForReader(repoKeys.privateKey, repoKeys.publicKey, sealed.ephemeral);

fuzz('pack header', encodePackHeader(sealed.blobs), (b) => decodePackHeader(b, 'pack header'));
fuzz('pack trailer and header box', Buffer.from(sealed.bytes), (b) => {
  const { ephemeral, headerLength } = parseTrailer(b.subarray(Math.max(0, b.length - TRAILER_BYTES)), 'pack');
  openPackHeader('aes-256-gcm', packKey, ephemeral, b.subarray(Math.max(0, b.length - TRAILER_BYTES - headerLength), b.length - TRAILER_BYTES), b.length, 'pack');
});
fuzz('index file', encodeIndexFile([{ name: sealed.name, ephemeral: sealed.ephemeral, size: sealed.size, blobs: sealed.blobs }]), (b) => decodeIndexFile(b, 'index'));

// --- JSON documents ---

const snapshot: Snapshot = {
  version: 1,
  timeNs: 1_700_000_000_123_456_789n,
  tree: 'a'.repeat(64),
  parent: null,
  host: 'host',
  volume: { name: 'db', driver: 'local', labels: { a: 'b' }, options: {} },
  tags: ['t'],
  group: null,
  consistency: { mode: 'freeze', freezeMs: 12 },
  summary: { files: 1, dirs: 0, size: 2, bytesAdded: 3, blobsAdded: 1, skipped: 0, durationMs: 5 },
  program: 'berth test',
};
test('snapshots round-trip', () => {
  const { id, ...decoded } = decodeSnapshot(encodeSnapshot(snapshot), 'b'.repeat(64));
  assert.equal(id, 'b'.repeat(64));
  assert.deepEqual({ ...decoded, volume: { ...decoded.volume, labels: { ...decoded.volume.labels }, options: { ...decoded.volume.options } } }, snapshot);
});
fuzz('snapshot', encodeSnapshot(snapshot), (b) => decodeSnapshot(b, 'c'.repeat(64)));

const secrets = generateSecrets();
fuzz('secrets', encodeSecrets(secrets), (b) => decodeSecrets(b, 'key'));
fuzz(
  'config',
  encodeConfig({ version: 1, id: 'd'.repeat(64), created: 'now', aead: 'aes-256-gcm', compression: { algorithm: 'zstd', level: 3 }, chunker: DEFAULT_CHUNKER, packSize: 1 << 24 }),
  decodeConfig,
);
fuzz('envelope', sealEnvelope('aes-256-gcm', secrets.write.metadata, 'snapshots', 'e'.repeat(64), Buffer.from('{}')), (b) => openEnvelope(secrets.write.metadata, 'snapshots', 'e'.repeat(64), b));

test('fuzz: key file', { timeout: 120_000 }, async () => {
  const key = await makeKeyFile(secrets, 'full', { password: 'pw', scrypt: CHEAP_SCRYPT });
  decodeKeyFile(key.bytes, key.name);
  for (const arb of [anyBytes, anyJson, damaged(key.bytes)]) {
    fc.assert(fc.property(arb, (b) => decodesOrRefuses(() => decodeKeyFile(b, key.name))), { numRuns: RUNS });
  }
  // Cost parameters a hostile key file might carry are refused before scrypt runs.
  const doc = JSON.parse(key.bytes.toString()) as { wrap: { N: number } };
  doc.wrap.N = 1 << 30;
  assert.throws(() => decodeKeyFile(Buffer.from(JSON.stringify(doc)), key.name), RepositoryCorrupt);
});

test('fuzz: lock documents decode or are unreadable, never throw', () => {
  for (const arb of [anyBytes, anyJson]) fc.assert(fc.property(arb, (b) => void decodeLock(b)), { numRuns: RUNS });
});

test('fuzz: a tree cache file that does not check out is ignored, never trusted or thrown on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cache-fuzz-'));
  try {
    const key = randomBytes(32);
    const cache = new TreeCache(dir, 'f'.repeat(64));
    const writer = cache.writer();
    const blobs = [Buffer.from('tree one'), Buffer.from('tree two')];
    for (const b of blobs) writer.add(blobId(key, b), b);
    writer.commit('a'.repeat(64));
    const path = join(dir, 'f'.repeat(64), 'trees', 'a'.repeat(64));
    const valid = readFileSync(path);
    assert.equal(cache.read('a'.repeat(64), key)?.size, 2);
    for (const arb of [anyBytes, damaged(valid)]) {
      fc.assert(
        fc.property(arb, (b) => {
          writeFileSync(path, b);
          const trees = cache.read('a'.repeat(64), key);
          // Whatever it hands back is exactly what was stored.
          for (const [k, v] of trees ?? []) assert.ok(blobs.some((x) => idKey(blobId(key, x)) === k && x.equals(v)));
        }),
        { numRuns: RUNS },
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
