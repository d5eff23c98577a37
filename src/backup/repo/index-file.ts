// Index files (docs/backup-format.md, "Index files"): which pack holds each
// blob, where, and the pack's ephemeral key, so readers open a blob with a
// single ranged read.
import { ByteReader, ByteWriter } from './binary.js';
import { ID_BYTES } from './blob.js';
import { KEY_BYTES } from './crypto.js';
import { MAX_PACK_BYTES, readBlobEntry, writeBlobEntry, type PackedBlob } from './pack.js';

const INDEX_VERSION = 1;

export interface IndexedPack {
  /** The pack's name (hex SHA-256 of its bytes). */
  name: string;
  ephemeral: Buffer;
  size: number;
  blobs: PackedBlob[];
}

export function encodeIndexFile(packs: IndexedPack[]): Buffer {
  const w = new ByteWriter(64 + packs.reduce((n, p) => n + 80 + p.blobs.length * 50, 0));
  w.u8(INDEX_VERSION).uvarint(packs.length);
  for (const p of packs) {
    w.bytes(Buffer.from(p.name, 'hex')).bytes(p.ephemeral).uvarint(p.size).uvarint(p.blobs.length);
    for (const b of p.blobs) writeBlobEntry(w, b, true);
  }
  return w.finish();
}

const MIN_PACK_BYTES = ID_BYTES + KEY_BYTES + 2;
const MIN_BLOB_BYTES = 2 + ID_BYTES + 3;

export function decodeIndexFile(plaintext: Buffer, what: string): IndexedPack[] {
  const r = new ByteReader(plaintext, what);
  const version = r.u8();
  if (version !== INDEX_VERSION) r.fail(`index version ${version} is not known`);
  const packCount = r.count(MIN_PACK_BYTES, 'pack count');
  const packs: IndexedPack[] = [];
  for (let i = 0; i < packCount; i++) {
    const name = r.bytes(ID_BYTES).toString('hex');
    const ephemeral = Buffer.from(r.bytes(KEY_BYTES));
    const size = r.uvarint(MAX_PACK_BYTES, 'pack size');
    const blobCount = r.count(MIN_BLOB_BYTES, 'blob count');
    const blobs: PackedBlob[] = [];
    for (let j = 0; j < blobCount; j++) {
      const b = readBlobEntry(r, undefined);
      if (b.offset + b.length > size) r.fail(`a blob of pack ${name.slice(0, 8)} lies past its end`);
      blobs.push(b);
    }
    packs.push({ name, ephemeral, size, blobs });
  }
  r.end();
  return packs;
}
