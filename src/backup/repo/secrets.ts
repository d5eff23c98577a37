// The repository's secrets (docs/backup-format.md, "Secrets and keys"): the
// write secret lets a host back up and manage snapshots, the read secret
// (the repository's X25519 private key) lets it read data. Key files wrap
// their JSON form.
import { RepositoryCorrupt } from './errors.js';
import { KEY_BYTES, randomKey, x25519Generate, x25519PublicOf } from './crypto.js';

export interface WriteSecret {
  /** The repository ID: ties keys, config and caches to one repository. */
  repository: Buffer;
  /** Keys the content-defined chunker's gear table. */
  chunker: Buffer;
  /** Blob IDs are HMAC-SHA256 of the plaintext under this key. */
  blobId: Buffer;
  /** The AEAD key of config, index, snapshot and lock files. */
  metadata: Buffer;
  /** Index and snapshot files are named by HMAC-SHA256 of their plaintext under this key. */
  names: Buffer;
  /** The repository's X25519 public key: packs are sealed to it. */
  publicKey: Buffer;
}

export interface ReadSecret {
  /** The repository's X25519 private key: it opens packs. */
  privateKey: Buffer;
}

export interface Secrets {
  write: WriteSecret;
  /** Absent for a write-only key. */
  read?: ReadSecret;
}

export function generateSecrets(): Required<Secrets> {
  const pair = x25519Generate();
  return {
    write: { repository: randomKey(), chunker: randomKey(), blobId: randomKey(), metadata: randomKey(), names: randomKey(), publicKey: pair.publicKey },
    read: { privateKey: pair.privateKey },
  };
}

const WRITE_FIELDS = ['repository', 'chunker', 'blobId', 'metadata', 'names', 'publicKey'] as const;

export function encodeSecrets(s: Secrets): Buffer {
  const b64 = (b: Buffer): string => b.toString('base64');
  const write = Object.fromEntries(WRITE_FIELDS.map((f) => [f, b64(s.write[f])]));
  return Buffer.from(JSON.stringify({ version: 1, write, ...(s.read ? { read: { privateKey: b64(s.read.privateKey) } } : {}) }));
}

function key32(v: unknown, field: string, what: string): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'base64') : undefined;
  if (!b || b.length !== KEY_BYTES || b.toString('base64') !== v) throw new RepositoryCorrupt(`${what} is corrupt: ${field} is not a 32-byte key`);
  return b;
}

/** The secrets of a key file's unwrapped plaintext; `what` names the key in errors. */
export function decodeSecrets(plaintext: Buffer, what: string): Secrets {
  let doc: unknown;
  try {
    doc = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw new RepositoryCorrupt(`${what} is corrupt: its secret is not JSON`);
  }
  const d = doc as { version?: unknown; write?: Record<string, unknown>; read?: Record<string, unknown> };
  if (typeof d !== 'object' || d === null || d.version !== 1) throw new RepositoryCorrupt(`${what} is corrupt: unknown secret version`);
  if (typeof d.write !== 'object' || d.write === null) throw new RepositoryCorrupt(`${what} is corrupt: no write secret`);
  const w = d.write;
  const write = Object.fromEntries(WRITE_FIELDS.map((f) => [f, key32(w[f], `write.${f}`, what)])) as unknown as WriteSecret;
  if (d.read === undefined) return { write };
  if (typeof d.read !== 'object' || d.read === null) throw new RepositoryCorrupt(`${what} is corrupt: the read secret is not an object`);
  const read = { privateKey: key32(d.read.privateKey, 'read.privateKey', what) };
  if (!x25519PublicOf(read.privateKey).equals(write.publicKey)) throw new RepositoryCorrupt(`${what} is corrupt: its private key does not match the repository's public key`);
  return { write, read };
}
