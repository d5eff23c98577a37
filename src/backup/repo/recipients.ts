// X25519 identities and recipients (`berth backup keygen`): a key file can
// be wrapped to a recipient, and only the holder of the matching identity
// unwraps it. Text forms carry a 4-byte check so a mistyped recipient is
// refused before anything is sealed to a key nobody holds.
import { InvalidParameter } from '../../errors.js';
import { base32Decode, base32Encode } from './base32.js';
import { KEY_BYTES, sha256, x25519Generate, x25519PublicOf } from './crypto.js';

const IDENTITY_PREFIX = 'BERTH-IDENTITY-1';
const RECIPIENT_PREFIX = 'berth1';
const CHECK_BYTES = 4;

const withCheck = (key: Buffer): Buffer => Buffer.concat([key, sha256(key).subarray(0, CHECK_BYTES)]);

function decodeChecked(body: string, what: string): Buffer {
  const raw = base32Decode(body);
  if (!raw || raw.length !== KEY_BYTES + CHECK_BYTES) throw new InvalidParameter(`not a berth ${what}: wrong length or characters`);
  const key = raw.subarray(0, KEY_BYTES);
  if (!withCheck(key).equals(raw)) throw new InvalidParameter(`not a berth ${what}: its check does not match (a typo?)`);
  return key;
}

export interface Identity {
  /** The X25519 private key. */
  privateKey: Buffer;
  publicKey: Buffer;
  /** The text of the matching recipient. */
  recipient: string;
}

export function recipientText(publicKey: Buffer): string {
  return RECIPIENT_PREFIX + base32Encode(withCheck(publicKey)).toLowerCase();
}

/** A new identity, as text, and its recipient. */
export function generateIdentity(): { identity: string; recipient: string } {
  const pair = x25519Generate();
  return { identity: IDENTITY_PREFIX + base32Encode(withCheck(pair.privateKey)), recipient: recipientText(pair.publicKey) };
}

/** An identity from its text (an identity file's content: blank lines and # comments ignored). */
export function parseIdentity(text: string): Identity {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length !== 1 || !lines[0]!.startsWith(IDENTITY_PREFIX)) throw new InvalidParameter(`not a berth identity: expected one line starting with ${IDENTITY_PREFIX}`);
  const privateKey = decodeChecked(lines[0]!.slice(IDENTITY_PREFIX.length), 'identity');
  const publicKey = x25519PublicOf(privateKey);
  return { privateKey, publicKey, recipient: recipientText(publicKey) };
}

/** A recipient's public key from its text. */
export function parseRecipient(text: string): Buffer {
  const t = text.trim();
  if (!t.startsWith(RECIPIENT_PREFIX)) throw new InvalidParameter(`not a berth recipient: expected ${RECIPIENT_PREFIX}...`);
  return decodeChecked(t.slice(RECIPIENT_PREFIX.length), 'recipient');
}
