// One repository on one registry endpoint, over the OCI distribution API
// (/v2/): requests carry the credentials a challenge asks for (a bearer token
// fetched from the challenge's realm for the repository's scope, or basic),
// GET and HEAD follow redirects (blobs are often served from a CDN), and
// every failure is a RegistryError (an HTTP answer) or a
// RegistryTransportError (no HTTP answer at all).
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { type AuthConfig, hasCredentials, parseChallenges, repositoryScope, tokenOf, type Challenge } from './auth.js';
import { RegistryError, RegistryTransportError, registryErrorFrom } from './errors.js';
import type { Endpoint, TlsSettings } from './hosts.js';

/** A request that sees no byte for this long has failed (and may be retried by the caller). */
const IDLE_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 10;
/** Cap on documents read into memory: manifests, configs, token answers. */
const MAX_DOCUMENT = 16 * 1024 * 1024;

export type RequestBody = Buffer | { stream: () => Readable; length?: number };

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Statuses that are answers, not errors (default: 2xx). */
  ok?: (status: number) => boolean;
  /** More token scopes for this request (a cross-repository mount reads the source). */
  extraScopes?: string[];
  signal?: AbortSignal;
}

const agents = new Map<string, HttpAgent>();

/** One keep-alive agent per TLS setting, so connections are reused across requests of a pull. */
function agentFor(tls: TlsSettings | null): HttpAgent {
  const key = tls === null ? 'http' : JSON.stringify([tls.verify, tls.ca?.length ?? 0, tls.ca?.at(-1) ?? '', tls.cert?.toString('base64') ?? '']);
  let agent = agents.get(key);
  if (agent === undefined) {
    agent =
      tls === null
        ? new HttpAgent({ keepAlive: true, maxSockets: 16 })
        : new HttpsAgent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: tls.verify, ca: tls.ca, cert: tls.cert, key: tls.key });
    agents.set(key, agent);
  }
  return agent;
}

/** Go's url.Error wording: `Get "https://host/v2/": <cause>`, with Go's words for the common network failures. */
function transportError(method: string, url: URL, e: unknown): RegistryTransportError {
  const err = e as NodeJS.ErrnoException & { hostname?: string };
  let text: string;
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  if (err.code === 'ECONNREFUSED') text = `dial tcp ${url.hostname}:${port}: connect: connection refused`;
  else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') text = `dial tcp: lookup ${url.hostname}: no such host`;
  else if (err.code === 'ECONNRESET') text = `read tcp ${url.hostname}:${port}: connection reset by peer`;
  else text = err.code !== undefined && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
  return new RegistryTransportError(`${goMethod(method)} "${url.href}": ${text}`, { cause: e });
}

/** "GET" → "Get", as Go's net/http names methods in its errors. */
export function goMethod(method: string): string {
  return method.charAt(0) + method.slice(1).toLowerCase();
}

/** One HTTP exchange; resolves with the response head, its body still to read. */
export function send(method: string, url: URL, tls: TlsSettings | null, headers: OutgoingHttpHeaders, body: RequestBody | undefined, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(url, { method, headers, agent: agentFor(https ? (tls ?? { verify: true }) : null), signal });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => reject(signal?.aborted ? (signal.reason ?? e) : transportError(method, url, e)));
    req.on('response', (res) => {
      // A body error after the head (the registry going away mid-blob) is a transport failure too.
      res.on('error', () => undefined);
      resolve(res);
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      const src = body.stream();
      src.on('error', (e) => req.destroy(e));
      src.pipe(req);
    }
  });
}

/** Reads a whole (small) body. */
export async function readBody(res: IncomingMessage, limit = MAX_DOCUMENT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) {
      res.destroy();
      throw new RegistryError(res.statusCode ?? 0, [], `response body larger than ${limit} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

interface CachedToken {
  token: string;
  expires: number;
}

export interface RegistryClientOptions {
  endpoint: Endpoint;
  /** Repository path on the registry: "library/busybox". */
  path: string;
  auth: AuthConfig;
  /** Token scope actions: ["pull"] or ["pull", "push"]. */
  actions: string[];
  userAgent: string;
  log: Logger;
}

export class RegistryClient {
  readonly endpoint: Endpoint;
  readonly path: string;
  private challenges: Challenge[] = [];
  private readonly tokens = new Map<string, CachedToken>();

  constructor(private readonly opts: RegistryClientOptions) {
    this.endpoint = opts.endpoint;
    this.path = opts.path;
  }

  /** The registry's host as it names blobs' sources ("127.0.0.1:5000/busybox"). */
  url(rel: string): URL {
    return new URL(rel, this.endpoint.url);
  }

  /** GET /v2/: learns the authentication challenges. A transport failure means this endpoint cannot be used. */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await send('GET', this.url('v2/'), this.endpoint.tls, this.baseHeaders(), undefined, signal);
    res.resume();
    this.challenges = parseChallenges(res.headers['www-authenticate']);
  }

  private baseHeaders(): Record<string, string> {
    return { 'User-Agent': this.opts.userAgent };
  }

  /** The token scopes of a request; none for a login, which names no repository. */
  private scopes(extra: string[] = []): string[] {
    return [...(this.path !== '' && this.opts.actions.length > 0 ? [repositoryScope(this.path, this.opts.actions)] : []), ...extra];
  }

  /** The Authorization header the known challenges call for, fetching a token when needed. */
  private async authorization(extraScopes: string[] | undefined, signal?: AbortSignal): Promise<string | undefined> {
    const { auth } = this.opts;
    const bearer = this.challenges.find((c) => c.scheme === 'bearer');
    if (bearer !== undefined) {
      if (auth.registrytoken !== undefined) return `Bearer ${auth.registrytoken}`;
      const scopes = this.scopes(extraScopes);
      const key = scopes.join(' ');
      const cached = this.tokens.get(key);
      if (cached !== undefined && cached.expires > Date.now()) return `Bearer ${cached.token}`;
      const token = await this.fetchToken(bearer, scopes, signal);
      return `Bearer ${token}`;
    }
    if (this.challenges.some((c) => c.scheme === 'basic') && auth.username !== undefined && auth.password !== undefined) {
      return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    return undefined;
  }

  /** docker/distribution's token handler: GET with basic credentials, or POST a refresh token (an identity token from login). */
  private async fetchToken(challenge: Challenge, scopes: string[], signal?: AbortSignal): Promise<string> {
    const realm = challenge.params.realm;
    if (realm === undefined) throw new RegistryError(401, [], 'the registry asked for a token without naming its realm');
    const url = new URL(realm);
    const { auth } = this.opts;
    const headers: Record<string, string> = this.baseHeaders();
    let body: Buffer | undefined;
    let method = 'GET';
    if (auth.identitytoken !== undefined) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: auth.identitytoken, client_id: 'docker' });
      if (challenge.params.service !== undefined) form.set('service', challenge.params.service);
      form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (scopes.length === 0) url.searchParams.set('offline_token', 'true');
      if (hasCredentials(auth) && auth.username !== undefined && auth.password !== undefined) {
        url.searchParams.set('account', auth.username);
        headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      }
    }
    const tls = url.host === this.endpoint.url.host ? this.endpoint.tls : { verify: true };
    const res = await send(method, url, tls, headers, body, signal);
    if ((res.statusCode ?? 0) !== 200) {
      const err = await registryErrorFrom(res, 'token server');
      throw new RegistryError(err.status, [], `${goMethod(method)} "${url.origin}${url.pathname}": ${err.message}`);
    }
    const answer = JSON.parse((await readBody(res)).toString('utf8')) as { expires_in?: unknown };
    const token = tokenOf(answer);
    if (token === undefined) throw new RegistryError(500, [], `the token server at ${url.origin} answered without a token`);
    // Tokens live at least 60 s (the spec's default); refresh a little early.
    const lifetime = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 60;
    this.tokens.set(scopes.join(' '), { token, expires: Date.now() + Math.max(lifetime - 10, 1) * 1000 });
    return token;
  }

  /**
   * A request to `rel` (relative to the endpoint, or an absolute upload
   * location). A 401 renews the challenges and credentials once; GET/HEAD
   * follow redirects, dropping credentials when they leave the registry.
   */
  async request(method: string, rel: string | URL, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const ok = opts.ok ?? ((s: number) => s >= 200 && s < 300);
    const replayable = opts.body === undefined || Buffer.isBuffer(opts.body);
    for (let attempt = 0; ; attempt++) {
      const authz = await this.authorization(opts.extraScopes, opts.signal);
      let url = typeof rel === 'string' ? this.url(rel) : rel;
      const headers: Record<string, string> = { ...this.baseHeaders(), ...opts.headers };
      if (authz !== undefined) headers.Authorization = authz;
      if (opts.body !== undefined) {
        const len = Buffer.isBuffer(opts.body) ? opts.body.length : opts.body.length;
        if (len !== undefined) headers['Content-Length'] = String(len);
      } else if (method === 'PUT' || method === 'POST' || method === 'PATCH') {
        headers['Content-Length'] = '0';
      }
      let res = await send(method, url, this.endpoint.tls, headers, opts.body, opts.signal);
      for (let hops = 0; (method === 'GET' || method === 'HEAD') && [301, 302, 303, 307, 308].includes(res.statusCode ?? 0); hops++) {
        res.resume();
        if (hops >= MAX_REDIRECTS) throw new RegistryError(res.statusCode ?? 0, [], `${method} ${url.href}: too many redirects`);
        const next = new URL(String(res.headers.location ?? ''), url);
        if (next.host !== url.host) delete headers.Authorization;
        url = next;
        res = await send(method, url, url.host === this.endpoint.url.host ? this.endpoint.tls : { verify: true }, headers, undefined, opts.signal);
      }
      const status = res.statusCode ?? 0;
      if (status === 401 && attempt === 0 && replayable) {
        // Once more with what the answer asks for: new challenges, credentials
        // not sent yet, or a token that may have expired or lacks a scope.
        const fresh = parseChallenges(res.headers['www-authenticate']);
        const changed = fresh.length > 0 && JSON.stringify(fresh) !== JSON.stringify(this.challenges);
        if (fresh.length > 0) this.challenges = fresh;
        if (changed || authz === undefined || authz.startsWith('Bearer ')) {
          res.resume();
          this.tokens.clear();
          continue;
        }
      }
      if (!ok(status)) throw await registryErrorFrom(res, `${goMethod(method)} "${url.href}"`);
      return res;
    }
  }

  /** A whole small document (manifest, config). */
  async fetch(rel: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<{ body: Buffer; headers: IncomingMessage['headers'] }> {
    const res = await this.request('GET', rel, { headers, signal });
    return { body: await readBody(res), headers: res.headers };
  }

  /** HEAD of a blob: its size, or null when the registry does not have it in this repository. */
  async statBlob(digest: string, signal?: AbortSignal): Promise<number | null> {
    const res = await this.request('HEAD', `v2/${this.path}/blobs/${digest}`, { ok: (s) => (s >= 200 && s < 300) || s === 404, signal });
    res.resume();
    if (res.statusCode === 404) return null;
    return Number(res.headers['content-length'] ?? 0);
  }
}

