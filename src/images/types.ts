// Shapes of the image store: the image config file (as in `docker save` and
// the OCI image spec) and the store's own record. The Engine API views are in
// src/api/views/images.ts.

export type Empty = Record<string, never>;

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` object of an image config file (runtime defaults for containers). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Empty> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, Empty> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image config JSON; its sha256 is the image ID. */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  comment?: string;
  docker_version?: string;
  config?: ContainerConfig;
  container_config?: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

/** What the store knows about one image. */
export interface ImageRecord {
  /** "sha256:<64 hex>" — the sha256 of the config file bytes. */
  id: string;
  /** Familiar "name:tag" references, sorted. */
  repoTags: string[];
  /** Parsed config file. */
  config: ImageConfigFile;
  /** Layer diff_ids, bottom (first applied) to top. */
  layers: string[];
  /** Host directory of each layer, in the order of `layers`. */
  layerDirs: string[];
  /** Sum of the unpacked layer sizes in bytes. */
  size: number;
  /** config.created, or "" when the config has none. */
  created: string;
  /** When a tag last moved onto this image (RFC 3339), or null. */
  lastTagTime: string | null;
}

/** Docker's full container.Config (as import stores it and inspect prints it): these keys are always present (null when unset). */
export interface InspectConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Empty>;
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
  OnBuild: string[] | null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[];
}

/** One step of an image removal, as DELETE /images/{name} reports it. */
export interface DeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}
