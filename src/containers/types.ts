// The container record kept in SQLite, and the request shapes the service takes.
import type { MountPoint, MountSpec } from '../mounts/types.js';
import type { EndpointConfig } from '../networks/types.js';
import type { NetworkMode } from '../networks/service.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  /** RFC 3339 nano; docker's zero time when never. */
  startedAt: string;
  finishedAt: string;
}

/**
 * Docker's State.Running: a paused container is running too (its processes
 * exist, frozen), so everything that needs the container's processes (stop,
 * kill, wait, logs -f, volume users) treats both alike.
 */
export function isRunning(state: Pick<ContainerState, 'status'>): boolean {
  return state.status === 'running' || state.status === 'paused';
}

/** Docker's State.Running as inspect and `ps` show it: a restarting container counts too (between its runs). */
export function isRunningOrRestarting(state: Pick<ContainerState, 'status'>): boolean {
  return isRunning(state) || state.status === 'restarting';
}

/** A JSON object docker decodes into struct{} (ExposedPorts, Volumes values). */
export type Empty = Record<string, never>;

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/**
 * Docker's container.Config, the one domain Config type: a container's
 * (the request merged with the image's), an image's (inspect's Config), and
 * in Partial form the `config` of an image config file.
 */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Empty> | null;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image: string;
  Volumes: Record<string, Empty> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  NetworkDisabled?: boolean;
  OnBuild: string[] | null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[];
}

/**
 * What POST /containers/create asks for, as the container service takes it:
 * decoded to Docker's Go types and with the API-version rules applied by the
 * API layer (src/api/decode/container-create.ts).
 */
export interface ContainerCreateSpec {
  /** The requested name; undefined for a generated one. */
  name?: string;
  /** The client's API version: a few defaults (bind options, warnings) still follow it, as in dockerd. */
  apiVersion: string;
  image: string;
  /** The request's Config fields (merged with the image's at create). */
  config: Partial<ContainerConfig>;
  /** The request's HostConfig fields, Go-typed; checked and defaulted at create. */
  hostConfig: Record<string, unknown>;
  /** HostConfig.Mounts, decoded and version-checked. */
  mounts: MountSpec[];
  /** NetworkingConfig.EndpointsConfig, by network name or ID ("default" is the default bridge). */
  endpoints: Record<string, Partial<EndpointConfig>>;
}

export interface ContainerRecord {
  id: string;
  /** Without the leading slash. */
  name: string;
  created: string;
  path: string;
  args: string[];
  imageId: string;
  config: ContainerConfig;
  /** HostConfig as sent, with docker's defaults filled in. */
  hostConfig: Record<string, unknown>;
  /** Volume, bind and --mount tmpfs mount points (what inspect shows in Mounts). */
  mounts: MountPoint[];
  /** HostConfig.Tmpfs mounts (not shown in Mounts). */
  tmpfs: MountPoint[];
  state: ContainerState;
  /** Restarts by the restart policy since the last explicit start. */
  restartCount: number;
  /**
   * Stopped or killed by a client since its last start (dockerd's
   * HasBeenManuallyStopped): an unless-stopped container then stays stopped
   * at berthd's start. Absent in records written before restart policies.
   */
  manuallyStopped?: boolean;
  /** bridge: on the networks below; host; none; private (loopback only: berthd runs without a default bridge). */
  networkMode: NetworkMode;
  /** networkMode container: the container whose network namespace this one joins (its ID). */
  networkContainer?: string;
  /** The networks the container is on (NetworkSettings.Networks), by name, the primary one first; what each was asked with. */
  networks: Record<string, EndpointConfig>;
}

/** Where a container's files live on the host. */
export interface ContainerPaths {
  containerDir: string;
  logPath: string;
  /** The overlay's directory: rootfs, upper and work. */
  fsDir: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';
