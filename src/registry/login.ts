// POST /auth (docker login): credentials are checked by asking the
// registry's /v2/ with them, through whatever challenge it answers (a token
// from its token server, or basic), as dockerd's loginV2 does.
import type { Logger } from 'pino';
import { Unauthorized } from '../errors.js';
import { INDEX_SERVER, type AuthConfig } from './auth.js';
import { goMethod, RegistryClient } from './client.js';
import { RegistryError, RegistryTransportError, statusText } from './errors.js';
import { DOCKER_HUB, type RegistryHosts } from './hosts.js';

export { INDEX_SERVER };

/** dockerd's ConvertToHostname, with Docker Hub's names mapped to docker.io. */
export function registryDomain(serverAddress: string | undefined): string {
  if (serverAddress === undefined || serverAddress === '' || serverAddress === INDEX_SERVER) return DOCKER_HUB;
  const host = serverAddress.replace(/^https?:\/\//, '').split('/')[0]!;
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

export interface LoginResult {
  Status: string;
  IdentityToken: string;
}

export async function login(hosts: RegistryHosts, auth: AuthConfig, userAgent: string, log: Logger): Promise<LoginResult> {
  const domain = registryDomain(auth.serveraddress);
  const endpoints = await hosts.endpoints(domain, false);
  let lastError: unknown;
  for (const endpoint of endpoints) {
    const client = new RegistryClient({ endpoint, path: '', auth, actions: [], userAgent, log });
    const url = client.url('v2/');
    try {
      await client.ping();
      const res = await client.request('GET', 'v2/', { ok: () => true });
      res.resume();
      if (res.statusCode !== 200) {
        const text = `login attempt to ${url.href} failed with status: ${statusText(res.statusCode ?? 0)}`;
        if (res.statusCode === 401) throw new Unauthorized(text);
        throw new RegistryError(res.statusCode ?? 0, [], text);
      }
      return { Status: 'Login Succeeded', IdentityToken: '' };
    } catch (e) {
      // Only a registry that cannot be reached this way makes the next endpoint worth a try.
      if (!(e instanceof RegistryTransportError)) {
        if (e instanceof RegistryError && e.kind === 'unauthorized') throw new Unauthorized(`${goMethod('GET')} "${url.href}": ${e.message}`, { cause: e });
        throw e;
      }
      lastError = e;
    }
  }
  throw lastError;
}
