// Trying a registry's endpoints in dockerd's order: mirrors (Docker Hub
// pulls), then the registry itself over HTTPS, then plain HTTP for an
// insecure registry. The next endpoint is tried when this one cannot speak
// HTTP at all, or, for a mirror, after any failure.
import type { Logger } from 'pino';
import { errorText } from '../errors.js';
import type { AuthConfig } from './auth.js';
import { RegistryClient } from './client.js';
import { RegistryTransportError } from './errors.js';
import type { RegistryHosts } from './hosts.js';

export interface ConnectOptions {
  hosts: RegistryHosts;
  /** Registry host as in the reference: "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** Repository path: "library/busybox". */
  path: string;
  auth: AuthConfig;
  actions: string[];
  /** Mirrors are for pulls only. */
  withMirrors: boolean;
  userAgent: string;
  log: Logger;
  signal?: AbortSignal;
}

export async function withRepository<T>(opts: ConnectOptions, use: (client: RegistryClient) => Promise<T>): Promise<T> {
  const endpoints = await opts.hosts.endpoints(opts.domain, opts.withMirrors);
  let lastError: unknown;
  for (const [i, endpoint] of endpoints.entries()) {
    const last = i === endpoints.length - 1;
    const client = new RegistryClient({ endpoint, path: opts.path, auth: opts.auth, actions: opts.actions, userAgent: opts.userAgent, log: opts.log });
    try {
      await client.ping(opts.signal);
    } catch (e) {
      if (last || opts.signal?.aborted || !(e instanceof RegistryTransportError)) throw e;
      opts.log.debug({ endpoint: endpoint.url.href, err: errorText(e) }, 'registry endpoint unreachable: trying the next');
      lastError = e;
      continue;
    }
    try {
      return await use(client);
    } catch (e) {
      if (last || !endpoint.mirror || opts.signal?.aborted) throw e;
      opts.log.info({ mirror: endpoint.url.href, err: errorText(e) }, 'registry mirror failed: trying the next endpoint');
      lastError = e;
    }
  }
  throw lastError;
}
