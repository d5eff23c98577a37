// The cryptographic primitives of the format (docs/backup-format.md), all
// from node:crypto: AEAD boxes (AES-256-GCM or ChaCha20-Poly1305, random
// 96-bit nonces), HMAC-SHA256, HKDF-SHA256, X25519 and scrypt.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  scrypt,
  type KeyObject,
} from 'node:crypto';
import { RepositoryCorrupt } from './errors.js';

export type Aead = 'aes-256-gcm' | 'chacha20-poly1305';
export const AEADS: readonly Aead[] = ['aes-256-gcm', 'chacha20-poly1305'];

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** What a box adds to its plaintext. */
export const BOX_OVERHEAD = NONCE_BYTES + TAG_BYTES;

export const randomKey = (): Buffer => randomBytes(KEY_BYTES);

/**
 * nonce | ciphertext | tag. The nonce is random unless given: a writer
 * that seals many boxes under a key of its own (a pack) counts them.
 */
export function sealBox(aead: Aead, key: Buffer, plaintext: Uint8Array, aad: Uint8Array, nonce: Buffer = randomBytes(NONCE_BYTES)): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + BOX_OVERHEAD);
  sealBoxInto(aead, key, plaintext, aad, nonce, out, 0);
  return out;
}

/** sealBox writing the box into `out` at `at` (room for plaintext + BOX_OVERHEAD); returns its length. */
export function sealBoxInto(aead: Aead, key: Buffer, plaintext: Uint8Array, aad: Uint8Array, nonce: Buffer, out: Buffer, at: number): number {
  nonce.copy(out, at);
  // Both AEADs share one shape; the overloads only take one name at a time.
  const cipher = createCipheriv(aead as 'aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  let pos = at + NONCE_BYTES;
  pos += cipher.update(plaintext).copy(out, pos);
  pos += cipher.final().copy(out, pos);
  pos += cipher.getAuthTag().copy(out, pos);
  return pos - at;
}

/** The plaintext of a box; RepositoryCorrupt (naming `what`) when it does not authenticate. */
export function openBox(aead: Aead, key: Buffer, box: Uint8Array, aad: Uint8Array, what: string): Buffer {
  if (box.length < BOX_OVERHEAD) throw new RepositoryCorrupt(`${what} is corrupt: ${box.length} bytes is too short for a box`);
  const nonce = box.subarray(0, NONCE_BYTES);
  const tag = box.subarray(box.length - TAG_BYTES);
  const decipher = createDecipheriv(aead as 'aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  decipher.setAAD(aad, { plaintextLength: box.length - BOX_OVERHEAD });
  const a = decipher.update(box.subarray(NONCE_BYTES, box.length - TAG_BYTES));
  try {
    const b = decipher.final();
    return b.length === 0 ? a : Buffer.concat([a, b]);
  } catch (e) {
    throw new RepositoryCorrupt(`${what} is corrupt or was tampered with: it does not authenticate`, { cause: e });
  }
}

export function hmac(key: Buffer, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256(data: Uint8Array | Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const d of Array.isArray(data) ? data : [data]) h.update(d);
  return h.digest();
}

export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length = KEY_BYTES): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

// X25519 keys travel as raw 32 bytes; Node takes them as DER with these fixed prefixes.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

export interface X25519Pair {
  privateKey: Buffer;
  publicKey: Buffer;
}

function rawOf(key: KeyObject, prefix: Buffer, type: 'pkcs8' | 'spki'): Buffer {
  return (key.export({ format: 'der', type }) as Buffer).subarray(prefix.length);
}

export function x25519Generate(): X25519Pair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey: rawOf(privateKey, PKCS8_X25519, 'pkcs8'), publicKey: rawOf(publicKey, SPKI_X25519, 'spki') };
}

const privateKeyObject = (raw: Buffer): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
const publicKeyObject = (raw: Buffer): KeyObject => createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });

export function x25519PublicOf(privateKey: Buffer): Buffer {
  return rawOf(createPublicKey(privateKeyObject(privateKey)), SPKI_X25519, 'spki');
}

/**
 * The key both sides of an X25519 exchange derive: HKDF over the shared
 * secret, salted with the ephemeral and the static public keys (as age
 * does), so it is bound to both.
 */
export function x25519Derive(ownPrivate: Buffer, peerPublic: Buffer, ephemeralPublic: Buffer, staticPublic: Buffer, info: string): Buffer {
  if (peerPublic.length !== KEY_BYTES || ownPrivate.length !== KEY_BYTES) throw new RepositoryCorrupt('an X25519 key is not 32 bytes');
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: privateKeyObject(ownPrivate), publicKey: publicKeyObject(peerPublic) });
  } catch (e) {
    throw new RepositoryCorrupt(`an X25519 exchange failed: ${(e as Error).message}`, { cause: e });
  }
  if (shared.every((b) => b === 0)) throw new RepositoryCorrupt('an X25519 public key is of low order');
  return hkdf(shared, Buffer.concat([ephemeralPublic, staticPublic]), info);
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Reading a key file: parameters above these are refused (a hostile file must not take hours or all memory). */
export const SCRYPT_LIMITS: ScryptParams = { N: 1 << 20, r: 32, p: 16 };
export const SCRYPT_DEFAULT: ScryptParams = { N: 1 << 15, r: 8, p: 1 };

export function scryptKey(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const maxmem = 128 * params.N * params.r * params.p + (32 << 20);
    scrypt(Buffer.from(password, 'utf8'), salt, KEY_BYTES, { ...params, maxmem }, (e, key) => (e ? reject(e) : resolve(key)));
  });
}

/** Associated data: "berth\0" and the parts joined by NULs; Buffers are appended as bytes. */
export function associatedData(...parts: Array<string | Uint8Array>): Buffer {
  const pieces: Buffer[] = [Buffer.from('berth')];
  for (const p of parts) pieces.push(Buffer.from([0]), typeof p === 'string' ? Buffer.from(p) : Buffer.from(p));
  return Buffer.concat(pieces);
}
