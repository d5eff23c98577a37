// Cutting file data into blobs (docs/backup-format.md, "Chunking"): whole
// below the minimum chunk size, FastCDC over a keyed gear hash for most
// files, fixed blocks for large files (modified in place, so scattered
// writes cost a block each rather than a megabyte chunk each).
import { hkdf } from './crypto.js';
import type { ChunkerParams } from './config.js';

/** Bytes of history a 32-bit gear hash depends on: each byte's bit leaves after 32 shifts. */
const GEAR_WINDOW = 32;

/** The secret gear table: 256 u32 from HKDF of the chunker key. */
export function gearTable(chunkerKey: Buffer): Uint32Array {
  const bytes = hkdf(chunkerKey, Buffer.alloc(0), 'berth gear v1', 1024);
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) table[i] = bytes.readUInt32LE(i * 4);
  return table;
}

/** A mask of the top `bits` bits of a 32-bit word, as the int32 the hash loop compares with. */
const topBits = (bits: number): number => (0xffffffff << (32 - bits)) | 0;

/**
 * Finds content-defined cut points in a stream handed over in pieces. The
 * current chunk starts at `start` of the buffer passed; when no cut is in
 * the bytes available yet, the hash state is kept so the next call (with
 * the same chunk start and more bytes) goes on where this one stopped.
 */
export class CdcCutter {
  private readonly maskBelowAvg: number;
  private readonly maskAboveAvg: number;
  private h = 0;
  /** Bytes of the current chunk already hashed (or skipped). */
  private done = 0;

  constructor(
    private readonly gear: Uint32Array,
    private readonly p: Pick<ChunkerParams, 'min' | 'avg' | 'max'>,
  ) {
    const avgBits = Math.log2(p.avg);
    this.maskBelowAvg = topBits(avgBits + 2);
    this.maskAboveAvg = topBits(avgBits - 2);
  }

  /**
   * The length of the chunk that starts at `start`, when its end lies
   * before `end` (or `eof` says the stream ends at `end`); 0 when more
   * bytes are needed.
   */
  next(buf: Uint8Array, start: number, end: number, eof: boolean): number {
    const { min, avg, max } = this.p;
    const available = end - start;
    if (available < min) {
      if (eof) return this.cut(available);
      return 0;
    }
    const gear = this.gear;
    let h = this.h;
    let i = start + Math.max(this.done, min - GEAR_WINDOW);
    // Warm the hash over the window before the minimum: no cut there.
    const warmEnd = start + min;
    for (; i < warmEnd; i++) h = ((h << 1) + gear[buf[i]!]!) | 0;
    const normalEnd = Math.min(end, start + avg);
    const mS = this.maskBelowAvg;
    for (; i < normalEnd; i++) {
      h = ((h << 1) + gear[buf[i]!]!) | 0;
      if ((h & mS) === 0) return this.cut(i + 1 - start);
    }
    const hardEnd = Math.min(end, start + max);
    const mL = this.maskAboveAvg;
    for (; i < hardEnd; i++) {
      h = ((h << 1) + gear[buf[i]!]!) | 0;
      if ((h & mL) === 0) return this.cut(i + 1 - start);
    }
    if (i - start >= max) return this.cut(max);
    if (eof) return this.cut(available);
    this.h = h;
    this.done = i - start;
    return 0;
  }

  /** Forgets a chunk in progress (a new stream starts). */
  reset(): void {
    this.h = 0;
    this.done = 0;
  }

  private cut(length: number): number {
    this.h = 0;
    this.done = 0;
    return length;
  }
}

export type Chunking = { kind: 'whole' } | { kind: 'cdc' } | { kind: 'fixed'; block: number };

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * How a file with `dataLength` bytes of data is cut. A file that was cut
 * in fixed blocks in the parent snapshot keeps its block size while it
 * has at most 4x the blocks the size rule allows, so its unchanged blocks
 * keep their IDs as it grows or shrinks.
 */
export function chunkingFor(dataLength: number, p: ChunkerParams, parentBlock?: number): Chunking {
  if (dataLength < p.min) return { kind: 'whole' };
  if (dataLength < p.fixedFrom) return { kind: 'cdc' };
  if (parentBlock !== undefined && parentBlock >= p.fixedBlockMin && parentBlock <= p.fixedBlockMax && dataLength / parentBlock <= 4 * p.fixedMaxBlocks) {
    return { kind: 'fixed', block: parentBlock };
  }
  const block = Math.min(p.fixedBlockMax, Math.max(p.fixedBlockMin, nextPow2(Math.ceil(dataLength / p.fixedMaxBlocks))));
  return { kind: 'fixed', block };
}
