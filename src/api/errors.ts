import type { ErrorKind } from '../errors.js';
import { isBerthError, errorText } from '../errors.js';

// The only place an error kind becomes an HTTP status. A new kind that is not
// listed here fails to compile.
export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  'invalid-parameter': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'not-implemented': 501,
  unavailable: 503,
  system: 500,
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Docker answers some errors (too-old versions) as plain text. */
    readonly plainText = false,
  ) {
    super(message);
  }
}

export function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (isBerthError(e)) return STATUS_BY_KIND[e.kind];
  return 500;
}

export function messageOf(e: unknown): string {
  return errorText(e);
}
