// An EndpointSettings object (NetworkingConfig.EndpointsConfig entries, the
// EndpointConfig of POST /networks/{id}/connect) as the network service's
// EndpointConfig: what the client asked for, not the runtime fields.
import type { EndpointConfig } from '../../networks/types.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function decodeEndpointSettings(raw: unknown): Partial<EndpointConfig> {
  if (!isObject(raw)) return {};
  const ipam = isObject(raw.IPAMConfig) ? raw.IPAMConfig : {};
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const out: Partial<EndpointConfig> = { aliases: strings(raw.Aliases), links: strings(raw.Links) };
  const ipv4 = text(ipam.IPv4Address);
  const ipv6 = text(ipam.IPv6Address);
  const mac = text(raw.MacAddress);
  if (ipv4) out.ipv4Address = ipv4;
  if (ipv6) out.ipv6Address = ipv6;
  if (mac) out.macAddress = mac;
  if (isObject(raw.DriverOpts)) out.driverOpts = raw.DriverOpts as Record<string, string>;
  return out;
}

/** NetworkingConfig.EndpointsConfig, by the network name or ID the client used. */
export function decodeEndpointsConfig(networkingConfig: unknown): Record<string, Partial<EndpointConfig>> {
  const out: Record<string, Partial<EndpointConfig>> = {};
  const endpoints = isObject(networkingConfig) && isObject(networkingConfig.EndpointsConfig) ? networkingConfig.EndpointsConfig : {};
  for (const [name, ep] of Object.entries(endpoints)) out[name] = decodeEndpointSettings(ep);
  return out;
}
