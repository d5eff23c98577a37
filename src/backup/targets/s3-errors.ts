// What an S3 failure means for whoever reads the message: which repository,
// which operation, which endpoint, and what to check. The SDK has already
// retried what its retry strategy deems transient (throttling, 5xx, resets).
import { BerthError, Forbidden, InvalidParameter, NotFound, SystemError, Unavailable, errorText } from '../../errors.js';
import { BodyFailure } from './bodies.js';

/** The repository an S3 operation was for, as messages name it. */
export interface S3Place {
  location: string;
  /** The endpoint's URL, or AWS's for the region. */
  endpoint: string;
  bucket: string;
}

interface SdkFailure {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

/** "403 AccessDenied: message", or just "403" for answers without a body (HEAD). */
function answer(failure: SdkFailure, status: number): string {
  const code = failure.name !== undefined && !['Unknown', 'UnknownError', String(status)].includes(failure.name) ? ` ${failure.name}` : '';
  const message = failure.message && failure.message !== 'UnknownError' ? `: ${failure.message}` : '';
  return `${status}${code}${message}`;
}

function statusOf(e: unknown): number | undefined {
  return (e as SdkFailure | undefined)?.$metadata?.httpStatusCode;
}

/** The object (or the bucket) is not there: 404 from GET or HEAD. */
export function isMissing(e: unknown): boolean {
  return statusOf(e) === 404;
}

export function isMissingBucket(e: unknown): boolean {
  return (e as SdkFailure | undefined)?.name === 'NoSuchBucket';
}

export function missingBucket(place: S3Place, cause?: unknown): InvalidParameter {
  return new InvalidParameter(`${place.location}: bucket "${place.bucket}" does not exist at ${place.endpoint}`, { cause });
}

export function missingFile(place: S3Place, path: string, cause?: unknown): NotFound {
  return new NotFound(`${place.location}: ${path} does not exist`, { cause });
}

/** Translates a failure of `action` (like "put data/ab/abcd") into berth's error taxonomy. */
export function s3Failure(e: unknown, place: S3Place, action: string): unknown {
  if (e instanceof BodyFailure) return e.error;
  if (e instanceof BerthError) return e;
  const failure = (e ?? {}) as SdkFailure;
  const status = statusOf(e);
  const attempts = failure.$metadata?.attempts;
  const after = attempts !== undefined && attempts > 1 ? ` (after ${attempts} attempts)` : '';
  const what = `${place.location}: ${action}`;
  if (isMissingBucket(e)) return missingBucket(place, e);
  if (failure.name === 'CredentialsProviderError') {
    return new InvalidParameter(
      `${what}: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID_FILE and AWS_SECRET_ACCESS_KEY_FILE), or give them with the repository (${errorText(e)})`,
      { cause: e },
    );
  }
  if (status === 401 || status === 403) {
    return new Forbidden(
      `${what}: access denied by ${place.endpoint} (${answer(failure, status)}); check the access key and secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or their _FILE variants) and the bucket's policy`,
      { cause: e },
    );
  }
  if ((failure.code !== undefined && NETWORK_CODES.has(failure.code)) || failure.name === 'TimeoutError') {
    return new Unavailable(`${what}: cannot reach the S3 endpoint ${place.endpoint}${after}: ${errorText(e)}`, { cause: e });
  }
  if (status !== undefined && (status >= 500 || status === 429)) {
    return new Unavailable(`${what}: ${place.endpoint} answered ${answer(failure, status)}${after}`, { cause: e });
  }
  if (status !== undefined) return new SystemError(`${what}: ${place.endpoint} answered ${answer(failure, status)}`, { cause: e });
  return new SystemError(`${what}: ${errorText(e)}`, { cause: e });
}
