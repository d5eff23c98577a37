// A second volume driver for tests: plain directories under a scratch root,
// with every optional ability (references without mount(2), size, data
// access). It shows the service and the conformance suite depend on the
// VolumeDriver interfaces, not on the local driver.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound } from '../../src/errors.js';
import { directorySize } from '../../src/util/fs.js';
import type { DataAccessDriver, DriverVolume, MountingDriver, SizedDriver, VolumeDriver } from '../../src/volumes/driver.js';

/** The only option it takes: the data directory's mode, in octal. */
const MODE_OPTION = 'mode';
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class ScratchDriver implements MountingDriver, SizedDriver, DataAccessDriver {
  readonly scope = 'local' as const;
  /** Active references per volume; kept in memory only, as a daemon restart ends every user. */
  private readonly refs = new Map<string, Set<string>>();
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(
    readonly root: string,
    readonly name = 'scratch',
  ) {}

  async init(): Promise<void> {
    mkdirSync(this.root, { recursive: true });
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      // Dot entries are half-made or half-removed volumes of an earlier run.
      if (entry.name.startsWith('.')) rmSync(join(this.root, entry.name), { recursive: true, force: true });
      else this.names.add(entry.name);
    }
  }

  async create(name: string, options: Record<string, string> | null, commit?: () => void): Promise<DriverVolume> {
    if (!VALID_NAME.test(name)) throw new InvalidParameter(`invalid volume name: ${JSON.stringify(name)}`);
    const mode = parseMode(options);
    if (this.names.has(name)) {
      commit?.();
      return this.describe(name);
    }
    const staging = join(this.root, `.new-${++this.counter}`);
    mkdirSync(join(staging, 'data'), { recursive: true, mode });
    writeFileSync(join(staging, 'options.json'), JSON.stringify(options ?? {}));
    renameSync(staging, this.dir(name));
    try {
      commit?.();
    } catch (e) {
      rmSync(this.dir(name), { recursive: true, force: true });
      throw e;
    }
    this.names.add(name);
    return this.describe(name);
  }

  async remove(name: string, commit?: () => void): Promise<void> {
    if (!this.names.has(name)) {
      commit?.();
      return;
    }
    if ((this.refs.get(name)?.size ?? 0) > 0) throw new Conflict('volume has active mounts');
    const trash = join(this.root, `.old-${++this.counter}`);
    renameSync(this.dir(name), trash);
    try {
      commit?.();
    } catch (e) {
      renameSync(trash, this.dir(name));
      throw e;
    }
    this.names.delete(name);
    rmSync(trash, { recursive: true, force: true });
  }

  async get(name: string): Promise<DriverVolume | undefined> {
    return this.names.has(name) ? this.describe(name) : undefined;
  }

  async list(): Promise<DriverVolume[]> {
    return [...this.names].map((name) => ({ name, mountpoint: this.path(name) }));
  }

  path(name: string): string {
    return join(this.dir(name), 'data');
  }

  dataPath(name: string): string {
    return this.path(name);
  }

  async size(name: string): Promise<number> {
    return directorySize(this.path(name));
  }

  async mount(name: string, ref: string): Promise<string> {
    if (!this.names.has(name)) throw new NotFound('no such volume');
    const refs = this.refs.get(name) ?? new Set<string>();
    refs.add(ref);
    this.refs.set(name, refs);
    return this.path(name);
  }

  async unmount(name: string, ref: string): Promise<void> {
    this.refs.get(name)?.delete(ref);
  }

  needsMount(): boolean {
    return false;
  }

  /** The options a volume was made with, as stored on disk. */
  options(name: string): Record<string, string> {
    return JSON.parse(readFileSync(join(this.dir(name), 'options.json'), 'utf8')) as Record<string, string>;
  }

  private dir(name: string): string {
    return join(this.root, name);
  }

  private describe(name: string): DriverVolume {
    return { name, mountpoint: this.path(name), createdAt: statSync(this.dir(name)).ctimeMs };
  }
}

function parseMode(options: Record<string, string> | null): number {
  for (const key of Object.keys(options ?? {})) {
    if (key !== MODE_OPTION) throw new InvalidParameter(`invalid option: ${JSON.stringify(key)}`);
  }
  const text = options?.[MODE_OPTION];
  if (text === undefined) return 0o755;
  if (!/^[0-7]{3,4}$/.test(text)) throw new InvalidParameter(`invalid mode: ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

/**
 * `driver` reduced to the core VolumeDriver interface under another name: a
 * driver with no optional ability, as a plain plugin would be.
 */
export function coreOnly(driver: VolumeDriver, name: string): VolumeDriver {
  return {
    name,
    scope: driver.scope,
    init: () => driver.init(),
    create: (volume, options, commit) => driver.create(volume, options, commit),
    remove: (volume, commit) => driver.remove(volume, commit),
    get: (volume) => driver.get(volume),
    list: () => driver.list(),
    path: (volume) => driver.path(volume),
  };
}
