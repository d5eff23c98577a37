// The Engine API server: version prefix and negotiation headers, routing,
// and the one place errors become `{"message": ...}` replies (spec 1.1).
import { createServer as createHttpServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { Router } from './router.js';
import { HttpError, messageOf, statusOf } from './errors.js';
import { MAX_API_VERSION, MIN_API_VERSION, ENGINE_VERSION, compareVersions } from './version.js';
import { MAX_JSON_BODY, type RequestContext } from './http.js';

export interface TlsOptions {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

const VERSION_PREFIX = /^\/v([0-9.]+)(\/.*)$/;

export function commonHeaders(): Record<string, string> {
  return {
    'Api-Version': MAX_API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `Berth/${ENGINE_VERSION} (linux)`,
  };
}

export class ApiServer {
  private readonly debug: boolean;
  private readonly headers = Object.entries(commonHeaders());

  constructor(
    private readonly router: Router,
    private readonly log: Logger,
  ) {
    this.debug = log.isLevelEnabled('debug');
  }

  /** A plain HTTP server (unix socket), or HTTPS with client-certificate verification (TCP). */
  create(tls?: TlsOptions): Server {
    const server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true })
      : createHttpServer();
    server.keepAliveTimeout = 60_000;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.guardResponse(req, res);
      this.dispatch(req, res).catch((e: unknown) => this.lastResort(e, req, res));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node drops its own 'error' listener from an upgraded socket: without
      // this one, a client that hangs up (EPIPE, ECONNRESET) would raise an
      // uncaught exception.
      socket.on('error', (err: Error) => {
        this.log.debug({ err: err.message }, 'upgraded connection error');
        socket.destroy();
      });
      const res = new ServerResponse(req);
      res.assignSocket(socket as Socket);
      res.shouldKeepAlive = false;
      this.guardResponse(req, res);
      // An answer through `res` (an error, a detached exec start) ends the
      // exchange; Node does not close an upgraded socket by itself.
      res.once('finish', () => socket.end());
      const run = (upgrade: { socket: Duplex; head: Buffer }, body: Buffer) => {
        this.dispatch(req, res, upgrade, body).catch((e: unknown) => this.lastResort(e, req, res));
      };
      const refuse = (e: HttpError) => {
        for (const [k, v] of this.headers) res.setHeader(k, v);
        this.answerError(e, req, res, req.method ?? 'GET', req.url ?? '/');
      };
      // The body of an upgraded request arrives in `head` (and maybe after it):
      // take exactly Content-Length bytes; the rest is the hijacked stream.
      const declared = req.headers['content-length'] ?? '0';
      const length = /^\d+$/.test(declared) ? Number(declared) : NaN;
      if (!Number.isSafeInteger(length)) {
        refuse(new HttpError(400, `invalid Content-Length: ${JSON.stringify(declared)}`));
        return;
      }
      if (length > MAX_JSON_BODY) {
        refuse(new HttpError(413, `request body is too large (limit ${MAX_JSON_BODY} bytes)`));
        return;
      }
      const takeBody = (buf: Buffer) => {
        if (buf.length < length) {
          socket.once('data', (more: Buffer) => takeBody(Buffer.concat([buf, more])));
          return;
        }
        run({ socket, head: buf.subarray(length) }, buf.subarray(0, length));
      };
      takeBody(head);
    });
    server.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      this.log.debug({ err: err.message }, 'client error');
    });
    return server;
  }

  /** A write after the end or onto a dead socket is emitted as 'error': with no listener, an uncaught exception. */
  private guardResponse(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', (err: Error) => {
      this.log.debug({ method: req.method, url: req.url, err: err.message }, 'response error');
      res.destroy();
    });
  }

  /**
   * An error becomes Docker's `{"message": ...}` answer; once headers are out
   * it can only close the stream.
   */
  private answerError(e: unknown, req: IncomingMessage, res: ServerResponse, method: string, path: string): void {
    const status = statusOf(e);
    const message = messageOf(e);
    if (status >= 500) this.log.error({ method, path, status, err: message }, 'request failed');
    if (!res.headersSent && !res.destroyed) {
      if (e instanceof HttpError && e.plainText) {
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(message + '\n');
      } else {
        const body = JSON.stringify({ message }) + '\n';
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      }
      // An unread body (an import refused before it) is drained, so that a
      // client still sending it reads the answer instead of a broken pipe.
      if (!req.complete) req.resume();
    } else if (!res.writableEnded) {
      res.destroy();
    }
  }

  /** Nothing a request does may escape as an uncaught exception: log it loudly, close the exchange. */
  private lastResort(e: unknown, req: IncomingMessage, res: ServerResponse): void {
    this.log.error({ method: req.method, url: req.url, err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'request handler failed outside its error path');
    try {
      if (!res.headersSent && !res.destroyed) {
        const body = JSON.stringify({ message: messageOf(e) }) + '\n';
        res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.destroy();
      }
    } catch {
      res.destroy();
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }, body?: Buffer): Promise<void> {
    const started = process.hrtime.bigint();
    for (const [k, v] of this.headers) res.setHeader(k, v);
    // Split by hand: WHATWG URL parsing is a measurable share of a small request.
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    let path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    let apiVersion = MAX_API_VERSION;
    const method = req.method ?? 'GET';
    try {
      const m = VERSION_PREFIX.exec(path);
      if (m) {
        apiVersion = m[1]!;
        path = m[2]!;
        if (compareVersions(apiVersion, MAX_API_VERSION) > 0) {
          throw new HttpError(400, `client version ${apiVersion} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
        }
        if (compareVersions(apiVersion, MIN_API_VERSION) < 0) {
          throw new HttpError(
            400,
            `client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
            true,
          );
        }
      }
      const match = this.router.match(method, path);
      if (!match || (match.minVersion && compareVersions(apiVersion, match.minVersion) < 0)) {
        throw new HttpError(404, 'page not found');
      }
      const ctx: RequestContext = { req, res, params: match.params, query, apiVersion, upgrade, body };
      await match.handler(ctx);
    } catch (e) {
      this.answerError(e, req, res, method, path);
    } finally {
      if (this.debug) this.log.debug({ method, url: req.url, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    }
  }
}
