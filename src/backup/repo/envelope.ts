// The envelope of every encrypted repository file but packs (config, index,
// snapshots, locks): version | algorithm | nonce | ciphertext | tag, under
// the metadata key, bound to the file's kind and name by the associated data.
import type { FileKind } from '../targets/target.js';
import { associatedData, AEADS, openBox, sealBox, type Aead } from './crypto.js';
import { RepositoryCorrupt } from './errors.js';

const ENVELOPE_VERSION = 1;
const ALGORITHM_BYTE: Record<Aead, number> = { 'aes-256-gcm': 1, 'chacha20-poly1305': 2 };

export function sealEnvelope(aead: Aead, key: Buffer, kind: FileKind, name: string, plaintext: Uint8Array): Buffer {
  const box = sealBox(aead, key, plaintext, associatedData(kind, name));
  return Buffer.concat([Buffer.from([ENVELOPE_VERSION, ALGORITHM_BYTE[aead]]), box]);
}

export function openEnvelope(key: Buffer, kind: FileKind, name: string, file: Buffer): Buffer {
  const what = `${kind} file ${name}`;
  if (file.length < 2) throw new RepositoryCorrupt(`${what} is corrupt: too short`);
  if (file[0] !== ENVELOPE_VERSION) throw new RepositoryCorrupt(`${what} has envelope version ${file[0]}, which this berth does not know`);
  const aead = AEADS.find((a) => ALGORITHM_BYTE[a] === file[1]);
  if (!aead) throw new RepositoryCorrupt(`${what} is corrupt: unknown algorithm ${file[1]}`);
  return openBox(aead, key, file.subarray(2), associatedData(kind, name), what);
}
