// Networks as GET /networks and GET /networks/{id} show them (moby's
// network.Inspect), and a container's NetworkSettings.
import type { EndpointConfig, EndpointRecord, NetworkRecord } from '../../networks/types.js';
import type { PortBinding } from '../../networks/ports.js';
import { portMap } from '../../networks/ports.js';
import type { ApiPort } from '../types/containers.js';
import { shortId } from '../../util/random-id.js';

export interface ApiNetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** One network; `containers` for inspect (the list shows an empty map, as dockerd). */
export function toApiNetwork(n: NetworkRecord, containers: readonly EndpointRecord[] = []): Record<string, unknown> {
  const byContainer: Record<string, ApiNetworkContainer> = {};
  for (const e of containers) {
    byContainer[e.containerId] = { Name: e.containerName, EndpointID: e.id, MacAddress: e.mac, IPv4Address: `${e.address}/${e.prefixLen}`, IPv6Address: '' };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: n.enableIPv6,
    IPAM: { Driver: n.ipam.driver, Options: n.ipam.options, Config: n.ipam.config },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: byContainer,
    Options: n.options ?? {},
    Labels: n.labels ?? {},
  };
}

/** One entry of NetworkSettings.Networks: what was asked, and the endpoint when the container runs. */
export function toApiEndpointSettings(networkId: string, cfg: EndpointConfig, ep: EndpointRecord | undefined, containerId: string): Record<string, unknown> {
  // EndpointIPAMConfig's fields are omitempty.
  const ipamConfig = cfg.ipv4Address || cfg.ipv6Address ? { ...(cfg.ipv4Address ? { IPv4Address: cfg.ipv4Address } : {}), ...(cfg.ipv6Address ? { IPv6Address: cfg.ipv6Address } : {}) } : null;
  return {
    IPAMConfig: ipamConfig,
    Links: cfg.links.length > 0 ? cfg.links : null,
    Aliases: cfg.aliases.length > 0 ? cfg.aliases : null,
    MacAddress: ep?.mac ?? cfg.macAddress ?? '',
    DriverOpts: cfg.driverOpts ?? null,
    GwPriority: 0,
    NetworkID: networkId,
    EndpointID: ep?.id ?? '',
    Gateway: ep?.gateway ?? '',
    IPAddress: ep?.address ?? '',
    IPPrefixLen: ep?.prefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: ep ? [...new Set([ep.containerName, shortId(containerId), ...ep.aliases])] : null,
  };
}


export interface NetworkSettingsInput {
  /** bridge, host, none, private. */
  mode: string;
  /** The container's networks by name, with the network ID (or the recorded one when the network went away). */
  networks: Array<{ name: string; id: string; cfg: EndpointConfig }>;
  endpoints: Map<string, EndpointRecord>;
  ports: readonly PortBinding[];
  exposedPorts: Record<string, unknown> | null | undefined;
  sandboxKey: string;
  running: boolean;
}

/** docker inspect's NetworkSettings (API 1.44+ shape; the deprecated top-level fields of the default bridge kept). */
export function toApiNetworkSettings(containerId: string, s: NetworkSettingsInput): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const n of s.networks) networks[n.name] = toApiEndpointSettings(n.id, n.cfg, s.endpoints.get(n.id), containerId);
  const bridge = s.networks.find((n) => n.name === 'bridge');
  const bridgeEp = bridge ? s.endpoints.get(bridge.id) : undefined;
  return {
    Bridge: '',
    SandboxID: s.running && s.sandboxKey !== '' ? containerId : '',
    SandboxKey: s.sandboxKey,
    Ports: s.running ? portMap(s.ports, s.exposedPorts) : {},
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridgeEp?.id ?? '',
    Gateway: bridgeEp?.gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: bridgeEp?.address ?? '',
    IPPrefixLen: bridgeEp?.prefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: bridgeEp?.mac ?? '',
    Networks: networks,
  };
}

/** docker ps's Ports: one entry per binding, and exposed ports without one. */
export function toApiPorts(bindings: readonly PortBinding[], exposedPorts: Record<string, unknown> | null | undefined): ApiPort[] {
  const out: ApiPort[] = [];
  for (const b of bindings) out.push({ IP: b.hostIp, PrivatePort: b.containerPort, PublicPort: b.hostPort, Type: b.protocol });
  for (const key of Object.keys(exposedPorts ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    if (bindings.some((b) => String(b.containerPort) === port && b.protocol === proto)) continue;
    out.push({ PrivatePort: Number(port), Type: proto });
  }
  return out;
}
