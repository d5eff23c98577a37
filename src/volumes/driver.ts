// The driver interface is shaped like the volume plugin protocol (spec 7.3),
// so the local driver and plugin drivers are interchangeable to the service.

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
  /**
   * Checks options and creates the volume. Throws with Docker's message, without the "create NAME: " prefix.
   * `commit` (the caller's record of the volume) runs once the volume is in
   * place; if it throws, the volume is taken away again and the error rethrown.
   */
  create(name: string, options: Record<string, string> | null, commit?: () => void): Promise<DriverVolume>;
  /**
   * Removes the volume. `commit` (the caller's record delete) runs once the
   * data is out of reach but still recoverable; if it throws, the data is put
   * back, the volume stays usable and the error is rethrown.
   */
  remove(name: string, commit?: () => void): Promise<void>;
  get(name: string): Promise<DriverVolume | undefined>;
  list(): Promise<DriverVolume[]>;
  path(name: string): string;
  /** Makes the volume available for `ref`; the first active reference mounts it. Returns the path to use. */
  mount(name: string, ref: string): Promise<string>;
  /** Releases `ref`; the last one unmounts. */
  unmount(name: string, ref: string): Promise<void>;
}
