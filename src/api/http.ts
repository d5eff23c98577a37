// Request/response helpers shared by every route: body reading with Docker's
// content-type and JSON rules, query booleans, JSON replies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpError } from './errors.js';

export const MAX_JSON_BODY = 4 * 1024 * 1024;

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version of this request: its /vX.Y prefix, or the daemon's maximum. */
  apiVersion: string;
  /** Set for requests that asked for a connection upgrade (attach, exec start). */
  upgrade?: { socket: Duplex; head: Buffer };
  /** An upgraded request's body, already taken off the socket. */
  body?: Buffer;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `request body is too large (limit ${limit} bytes)`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads a JSON body. Returns undefined when there is no body. docker: spec
 * 1.1 — a body must be application/json; malformed JSON is a 400.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!hasBody(req)) return undefined;
  const ct = req.headers['content-type'];
  if (ct !== undefined) {
    const mediaType = ct.split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      req.resume();
      throw new HttpError(400, `unsupported Content-Type header (${ct}): must be 'application/json'`);
    }
  }
  const body = await readBody(req);
  return parseJsonText(body.toString('utf8'));
}

function parseJsonText(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `invalid JSON: ${jsonErrorText(text, e)}`);
  }
}

function jsonErrorText(text: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/after JSON|Unexpected non-whitespace/i.test(msg)) return 'unexpected content after JSON';
  if (/end of JSON|Unterminated|Unexpected end/i.test(msg)) return 'unexpected EOF';
  return msg;
}

/** A JSON object body, or {} when none was sent. */
export async function readJsonObject(req: IncomingMessage, preread?: Buffer): Promise<Record<string, unknown>> {
  const v = preread !== undefined ? parseJsonText(preread.toString('utf8')) : await readJson(req);
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new HttpError(400, 'invalid JSON: body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

/** docker's boolean form values: "", 0, no, false, none are false. */
export function queryBool(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  if (v === null) return false;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body));
}

/** A reply whose JSON is already serialized. */
export function sendJsonText(res: ServerResponse, status: number, json: string): void {
  const text = json + '\n';
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}
