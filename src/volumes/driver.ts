// The driver interface is shaped like the volume plugin protocol (spec 7.3),
// so the local driver and plugin drivers are interchangeable to the service.
// The core interface is what every driver can do; abilities only some drivers
// have are small interfaces of their own, detected with the guards below, so
// callers never depend on one driver's class.

export interface DriverVolume {
  name: string;
  mountpoint: string;
  /** ms since epoch; undefined when the driver cannot tell (plugins). */
  createdAt?: number;
  status?: Record<string, unknown>;
}

export interface VolumeDriver {
  readonly name: string;
  readonly scope: 'local' | 'global';
  /** Prepares the driver's storage and reads back what it holds; called once before any other call. */
  init(): Promise<void>;
  /**
   * Checks options and creates the volume. Throws with Docker's message, without the "create NAME: " prefix.
   * Creating a name the driver already has is not an error.
   * `commit` (the caller's record of the volume) runs once the volume is in
   * place; if it throws, the volume is taken away again and the error rethrown.
   */
  create(name: string, options: Record<string, string> | null, commit?: () => void): Promise<DriverVolume>;
  /**
   * Removes the volume; removing a name the driver does not have is not an error.
   * `commit` (the caller's record delete) runs once the data is out of reach
   * but still recoverable; if it throws, the data is put back, the volume
   * stays usable and the error is rethrown.
   */
  remove(name: string, commit?: () => void): Promise<void>;
  get(name: string): Promise<DriverVolume | undefined>;
  list(): Promise<DriverVolume[]>;
  /** The mountpoint reported for the volume (inspect's Mountpoint). */
  path(name: string): string;
}

/**
 * Volumes made available on first use and released after the last: each
 * active user holds a reference (`ref`) between mount and unmount, and a
 * volume with references cannot be removed.
 */
export interface MountingDriver extends VolumeDriver {
  /** Makes the volume available for `ref`; the first active reference mounts it. Returns the path to use. */
  mount(name: string, ref: string): Promise<string>;
  /** Releases `ref`; the last one unmounts. Unknown names and refs are ignored. */
  unmount(name: string, ref: string): Promise<void>;
  /** True when this volume's data exists only while mounted (a tmpfs, a device). */
  needsMount(name: string): boolean;
}

/** Drivers that can tell how many bytes a volume holds (system df, prune's reclaimed space). */
export interface SizedDriver extends VolumeDriver {
  size(name: string): Promise<number>;
}

/**
 * Drivers whose data is a host directory that can be read and written
 * directly (export, backup). For a MountingDriver the directory holds the
 * volume's data only while the caller holds a mount reference.
 */
export interface DataAccessDriver extends VolumeDriver {
  dataPath(name: string): string;
}

/**
 * Drivers that can build a volume's new contents beside its data and put
 * them in place in one step (import, clone, restore): the volume shows its
 * old data or its new data, never a mix. Only for volumes whose data is a
 * plain directory of the driver (not needsMount).
 */
export interface StagingDriver extends DataAccessDriver {
  /**
   * A new empty directory on the filesystem of the volume's data, for its
   * next contents. The volume need not exist yet (data for a volume about
   * to be created); the name is validated as create would.
   */
  stage(name: string): string;
  /** Makes the staged tree durable (before the volume it is for is created or swapped). */
  flushStaged(staged: string): void;
  /** Puts `staged` (flushed) in place as the volume's data and deletes the data it replaces. */
  commitStaged(name: string, staged: string): void;
  /** Deletes a staged directory that will not be committed. */
  discardStaged(staged: string): Promise<void>;
}

export function mountsOnUse(driver: VolumeDriver): driver is MountingDriver {
  const d = driver as Partial<MountingDriver>;
  return typeof d.mount === 'function' && typeof d.unmount === 'function' && typeof d.needsMount === 'function';
}

export function reportsSize(driver: VolumeDriver): driver is SizedDriver {
  return typeof (driver as Partial<SizedDriver>).size === 'function';
}

export function givesDataAccess(driver: VolumeDriver): driver is DataAccessDriver {
  return typeof (driver as Partial<DataAccessDriver>).dataPath === 'function';
}

export function stagesData(driver: VolumeDriver): driver is StagingDriver {
  const d = driver as Partial<StagingDriver>;
  return (
    givesDataAccess(driver) &&
    typeof d.stage === 'function' &&
    typeof d.flushStaged === 'function' &&
    typeof d.commitStaged === 'function' &&
    typeof d.discardStaged === 'function'
  );
}
