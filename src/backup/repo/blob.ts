// Blobs: the two types, their IDs, and one blob's box inside a pack (its
// compression and its encryption, bound to its type and ID).
import { createRequire } from 'node:module';
import { Decompressor } from 'zstd-napi';
import { associatedData, hmac, openBox, sealBoxInto, type Aead } from './crypto.js';
import { RepositoryCorrupt } from './errors.js';

export type BlobType = 'data' | 'tree';
export const BLOB_TYPE_BYTE: Record<BlobType, number> = { data: 0, tree: 1 };
export const blobTypeOf = (byte: number): BlobType | undefined => (byte === 0 ? 'data' : byte === 1 ? 'tree' : undefined);

export const ID_BYTES = 32;
export const FLAG_COMPRESSED = 1;

/** A blob's ID: the keyed hash of its plaintext. */
export const blobId = (blobIdKey: Buffer, plaintext: Uint8Array): Buffer => hmac(blobIdKey, plaintext);

export const idHex = (id: Uint8Array): string => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
export const shortId = (id: Uint8Array | string): string => (typeof id === 'string' ? id : idHex(id)).slice(0, 8);

export const blobAad = (type: BlobType, id: Uint8Array): Buffer => associatedData('blob', Buffer.from([BLOB_TYPE_BYTE[type]]), id);

// zstd-napi's binding, for compressing into a buffer that is used again and again (its Compressor allocates a result per call).
interface ZstdCCtx {
  setParameter(param: number, value: number): void;
  compress2(dst: Uint8Array, src: Uint8Array): number;
}
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as {
  CCtx: new () => ZstdCCtx;
  CParameter: { compressionLevel: number };
  compressBound(n: number): number;
};

/** Larger blobs are sampled first: this much of their start is compressed to see whether the rest is worth it. */
const SAMPLE_BYTES = 64 << 10;
/** A sample that does not shrink below this share of its size marks its blob as incompressible. */
const INCOMPRESSIBLE = 0.98;

/**
 * Compresses blobs into one reused buffer. A blob above twice the sample
 * size whose start does not shrink is stored raw without compressing the
 * rest: on incompressible data (media, archives, encrypted files)
 * compressing whole blobs costs about as much as everything else a backup
 * does to them.
 */
class BlobCompressor {
  private readonly cctx = new zstd.CCtx();
  private out = Buffer.allocUnsafeSlow(zstd.compressBound(SAMPLE_BYTES));

  constructor(readonly level: number) {
    this.cctx.setParameter(zstd.CParameter.compressionLevel, level);
  }

  /** The blob's zstd frame (a view of a buffer reused by the next call), or undefined when it is stored raw. */
  compress(plaintext: Uint8Array): Buffer | undefined {
    if (plaintext.length > 2 * SAMPLE_BYTES && this.cctx.compress2(this.out, plaintext.subarray(0, SAMPLE_BYTES)) >= SAMPLE_BYTES * INCOMPRESSIBLE) return undefined;
    const bound = zstd.compressBound(plaintext.length);
    if (this.out.length < bound) this.out = Buffer.allocUnsafeSlow(bound);
    const n = this.cctx.compress2(this.out, plaintext);
    return n < plaintext.length ? this.out.subarray(0, n) : undefined;
  }
}

let compressor: BlobCompressor | undefined;
let decompressor: Decompressor | undefined;

/**
 * Seals one blob as a box into `out` at `at` (room for its plaintext plus
 * BOX_OVERHEAD): compressed when that shrinks it, then sealed under the
 * pack key. Returns the box's length and whether it is compressed.
 */
export function sealBlobInto(aead: Aead, packKey: Buffer, type: BlobType, id: Uint8Array, plaintext: Uint8Array, level: number, nonce: Buffer, out: Buffer, at: number): { length: number; compressed: boolean } {
  if (compressor?.level !== level) compressor = new BlobCompressor(level);
  const frame = compressor.compress(plaintext);
  return { length: sealBoxInto(aead, packKey, frame ?? plaintext, blobAad(type, id), nonce, out, at), compressed: frame !== undefined };
}

export interface BlobRef {
  type: BlobType;
  id: Uint8Array;
  compressed: boolean;
  rawLength: number;
}

/**
 * A blob's plaintext from its box, checked three ways: it authenticates
 * (type and ID included), it has the plaintext length recorded, and its
 * keyed hash is its ID. `what` names it in errors.
 */
export function openBlob(aead: Aead, packKey: Buffer, blobIdKey: Buffer, ref: BlobRef, box: Uint8Array, what: string): Buffer {
  return openBlobStored(aead, packKey, blobIdKey, ref, box, what).plaintext;
}

/** openBlob, also handing back the box's content as stored (compressed when flagged), for a repack. */
export function openBlobStored(aead: Aead, packKey: Buffer, blobIdKey: Buffer, ref: BlobRef, box: Uint8Array, what: string): { stored: Buffer; plaintext: Buffer } {
  const stored = openBox(aead, packKey, box, blobAad(ref.type, ref.id), what);
  let plaintext = stored;
  if (ref.compressed) {
    decompressor ??= new Decompressor();
    try {
      plaintext = decompressor.decompress(stored);
    } catch (e) {
      throw new RepositoryCorrupt(`${what} is corrupt: it does not decompress (${(e as Error).message})`, { cause: e });
    }
  }
  if (plaintext.length !== ref.rawLength) throw new RepositoryCorrupt(`${what} is corrupt: ${plaintext.length} bytes where ${ref.rawLength} were stored`);
  if (!blobId(blobIdKey, plaintext).equals(ref.id)) throw new RepositoryCorrupt(`${what} is corrupt: its content does not match its ID`);
  return { stored, plaintext };
}
