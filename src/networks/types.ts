// Networks and endpoints as berth.db keeps them (docs/data-root.md), and the
// requests the network service takes.
import type { IpamConfig } from './ipam.js';
import type { PortBinding } from './ports.js';

/** bridge (a Linux bridge), host (the host's namespace), null (no interface): Docker's local drivers. */
export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface NetworkRecord {
  /** 64 hex. */
  id: string;
  name: string;
  driver: NetworkDriver;
  /** RFC 3339, nanoseconds. */
  created: string;
  enableIPv6: boolean;
  internal: boolean;
  attachable: boolean;
  /** As inspect shows it: the configured entries, with the subnet and gateway chosen for a network that named none. */
  ipam: { driver: string; options: Record<string, string> | null; config: IpamConfig[] };
  options: Record<string, string> | null;
  labels: Record<string, string> | null;
  /** bridge driver: the Linux bridge's device name. */
  bridge?: string;
  /** True when the request named the subnet: only then may containers ask for a static address (as dockerd). */
  userSubnet: boolean;
  /** bridge, host and none, made by berthd and never removed. */
  predefined: boolean;
}

/** A running container's attachment to a bridge network. */
export interface EndpointRecord {
  /** 64 hex. */
  id: string;
  networkId: string;
  containerId: string;
  containerName: string;
  /** IPv4 address, prefix length and gateway. */
  address: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  /** The veth end on the bridge (host side). */
  hostInterface: string;
  /** The interface in the container: eth0, eth1, ... */
  interface: string;
  /** Network-scoped aliases the container asked for (compose's service name). */
  aliases: string[];
  /** Links on this network: "container:alias". */
  links: string[];
}

/** What a container asks of one network (its EndpointsConfig entry), kept in its record. */
export interface EndpointConfig {
  /** Filled at create and refreshed at each start; the network is found by name. */
  networkId?: string;
  aliases: string[];
  links: string[];
  /** IPAMConfig.IPv4Address. */
  ipv4Address?: string;
  /** IPAMConfig.IPv6Address (accepted and shown, not configured). */
  ipv6Address?: string;
  macAddress?: string;
  driverOpts?: Record<string, string> | null;
}

/** The published ports of a running container. */
export interface PublishedPorts {
  containerId: string;
  ports: PortBinding[];
}
