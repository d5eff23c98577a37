// Packs (docs/backup-format.md, "Packs"): blob boxes, then the header box
// listing them, then a plain trailer. Each pack is sealed to the
// repository's public key with a key of its own (ephemeral X25519), so a
// write-only host writes packs it cannot read back.
import { createHash } from 'node:crypto';
import { ByteReader, ByteWriter } from './binary.js';
import { BLOB_TYPE_BYTE, blobAad, blobTypeOf, FLAG_COMPRESSED, ID_BYTES, sealBlobInto, type BlobType } from './blob.js';
import { associatedData, BOX_OVERHEAD, KEY_BYTES, NONCE_BYTES, openBox, sealBox, sealBoxInto, x25519Derive, x25519Generate, type Aead } from './crypto.js';
import { RepositoryCorrupt } from './errors.js';

const HEADER_VERSION = 1;
const MAGIC = Buffer.from('berthpk1');
export const TRAILER_BYTES = KEY_BYTES + 4 + MAGIC.length;
const PACK_INFO = 'berth pack v1';
/** A pack must stay addressable by u32-free offsets in every reader: the format's ceiling. */
export const MAX_PACK_BYTES = 2 ** 32;

/** One blob in a pack. */
export interface PackedBlob {
  type: BlobType;
  compressed: boolean;
  id: Buffer;
  offset: number;
  /** Box length in the pack. */
  length: number;
  /** Plaintext length. */
  rawLength: number;
}

export interface SealedPack {
  /** SHA-256 of the pack's bytes, hex. */
  name: string;
  ephemeral: Buffer;
  size: number;
  /** The pack's bytes (a view of a buffer of its own). */
  bytes: Buffer;
  blobs: PackedBlob[];
}

/** The pack key: derived by the writer from its ephemeral private key, by a reader from the repository's private key. */
export function packKeyForWriter(ephemeralPrivate: Buffer, ephemeralPublic: Buffer, repositoryPublic: Buffer): Buffer {
  return x25519Derive(ephemeralPrivate, repositoryPublic, ephemeralPublic, repositoryPublic, PACK_INFO);
}

export function packKeyForReader(repositoryPrivate: Buffer, repositoryPublic: Buffer, ephemeralPublic: Buffer): Buffer {
  return x25519Derive(repositoryPrivate, ephemeralPublic, ephemeralPublic, repositoryPublic, PACK_INFO);
}

const headerAad = (ephemeral: Buffer): Buffer => associatedData('pack-header', ephemeral);

export function encodePackHeader(blobs: PackedBlob[]): Buffer {
  const w = new ByteWriter(16 + blobs.length * 48);
  w.u8(HEADER_VERSION).uvarint(blobs.length);
  for (const b of blobs) writeBlobEntry(w, b, false);
  return w.finish();
}

/** One blob entry of a pack header (offsets implied by order) or an index file (`withOffset`). */
export function writeBlobEntry(w: ByteWriter, b: PackedBlob, withOffset: boolean): void {
  w.u8(BLOB_TYPE_BYTE[b.type]).u8(b.compressed ? FLAG_COMPRESSED : 0).bytes(b.id);
  if (withOffset) w.uvarint(b.offset);
  w.uvarint(b.length).uvarint(b.rawLength);
}

/** Entry bytes at the least: type, flags, ID, two one-byte varints. */
const MIN_ENTRY_BYTES = 2 + ID_BYTES + 2;

export function decodePackHeader(plaintext: Buffer, what: string): PackedBlob[] {
  const r = new ByteReader(plaintext, what);
  const version = r.u8();
  if (version !== HEADER_VERSION) r.fail(`header version ${version} is not known`);
  const count = r.count(MIN_ENTRY_BYTES, 'blob count');
  const blobs: PackedBlob[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) blobs.push(readBlobEntry(r, offset, (o) => (offset = o)));
  r.end();
  return blobs;
}

/** One blob entry of a pack header or an index file; `advance` hears where the next box starts (headers), or the offset is read (index). */
export function readBlobEntry(r: ByteReader, offset: number | undefined, advance?: (next: number) => void): PackedBlob {
  const type = blobTypeOf(r.u8());
  if (!type) r.fail('unknown blob type');
  const flags = r.u8();
  if ((flags & ~FLAG_COMPRESSED) !== 0) r.fail(`unknown blob flags ${flags}`);
  const id = Buffer.from(r.bytes(ID_BYTES));
  const at = offset ?? r.uvarint(MAX_PACK_BYTES, 'blob offset');
  const length = r.uvarint(MAX_PACK_BYTES, 'blob length');
  const rawLength = r.uvarint(MAX_PACK_BYTES, 'blob plaintext length');
  if (length < 28) r.fail(`blob length ${length} is shorter than a box`);
  advance?.(at + length);
  return { type: type!, compressed: (flags & FLAG_COMPRESSED) !== 0, id, offset: at, length, rawLength };
}

export function parseTrailer(trailer: Buffer, what: string): { ephemeral: Buffer; headerLength: number } {
  if (trailer.length !== TRAILER_BYTES || !trailer.subarray(TRAILER_BYTES - MAGIC.length).equals(MAGIC)) {
    throw new RepositoryCorrupt(`${what} is corrupt: no pack trailer`);
  }
  return { ephemeral: Buffer.from(trailer.subarray(0, KEY_BYTES)), headerLength: trailer.readUInt32LE(KEY_BYTES) };
}

/** The blobs a pack holds, from its header box; checks they lie within the pack. */
export function openPackHeader(aead: Aead, packKey: Buffer, ephemeral: Buffer, headerBox: Buffer, packSize: number, what: string): PackedBlob[] {
  const blobs = decodePackHeader(openBox(aead, packKey, headerBox, headerAad(ephemeral), `${what} header`), `${what} header`);
  const boxesEnd = packSize - TRAILER_BYTES - headerBox.length;
  const last = blobs[blobs.length - 1];
  if ((last ? last.offset + last.length : 0) !== boxesEnd) throw new RepositoryCorrupt(`${what} is corrupt: its header does not cover its boxes`);
  return blobs;
}

/**
 * Builds one pack in one buffer: blobs are compressed and sealed into it as
 * they come, and seal() adds the header and trailer. The buffer is the
 * pack's own (not pooled), so it can be handed to another thread without a
 * copy.
 */
export class PackWriter {
  private readonly ephemeral = x25519Generate();
  private readonly key: Buffer;
  private readonly blobs: PackedBlob[] = [];
  private buf: Buffer;
  private bytes = 0;
  /** Boxes sealed so far: the next box's nonce (the pack key is this pack's alone, so a count never repeats). */
  private boxes = 0n;

  constructor(
    private readonly aead: Aead,
    repositoryPublic: Buffer,
    private readonly compressionLevel: number,
    capacity: number,
    /** A buffer of an earlier pack to fill again (its contents are overwritten). */
    reuse?: Buffer,
  ) {
    this.key = packKeyForWriter(this.ephemeral.privateKey, this.ephemeral.publicKey, repositoryPublic);
    this.buf = reuse && reuse.length >= capacity ? reuse : Buffer.allocUnsafeSlow(capacity);
  }

  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.blobs.length;
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    if (this.bytes + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.bytes + n));
    this.buf.copy(grown, 0, 0, this.bytes);
    this.buf = grown;
  }

  private nonce(): Buffer {
    const n = Buffer.alloc(NONCE_BYTES);
    n.writeBigUInt64BE(this.boxes++, NONCE_BYTES - 8);
    return n;
  }

  /** Adds a blob; returns its box length. */
  add(type: BlobType, id: Uint8Array, plaintext: Uint8Array): number {
    this.room(plaintext.length + BOX_OVERHEAD);
    const { length, compressed } = sealBlobInto(this.aead, this.key, type, id, plaintext, this.compressionLevel, this.nonce(), this.buf, this.bytes);
    this.blobs.push({ type, compressed, id: Buffer.from(id), offset: this.bytes, length, rawLength: plaintext.length });
    this.bytes += length;
    return length;
  }

  /** Adds a blob whose box content is already compressed as flagged (a repack: nothing is recompressed). */
  addStored(type: BlobType, id: Uint8Array, stored: Uint8Array, compressed: boolean, rawLength: number): number {
    this.room(stored.length + BOX_OVERHEAD);
    const length = sealBoxInto(this.aead, this.key, stored, blobAad(type, id), this.nonce(), this.buf, this.bytes);
    this.blobs.push({ type, compressed, id: Buffer.from(id), offset: this.bytes, length, rawLength });
    this.bytes += length;
    return length;
  }

  seal(): SealedPack {
    const eph = this.ephemeral.publicKey;
    const headerBox = sealBox(this.aead, this.key, encodePackHeader(this.blobs), headerAad(eph), this.nonce());
    const trailer = Buffer.alloc(TRAILER_BYTES);
    eph.copy(trailer, 0);
    trailer.writeUInt32LE(headerBox.length, KEY_BYTES);
    MAGIC.copy(trailer, KEY_BYTES + 4);
    this.room(headerBox.length + TRAILER_BYTES);
    headerBox.copy(this.buf, this.bytes);
    trailer.copy(this.buf, this.bytes + headerBox.length);
    this.bytes += headerBox.length + TRAILER_BYTES;
    const name = packName(this.buf.subarray(this.bytes - headerBox.length - TRAILER_BYTES, this.bytes));
    return { name, ephemeral: eph, size: this.bytes, bytes: this.buf.subarray(0, this.bytes), blobs: this.blobs };
  }
}

/**
 * A pack's name: the SHA-256 of its header box and trailer, which commit to
 * every blob's ID, length and order and to the pack's own key; each blob's
 * bytes are bound to it by its box's tag.
 */
export function packName(headerAndTrailer: Buffer): string {
  return createHash('sha256').update(headerAndTrailer).digest('hex');
}
