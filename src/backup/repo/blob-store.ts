// Storing blobs (docs/backup-format.md, "Packs" and "Write order"): a blob
// the repository already has (indexed, or queued by this process) is not
// stored again, whichever volume it came from. Data blobs are packed on
// the packing threads, tree blobs on this thread (they are small, and tree
// packs are kept apart from data packs). Each sealed pack is uploaded, then
// indexed in memory; an index file lists the uploaded packs every 64 packs
// and at every flush, so nothing durable ever refers to what is not.
import { availableParallelism } from 'node:os';
import type { Target } from '../targets/target.js';
import { blobId } from './blob.js';
import { BlobIndex, idKey } from './blob-index.js';
import type { RepositoryConfig } from './config.js';
import { encodeIndexFile, type IndexedPack } from './index-file.js';
import { PackWriter, type SealedPack } from './pack.js';
import { PackWorkers } from './pack-workers.js';
import type { BlobSlice } from './pack-worker.js';
import type { WriteSecret } from './secrets.js';

/** What one backup added: counted as its new blobs reach a pack. */
export interface StoreLedger {
  blobsAdded: number;
  bytesAdded: number;
}

/** Packs uploaded between index files: a crash loses the index of at most this many (their blobs are stored again). */
const PACKS_PER_INDEX_FILE = 64;
/** Packs being uploaded at once, and queued for upload before stores wait. */
const PARALLEL_UPLOADS = 2;
const MAX_QUEUED_UPLOADS = 4;

export class BlobStore {
  private readonly pending = new Map<string, StoreLedger | undefined>();
  private workers: PackWorkers | undefined;
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
    private readonly threads = Math.max(1, Math.min(availableParallelism(), 4)),
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

  private packWorkers(): PackWorkers {
    this.workers ??= new PackWorkers(
      this.threads,
      { aead: this.config.aead, publicKey: this.secret.publicKey, level: this.config.compression.level, packSize: this.config.packSize },
      (p) => this.upload(p),
    );
    return this.workers;
  }

  /**
   * Stores the data blobs of `blobs` (slices of `data`, IDs computed by the
   * caller) that the repository lacks. True when `data` was handed to a
   * packing thread: it is then unusable here (detached), and the caller
   * reads into a new buffer.
   */
  async storeData(data: Buffer, blobs: BlobSlice[], ledger?: StoreLedger): Promise<boolean> {
    this.check();
    const fresh: BlobSlice[] = [];
    let freshBytes = 0;
    for (const b of blobs) {
      const key = idKey(b.id);
      if (this.index.has(b.id) || this.pending.has(key)) continue;
      this.pending.set(key, ledger);
      fresh.push(b);
      freshBytes += b.length;
    }
    if (fresh.length === 0) return false;
    await this.uploadRoom();
    if (freshBytes >= data.length / 2) {
      await this.packWorkers().store(data, fresh);
      return true;
    }
    // Few new blobs in a large buffer: send a copy of just them, the caller keeps its buffer.
    const compact = Buffer.allocUnsafeSlow(freshBytes);
    let at = 0;
    const moved = fresh.map((b) => {
      data.copy(compact, at, b.offset, b.offset + b.length);
      const slice = { id: b.id, offset: at, length: b.length };
      at += b.length;
      return slice;
    });
    await this.packWorkers().store(compact, moved);
    return false;
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

  private async uploadRoom(): Promise<void> {
    while (this.uploads.size >= MAX_QUEUED_UPLOADS) {
      await Promise.race(this.uploads);
      this.check();
    }
  }

  private upload(pack: SealedPack): void {
    const job = this.uploadPack(pack).catch((e: unknown) => {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    });
    this.uploads.add(job);
    void job.finally(() => this.uploads.delete(job));
  }

  private async uploadPack(pack: SealedPack): Promise<void> {
    if (this.uploading >= PARALLEL_UPLOADS) await new Promise<void>((r) => this.uploadQueue.push(r));
    this.uploading++;
    try {
      await this.target.put('data', pack.name, pack.bytes);
    } finally {
      this.uploading--;
      this.uploadQueue.shift()?.();
    }
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
    await this.workers?.flush();
    this.sealTreePack();
    while (this.uploads.size > 0) await Promise.all(this.uploads);
    this.check();
    await this.writeIndex();
  }

  /** Stops the packing threads; what was not flushed is dropped (never referred to). */
  async close(): Promise<void> {
    const w = this.workers;
    this.workers = undefined;
    await w?.terminate();
  }
}
