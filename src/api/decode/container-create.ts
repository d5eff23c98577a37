// POST /containers/create's body into the container service's
// ContainerCreateSpec: Docker's Go types first (a wrong type is dockerd's
// 400 before anything is looked at), then HostConfig.Mounts decoded and held
// to the request's API version.
import type { ContainerConfig, ContainerCreateSpec } from '../../containers/types.js';
import { decodeCreateRequest } from './create-request.js';
import { decodeMounts } from './mounts.js';
import { decodeEndpointsConfig } from './endpoint-settings.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeContainerCreate(body: Record<string, unknown>, opts: { name?: string; apiVersion: string }): ContainerCreateSpec {
  const decoded = decodeCreateRequest(body);
  const { HostConfig, NetworkingConfig, Image, ...config } = decoded;
  const hostConfig = isObject(HostConfig) ? { ...HostConfig } : {};
  return {
    ...(opts.name ? { name: opts.name } : {}),
    apiVersion: opts.apiVersion,
    image: typeof Image === 'string' ? Image : '',
    // decodeCreateRequest has checked every field against container.Config's Go types.
    config: config as Partial<ContainerConfig>,
    hostConfig,
    mounts: decodeMounts(Array.isArray(hostConfig.Mounts) ? hostConfig.Mounts : null, opts.apiVersion),
    endpoints: decodeEndpointsConfig(NetworkingConfig),
  };
}
