// Storing blobs (docs/backup-format.md, "Packs" and "Write order"): a blob
// the repository already has (indexed, or being stored by this process) is
// not stored again, whichever volume it came from. Data blobs are packed by
// the callers' threads, which claim each blob here first and hand over the
// sealed packs; tree blobs are packed here (they are small, and tree packs
// are kept apart from data packs). Each sealed pack is uploaded, then
// indexed in memory; an index file lists the uploaded packs every 64 packs
// and at every flush, so nothing durable ever refers to what is not.
import type { Target } from '../targets/target.js';
import { blobId } from './blob.js';
import { BlobIndex, idKey } from './blob-index.js';
import type { RepositoryConfig } from './config.js';
import { encodeIndexFile, type IndexedPack } from './index-file.js';
import { PackWriter, type SealedPack } from './pack.js';
import type { WriteSecret } from './secrets.js';

/** What one backup added: counted as its new blobs reach a pack. */
export interface StoreLedger {
  blobsAdded: number;
  bytesAdded: number;
}

/** Whoever packs blobs it claimed: flushed (its open packs sealed and handed over) before an index is written. */
export interface PackSource {
  flush(): Promise<void>;
}

/** Packs uploaded between index files: a crash loses the index of at most this many (their blobs are stored again). */
const PACKS_PER_INDEX_FILE = 64;
/** Packs being uploaded at once, and queued for upload before stores wait. */
const PARALLEL_UPLOADS = 2;
const MAX_QUEUED_UPLOADS = 3;

export class BlobStore {
  private readonly pending = new Map<string, StoreLedger | undefined>();
  private readonly sources = new Set<PackSource>();
  private treePack: PackWriter | undefined;
  private unindexed: IndexedPack[] = [];
  private readonly uploads = new Set<Promise<void>>();
  private uploading = 0;
  private uploadQueue: Array<() => void> = [];
  private indexWrite: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly target: Target,
    private readonly config: RepositoryConfig,
    private readonly secret: WriteSecret,
    private readonly index: BlobIndex,
    private readonly saveIndexFile: (plaintext: Buffer) => Promise<string>,
  ) {}

  /** Whether the repository has the blob, or this process is storing it. */
  has(id: Uint8Array): boolean {
    return this.index.has(id) || this.pending.has(idKey(id));
  }

  id(plaintext: Uint8Array): Buffer {
    return blobId(this.secret.blobId, plaintext);
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * Claims the blobs the repository lacks for storing by the caller: the
   * result says, blob by blob, whether to store it (true) or not (the
   * repository has it, or someone in this process is storing it). A
   * claimed blob must reach a pack handed to addPack before the next flush.
   */
  claim(ids: Uint8Array[], ledger?: StoreLedger): boolean[] {
    this.check();
    return ids.map((id) => {
      const key = idKey(id);
      if (this.index.has(id) || this.pending.has(key)) return false;
      this.pending.set(key, ledger);
      return true;
    });
  }

  /** Registers a packer of claimed blobs: flush() flushes it first. */
  addSource(source: PackSource): void {
    this.sources.add(source);
  }

  removeSource(source: PackSource): void {
    this.sources.delete(source);
  }

  /**
   * Takes a sealed pack of claimed blobs: uploads it, then indexes it.
   * `recycle` gets the pack's buffer back once the target is done with it
   * (its packer fills it again instead of allocating another).
   */
  addPack(pack: SealedPack, recycle?: (bytes: Buffer) => void): void {
    this.upload(pack, recycle);
  }

  /** Resolves when fewer packs wait for upload than the bound (callers producing packs wait on it). */
  async uploadRoom(): Promise<void> {
    while (this.uploads.size >= MAX_QUEUED_UPLOADS) {
      await Promise.race(this.uploads);
      this.check();
    }
  }

  /** Stores a tree blob unless the repository has it; returns its ID. */
  async storeTree(plaintext: Buffer, ledger?: StoreLedger): Promise<Buffer> {
    this.check();
    const id = this.id(plaintext);
    if (this.has(id)) return id;
    this.pending.set(idKey(id), ledger);
    this.treePack ??= new PackWriter(this.config.aead, this.secret.publicKey, this.config.compression.level, this.config.packSize);
    this.treePack.add('tree', id, plaintext);
    if (this.treePack.size >= this.config.packSize) {
      await this.uploadRoom();
      this.sealTreePack();
    }
    return id;
  }

  private sealTreePack(): void {
    if (!this.treePack || this.treePack.count === 0) return;
    const sealed = this.treePack.seal();
    this.treePack = undefined;
    this.upload(sealed);
  }

  private upload(pack: SealedPack, recycle?: (bytes: Buffer) => void): void {
    const job = this.uploadPack(pack, recycle).catch((e: unknown) => {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    });
    this.uploads.add(job);
    void job.finally(() => this.uploads.delete(job));
  }

  private async uploadPack(pack: SealedPack, recycle?: (bytes: Buffer) => void): Promise<void> {
    if (this.uploading >= PARALLEL_UPLOADS) await new Promise<void>((r) => this.uploadQueue.push(r));
    this.uploading++;
    try {
      await this.target.put('data', pack.name, pack.bytes);
    } finally {
      this.uploading--;
      this.uploadQueue.shift()?.();
    }
    // The target is done with the body once put resolves (docs/backups.md, "Target").
    recycle?.(pack.bytes);
    const indexed: IndexedPack = { name: pack.name, ephemeral: pack.ephemeral, size: pack.size, blobs: pack.blobs };
    this.index.addPack(indexed);
    for (const b of pack.blobs) {
      const key = idKey(b.id);
      const ledger = this.pending.get(key);
      this.pending.delete(key);
      if (ledger) {
        ledger.blobsAdded++;
        ledger.bytesAdded += b.length;
      }
    }
    this.unindexed.push(indexed);
    if (this.unindexed.length >= PACKS_PER_INDEX_FILE) await this.writeIndex();
  }

  /** Writes an index file for the packs uploaded since the last one (one index write at a time). */
  private writeIndex(): Promise<void> {
    const next = this.indexWrite.then(async () => {
      if (this.unindexed.length === 0) return;
      const packs = this.unindexed;
      this.unindexed = [];
      try {
        await this.saveIndexFile(encodeIndexFile(packs));
      } catch (e) {
        this.unindexed.unshift(...packs);
        throw e;
      }
    });
    this.indexWrite = next.catch(() => undefined);
    return next;
  }

  /**
   * Makes everything stored so far durable and indexed: seals the open
   * packs, waits for every upload, writes the index file. After it
   * resolves, a snapshot may refer to any blob this store has reported.
   */
  async flush(): Promise<void> {
    this.check();
    for (const source of [...this.sources]) await source.flush();
    this.sealTreePack();
    while (this.uploads.size > 0) await Promise.all(this.uploads);
    this.check();
    await this.writeIndex();
  }
}
