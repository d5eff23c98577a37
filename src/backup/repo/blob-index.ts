// The repository's index in memory: the union of every index file, blob ID
// to where it is stored. Dedup asks it whether a blob exists; readers ask
// it where.
import type { BlobType } from './blob.js';
import type { IndexedPack } from './index-file.js';

export interface PackRef {
  name: string;
  ephemeral: Buffer;
  size: number;
}

export interface BlobLocation {
  pack: PackRef;
  type: BlobType;
  id: Buffer;
  compressed: boolean;
  offset: number;
  length: number;
  rawLength: number;
}

/** A blob ID as a map key: its 32 bytes as a one-byte-per-char string. */
export const idKey = (id: Uint8Array): string => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');

export class BlobIndex {
  private readonly blobs = new Map<string, BlobLocation>();
  private readonly packRefs = new Map<string, PackRef>();

  /** Adds a pack's blobs; a blob already known elsewhere keeps its first location. */
  addPack(p: IndexedPack): void {
    const ref = this.packRefs.get(p.name) ?? { name: p.name, ephemeral: p.ephemeral, size: p.size };
    this.packRefs.set(p.name, ref);
    for (const b of p.blobs) {
      const key = idKey(b.id);
      if (this.blobs.has(key)) continue;
      this.blobs.set(key, { pack: ref, type: b.type, id: b.id, compressed: b.compressed, offset: b.offset, length: b.length, rawLength: b.rawLength });
    }
  }

  get(id: Uint8Array): BlobLocation | undefined {
    return this.blobs.get(idKey(id));
  }

  has(id: Uint8Array): boolean {
    return this.blobs.has(idKey(id));
  }

  get size(): number {
    return this.blobs.size;
  }

  packs(): IterableIterator<PackRef> {
    return this.packRefs.values();
  }

  hasPack(name: string): boolean {
    return this.packRefs.has(name);
  }

  all(): IterableIterator<BlobLocation> {
    return this.blobs.values();
  }
}
