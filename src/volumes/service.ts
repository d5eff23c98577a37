// VolumeService: the only door to volumes for the API, the CLI's daemon side
// and the container service. Metadata and references live in SQLite
// (VolumeRecords); data lives with the drivers, reached through the
// DriverRegistry and the VolumeDriver interface only. Mirrors moby's
// daemon/volume/service split (spec 1.5–1.8, 2, 3.3, 6.3).
import { readdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { Conflict, NotFound, NotImplemented, VolumeInUse, errorText, withContext } from '../errors.js';
import type { EventSink } from '../events/bus.js';
import type { VolumeRecords, VolumeRecord } from '../store/volume-records.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { generateId } from '../util/random-id.js';
import { givesDataAccess, mountsOnUse, reportsSize, stagesData, type StagingDriver, type VolumeDriver } from './driver.js';
import type { DriverRegistry } from './driver-registry.js';
import { ANONYMOUS_LABEL } from './names.js';
import { matchesAllLabels, matchesPruneLabels, nameMatcher } from './filters.js';

export interface Volume {
  name: string;
  driver: string;
  labels: Record<string, string> | null;
  options: Record<string, string> | null;
  mountpoint: string;
  createdAt: number;
  scope: 'local' | 'global';
  status?: Record<string, unknown>;
}

export interface CreateVolumeRequest {
  name?: string;
  driver?: string;
  driverOpts?: Record<string, string> | null;
  labels?: Record<string, string> | null;
  /** Take a reference for this ID (a container) as part of the create. */
  ref?: string;
}

export interface ListFilters {
  dangling?: boolean;
  driver?: string[];
  label?: string[];
  name?: string[];
}

export interface PruneFilters {
  label: string[];
  notLabel: string[];
  /** false: only volumes labelled anonymous (API >= 1.42 default). */
  all: boolean;
}

export interface PruneReport {
  volumesDeleted: string[];
  spaceReclaimed: number;
}

/** A container's use of a mounted volume: what docker's volume mount and unmount events report. */
export interface ContainerUse {
  container: string;
  destination: string;
  propagation: string;
  readWrite: boolean;
}

/** The driver volumes get when a create names none, and the only one prune and system df look at (as in Docker). */
export const DEFAULT_DRIVER = 'local';

export interface VolumeUsage {
  volume: Volume;
  refCount: number;
  size: number;
}

export class VolumeService {
  private readonly locks = new KeyedMutex();
  /** Volume views per (immutable) record object, so repeated reads share one object. */
  private readonly views = new WeakMap<VolumeRecord, Volume>();
  private pruning = false;

  constructor(
    private readonly records: VolumeRecords,
    private readonly drivers: DriverRegistry,
    private readonly events: EventSink,
    private readonly log: Logger,
  ) {}

  /** Reconciles the database with what the drivers hold, at daemon start (spec 2.4). */
  async restore(): Promise<void> {
    for (const driver of this.drivers.all()) await driver.init();
    const known = new Set<string>();
    for (const rec of this.records.all()) {
      const driver = this.drivers.get(rec.driver);
      if (!driver || !(await driver.get(rec.name))) {
        // The driver no longer has it: docker drops the entry.
        this.log.warn({ volume: rec.name, driver: rec.driver }, 'dropping volume whose data is gone');
        this.records.delete(rec.name);
        continue;
      }
      known.add(rec.name);
    }
    for (const driver of this.drivers.all()) {
      for (const v of await driver.list()) {
        if (known.has(v.name)) continue;
        const dv = await driver.get(v.name);
        // A directory made by hand (or a create cut short) is adopted, as docker does.
        this.records.insert({ name: v.name, driver: driver.name, labels: null, options: null, createdAt: dv?.createdAt ?? Date.now() });
        known.add(v.name);
        this.log.info({ volume: v.name, driver: driver.name }, 'adopted volume directory');
      }
    }
  }

  driverNames(): string[] {
    return this.drivers.names();
  }

  async create(req: CreateVolumeRequest): Promise<Volume> {
    return (await this.ensure(req)).volume;
  }

  /** create(), also telling whether this call made the volume (a failed container create removes only those). */
  async ensure(req: CreateVolumeRequest): Promise<{ volume: Volume; created: boolean }> {
    let name = req.name ?? '';
    let labels = req.labels ?? null;
    if (name === '') {
      name = generateId();
      // docker: spec 2.2 — the label anonymous-only prune looks for.
      labels = { ...(labels ?? {}), [ANONYMOUS_LABEL]: '' };
    }
    return this.locks.run(name, async () => {
      const existing = this.records.get(name);
      if (existing) {
        if (req.driver && req.driver !== existing.driver) {
          this.lookupDriver(name, req.driver);
          throw new Conflict(`create ${name}: driver '${existing.driver}' already has volume '${name}': volume name must be unique`);
        }
        // docker: spec 1.5 — an existing name is returned unchanged, options and labels ignored.
        if (req.ref) this.records.addRef(name, req.ref);
        return { volume: this.toVolume(existing), created: false };
      }
      const driver = this.lookupDriver(name, req.driver || DEFAULT_DRIVER);
      const options = req.driverOpts ?? null;
      // CreatedAt is the creation instant (docker reads the directory's ctime, set in the same millisecond).
      const record = { name, driver: driver.name, labels, options, createdAt: Date.now() };
      // The row is written once the directory is in place, and the driver
      // takes the directory away again if that write fails (a full disk): no
      // failure leaves a row without data or data without its row. A crash
      // in between leaves a directory, adopted at start.
      try {
        await driver.create(name, options, () =>
          this.records.transaction(() => {
            this.records.insert(record);
            if (req.ref) this.records.addRef(name, req.ref);
          }),
        );
      } catch (e) {
        throw withContext(e, `create ${name}`);
      }
      this.events.publish('volume', 'create', name, { driver: driver.name });
      return { volume: this.toVolume(this.records.get(name)!), created: true };
    });
  }

  async get(name: string): Promise<Volume> {
    const rec = this.records.get(name);
    if (!rec) throw noSuchVolume(name);
    const v = this.toVolume(rec);
    return v;
  }

  /** The volume, or undefined: a lookup without docker's 404. */
  find(name: string): Volume | undefined {
    const rec = this.records.get(name);
    return rec ? this.toVolume(rec) : undefined;
  }

  has(name: string): boolean {
    return this.records.get(name) !== undefined;
  }

  list(filters: ListFilters = {}): Volume[] {
    const out: Volume[] = [];
    const nameMatches = filters.name && filters.name.length > 0 ? nameMatcher(filters.name) : null;
    for (const rec of this.records.all()) {
      if (filters.driver && filters.driver.length > 0 && !filters.driver.includes(rec.driver)) continue;
      if (nameMatches && !nameMatches(rec.name)) continue;
      if (filters.label && filters.label.length > 0 && !matchesAllLabels(rec.labels, filters.label)) continue;
      if (filters.dangling !== undefined && filters.dangling === this.records.refCount(rec.name) > 0) continue;
      out.push(this.toVolume(rec));
    }
    return out;
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.locks.run(name, async () => {
      const rec = this.records.get(name);
      if (!rec) {
        if (opts.force) return;
        throw noSuchVolume(name);
      }
      const refs = this.records.refs(name);
      // docker: spec 1.7 — force does not override "in use".
      if (refs.length > 0) throw new VolumeInUse(name, refs);
      await this.removeUnlocked(rec);
    });
  }

  private async removeUnlocked(rec: VolumeRecord): Promise<void> {
    const driver = this.drivers.get(rec.driver);
    // The driver moves the data aside, then the row goes; if deleting the row
    // fails (a full disk), the data is put back and the volume stays usable.
    const commit = (): void => this.records.transaction(() => this.records.delete(rec.name));
    try {
      if (driver) await driver.remove(rec.name, commit);
      else commit();
    } catch (e) {
      throw withContext(e, `remove ${rec.name}`);
    }
    this.events.publish('volume', 'destroy', rec.name, { driver: rec.driver });
  }

  async prune(filters: PruneFilters): Promise<PruneReport> {
    if (this.pruning) throw new Conflict('a prune operation is already running');
    this.pruning = true;
    try {
      const report: PruneReport = { volumesDeleted: [], spaceReclaimed: 0 };
      const labels = filters.all ? filters.label : [...filters.label, ANONYMOUS_LABEL];
      for (const candidate of this.records.all()) {
        if (!this.isPruneCandidate(candidate, labels, filters.notLabel)) continue;
        await this.locks.run(candidate.name, async () => {
          // Re-read under the lock: it may have gained a reference or gone.
          const rec = this.records.get(candidate.name);
          if (!rec || !this.isPruneCandidate(rec, labels, filters.notLabel)) return;
          if (this.records.refs(rec.name).length > 0) return;
          const driver = this.drivers.get(rec.driver);
          const size = driver && reportsSize(driver) ? await driver.size(rec.name) : 0;
          try {
            await this.removeUnlocked(rec);
          } catch (e) {
            this.log.warn({ volume: rec.name, err: errorText(e) }, 'prune: could not remove volume');
            return;
          }
          report.volumesDeleted.push(rec.name);
          report.spaceReclaimed += size;
        });
      }
      this.events.publish('volume', 'prune', '', { reclaimed: String(report.spaceReclaimed) });
      return report;
    } finally {
      this.pruning = false;
    }
  }

  private isPruneCandidate(rec: VolumeRecord, labels: string[], notLabels: string[]): boolean {
    if (rec.driver !== DEFAULT_DRIVER) return false;
    // docker: spec 1.8 — volumes with driver options are never pruned.
    if (rec.options && Object.keys(rec.options).length > 0) return false;
    // An adopted directory may hold mount options its record does not show.
    const driver = this.drivers.get(rec.driver);
    if (driver && mountsOnUse(driver) && driver.needsMount(rec.name)) return false;
    if (!matchesPruneLabels(rec.labels, labels, notLabels)) return false;
    return true;
  }

  // References: a container takes one at create and releases it at removal (spec 6.3).

  addRef(name: string, ref: string): void {
    if (!this.records.get(name)) throw noSuchVolume(name);
    this.records.addRef(name, ref);
  }

  removeRef(name: string, ref: string): void {
    this.records.removeRef(name, ref);
  }

  /**
   * Drops every reference held by `ref` (a removed container). `alongWith`
   * (the holder's own record delete) runs in the same transaction, so the
   * references go exactly when their holder does, or neither does.
   */
  releaseAll(ref: string, alongWith?: () => void): void {
    this.records.transaction(() => {
      alongWith?.();
      this.records.removeRefEverywhere(ref);
    });
  }

  /** Drops references for which `orphan(ref)` is true (containers gone while the daemon was down). */
  pruneRefs(orphan: (ref: string) => boolean): void {
    for (const [volume, refs] of this.records.refCounts()) {
      for (const ref of refs) if (orphan(ref)) this.records.removeRef(volume, ref);
    }
  }

  refs(name: string): string[] {
    return this.records.refs(name);
  }

  /**
   * Mount for an active user (container start, copy-up, docker cp); a driver
   * that mounts on use mounts on the first one. With `use` (a container
   * start), docker's volume mount event is published.
   */
  async mount(name: string, ref: string, use?: ContainerUse): Promise<string> {
    const rec = this.records.get(name);
    if (!rec) throw noSuchVolume(name);
    const driver = this.lookupDriver(name, rec.driver);
    const path = await this.locks.run(name, async () => {
      try {
        if (mountsOnUse(driver)) return await driver.mount(name, ref);
        if (!(await driver.get(name))) throw new NotFound('no such volume');
        return driver.path(name);
      } catch (e) {
        throw withContext(e, `error while mounting volume '${driver.path(name)}'`);
      }
    });
    if (use) {
      this.events.publish('volume', 'mount', name, {
        container: use.container,
        destination: use.destination,
        driver: rec.driver,
        propagation: use.propagation,
        'read/write': String(use.readWrite),
      });
    }
    return path;
  }

  /** Releases `ref`'s mount. With `use` (a container stop), docker's volume unmount event is published, also when unmounting failed. */
  async unmount(name: string, ref: string, use?: Pick<ContainerUse, 'container'>): Promise<void> {
    const rec = this.records.get(name);
    if (!rec) return;
    try {
      const driver = this.drivers.get(rec.driver);
      if (driver && mountsOnUse(driver)) await this.locks.run(name, () => driver.unmount(name, ref));
    } finally {
      if (use) this.events.publish('volume', 'unmount', name, { container: use.container, driver: rec.driver });
    }
  }

  /**
   * The host directory holding the volume's data, for export and backup.
   * For a driver that mounts on use, it holds the data only while the caller
   * has the volume mounted.
   */
  dataPath(name: string): string {
    const rec = this.records.get(name);
    if (!rec) throw noSuchVolume(name);
    const driver = this.lookupDriver(name, rec.driver);
    if (!givesDataAccess(driver)) throw new NotImplemented(`volume ${name}: driver ${driver.name} gives no direct access to its data`);
    return driver.dataPath(name);
  }

  /**
   * Replaces the volume's data with what `fill` writes into an empty staging
   * directory, in one atomic step once `fill` has finished: a failure or a
   * crash before that leaves the volume as it was. `beforeSwap` runs just
   * before the swap, under the volume's lock, and can still refuse it.
   */
  async replaceData<T>(name: string, fill: (dir: string) => Promise<T>, beforeSwap?: () => void): Promise<T> {
    const rec = this.records.get(name);
    if (!rec) throw noSuchVolume(name);
    const driver = this.stagingDriver(name, rec.driver);
    return this.staged(driver, name, fill, async (staged) => {
      await this.locks.run(name, () => {
        if (!this.records.get(name)) throw noSuchVolume(name);
        beforeSwap?.();
        driver.commitStaged(name, staged);
      });
    });
  }

  /**
   * Creates a volume holding what `fill` writes, the volume appearing only
   * once its data is complete and durable: a failure or a crash before that
   * leaves no volume. When the name exists by then (created meanwhile),
   * `ifExisting` decides under its lock whether its data is replaced.
   */
  async createWithData<T>(
    req: CreateVolumeRequest & { name: string },
    fill: (dir: string) => Promise<T>,
    ifExisting: () => void,
  ): Promise<{ volume: Volume; created: boolean; result: T }> {
    const driver = this.stagingDriver(req.name, req.driver || DEFAULT_DRIVER);
    let made: { volume: Volume; created: boolean } | undefined;
    const result = await this.staged(driver, req.name, fill, async (staged) => {
      made = await this.ensure(req);
      const { created } = made;
      try {
        await this.locks.run(req.name, () => {
          if (!created) ifExisting();
          driver.commitStaged(req.name, staged);
        });
      } catch (e) {
        if (created) await this.remove(req.name).catch((err) => this.log.warn({ volume: req.name, err: errorText(err) }, 'could not remove a volume whose data did not arrive'));
        throw e;
      }
    });
    return { ...made!, result };
  }

  private stagingDriver(name: string, driverName: string): StagingDriver {
    const driver = this.lookupDriver(name, driverName);
    if (!stagesData(driver)) throw new NotImplemented(`volume ${name}: driver ${driver.name} cannot have its data replaced`);
    return driver;
  }

  /**
   * A new empty directory on the filesystem of the volume's data, for work
   * that wants reflinks of its files (a backup's captures); undefined when
   * the volume's driver cannot give one (no staging, or data behind a mount).
   */
  scratch(name: string): { dir: string; discard: () => Promise<void> } | undefined {
    const rec = this.records.get(name);
    if (!rec) return undefined;
    const driver = this.drivers.get(rec.driver);
    if (!driver || !stagesData(driver)) return undefined;
    let dir: string;
    try {
      dir = driver.stage(name);
    } catch {
      return undefined;
    }
    return { dir, discard: () => driver.discardStaged(dir) };
  }

  /** Stages, fills, flushes and commits; the staging directory is deleted on any failure. */
  private async staged<T>(driver: StagingDriver, name: string, fill: (dir: string) => Promise<T>, commit: (staged: string) => Promise<void>): Promise<T> {
    const staged = driver.stage(name);
    try {
      const result = await fill(staged);
      driver.flushStaged(staged);
      await commit(staged);
      return result;
    } catch (e) {
      await driver.discardStaged(staged).catch((err) => this.log.warn({ volume: name, staged, err: errorText(err) }, 'could not delete a staging directory'));
      throw e;
    }
  }

  /**
   * True when the volume is known to hold files without mounting it: its
   * driver gives direct data access and it has no mount options. False
   * means "not known", so copy-up mounts and looks.
   */
  knownNonEmpty(name: string): boolean {
    const rec = this.records.get(name);
    if (!rec || (rec.options && Object.keys(rec.options).length > 0)) return false;
    const driver = this.drivers.get(rec.driver);
    if (!driver || !givesDataAccess(driver)) return false;
    if (mountsOnUse(driver) && driver.needsMount(name)) return false;
    try {
      return readdirSync(driver.dataPath(name)).length > 0;
    } catch {
      return false;
    }
  }

  /** Default-driver volumes without options, with their size and reference count (GET /system/df, spec 1.10). */
  async usage(): Promise<VolumeUsage[]> {
    const refCounts = this.records.refCounts();
    const out: VolumeUsage[] = [];
    for (const rec of this.records.all()) {
      if (rec.driver !== DEFAULT_DRIVER || (rec.options && Object.keys(rec.options).length > 0)) continue;
      const driver = this.drivers.get(rec.driver);
      let size = -1;
      if (driver && reportsSize(driver)) {
        try {
          size = await driver.size(rec.name);
        } catch {
          size = -1;
        }
      }
      out.push({ volume: this.toVolume(rec), refCount: refCounts.get(rec.name)?.length ?? 0, size });
    }
    return out;
  }

  private lookupDriver(name: string, driverName: string): VolumeDriver {
    const d = this.drivers.get(driverName);
    if (!d) {
      throw new NotFound(`create ${name}: error looking up volume plugin ${driverName}: plugin "${driverName}" not found`);
    }
    return d;
  }

  private toVolume(rec: VolumeRecord): Volume {
    const cached = this.views.get(rec);
    if (cached) return cached;
    const driver = this.drivers.get(rec.driver);
    const view: Volume = Object.freeze({
      name: rec.name,
      driver: rec.driver,
      labels: rec.labels,
      options: rec.options,
      mountpoint: driver ? driver.path(rec.name) : '',
      createdAt: rec.createdAt,
      scope: driver?.scope ?? 'local',
    });
    this.views.set(rec, view);
    return view;
  }
}

/** docker's OpErr text: "get NAME: no such volume", or "get: no such volume" for an empty name. */
function noSuchVolume(name: string): NotFound {
  return new NotFound(`get${name === '' ? '' : ` ${name}`}: no such volume`);
}
