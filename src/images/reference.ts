// Docker image references: parsing, normalisation (docker.io/library/busybox
// ↔ busybox) and the familiar "name:tag" form the store uses as a key.
import { InvalidParameter } from '../errors.js';

export interface Reference {
  /** Registry host (with port), "docker.io" when none was given. */
  domain: string;
  /** Repository path, "library/busybox" for official images on docker.io. */
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64 = /^[a-f0-9]{64}$/;
const NAME_TOTAL_MAX = 255;

export const DEFAULT_TAG = 'latest';
const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

function invalid(detail?: string): InvalidParameter {
  return new InvalidParameter(detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

function validDomain(d: string): boolean {
  const m = /^([^:]+)(?::([0-9]+))?$/.exec(d);
  if (!m) return false;
  return m[1]!.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/** Parses any reference: `name`, `name:tag`, `name@digest`, `host:port/a/b:tag`. */
export function parseReference(input: string): Reference {
  let s = input;
  if (s === '') throw invalid();
  let digest: string | undefined;
  const at = s.indexOf('@');
  if (at !== -1) {
    digest = s.slice(at + 1);
    s = s.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid();
  }
  let tag: string | undefined;
  const lastColon = s.lastIndexOf(':');
  if (lastColon !== -1 && !s.slice(lastColon + 1).includes('/')) {
    tag = s.slice(lastColon + 1);
    s = s.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid();
  }
  if (s === '') throw invalid();
  let domain = DEFAULT_DOMAIN;
  let path = s;
  const slash = s.indexOf('/');
  if (slash !== -1) {
    const first = s.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      path = s.slice(slash + 1);
      if (!validDomain(domain)) throw invalid();
    }
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (path.toLowerCase() !== path) throw invalid(`repository name (${path}) must be lowercase`);
  const comps = path.split('/');
  if (!comps.every((c) => COMPONENT.test(c))) throw invalid();
  if (domain === DEFAULT_DOMAIN && comps.length === 1) path = OFFICIAL_PREFIX + path;
  if ((domain + '/' + path).length > NAME_TOTAL_MAX) throw invalid('repository name must not be more than 255 characters');
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** parseReference, or null for an invalid reference. */
export function tryParseReference(input: string): Reference | null {
  try {
    return parseReference(input);
  } catch {
    return null;
  }
}

/** The short name Docker prints: "busybox", "foo/bar", "localhost:5000/x". */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith(OFFICIAL_PREFIX) ? ref.path.slice(OFFICIAL_PREFIX.length) : ref.path;
}

/**
 * Normalises a reference that names a tag, defaulting the tag to "latest":
 * "docker.io/library/busybox" → "busybox:latest". Digest references are refused
 * (the store does not keep registry digests).
 */
export function normalizeTagRef(input: string): string {
  const ref = parseReference(input);
  if (ref.digest !== undefined) throw new InvalidParameter('refusing to create a tag with a digest reference');
  const name = familiarName(ref);
  if (HEX64.test(name)) {
    throw new InvalidParameter(`invalid repository name (${name}), cannot specify 64-byte hexadecimal strings`);
  }
  return `${name}:${ref.tag ?? DEFAULT_TAG}`;
}

/** Like normalizeTagRef but returns null instead of throwing (for lookups). */
export function tryNormalizeTagRef(input: string): string | null {
  try {
    const ref = parseReference(input);
    if (ref.digest !== undefined) return null;
    return `${familiarName(ref)}:${ref.tag ?? DEFAULT_TAG}`;
  } catch {
    return null;
  }
}

/**
 * The store's key for a tag or digest reference: familiar "name:tag" (the
 * tag defaulting to latest) or "name@sha256:<hex>"; null when `input` is not a
 * valid reference.
 */
export function tryNormalizeRef(input: string): string | null {
  try {
    const ref = parseReference(input);
    if (ref.digest !== undefined) return `${familiarName(ref)}@${ref.digest}`;
    return `${familiarName(ref)}:${ref.tag ?? DEFAULT_TAG}`;
  } catch {
    return null;
  }
}

/** Splits a familiar "name:tag" into its repository and tag. */
export function splitTagged(tagged: string): { repository: string; tag: string } {
  const i = tagged.lastIndexOf(':');
  return { repository: tagged.slice(0, i), tag: tagged.slice(i + 1) };
}

/** The repository of a store key, "name:tag" or "name@digest". */
export function repositoryOf(key: string): string {
  const at = key.indexOf('@');
  return at >= 0 ? key.slice(0, at) : splitTagged(key).repository;
}

/** Whether a store key is a digest reference ("name@sha256:..."). */
export function isDigestRef(key: string): boolean {
  return key.includes('@');
}

/** The full name of a reference: "docker.io/library/busybox", "127.0.0.1:5000/app". */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** reference.FamiliarString: the familiar name with the tag and/or digest as given. */
export function familiarString(ref: Reference): string {
  return `${familiarName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** reference.String: the full name with the tag and/or digest as given. */
export function fullString(ref: Reference): string {
  return `${fullName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

