// The error taxonomy every service throws. Faces (HTTP API, CLI) map `kind`
// to a status or exit code in exactly one place each; services never know HTTP.

export type ErrorKind =
  | 'invalid-parameter'
  | 'not-found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not-implemented'
  | 'system';

/** dockerd's answer to what needs a swarm manager: berth is never one. */
export const NOT_A_SWARM_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = new.target.name;
  }
}

export class InvalidParameter extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid-parameter', message, options);
  }
}

/** A tar archive that is malformed, truncated or hostile (members escaping the target): HTTP 400. */
export class InvalidArchive extends InvalidParameter {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidArchive';
  }
}

export class NotFound extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', message, options);
  }
}

export class Conflict extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

/** Credentials missing or refused (a registry's 401): HTTP 401, as dockerd's errdefs.Unauthorized. */
export class Unauthorized extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unauthorized', message, options);
  }
}

export class Forbidden extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('forbidden', message, options);
  }
}

export class Unavailable extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

export class NotImplemented extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-implemented', message, options);
  }
}

/** An internal failure (I/O, mount(2), runc): Docker answers these with 500. */
export class SystemError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('system', message, options);
  }
}

/** docker: 1.7 — "volume is in use - [id1, id2]". */
export class VolumeInUse extends Conflict {
  readonly refs: string[];
  constructor(name: string, refs: string[]) {
    super(`remove ${name}: volume is in use - [${refs.join(', ')}]`);
    this.refs = refs;
  }
}

export function isBerthError(e: unknown): e is BerthError {
  return e instanceof BerthError;
}

/** Text of any thrown value, for logs and wrapped messages. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * `e` with `context: ` in front of its message (docker wraps as "create NAME: ..."),
 * keeping its class, kind and fields, and the original as `cause`. The copy is
 * made from the instance, not by calling its constructor, because constructors
 * differ (VolumeInUse takes a name and references). Anything that is not a
 * BerthError becomes a SystemError.
 */
export function withContext(e: unknown, context: string): BerthError {
  if (!(e instanceof BerthError)) return new SystemError(`${context}: ${errorText(e)}`, { cause: e });
  const wrapped = Object.assign(Object.create(Object.getPrototypeOf(e) as object) as BerthError, e);
  Object.defineProperties(wrapped, {
    message: { value: `${context}: ${e.message}`, writable: true, configurable: true },
    cause: { value: e, writable: true, configurable: true },
  });
  Error.captureStackTrace(wrapped, withContext);
  return wrapped;
}
