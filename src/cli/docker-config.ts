// Registry credentials where the docker CLI keeps them: the `auths` map of
// config.json in $DOCKER_CONFIG or ~/.docker, each entry {"auth":
// base64("user:password")} (plus "identitytoken" when a registry issued one),
// keyed by registry host, Docker Hub's as "https://index.docker.io/v1/". The
// file is rewritten with tab indentation, mode 0600, keeping every other key.
// Credential helpers (credsStore, credHelpers) are not run.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { authConfigFrom, encodeAuthHeader, type AuthConfig } from '../registry/auth.js';
import { INDEX_SERVER } from '../registry/login.js';
import { CliError } from './errors.js';

export { INDEX_SERVER };

export function configDir(): string {
  return process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
}

export function configPath(): string {
  return join(configDir(), 'config.json');
}

type ConfigDoc = Record<string, unknown> & { auths?: Record<string, Record<string, unknown>> };

function load(): ConfigDoc {
  let text: string;
  try {
    text = readFileSync(configPath(), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  if (text.trim() === '') return {};
  try {
    const doc = JSON.parse(text) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as ConfigDoc) : {};
  } catch (e) {
    throw new CliError(`loading config file: ${configPath()}: ${(e as Error).message}`);
  }
}

function save(doc: ConfigDoc): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const path = configPath();
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(doc, null, '\t'), { mode: 0o600 });
  renameSync(tmp, path);
}

/** The config key of a registry: Docker Hub's index URL, or the host as written in references. */
export function authKey(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? INDEX_SERVER : domain;
}

/** credentials.ConvertToHostname: a URL or host[/path] to its host[:port]. */
export function convertToHostname(address: string): string {
  return address.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
}

/** Stored credentials for `key` (legacy keys written as URLs match by host), with serveraddress set; {} when none. */
export function storedAuth(key: string): AuthConfig {
  const auths = load().auths ?? {};
  let entry = auths[key];
  if (entry === undefined) {
    for (const [k, v] of Object.entries(auths)) if (convertToHostname(k) === key) entry = v;
  }
  if (entry === undefined) return {};
  const auth = authConfigFrom(entry);
  delete auth.auth;
  return { ...auth, serveraddress: key };
}

/** Every stored credential by its key (the docker CLI's GetAllCredentials), as a build sends them in X-Registry-Config. */
export function allStoredAuths(): Record<string, AuthConfig> {
  const out: Record<string, AuthConfig> = {};
  for (const key of Object.keys(load().auths ?? {})) out[key] = storedAuth(key);
  return out;
}

/** X-Registry-Auth for a registry, from config.json (the docker CLI sends one even without credentials). */
export function registryAuthHeader(domain: string): string {
  return encodeAuthHeader(storedAuth(authKey(domain)));
}

/** Stores credentials under auth.serveraddress; returns whether a password was written (the CLI then warns). */
export function storeAuth(auth: AuthConfig): boolean {
  const doc = load();
  const entry: Record<string, unknown> = {};
  if (auth.username !== undefined && auth.password !== undefined) entry.auth = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  if (auth.identitytoken !== undefined) entry.identitytoken = auth.identitytoken;
  const key = auth.serveraddress ?? INDEX_SERVER;
  const auths = { ...(doc.auths ?? {}) };
  if (JSON.stringify(auths[key]) === JSON.stringify(entry)) return false;
  auths[key] = entry;
  save({ ...doc, auths });
  return entry.auth !== undefined;
}

/** Removes the credentials of `keys`; returns whether any were there. */
export function eraseAuth(keys: readonly string[]): boolean {
  const doc = load();
  const auths = { ...(doc.auths ?? {}) };
  let erased = false;
  for (const k of keys) {
    if (auths[k] !== undefined) {
      delete auths[k];
      erased = true;
    }
  }
  if (erased) save({ ...doc, auths });
  return erased;
}
