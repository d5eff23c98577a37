// Errors a registry answers with: the distribution spec's JSON body
// {"errors":[{"code","message","detail"}]}, worded as docker/distribution's
// errcode.Error prints them ("manifest unknown: manifest unknown"), and
// failures to speak HTTP with it at all.
import type { IncomingMessage } from 'node:http';
import { BerthError, type ErrorKind } from '../errors.js';

export interface RegistryErrorEntry {
  code: string;
  message: string;
}

function kindOf(status: number, code: string | undefined): ErrorKind {
  switch (code) {
    case 'UNAUTHORIZED':
      return 'unauthorized';
    case 'DENIED':
      return 'forbidden';
    case 'MANIFEST_UNKNOWN':
    case 'NAME_UNKNOWN':
    case 'BLOB_UNKNOWN':
    case 'BLOB_UPLOAD_UNKNOWN':
      return 'not-found';
    case 'TOOMANYREQUESTS':
      return 'unavailable';
    default:
      break;
  }
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 400 || status === 405) return 'invalid-parameter';
  return 'system';
}

/** errcode.ErrorCode.Error(): the code in lower case with spaces. */
function codeText(code: string): string {
  return code.toLowerCase().replace(/_/g, ' ');
}

/** An HTTP answer of a registry that is not what was asked for. */
export class RegistryError extends BerthError {
  readonly status: number;
  /** The first errcode of the body, when it had one. */
  readonly code: string | undefined;

  constructor(status: number, entries: RegistryErrorEntry[], fallback: string) {
    const first = entries[0];
    super(kindOf(status, first?.code), first ? `${codeText(first.code)}: ${first.message}` : fallback);
    this.status = status;
    this.code = first?.code;
  }

  /** Worth another attempt: the registry is overloaded or failing, not refusing. */
  get transient(): boolean {
    return this.status >= 500 || this.status === 408;
  }
}

/** Could not speak HTTP with the registry (refused, reset, TLS failure, timeout). */
export class RegistryTransportError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  416: 'Requested Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusText(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
}

/** Reads an error response body (at most 64 KiB) into a RegistryError. */
export async function registryErrorFrom(res: IncomingMessage, what: string): Promise<RegistryError> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of res as AsyncIterable<Buffer>) {
      if (size < 65536) chunks.push(c);
      size += c.length;
    }
  } catch {
    // the body is a courtesy; the status says enough
  }
  const status = res.statusCode ?? 0;
  let entries: RegistryErrorEntry[] = [];
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    entries = (body.errors ?? [])
      .filter((e) => typeof e.code === 'string')
      .map((e) => ({ code: e.code as string, message: typeof e.message === 'string' ? e.message : '' }));
  } catch {
    // not the spec's JSON
  }
  if (entries.length === 0 && status === 401) entries = [{ code: 'UNAUTHORIZED', message: 'authentication required' }];
  return new RegistryError(status, entries, `${what}: received unexpected HTTP status: ${statusText(status)}`);
}
