// Key files (docs/backup-format.md, "Key files"): plain JSON that wraps the
// repository's secrets under a passphrase (scrypt) or to an X25519
// recipient. A key is named by the SHA-256 of its bytes; adding or
// removing one never touches any other file.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Target } from '../targets/target.js';
import {
  associatedData,
  KEY_BYTES,
  openBox,
  SCRYPT_DEFAULT,
  SCRYPT_LIMITS,
  scryptKey,
  sealBox,
  sha256,
  x25519Derive,
  x25519Generate,
  type ScryptParams,
} from './crypto.js';
import { RepositoryCorrupt } from './errors.js';
import { parseRecipient, recipientText, type Identity } from './recipients.js';
import { decodeSecrets, encodeSecrets, type Secrets } from './secrets.js';

export type KeyKind = 'full' | 'write-only';

export type KeyWrap =
  | { type: 'scrypt'; N: number; r: number; p: number; salt: Buffer }
  | { type: 'x25519'; recipient: string; ephemeral: Buffer };

export interface KeyFile {
  version: 1;
  repository: string;
  kind: KeyKind;
  created: string;
  host: string;
  wrap: KeyWrap;
  secret: Buffer;
}

/** What a key is, for listings: no secrets. */
export interface KeyInfo {
  id: string;
  kind: KeyKind;
  created: string;
  host: string;
  /** 'passphrase', or the recipient the key is wrapped to. */
  wrappedFor: string;
}

/** How a new key is protected. */
export type KeyProtection = { password: string; scrypt?: ScryptParams } | { recipient: string };

/** What opens a key. */
export type KeyCredential = { password: string } | { identity: Identity };

const WRAP_INFO = 'berth key wrap v1';
const keyAad = (f: Pick<KeyFile, 'repository' | 'kind'>): Buffer => associatedData('key', f.repository, f.kind);

function b64(v: unknown, what: string, field: string, length?: number): Buffer {
  if (typeof v !== 'string') throw new RepositoryCorrupt(`${what} is corrupt: ${field} is not a string`);
  const b = Buffer.from(v, 'base64');
  if (b.toString('base64') !== v || (length !== undefined && b.length !== length)) throw new RepositoryCorrupt(`${what} is corrupt: ${field} is not valid base64 of the right length`);
  return b;
}

function str(v: unknown, what: string, field: string): string {
  if (typeof v !== 'string' || v.length > 1024) throw new RepositoryCorrupt(`${what} is corrupt: ${field} is not a string`);
  return v;
}

function positiveInt(v: unknown, max: number, what: string, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new RepositoryCorrupt(`${what} is corrupt or hostile: ${field} must be an integer from 1 to ${max}`);
  return v;
}

export function decodeKeyFile(bytes: Buffer, name: string): KeyFile {
  const what = `key ${name.slice(0, 8)}`;
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RepositoryCorrupt(`${what} is corrupt: not JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new RepositoryCorrupt(`${what} is corrupt: not an object`);
  const d = doc as Record<string, unknown>;
  if (d.version !== 1) throw new RepositoryCorrupt(`${what} has version ${JSON.stringify(d.version)}, which this berth does not know`);
  const repository = str(d.repository, what, 'repository');
  if (!/^[0-9a-f]{64}$/.test(repository)) throw new RepositoryCorrupt(`${what} is corrupt: repository is not a 64-hex ID`);
  if (d.kind !== 'full' && d.kind !== 'write-only') throw new RepositoryCorrupt(`${what} is corrupt: kind must be full or write-only`);
  const w = d.wrap as Record<string, unknown> | null;
  if (typeof w !== 'object' || w === null) throw new RepositoryCorrupt(`${what} is corrupt: no wrap`);
  let wrap: KeyWrap;
  if (w.type === 'scrypt') {
    wrap = {
      type: 'scrypt',
      N: positiveInt(w.N, SCRYPT_LIMITS.N, what, 'wrap.N'),
      r: positiveInt(w.r, SCRYPT_LIMITS.r, what, 'wrap.r'),
      p: positiveInt(w.p, SCRYPT_LIMITS.p, what, 'wrap.p'),
      salt: b64(w.salt, what, 'wrap.salt'),
    };
    if ((wrap.N & (wrap.N - 1)) !== 0 || wrap.N < 2) throw new RepositoryCorrupt(`${what} is corrupt: wrap.N must be a power of two`);
  } else if (w.type === 'x25519') {
    const recipient = str(w.recipient, what, 'wrap.recipient');
    try {
      parseRecipient(recipient);
    } catch (e) {
      throw new RepositoryCorrupt(`${what} is corrupt: ${(e as Error).message}`);
    }
    wrap = { type: 'x25519', recipient, ephemeral: b64(w.ephemeral, what, 'wrap.ephemeral', KEY_BYTES) };
  } else {
    throw new RepositoryCorrupt(`${what} is corrupt: unknown wrap type`);
  }
  return {
    version: 1,
    repository,
    kind: d.kind,
    created: str(d.created, what, 'created'),
    host: str(d.host, what, 'host'),
    wrap,
    secret: b64(d.secret, what, 'secret'),
  };
}

function encodeKeyFile(f: KeyFile): Buffer {
  const wrap =
    f.wrap.type === 'scrypt'
      ? { type: 'scrypt', N: f.wrap.N, r: f.wrap.r, p: f.wrap.p, salt: f.wrap.salt.toString('base64') }
      : { type: 'x25519', recipient: f.wrap.recipient, ephemeral: f.wrap.ephemeral.toString('base64') };
  const doc = { version: 1, repository: f.repository, kind: f.kind, created: f.created, host: f.host, wrap, secret: f.secret.toString('base64') };
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

/** A new key file wrapping `secrets` (only the write secret when `kind` is write-only); returns its name and bytes. */
export async function makeKeyFile(secrets: Secrets, kind: KeyKind, protection: KeyProtection): Promise<{ name: string; bytes: Buffer }> {
  const repository = secrets.write.repository.toString('hex');
  const wrapped: Secrets = kind === 'full' ? secrets : { write: secrets.write };
  let wrap: KeyWrap;
  let wrapKey: Buffer;
  if ('password' in protection) {
    const params = protection.scrypt ?? SCRYPT_DEFAULT;
    const salt = randomBytes(KEY_BYTES);
    wrap = { type: 'scrypt', ...params, salt };
    wrapKey = await scryptKey(protection.password, salt, params);
  } else {
    const recipientKey = parseRecipient(protection.recipient);
    const eph = x25519Generate();
    wrap = { type: 'x25519', recipient: recipientText(recipientKey), ephemeral: eph.publicKey };
    wrapKey = x25519Derive(eph.privateKey, recipientKey, eph.publicKey, recipientKey, WRAP_INFO);
  }
  const file: KeyFile = {
    version: 1,
    repository,
    kind,
    created: new Date().toISOString(),
    host: hostname(),
    wrap,
    secret: sealBox('aes-256-gcm', wrapKey, encodeSecrets(wrapped), keyAad({ repository, kind })),
  };
  const bytes = encodeKeyFile(file);
  return { name: sha256(bytes).toString('hex'), bytes };
}

/** Whether `credential` is the kind that can open `file` (a passphrase for scrypt keys, the matching identity for recipient keys). */
export function credentialFits(file: KeyFile, credential: KeyCredential): boolean {
  if (file.wrap.type === 'scrypt') return 'password' in credential;
  return 'identity' in credential && file.wrap.recipient === credential.identity.recipient;
}

/** The secrets in `file`, or undefined when `credential` does not open it. */
export async function unwrapKeyFile(file: KeyFile, name: string, credential: KeyCredential): Promise<Secrets | undefined> {
  let wrapKey: Buffer;
  if (file.wrap.type === 'scrypt') {
    if (!('password' in credential)) return undefined;
    wrapKey = await scryptKey(credential.password, file.wrap.salt, file.wrap);
  } else {
    if (!('identity' in credential) || file.wrap.recipient !== credential.identity.recipient) return undefined;
    const id = credential.identity;
    wrapKey = x25519Derive(id.privateKey, file.wrap.ephemeral, file.wrap.ephemeral, id.publicKey, WRAP_INFO);
  }
  let plaintext: Buffer;
  try {
    plaintext = openBox('aes-256-gcm', wrapKey, file.secret, keyAad(file), `key ${name.slice(0, 8)}`);
  } catch {
    return undefined;
  }
  const secrets = decodeSecrets(plaintext, `key ${name.slice(0, 8)}`);
  if (secrets.write.repository.toString('hex') !== file.repository) throw new RepositoryCorrupt(`key ${name.slice(0, 8)} is corrupt: its secret belongs to another repository`);
  if (file.kind === 'full' && !secrets.read) throw new RepositoryCorrupt(`key ${name.slice(0, 8)} is corrupt: a full key without the read secret`);
  if (file.kind === 'write-only' && secrets.read) throw new RepositoryCorrupt(`key ${name.slice(0, 8)} is corrupt: a write-only key holding the read secret`);
  return secrets;
}

export function keyInfo(name: string, f: KeyFile): KeyInfo {
  return { id: name, kind: f.kind, created: f.created, host: f.host, wrappedFor: f.wrap.type === 'scrypt' ? 'passphrase' : f.wrap.recipient };
}

/** Every key file of the repository, decoded; one that does not decode is reported through `onCorrupt` and skipped. */
export async function readKeyFiles(target: Target, onCorrupt?: (name: string, e: Error) => void): Promise<Array<{ name: string; file: KeyFile }>> {
  const out: Array<{ name: string; file: KeyFile }> = [];
  for await (const f of target.list('keys')) {
    try {
      const bytes = await target.get('keys', f.name);
      if (sha256(bytes).toString('hex') !== f.name) throw new RepositoryCorrupt(`key ${f.name.slice(0, 8)} is corrupt: its content does not match its name`);
      out.push({ name: f.name, file: decodeKeyFile(bytes, f.name) });
    } catch (e) {
      if (!(e instanceof RepositoryCorrupt)) throw e;
      onCorrupt?.(f.name, e);
    }
  }
  return out.sort((a, b) => a.file.created.localeCompare(b.file.created) || a.name.localeCompare(b.name));
}
