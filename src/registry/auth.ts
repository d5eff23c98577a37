// Registry credentials and authentication challenges: the X-Registry-Auth
// header the docker CLI sends (base64url JSON of its AuthConfig), and the
// WWW-Authenticate challenges a registry answers 401 with (RFC 7235; Bearer
// for token servers, Basic for htpasswd registries).

/** The docker CLI's key for Docker Hub credentials. */
export const INDEX_SERVER = 'https://index.docker.io/v1/';

/** The docker CLI's registry.AuthConfig, as it is sent to the daemon. */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as config.json stores it. */
  auth?: string;
  email?: string;
  serveraddress?: string;
  /** An OAuth refresh token a token server issued at login. */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
}

function stringField(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** An AuthConfig from parsed JSON; `auth` fills in username/password when they are missing. */
export function authConfigFrom(value: unknown): AuthConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const o = value as Record<string, unknown>;
  const out: AuthConfig = {};
  for (const key of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    const v = stringField(o, key);
    if (v !== undefined) out[key] = v;
  }
  if (out.auth !== undefined && out.username === undefined && out.password === undefined) {
    const decoded = Buffer.from(out.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      out.username = decoded.slice(0, colon);
      out.password = decoded.slice(colon + 1);
    }
  }
  return out;
}

/**
 * Decodes X-Registry-Auth. dockerd ignores a header it cannot decode (a pull
 * without credentials is not an error), and so does this: {} then.
 */
export function decodeAuthHeader(value: string | undefined): AuthConfig {
  if (value === undefined || value === '') return {};
  try {
    // Buffer's base64 decoder reads both alphabets (URL-safe and standard), padded or not.
    return authConfigFrom(JSON.parse(Buffer.from(value, 'base64').toString('utf8')));
  } catch {
    return {};
  }
}

/** X-Registry-Auth for `auth`, as the docker CLI encodes it (base64url of the JSON). */
export function encodeAuthHeader(auth: AuthConfig): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64url');
}

export function hasCredentials(auth: AuthConfig): boolean {
  return (auth.username !== undefined && auth.password !== undefined) || auth.identitytoken !== undefined || auth.registrytoken !== undefined;
}

export interface Challenge {
  /** Lower case: "bearer", "basic", ... */
  scheme: string;
  params: Record<string, string>;
}

/** Parses WWW-Authenticate header values into challenges (quoted strings with escapes, several per header). */
export function parseChallenges(headers: string | string[] | undefined): Challenge[] {
  const values = headers === undefined ? [] : Array.isArray(headers) ? headers : [headers];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    const skipSpace = (): void => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    };
    const token = (): string => {
      const start = i;
      while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++;
      return s.slice(start, i);
    };
    let current: Challenge | undefined;
    while (i < s.length) {
      skipSpace();
      if (s[i] === ',') {
        i++;
        continue;
      }
      const name = token();
      if (name === '') break;
      skipSpace();
      if (s[i] !== '=') {
        // A new scheme.
        current = { scheme: name.toLowerCase(), params: {} };
        out.push(current);
        continue;
      }
      i++;
      skipSpace();
      let val = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          val += s[i];
          i++;
        }
        i++;
      } else {
        val = token();
      }
      if (current !== undefined) current.params[name.toLowerCase()] = val;
    }
  }
  return out;
}

/** A token server's answer (docker/distribution's token response; either field may carry it). */
export interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
  refresh_token?: string;
}

/** The bearer token in a token server's JSON answer. */
export function tokenOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const r = body as TokenResponse;
  const t = r.token ?? r.access_token;
  return typeof t === 'string' && t !== '' ? t : undefined;
}

/** A repository scope as token servers take it: "repository:library/busybox:pull,push". */
export function repositoryScope(path: string, actions: readonly string[]): string {
  return `repository:${path}:${actions.join(',')}`;
}

/**
 * X-Registry-Config, the credentials a build sends for every registry it
 * may pull from (base64url JSON of {server: AuthConfig}); {} when missing
 * or undecodable, as dockerd ignores it then.
 */
export function decodeAuthConfigsHeader(value: string | undefined): Record<string, AuthConfig> {
  if (value === undefined || value === '') return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, AuthConfig> = Object.create(null) as Record<string, AuthConfig>;
    for (const [server, auth] of Object.entries(parsed)) out[server] = authConfigFrom(auth);
    return out;
  } catch {
    return {};
  }
}

/**
 * registry.ResolveAuthConfig: the credentials for a registry host among a
 * build's, by the config key docker uses (Docker Hub's index URL or the
 * host), then by any key that names the same host.
 */
export function resolveAuthConfig(configs: Record<string, AuthConfig>, domain: string): AuthConfig {
  const official = domain === 'docker.io' || domain === 'index.docker.io';
  const key = official ? INDEX_SERVER : domain;
  const direct = Object.hasOwn(configs, key) ? configs[key] : undefined;
  if (direct !== undefined || official) return direct ?? {};
  for (const [server, auth] of Object.entries(configs)) {
    if (server.replace(/^[a-z]+:\/\//i, '').split('/')[0] === key) return auth;
  }
  return {};
}
