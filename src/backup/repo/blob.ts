// Blobs: the two types, their IDs, and one blob's box inside a pack (its
// compression and its encryption, bound to its type and ID).
import { Compressor, Decompressor } from 'zstd-napi';
import { associatedData, hmac, openBox, sealBox, type Aead } from './crypto.js';
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

let compressor: { level: number; c: Compressor } | undefined;
let decompressor: Decompressor | undefined;

export interface BlobBox {
  box: Buffer;
  compressed: boolean;
}

/** The box of one blob: compressed when that shrinks it, then sealed under the pack key. */
export function sealBlob(aead: Aead, packKey: Buffer, type: BlobType, id: Uint8Array, plaintext: Uint8Array, level: number): BlobBox {
  if (compressor?.level !== level) {
    const c = new Compressor();
    c.setParameters({ compressionLevel: level });
    compressor = { level, c };
  }
  const frame = compressor.c.compress(plaintext);
  const compressed = frame.length < plaintext.length;
  return { box: sealBox(aead, packKey, compressed ? frame : plaintext, blobAad(type, id)), compressed };
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
