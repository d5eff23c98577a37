// Reading files into the blob store: each file's data (its extents, holes
// left out) is read into large segment buffers, cut into blobs as the
// chunker says, and each blob hashed here; the blobs the repository lacks
// go with their segment to the packing threads. Reads, cuts and hashes stay
// on this thread so the IDs are known at once (trees are built from them
// without waiting); compression and encryption, the bulk of the work, run
// beside it.
import { readSync } from 'node:fs';
import type { Extent } from '../../fs/extents.js';
import type { StoreLedger } from '../repo/blob-store.js';
import { CdcCutter, gearTable, type Chunking } from '../repo/chunker.js';
import type { BlobSlice } from '../repo/pack-worker.js';
import type { Repository } from '../repo/repository.js';

/** A file that ended before its size said: it was written to while it was read. */
export class FileShrank extends Error {}

/** A segment holds complete blobs for the packing threads; at least the largest chunk plus one read. */
const SEGMENT_BYTES = 16 << 20;
const READ_BYTES = 4 << 20;

export class FileStorer {
  private seg: Buffer = Buffer.allocUnsafeSlow(SEGMENT_BYTES);
  /** A segment the packing threads did not take, to fill next. */
  private spare: Buffer | undefined;
  private filled = 0;
  private blobs: BlobSlice[] = [];
  private readonly cutter: CdcCutter;
  /** Bytes of file data read so far (progress). */
  bytesRead = 0;

  constructor(
    private readonly repo: Repository,
    private readonly ledger: StoreLedger,
  ) {
    if (SEGMENT_BYTES < repo.config.chunker.max + READ_BYTES) throw new Error('segments are smaller than the largest chunk');
    this.cutter = new CdcCutter(gearTable(repo.secrets.write.chunker), repo.config.chunker);
  }

  /**
   * Hands the complete blobs of the segment to the store and starts a new
   * segment with the bytes from `keepFrom` on (the chunk being cut);
   * returns where that chunk now starts.
   */
  private async roll(keepFrom: number): Promise<number> {
    const next = this.spare ?? Buffer.allocUnsafeSlow(SEGMENT_BYTES);
    this.spare = undefined;
    const kept = this.filled - keepFrom;
    this.seg.copy(next, 0, keepFrom, this.filled);
    const old = this.seg;
    const blobs = this.blobs;
    this.seg = next;
    this.filled = kept;
    this.blobs = [];
    const taken = blobs.length > 0 && (await this.repo.blobs.storeData(old, blobs, this.ledger));
    if (!taken) this.spare = old;
    return 0;
  }

  private emit(start: number, end: number, ids: Buffer[]): void {
    const id = this.repo.blobs.id(this.seg.subarray(start, end));
    ids.push(id);
    this.blobs.push({ id, offset: start, length: end - start });
  }

  /**
   * Reads the data of the open file `fd` (the given extents, in order),
   * stores its blobs and returns their IDs. Throws when the file is shorter
   * than its extents say (it shrank while it was read).
   */
  async storeFile(fd: number, extents: Extent[], chunking: Chunking, what: string): Promise<Buffer[]> {
    const ids: Buffer[] = [];
    this.cutter.reset();
    let chunkStart = this.filled;
    const lastExtent = extents.length - 1;
    for (let xi = 0; xi <= lastExtent; xi++) {
      const x = extents[xi]!;
      let pos = x.offset;
      let left = x.length;
      while (left > 0) {
        if (this.seg.length - this.filled < Math.min(left, READ_BYTES)) chunkStart = await this.roll(chunkStart);
        const n = readSync(fd, this.seg, this.filled, Math.min(left, READ_BYTES, this.seg.length - this.filled), pos);
        if (n === 0) throw new FileShrank(`${what} shrank while it was read`);
        this.filled += n;
        this.bytesRead += n;
        pos += n;
        left -= n;
        chunkStart = this.cut(chunkStart, chunking, xi === lastExtent && left === 0, ids);
      }
    }
    return ids;
  }

  /** Cuts the complete chunks from `chunkStart` on; returns where the unfinished one starts. */
  private cut(chunkStart: number, chunking: Chunking, eof: boolean, ids: Buffer[]): number {
    switch (chunking.kind) {
      case 'whole':
        if (eof && this.filled > chunkStart) {
          this.emit(chunkStart, this.filled, ids);
          return this.filled;
        }
        return chunkStart;
      case 'fixed': {
        const b = chunking.block;
        while (this.filled - chunkStart >= b || (eof && this.filled > chunkStart)) {
          const end = Math.min(chunkStart + b, this.filled);
          this.emit(chunkStart, end, ids);
          chunkStart = end;
        }
        return chunkStart;
      }
      case 'cdc':
        while (chunkStart < this.filled) {
          const length = this.cutter.next(this.seg, chunkStart, this.filled, eof);
          if (length === 0) break;
          this.emit(chunkStart, chunkStart + length, ids);
          chunkStart += length;
        }
        return chunkStart;
    }
  }

  /** Hands the blobs read so far to the store. */
  async flush(): Promise<void> {
    if (this.blobs.length > 0) await this.roll(this.filled);
  }
}
