// What pulls and pushes share: the daemon's registry settings, Docker's
// retry rule for a layer transfer (a transient failure waits 5 s per
// attempt made, counting down "Retrying in N seconds" once a second), and the
// registry errors worded for a pull as moby's translatePullError words them.
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFound, Unauthorized } from '../errors.js';
import type { RegistryHosts } from '../registry/hosts.js';
import type { AuthConfig } from '../registry/auth.js';
import type { ConnectOptions } from '../registry/connect.js';
import type { Logger } from 'pino';
import { RegistryError, RegistryTransportError } from '../registry/errors.js';
import { familiarName, familiarString, type Reference } from './reference.js';
import type { Progress } from './progress.js';

export interface RegistrySettings {
  hosts: RegistryHosts;
  /** dockerd's --max-concurrent-downloads (3). */
  maxConcurrentDownloads: number;
  /** dockerd's --max-concurrent-uploads (5). */
  maxConcurrentUploads: number;
  /** dockerd's --max-download-attempts (5); uploads make 5 attempts too. */
  maxDownloadAttempts: number;
  userAgent: string;
}

/** How a pull (with mirrors) or a push (without) reaches `ref`'s repository. */
export function connectOptions(
  settings: RegistrySettings,
  ref: Reference,
  auth: AuthConfig,
  actions: string[],
  log: Logger,
  signal: AbortSignal | undefined,
): ConnectOptions {
  return {
    hosts: settings.hosts,
    domain: ref.domain,
    path: ref.path,
    auth,
    actions,
    // Mirrors serve pulls only, as dockerd's.
    withMirrors: !actions.includes('push'),
    userAgent: settings.userAgent,
    log,
    signal,
  };
}

export const DEFAULT_REGISTRY_LIMITS = { maxConcurrentDownloads: 3, maxConcurrentUploads: 5, maxDownloadAttempts: 5 } as const;

/** A failure worth another attempt: no HTTP answer, a registry error status, a connection cut mid-body. */
export class TransientError extends Error {}

export function isTransient(e: unknown): boolean {
  if (e instanceof TransientError || e instanceof RegistryTransportError) return true;
  if (e instanceof RegistryError) return e.transient;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'ECONNABORTED' || (e as Error | null)?.message === 'aborted';
}

/**
 * Runs `attempt` until it succeeds, fails for good, or has run `max` times;
 * between attempts the countdown is shown on `id`. `attempt` gets its number
 * (1-based).
 */
export async function withRetries<T>(
  max: number,
  progress: Progress,
  id: string,
  signal: AbortSignal | undefined,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (signal?.aborted || n >= max || !isTransient(e)) throw e;
      for (let left = n * 5; left > 0; left--) {
        progress.update(id, `Retrying in ${left} second${left === 1 ? '' : 's'}`);
        await sleep(1000, undefined, { signal });
      }
    }
  }
}

/** moby's translatePullError: a registry's refusal worded with the reference. */
export function pullError(e: unknown, ref: Reference): unknown {
  if (!(e instanceof RegistryError)) return e;
  switch (e.code) {
    case 'DENIED':
      return new NotFound(`pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${e.message}`, { cause: e });
    case 'MANIFEST_UNKNOWN':
      return new NotFound(`manifest for ${familiarString(ref)} not found: ${e.message}`, { cause: e });
    case 'NAME_UNKNOWN':
      return new NotFound(`repository ${familiarName(ref)} not found: ${e.message}`, { cause: e });
    case 'UNAUTHORIZED':
      return new Unauthorized(e.message, { cause: e });
    default:
      return e;
  }
}

