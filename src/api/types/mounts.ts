// HostConfig.Mounts entries on the wire (mount.Mount), JSON field names;
// the CLI builds them, the API layer decodes them into MountSpec.
/** The HostConfig.Mounts entry of the Engine API (mount.Mount), JSON field names. */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: ApiBindOptions;
  VolumeOptions?: ApiVolumeOptions;
  TmpfsOptions?: ApiTmpfsOptions;
  ImageOptions?: { Subpath?: string };
}

export interface ApiBindOptions {
  Propagation?: string;
  NonRecursive?: boolean;
  CreateMountpoint?: boolean;
  ReadOnlyNonRecursive?: boolean;
  ReadOnlyForceRecursive?: boolean;
}

export interface ApiVolumeOptions {
  NoCopy?: boolean;
  Labels?: Record<string, string>;
  Subpath?: string;
  DriverConfig?: { Name?: string; Options?: Record<string, string> };
}

export interface ApiTmpfsOptions {
  SizeBytes?: number;
  Mode?: number;
  /** API 1.46: [["exec"]] or [["noexec"]]. */
  Options?: string[][];
}

