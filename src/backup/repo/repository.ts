// A backup repository on a Target (docs/backup-format.md): init and open
// with a passphrase or an X25519 identity, its keys, its index, blobs,
// trees, snapshots and locks. It knows nothing of volumes or containers:
// the engine (src/backup/engine/) brings directory trees in and out.
import { availableParallelism } from 'node:os';
import { Conflict, InvalidParameter, NotFound } from '../../errors.js';
import type { FileKind, Target } from '../targets/target.js';
import { openBlob, shortId, type BlobType } from './blob.js';
import { BlobIndex, type BlobLocation, type PackRef } from './blob-index.js';
import { BlobStore } from './blob-store.js';
import {
  checkChunkerParams,
  DEFAULT_CHUNKER,
  DEFAULT_COMPRESSION_LEVEL,
  DEFAULT_PACK_SIZE,
  decodeConfig,
  encodeConfig,
  FORMAT_VERSION,
  type ChunkerParams,
  type RepositoryConfig,
} from './config.js';
import { hmac, type Aead, type ScryptParams } from './crypto.js';
import { openEnvelope, sealEnvelope } from './envelope.js';
import { RepositoryCorrupt, WrongCredentials, WriteOnlyKey } from './errors.js';
import { decodeIndexFile, type IndexedPack } from './index-file.js';
import { credentialFits, keyInfo, makeKeyFile, readKeyFiles, unwrapKeyFile, type KeyCredential, type KeyInfo, type KeyKind, type KeyProtection } from './keys.js';
import { RepositoryLock, type LockKind } from './lock.js';
import { packKeyForReader } from './pack.js';
import { parseIdentity } from './recipients.js';
import { generateSecrets, type Secrets } from './secrets.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot, type SnapshotRecord } from './snapshot.js';
import { decodeTree, type Tree } from './tree.js';

export interface InitOptions {
  /** A passphrase for the first full key (BERTH_PASSWORD). */
  password?: string;
  /** X25519 recipients ("berth1..."), each given a full key. */
  recipients?: string[];
  aead?: Aead;
  compressionLevel?: number;
  chunker?: Partial<ChunkerParams>;
  packSize?: number;
  /** scrypt cost of passphrase keys (tests use a cheap one). */
  scrypt?: ScryptParams;
}

/** What opens a repository: a passphrase, or an identity's text (an identity file's content). */
export interface Credentials {
  password?: string;
  identity?: string;
}

export interface RepositoryOptions {
  /** Threads a backup reads, hashes and packs files with (default: the cores, at most 4). */
  threads?: number;
}

function credentialsOf(c: Credentials): KeyCredential[] {
  const out: KeyCredential[] = [];
  if (c.password !== undefined) out.push({ password: c.password });
  if (c.identity !== undefined) out.push({ identity: parseIdentity(c.identity) });
  if (out.length === 0) throw new InvalidParameter('a passphrase or an identity is needed to open the repository');
  return out;
}

export class Repository {
  readonly index = new BlobIndex();
  private readonly loadedIndexFiles = new Set<string>();
  /** Index files that did not decode when loaded, with why. */
  readonly damagedIndexFiles = new Map<string, Error>();
  private readonly packKeys = new Map<string, Buffer>();
  private store: BlobStore | undefined;

  private constructor(
    readonly target: Target,
    readonly config: RepositoryConfig,
    readonly secrets: Secrets,
    /** The key this repository was opened with. */
    readonly keyId: string,
    private readonly options: RepositoryOptions,
  ) {}

  get id(): string {
    return this.config.id;
  }

  get access(): KeyKind {
    return this.secrets.read ? 'full' : 'write-only';
  }

  /** The read secret, or WriteOnlyKey naming `operation`. */
  requireRead(operation: string): Buffer {
    if (!this.secrets.read) throw new WriteOnlyKey(operation);
    return this.secrets.read.privateKey;
  }

  static async init(target: Target, opts: InitOptions, options: RepositoryOptions = {}): Promise<Repository> {
    if ((await target.stat('config', 'config')) !== undefined) throw new Conflict(`a repository already exists at ${target.location}`);
    if (opts.password === undefined && (opts.recipients ?? []).length === 0) throw new InvalidParameter('init needs a passphrase or at least one recipient');
    const secrets = generateSecrets();
    const chunker = { ...DEFAULT_CHUNKER, ...opts.chunker };
    checkChunkerParams(chunker, 'invalid chunker parameters');
    const config: RepositoryConfig = {
      version: FORMAT_VERSION,
      id: secrets.write.repository.toString('hex'),
      created: new Date().toISOString(),
      aead: opts.aead ?? 'aes-256-gcm',
      compression: { algorithm: 'zstd', level: opts.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL },
      chunker,
      packSize: opts.packSize ?? DEFAULT_PACK_SIZE,
    };
    // Keys first: a config without a key that opens it would be a repository nobody can use.
    const protections: KeyProtection[] = [];
    if (opts.password !== undefined) protections.push({ password: opts.password, ...(opts.scrypt ? { scrypt: opts.scrypt } : {}) });
    for (const recipient of opts.recipients ?? []) protections.push({ recipient });
    let firstKey = '';
    for (const p of protections) {
      const key = await makeKeyFile(secrets, 'full', p);
      await target.put('keys', key.name, key.bytes);
      firstKey ||= key.name;
    }
    await target.put('config', 'config', sealEnvelope(config.aead, secrets.write.metadata, 'config', 'config', encodeConfig(config)));
    return new Repository(target, config, secrets, firstKey, options);
  }

  /** Opens with the first key the credentials open; WrongCredentials when none does. */
  static async open(target: Target, credentials: Credentials, options: RepositoryOptions = {}): Promise<Repository> {
    const configFile = await target.get('config', 'config').catch((e: unknown) => {
      if (e instanceof NotFound) throw new NotFound(`there is no berth repository at ${target.location}`);
      throw e;
    });
    const creds = credentialsOf(credentials);
    const keys = await readKeyFiles(target);
    for (const { name, file } of keys) {
      for (const cred of creds) {
        if (!credentialFits(file, cred)) continue;
        const secrets = await unwrapKeyFile(file, name, cred);
        if (!secrets) continue;
        const config = decodeConfig(openEnvelope(secrets.write.metadata, 'config', 'config', configFile));
        if (config.id !== file.repository) throw new RepositoryCorrupt(`the config of ${target.location} belongs to another repository than key ${shortId(name)}`);
        const repo = new Repository(target, config, secrets, name, options);
        await repo.loadIndex();
        return repo;
      }
    }
    throw new WrongCredentials(`wrong passphrase or identity: no key of ${target.location} opens with it`);
  }

  // --- keys ---

  async addKey(kind: KeyKind, protection: KeyProtection): Promise<KeyInfo> {
    if (kind === 'full') this.requireRead('adding a full key');
    const key = await makeKeyFile(this.secrets, kind, protection);
    await this.target.put('keys', key.name, key.bytes);
    const { file } = (await readKeyFiles(this.target)).find((k) => k.name === key.name)!;
    return keyInfo(key.name, file);
  }

  async listKeys(): Promise<KeyInfo[]> {
    return (await readKeyFiles(this.target)).filter((k) => k.file.repository === this.id).map((k) => keyInfo(k.name, k.file));
  }

  /** Removes a key (by ID or a unique prefix); refuses the last full key. */
  async removeKey(idOrPrefix: string): Promise<void> {
    const lock = await this.lock('exclusive', 'key remove');
    try {
      const keys = await this.listKeys();
      const key = uniqueByPrefix(keys, (k) => k.id, idOrPrefix, 'key');
      if (key.kind === 'full' && keys.filter((k) => k.kind === 'full').length === 1) {
        throw new Conflict(`key ${shortId(key.id)} is the last full key: without it no one could read the repository's data`);
      }
      await this.target.delete('keys', key.id);
    } finally {
      await lock.release();
    }
  }

  /** A new passphrase key replacing the one this repository was opened with; no data is rewritten. */
  async changePassword(password: string, scrypt?: ScryptParams): Promise<KeyInfo> {
    const old = (await this.listKeys()).find((k) => k.id === this.keyId);
    if (!old || old.wrappedFor !== 'passphrase') throw new InvalidParameter('the repository was not opened with a passphrase key');
    const added = await this.addKey(old.kind, { password, ...(scrypt ? { scrypt } : {}) });
    await this.target.delete('keys', this.keyId);
    return added;
  }

  // --- locks ---

  lock(kind: LockKind, operation: string): Promise<RepositoryLock> {
    return RepositoryLock.acquire(this.target, { aead: this.config.aead, metadataKey: this.secrets.write.metadata }, kind, operation);
  }

  // --- metadata files (index, snapshots) ---

  private nameOf(plaintext: Buffer): string {
    return hmac(this.secrets.write.names, plaintext).toString('hex');
  }

  /** Writes a content-addressed metadata file; returns its name. */
  async saveMetadata(kind: 'index' | 'snapshots', plaintext: Buffer): Promise<string> {
    const name = this.nameOf(plaintext);
    await this.target.put(kind, name, sealEnvelope(this.config.aead, this.secrets.write.metadata, kind, name, plaintext));
    return name;
  }

  async loadMetadata(kind: 'index' | 'snapshots', name: string): Promise<Buffer> {
    const plaintext = openEnvelope(this.secrets.write.metadata, kind, name, await this.target.get(kind, name));
    if (this.nameOf(plaintext) !== name) throw new RepositoryCorrupt(`${kind} file ${shortId(name)} is corrupt: its content does not match its name`);
    return plaintext;
  }

  // --- index ---

  /**
   * Reads the index files not read yet (another process may have added
   * some). One that does not decode is left out and named in
   * `damagedIndexFiles`: what it listed is stored again by the next backup,
   * and check reports what it costs.
   */
  async loadIndex(): Promise<void> {
    for (const f of await listNames(this.target, 'index')) {
      if (this.loadedIndexFiles.has(f)) continue;
      try {
        for (const p of decodeIndexFile(await this.loadMetadata('index', f), `index file ${shortId(f)}`)) this.index.addPack(p);
      } catch (e) {
        if (!(e instanceof RepositoryCorrupt)) throw e;
        this.damagedIndexFiles.set(f, e);
      }
      this.loadedIndexFiles.add(f);
    }
  }

  /** Every index file with its packs (check and prune look at them one by one). */
  async readIndexFiles(onCorrupt?: (name: string, e: Error) => void): Promise<Array<{ name: string; packs: IndexedPack[] }>> {
    const out: Array<{ name: string; packs: IndexedPack[] }> = [];
    for (const name of await listNames(this.target, 'index')) {
      try {
        out.push({ name, packs: decodeIndexFile(await this.loadMetadata('index', name), `index file ${shortId(name)}`) });
      } catch (e) {
        if (!(e instanceof RepositoryCorrupt) || !onCorrupt) throw e;
        onCorrupt(name, e);
      }
    }
    return out;
  }

  // --- blobs ---

  get blobs(): BlobStore {
    this.store ??= new BlobStore(this.target, this.config, this.secrets.write, this.index, (p) => this.saveMetadata('index', p));
    return this.store;
  }

  /** The key that opens a pack (needs the read secret). */
  packKey(pack: PackRef): Buffer {
    let key = this.packKeys.get(pack.name);
    if (!key) {
      key = packKeyForReader(this.requireRead('reading data'), this.secrets.write.publicKey, pack.ephemeral);
      this.packKeys.set(pack.name, key);
    }
    return key;
  }

  locate(id: Uint8Array, type?: BlobType): BlobLocation {
    const loc = this.index.get(id);
    if (!loc || (type !== undefined && loc.type !== type)) throw new NotFound(`${type ?? 'blob'} blob ${shortId(id)} is not in the repository's index`);
    return loc;
  }

  /** A blob's plaintext, checked against its ID. */
  async loadBlob(id: Uint8Array, type?: BlobType): Promise<Buffer> {
    const loc = this.locate(id, type);
    const box = await this.target.getRange('data', loc.pack.name, loc.offset, loc.length);
    return openBlob(this.config.aead, this.packKey(loc.pack), this.secrets.write.blobId, loc, box, `${loc.type} blob ${shortId(id)} in pack ${shortId(loc.pack.name)}`);
  }

  async loadTree(id: Uint8Array): Promise<Tree> {
    return decodeTree(await this.loadBlob(id, 'tree'), `tree ${shortId(id)}`);
  }

  // --- snapshots ---

  async saveSnapshot(s: Snapshot): Promise<SnapshotRecord> {
    const plaintext = encodeSnapshot(s);
    const id = await this.saveMetadata('snapshots', plaintext);
    return { ...s, id };
  }

  async loadSnapshot(idOrPrefix: string): Promise<SnapshotRecord> {
    const names = await listNames(this.target, 'snapshots');
    const id = uniqueByPrefix(names, (n) => n, idOrPrefix, 'snapshot');
    return decodeSnapshot(await this.loadMetadata('snapshots', id), id);
  }

  /** Every snapshot, oldest first; one that cannot be read goes to `onCorrupt` (or fails the listing). */
  async listSnapshots(onCorrupt?: (id: string, e: Error) => void): Promise<SnapshotRecord[]> {
    const out: SnapshotRecord[] = [];
    for (const id of await listNames(this.target, 'snapshots')) {
      try {
        out.push(decodeSnapshot(await this.loadMetadata('snapshots', id), id));
      } catch (e) {
        if (!(e instanceof RepositoryCorrupt) || !onCorrupt) throw e;
        onCorrupt(id, e);
      }
    }
    return out.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : a.id.localeCompare(b.id)));
  }

  async deleteSnapshot(id: string): Promise<void> {
    await this.target.delete('snapshots', id);
  }

  /** Threads a backup reads, hashes and packs files with. */
  get threads(): number {
    return Math.max(1, Math.min(this.options.threads ?? availableParallelism(), 4));
  }
}

export async function listNames(target: Target, kind: FileKind): Promise<string[]> {
  const out: string[] = [];
  for await (const f of target.list(kind)) out.push(f.name);
  return out.sort();
}

/** The one item whose key starts with `prefix` (at least 4 characters, or the full ID). */
export function uniqueByPrefix<T>(items: T[], key: (t: T) => string, prefix: string, what: string): T {
  if (!/^[0-9a-f]{4,64}$/.test(prefix)) throw new InvalidParameter(`${JSON.stringify(prefix)} is not a ${what} ID (4 to 64 hex digits)`);
  const found = items.filter((t) => key(t).startsWith(prefix));
  if (found.length === 0) throw new NotFound(`no ${what} ${prefix}`);
  if (found.length > 1) throw new InvalidParameter(`${what} ID ${prefix} is ambiguous: it matches ${found.length}`);
  return found[0]!;
}

export const initRepository = Repository.init.bind(Repository);
export const openRepository = Repository.open.bind(Repository);
