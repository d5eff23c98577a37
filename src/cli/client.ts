// The CLI's Engine API client: finds the daemon (BERTH_HOST, DOCKER_HOST, or
// berthd's default socket), negotiates the API version with HEAD /_ping as
// the docker CLI does, and sends JSON requests.
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { versionLess } from '../util/version.js';

export const CLIENT_API_VERSION = '1.47';
const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export class DaemonError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ConnectionError extends Error {}

export interface Endpoint {
  host: string;
  socketPath?: string;
  hostname?: string;
  port?: number;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
}

function resolveEndpoint(env: NodeJS.ProcessEnv = process.env): Endpoint {
  const host = env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
  if (host.startsWith('unix://')) return { host, socketPath: host.slice('unix://'.length) };
  if (host.startsWith('tcp://')) {
    const u = new URL(host.replace(/^tcp:/, 'https:'));
    const certDir = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
    const tlsVerify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '';
    return {
      host,
      hostname: u.hostname,
      port: Number(u.port || 2376),
      tls: tlsVerify
        ? {
            ca: readFileSync(join(certDir, 'ca.pem')),
            cert: readFileSync(join(certDir, 'cert.pem')),
            key: readFileSync(join(certDir, 'key.pem')),
          }
        : undefined,
    };
  }
  throw new ConnectionError(`unsupported host ${host}: use unix:///path or tcp://host:port`);
}

export interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send these bytes as the body instead of JSON. */
  raw?: Buffer | NodeJS.ReadableStream;
}

export class ApiClient {
  private version: string | undefined;
  private pinged: Promise<IncomingMessage['headers']> | undefined;

  constructor(readonly endpoint: Endpoint = resolveEndpoint()) {}

  /** The headers of the daemon's HEAD /_ping (its API version and what it can do), asked once. */
  pingHeaders(): Promise<IncomingMessage['headers']> {
    return (this.pinged ??= this.send('HEAD', '/_ping', {}).then((r) => r.headers));
  }

  /** The negotiated API version: min(ours, the daemon's Api-Version), 1.24 if it sends none. */
  async apiVersion(): Promise<string> {
    if (this.version) return this.version;
    const pinned = process.env.DOCKER_API_VERSION;
    if (pinned) return (this.version = pinned);
    const advertised = (await this.pingHeaders())['api-version'];
    const server = typeof advertised === 'string' && advertised !== '' ? advertised : '1.24';
    this.version = versionLess(server, CLIENT_API_VERSION) ? server : CLIENT_API_VERSION;
    return this.version;
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const v = await this.apiVersion();
    const res = await this.send(method, `/v${v}${path}`, opts);
    if (res.status >= 400) throw toDaemonError(res);
    return res;
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  /** Opens a request and hands back the raw response stream (logs, events, attach). */
  async stream(method: string, path: string, opts: RequestOptions = {}): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    const v = await this.apiVersion();
    return new Promise((resolve, reject) => {
      const req = this.open(method, `/v${v}${path}`, opts, (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(toDaemonError({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) })));
          return;
        }
        resolve({ req, res });
      });
      req.on('error', (e) => reject(this.connectionError(e)));
      this.writeBody(req, opts);
    });
  }

  open(method: string, path: string, opts: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
    const qs = new URLSearchParams();
    for (const [k, val] of Object.entries(opts.query ?? {})) if (val !== undefined) qs.set(k, val);
    const fullPath = qs.size > 0 ? `${path}?${qs.toString()}` : path;
    const headers: Record<string, string> = { 'User-Agent': 'berth-cli/0.1.0', Host: 'api.moby.localhost', ...opts.headers };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const e = this.endpoint;
    const common = { method, path: fullPath, headers };
    if (e.socketPath) return httpRequest({ ...common, socketPath: e.socketPath }, onResponse);
    if (e.tls) return httpsRequest({ ...common, hostname: e.hostname, port: e.port, ca: e.tls.ca, cert: e.tls.cert, key: e.tls.key }, onResponse);
    return httpRequest({ ...common, hostname: e.hostname, port: e.port }, onResponse);
  }

  private writeBody(req: ClientRequest, opts: RequestOptions): void {
    if (opts.raw && !Buffer.isBuffer(opts.raw)) {
      (opts.raw as NodeJS.ReadableStream).pipe(req);
      return;
    }
    if (opts.raw) req.end(opts.raw as Buffer);
    else if (opts.body !== undefined) req.end(JSON.stringify(opts.body));
    else req.end();
  }

  private send(method: string, path: string, opts: RequestOptions): Promise<Response> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', (e) => reject(this.connectionError(e)));
      this.writeBody(req, opts);
    });
  }

  private connectionError(e: Error): Error {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') {
      const extra = code === 'EACCES' ? ' (permission denied)' : '';
      return new ConnectionError(`Cannot connect to the berth daemon at ${this.endpoint.host}${extra}. Is berthd running?`);
    }
    return e;
  }
}

function toDaemonError(res: Response): DaemonError {
  const text = res.body.toString('utf8');
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // plain-text error
  }
  if (message === '') message = `${res.status} ${res.headers.status ?? ''}`.trim();
  return new DaemonError(res.status, message);
}

