// Container wire shapes: GET /containers/json elements and the Mounts entries
// of inspect. Fields a docker daemon may leave out are optional, so the CLI
// reads other daemons' answers with the same type.
import type { ContainerConfig } from '../../containers/types.js';
import type { ApiMount } from './mounts.js';

export interface ApiPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** docker inspect's Mounts entry (spec 6.4): Name and Driver only for volumes. */
export interface ApiMountPoint {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  Driver?: string;
  Mode?: string;
  RW?: boolean;
  Propagation?: string;
}

export interface ApiContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: ApiPort[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  Mounts?: ApiMountPoint[] | null;
}

export interface ApiRestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

/** POST /containers/create: container.Config's fields inline, then HostConfig and NetworkingConfig. */
export interface ApiContainerCreateBody extends ContainerConfig {
  HostConfig: Record<string, unknown> & {
    Binds: string[] | null;
    NetworkMode: string;
    RestartPolicy: ApiRestartPolicy | Record<string, never>;
    AutoRemove: boolean;
    VolumeDriver: string;
    VolumesFrom: string[] | null;
    ReadonlyRootfs: boolean;
    Tmpfs?: Record<string, string>;
    Mounts?: ApiMount[];
  };
  NetworkingConfig: { EndpointsConfig: Record<string, ApiEndpointSettings> };
}

export interface ApiEndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: null;
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: null;
}
