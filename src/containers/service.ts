// ContainerService: containers on an OCI runtime (runc), each supervised by a
// detached shim that owns its stdio, logs and exit status. Volumes are
// referenced at create, mounted at start and unmounted at exit (spec 5, 6).
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Conflict, InvalidParameter, NotFound, BerthError, SystemError, errorText } from '../errors.js';
import type { EventSink } from '../events/bus.js';
import type { VolumeService } from '../volumes/service.js';
import type { ImageService } from '../images/service.js';
import { assembleMounts, nodeFileProbe, resolveVolumeMount, sortByDepth } from '../mounts/parse.js';
import type { MountPoint } from '../mounts/types.js';
import { copyUp, imageVolumePath } from '../mounts/copy-up.js';
import { bindOpened, mkdirAllInRoot, openInside, resolveInScope, unbindOpened, type OpenedPath } from '../mounts/safe-path.js';
import { Runc } from './runtime/runc.js';
import { buildSpec, resolveUser, writeSpec, type MountInput, type NetworkMode } from './runtime/oci-spec.js';
import { spawnShim, connectShim, readExitStatus, isShimAlive, stopContainer, ShimPool, type ShimHandle, type Attachment, type ExitStatus } from './runtime/shim-client.js';
import { readLogs, type LogEntry, type ReadLogsOptions } from './runtime/json-log.js';
import { signalNumber } from './runtime/process-io.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { isProcessRunning, processStartTime } from '../util/proc.js';
import { generateId } from '../util/random-id.js';
import { mergeConfig } from './config.js';
import { checkHostConfig, probeHost, specOptions, type HostFacts } from './host-config.js';
import { generateName, validateContainerName } from './names.js';
import type { ContainerRecords } from './records.js';
import { ZERO_TIME, isRunning, type ContainerCreateSpec, type ContainerPaths, type ContainerRecord, type ContainerStatus } from './types.js';
import { FreezeJournal } from './freeze-journal.js';
import { Freezer, type FreezeOptions, type FreezeResult } from './freeze.js';
import type { ViewMount } from './archive-helper.js';
import { mountsUnder } from '../util/mount.js';

export interface ContainerServiceDeps {
  dataRoot: string;
  records: ContainerRecords;
  volumes: VolumeService;
  images: ImageService;
  events: EventSink;
  log: Logger;
  runtimeBinary?: string;
  /** The default seccomp profile: "builtin", "unconfined" or a file (berthd --seccomp-profile). */
  seccompProfile?: string;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string };
}

/** A running (or paused) container that mounts a volume. */
export interface VolumeUser {
  id: string;
  name: string;
  /** True when any of its mounts of the volume is read-write: a backup freezes it. */
  readWrite: boolean;
}

export interface AttachRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** How often berthd checks that a running container's process still exists. */
const PROCESS_CHECK_MS = 2000;
/** Checks after the process ended before berthd stops waiting for its shim's report. */
const DEAD_PROCESS_CHECKS = 5;

function nowIso(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** Docker's names for the network modes it accepts here. */
function networkModeOf(hostConfig: Record<string, unknown>): NetworkMode {
  const mode = typeof hostConfig.NetworkMode === 'string' ? hostConfig.NetworkMode : '';
  if (mode === '' || mode === 'default' || mode === 'bridge') return 'private';
  if (mode === 'none') return 'none';
  if (mode === 'host') return 'host';
  throw new NotFound(`network ${mode} not found`);
}

/** True when both name the same signal; an unknown name matches nothing. */
function sameSignal(a: string | number, b: string): boolean {
  try {
    return signalNumber(a) === signalNumber(b);
  } catch {
    return false;
  }
}

/** Docker's 409 for a name that is taken. */
function nameConflict(name: string, holder: string): Conflict {
  return new Conflict(
    `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
  );
}

export class ContainerService {
  readonly runc: Runc;
  /** Shim processes started ahead of time, so a start does not wait for Node to boot. */
  readonly shimPool: ShimPool;
  private readonly handles = new Map<string, ShimHandle>();
  private readonly pendingAttach = new Map<string, Array<(h: ShimHandle | null) => void>>();
  private readonly lifecycle = new EventEmitter();
  private readonly locks = new KeyedMutex();
  private readonly lastExit = new Map<string, number>();
  private hostFacts?: HostFacts;
  /** Names held by creates in flight (name -> container ID), not yet in the database. */
  private readonly reservedNames = new Map<string, string>();
  private readonly freezer: Freezer;

  constructor(private readonly deps: ContainerServiceDeps) {
    this.runc = new Runc({ binary: deps.runtimeBinary ?? 'runc', root: join(deps.dataRoot, 'runtime') });
    this.lifecycle.setMaxListeners(0);
    mkdirSync(join(deps.dataRoot, 'containers'), { recursive: true, mode: 0o710 });
    mkdirSync(join(deps.dataRoot, 'runtime'), { recursive: true, mode: 0o700 });
    // Not under runtime/: that is runc's root, where every directory is a container.
    this.shimPool = new ShimPool({ logPath: join(deps.dataRoot, 'runtime', 'shims.log'), recordDir: join(deps.dataRoot, 'standby-shims') });
    this.freezer = new Freezer({
      target: { statusOf: (id) => deps.records.get(id)?.state.status, pause: (id) => this.pause(id), unpause: (id) => this.unpause(id) },
      journal: new FreezeJournal(join(deps.dataRoot, 'freeze.json')),
      log: deps.log.child({ component: 'freeze' }),
    });
  }

  /** Daemon shutdown: running containers keep their shims; the spare one exits. */
  close(): void {
    // Exits the disk refused until now get one last chance before the database closes.
    this.deps.records.flush();
    this.shimPool.close();
  }

  /** What this host lets containers have (capabilities, cgroup controllers, CPUs). */
  host(): HostFacts {
    return (this.hostFacts ??= probeHost(this.deps.seccompProfile));
  }

  private dir(id: string): string {
    return join(this.deps.dataRoot, 'containers', id);
  }
  private fsDir(id: string): string {
    return join(this.dir(id), 'fs');
  }
  private stateDir(id: string): string {
    return join(this.dir(id), 'run');
  }
  logPath(id: string): string {
    return join(this.dir(id), `${id}-json.log`);
  }

  // ---- lookup ----

  /** By full ID, name (with or without "/"), or a unique ID prefix; docker's 404 otherwise. */
  resolve(ref: string): ContainerRecord {
    const { records } = this.deps;
    const byId = records.get(ref);
    if (byId) return byId;
    const byName = records.byName(ref.replace(/^\//, ''));
    if (byName) return byName;
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = records.all().filter((c) => c.id.startsWith(ref));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) throw new InvalidParameter(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw new NotFound(`No such container: ${ref}`);
  }

  list(): ContainerRecord[] {
    return this.deps.records.all();
  }

  /** docker info's counts: a paused container counts as paused only (dockerd's setStateCounter). */
  counts(): { total: number; running: number; paused: number; stopped: number } {
    const all = this.list();
    const running = all.filter((c) => c.state.status === 'running').length;
    const paused = all.filter((c) => c.state.status === 'paused').length;
    return { total: all.length, running, paused, stopped: all.length - running - paused };
  }

  /** IDs of containers using an image (for rmi). */
  usingImage(imageId: string): string[] {
    return this.list()
      .filter((c) => c.imageId === imageId)
      .map((c) => c.id);
  }

  /** The running (or paused) containers that mount `volume`: the ones a backup of it freezes when they write to it. */
  usersOf(volume: string): VolumeUser[] {
    const users: VolumeUser[] = [];
    for (const c of this.list()) {
      if (!isRunning(c.state)) continue;
      const mounts = c.mounts.filter((m) => m.type === 'volume' && m.name === volume);
      if (mounts.length > 0) users.push({ id: c.id, name: c.name, readWrite: mounts.some((m) => m.rw) });
    }
    return users;
  }

  /** Names of the running containers that have the named volume mounted (volume export warns, import --replace refuses). */
  runningUsersOf(volume: string): string[] {
    return this.usersOf(volume).map((u) => u.name);
  }

  mountsOf(ref: string): MountPoint[] | undefined {
    try {
      return this.resolve(ref).mounts;
    } catch {
      return undefined;
    }
  }

  // ---- create ----

  async create(spec: ContainerCreateSpec): Promise<{ id: string; warnings: string[] }> {
    const { records, volumes, images, events } = this.deps;
    const requested = { ...spec.hostConfig };
    // Security and resource options: honoured or refused here, never stored and ignored.
    const { hostConfig, warnings: hostWarnings } = checkHostConfig(requested, this.host());
    const imageRef = spec.image;
    if (imageRef === '') throw new InvalidParameter('config cannot be empty in order to create a container');
    const image = images.find(imageRef);
    if (!image) throw new NotFound(`No such image: ${imageRef}`);
    const imageConfig = image.config.config ?? {};
    const { config, path, args } = mergeConfig(spec.config, imageConfig);

    const restart = hostConfig.RestartPolicy as { Name?: string } | undefined;
    if (hostConfig.AutoRemove === true && restart?.Name && restart.Name !== 'no' && restart.Name !== '') {
      throw new InvalidParameter("can't create 'AutoRemove' container with restart policy");
    }
    const networkMode = networkModeOf(hostConfig);
    // Restart policies would need a supervisor loop berth does not have yet: refuse rather than ignore.
    if (restart?.Name && restart.Name !== 'no') {
      throw new InvalidParameter(`restart policy "${restart.Name}" is not supported by berth yet: only "no"`);
    }

    const requestedName = spec.name ? validateContainerName(spec.name) : undefined;

    const assembled = assembleMounts({
      apiVersion: spec.apiVersion,
      probe: nodeFileProbe,
      volumeDriver: typeof hostConfig.VolumeDriver === 'string' ? hostConfig.VolumeDriver : '',
      volumesFrom: (hostConfig.VolumesFrom as string[] | null | undefined) ?? null,
      binds: (hostConfig.Binds as string[] | null | undefined) ?? null,
      mounts: spec.mounts,
      tmpfs: (hostConfig.Tmpfs as Record<string, string> | null | undefined) ?? null,
      configVolumes: spec.config.Volumes ?? null,
      imageVolumes: imageConfig.Volumes ?? null,
      getContainerMounts: (ref) => this.mountsOf(ref),
      daemonRoot: this.deps.dataRoot,
    });

    const id = generateId();
    // Reserved before the first slow step (volumes, copy-up): concurrent creates
    // with one name get Conflict at once instead of each making volumes first.
    const name = this.reserveName(requestedName, id);
    const createdVolumes: string[] = [];
    const record: ContainerRecord = {
      id,
      name,
      created: nowIso(),
      path,
      args,
      imageId: image.id,
      config: { ...config, Hostname: config.Hostname || (networkMode === 'host' ? hostHostname() : id.slice(0, 12)), Image: imageRef },
      hostConfig: {
        ...hostConfig,
        NetworkMode: typeof hostConfig.NetworkMode === 'string' && hostConfig.NetworkMode !== '' ? hostConfig.NetworkMode : 'bridge',
        Binds: hostConfig.Binds ?? null,
        AutoRemove: hostConfig.AutoRemove === true,
        VolumeDriver: hostConfig.VolumeDriver ?? '',
        VolumesFrom: hostConfig.VolumesFrom ?? null,
        ReadonlyRootfs: hostConfig.ReadonlyRootfs === true,
        RestartPolicy: hostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
        LogConfig: { Type: 'json-file', Config: {} },
      },
      mounts: assembled.mounts,
      tmpfs: assembled.tmpfs,
      state: { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME },
      restartCount: 0,
      networkMode,
    };

    try {
      mkdirSync(this.dir(id), { recursive: true, mode: 0o710 });
      // Volumes are created (or found) with the container as a reference (6.1).
      for (const m of record.mounts) {
        if (m.type !== 'volume') continue;
        const { volume: v, created } = await volumes.ensure({
          name: m.name,
          driver: m.driver || undefined,
          labels: m.volumeLabels ?? null,
          driverOpts: m.volumeDriverOpts ?? null,
          ref: id,
        });
        if (created) createdVolumes.push(v.name);
        Object.assign(m, resolveVolumeMount(m, { name: v.name, driver: v.driver, mountpoint: v.mountpoint }));
      }
      await this.copyUpVolumes(record);
      this.insertRecord(record);
    } catch (e) {
      await this.undoCreate(id, createdVolumes);
      throw e;
    } finally {
      this.reservedNames.delete(name);
    }
    events.publish('container', 'create', id, { image: imageRef, name, ...(record.config.Labels ?? {}) });
    return { id, warnings: [...hostWarnings, ...assembled.warnings] };
  }

  /**
   * Takes `requested` (already validated), or a generated name, for container
   * `id`. A name is taken when it is in the database or held by a create in flight.
   */
  private reserveName(requested: string | undefined, id: string): string {
    const { records } = this.deps;
    let name: string;
    if (requested !== undefined) {
      const holder = this.reservedNames.get(requested) ?? records.byName(requested)?.id;
      if (holder !== undefined) throw nameConflict(requested, holder);
      name = requested;
    } else {
      name = generateName((n) => this.reservedNames.has(n) || records.byName(n) !== undefined);
    }
    this.reservedNames.set(name, id);
    return name;
  }

  /** The database's UNIQUE name constraint is the last word; it means Conflict too. */
  private insertRecord(record: ContainerRecord): void {
    try {
      this.deps.records.insert(record);
    } catch (e) {
      const holder = (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' ? this.deps.records.byName(record.name) : undefined;
      if (holder) throw nameConflict(record.name, holder.id);
      throw e;
    }
  }

  /** Releases everything a failed create took: references, the volumes it made, rootfs, directory. */
  private async undoCreate(id: string, createdVolumes: string[]): Promise<void> {
    const { volumes, images, log } = this.deps;
    volumes.releaseAll(id);
    for (const n of createdVolumes) {
      // A volume another container took meanwhile stays (Conflict: in use).
      await volumes.remove(n).catch((e) => {
        if (!(e instanceof Conflict) && !(e instanceof NotFound)) log.warn({ container: id, volume: n, err: errorText(e) }, 'failed create: could not remove volume');
      });
    }
    await images.removeRootfs(this.fsDir(id)).catch((e) => log.warn({ container: id, err: errorText(e) }, 'failed create: rootfs removal failed'));
    this.removeDir(id);
  }

  /** Copy-up at create (6.2): image content into empty volumes mounted over image directories. */
  private async copyUpVolumes(record: ContainerRecord): Promise<void> {
    const { images, volumes } = this.deps;
    // Copy-up only ever fills empty volumes; a plain local volume with data needs no rootfs mount.
    const targets = record.mounts.filter((m) => m.type === 'volume' && m.copyData && !this.knownNonEmpty(m));
    const imageVolumes = record.mounts.filter((m) => m.origin === 'image' || m.origin === 'config-volumes');
    if (targets.length === 0 && imageVolumes.length === 0) return;
    // The layers say, without a mount, whether the image has anything there:
    // most volumes land on paths the image lacks, and need no rootfs mounted.
    const inImage = async (destination: string) => (await images.lowerPath(record.imageId, destination, { followSymlinks: true }))?.type;
    let needsRootfs = false;
    for (const m of targets) if ((await inImage(m.destination)) !== undefined) needsRootfs = true;
    for (const m of imageVolumes) {
      const t = await inImage(m.destination);
      if (t !== undefined && t !== 'directory') needsRootfs = true;
    }
    if (!needsRootfs) return;
    const { rootfs } = await images.prepareRootfs(record.id, record.imageId, this.fsDir(record.id));
    try {
      for (const m of imageVolumes) await imageVolumePath(rootfs, m.destination);
      for (const m of targets) {
        // Only image and `-v /path` volumes refuse a file at their path (6.1); others just skip copy-up.
        const imagePath = await resolveInScope(rootfs, m.destination);
        const ref = generateId();
        const path = await volumes.mount(m.name, ref);
        let dest: OpenedPath | undefined;
        try {
          // A missing subpath is the start's error to report, as in Docker; there is nothing to fill.
          dest = await openInside(path, m.subpath ?? '.').catch((e: unknown) => {
            if (e instanceof NotFound && m.subpath) return undefined;
            throw e;
          });
          if (dest) await copyUp(imagePath, dest);
        } finally {
          dest?.close();
          await volumes.unmount(m.name, ref);
        }
      }
    } finally {
      await images.releaseRootfs(this.fsDir(record.id));
    }
  }

  /** True when the volume (not a subpath of it) already holds files, as far as the volume service can tell without mounting. */
  private knownNonEmpty(m: MountPoint): boolean {
    return !m.subpath && this.deps.volumes.knownNonEmpty(m.name);
  }

  // ---- start ----

  async start(ref: string): Promise<'started' | 'already-running'> {
    const c = this.resolve(ref);
    return this.locks.run(c.id, () => this.startLocked(c.id));
  }

  private async startLocked(id: string): Promise<'started' | 'already-running'> {
    const c = this.deps.records.get(id);
    if (!c) throw new NotFound(`No such container: ${id}`);
    // dockerd checks paused first: a paused container is running too.
    if (c.state.status === 'paused') throw new Conflict('cannot start a paused container, try unpause instead');
    if (c.state.status === 'running') return 'already-running';
    if (c.state.status === 'removing') throw new Conflict(`cannot start container ${id}: container is marked for removal`);
    const { images, volumes, events } = this.deps;
    const mountedVolumes: MountPoint[] = [];
    const subpathMounts: string[] = [];
    let rootfsMounted = false;
    try {
      const { rootfs } = await images.prepareRootfs(id, c.imageId, this.fsDir(id));
      rootfsMounted = true;
      const mounts: MountInput[] = [];
      for (const m of sortByDepth([...c.mounts, ...c.tmpfs])) {
        if (m.type === 'volume') {
          const path = await volumes.mount(m.name, id, { container: id, destination: m.destination, propagation: m.propagation, readWrite: m.rw });
          mountedVolumes.push(m);
          const source = m.subpath ? await this.mountSubpath(id, path, m.subpath, subpathMounts.length) : path;
          if (m.subpath) subpathMounts.push(source);
          mounts.push({ type: 'bind', source, destination: m.destination, readonly: !m.rw, recursive: true, propagation: 'rprivate' });
        } else if (m.type === 'bind') {
          if (!existsSync(m.source)) {
            if (m.origin === 'binds' || m.createMountpoint) await mkdir(m.source, { recursive: true, mode: 0o755 });
            else throw new InvalidParameter(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
          }
          mounts.push({
            type: 'bind',
            source: m.source,
            destination: m.destination,
            readonly: !m.rw,
            recursive: !m.bindNonRecursive,
            propagation: (m.propagation || 'rprivate') as 'rprivate',
          });
        } else {
          mounts.push({ type: 'tmpfs', destination: m.destination, readonly: !m.rw, options: m.tmpfsOptions });
        }
      }
      const etc = this.writeEtcFiles(c);
      const user = resolveUser(rootfs, c.config.User || undefined, (c.hostConfig.GroupAdd as string[] | null | undefined) ?? []);
      // The CLI sends its terminal's size at create: the console starts with it.
      const cs = c.hostConfig.ConsoleSize as number[] | undefined;
      const consoleSize = c.config.Tty && cs && cs[0] && cs[1] ? { height: cs[0], width: cs[1] } : undefined;
      const spec = buildSpec({
        rootfs,
        args: [c.path, ...c.args],
        env: c.config.Env ?? [],
        cwd: c.config.WorkingDir || '/',
        user,
        tty: c.config.Tty,
        consoleSize,
        readonlyRootfs: c.hostConfig.ReadonlyRootfs === true,
        networkMode: c.networkMode as NetworkMode,
        hostname: c.config.Hostname,
        mounts,
        etcFiles: etc,
        ...specOptions(c.hostConfig, this.host()),
      });
      if (c.config.WorkingDir) {
        // docker creates a missing working directory; links on the way resolve inside the rootfs.
        try {
          mkdirAllInRoot(rootfs, c.config.WorkingDir, 0o755);
        } catch {
          // runc reports a working directory it cannot enter
        }
      }
      writeSpec(this.dir(id), spec);
      rmSync(this.stateDir(id), { recursive: true, force: true });
      const handle = await spawnShim({
        id,
        stateDir: this.stateDir(id),
        bundle: this.dir(id),
        runtime: this.runc,
        tty: c.config.Tty,
        openStdin: c.config.OpenStdin,
        stdinOnce: c.config.StdinOnce,
        logPath: this.logPath(id),
        consoleSize,
        pool: this.shimPool,
      });
      this.handles.set(id, handle);
      // Attach clients that came before start see everything from the first byte.
      const pending = this.pendingAttach.get(id) ?? [];
      this.pendingAttach.delete(id);
      for (const resolve of pending) resolve(handle);
      let pid: number;
      try {
        ({ pid } = await handle.start());
      } catch (e) {
        this.releaseSubpathMounts(id);
        const st = await handle.wait().catch(() => null);
        await this.finishRun(id, st ?? { exitCode: 128, finishedAt: nowIso(), oomKilled: false, error: errorText(e) }, { startFailed: true });
        throw e;
      }
      // runc has bound them into the container: the host-side mounts can go.
      this.releaseSubpathMounts(id);
      c.state = { ...c.state, status: 'running', pid, exitCode: 0, error: '', startedAt: nowIso(), finishedAt: ZERO_TIME };
      this.deps.records.update(c);
      events.publish('container', 'start', id, { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
      this.watch(id, handle);
      return 'started';
    } catch (e) {
      if (!this.handles.has(id)) {
        // Failed before the shim existed: undo the mounts taken so far.
        this.releaseSubpathMounts(id);
        for (const m of mountedVolumes) await volumes.unmount(m.name, id, { container: id }).catch(() => undefined);
        if (rootfsMounted) await images.releaseRootfs(this.fsDir(id)).catch(() => undefined);
        const pending = this.pendingAttach.get(id) ?? [];
        this.pendingAttach.delete(id);
        for (const resolve of pending) resolve(null);
        if (c.hostConfig.AutoRemove === true) await this.removeNow(id, { volumes: true }).catch(() => undefined);
      }
      throw e;
    }
  }

  private subpathDir(id: string): string {
    return join(this.dir(id), 'subpaths');
  }

  /**
   * volume-subpath (item 2 of issue 6): resolved and opened by fd, then that
   * fd is bind-mounted on a private mountpoint in the container's directory,
   * which is what runc gets. A directory swapped for a symlink after the
   * check cannot change what is mounted. A missing subpath fails the start
   * (Docker checks it there, not at create) with dockerd's message.
   */
  private async mountSubpath(id: string, volumePath: string, subpath: string, index: number): Promise<string> {
    let opened: OpenedPath;
    try {
      opened = await openInside(volumePath, subpath);
    } catch (e) {
      // dockerd reports it as a failure of the start (500), not a missing object.
      if (e instanceof NotFound) throw new SystemError(e.message, { cause: e });
      throw e;
    }
    try {
      mkdirSync(this.subpathDir(id), { recursive: true, mode: 0o700 });
      const target = join(this.subpathDir(id), String(index));
      return bindOpened(opened, target);
    } finally {
      opened.close();
    }
  }

  /** Unmounts the host-side subpath mountpoints (never deletes through a mount that is still there). */
  /**
   * Deletes a container's directory, unless something is still mounted below
   * it: a recursive delete would go through a leftover subpath or volume
   * mount into the volume's data. Such a directory is kept and logged.
   */
  private removeDir(id: string): void {
    const dir = this.dir(id);
    const left = mountsUnder(dir);
    if (left.length > 0) {
      this.deps.log.error({ container: id, mounts: left.map((m) => m.mountPoint) }, 'container directory kept: mounts remain under it');
      return;
    }
    rmSync(dir, { recursive: true, force: true });
  }

  private releaseSubpathMounts(id: string): void {
    const dir = this.subpathDir(id);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (!unbindOpened(p)) {
        this.deps.log.warn({ container: id, path: p }, 'subpath mount still in place');
        continue;
      }
      // Never recursive: a mount missed here must not have its content deleted.
      try {
        if (statSync(p).isDirectory()) rmdirSync(p);
        else unlinkSync(p);
      } catch (e) {
        this.deps.log.warn({ container: id, path: p, err: errorText(e) }, 'could not remove subpath mountpoint');
      }
    }
  }

  private writeEtcFiles(c: ContainerRecord): { hostname: string; hosts: string; resolvConf: string } {
    const dir = this.dir(c.id);
    const hostname = join(dir, 'hostname');
    const hosts = join(dir, 'hosts');
    const resolvConf = join(dir, 'resolv.conf');
    writeFileSync(hostname, `${c.config.Hostname}\n`);
    if (c.networkMode === 'host' && existsSync('/etc/hosts')) {
      writeFileSync(hosts, readFileSync('/etc/hosts'));
    } else {
      writeFileSync(
        hosts,
        `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`,
      );
    }
    let resolv = '';
    try {
      resolv = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      resolv = '';
    }
    writeFileSync(resolvConf, resolv);
    return { hostname, hosts, resolvConf };
  }

  /**
   * Follows a running container until it exits, then records the exit and
   * cleans up. The shim reports the exit; in case it cannot (it died, or is
   * stuck), berthd also checks the container's process itself.
   */
  private watch(id: string, handle: ShimHandle): void {
    const { log } = this.deps;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const conclude = (st: ExitStatus): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.finishRun(id, st).catch((e) => log.error({ container: id, err: errorText(e) }, 'cleanup after exit failed'));
    };
    handle.wait().then(conclude, (e) => {
      if (settled) return;
      log.error({ container: id, err: errorText(e) }, 'lost track of container');
      conclude({ exitCode: 255, finishedAt: nowIso(), oomKilled: false, error: errorText(e) });
    });
    const pid = this.deps.records.get(id)?.state.pid ?? 0;
    const startTime = pid > 0 ? processStartTime(pid) : null;
    let deadChecks = 0;
    const check = async (): Promise<void> => {
      if (settled) return;
      if (startTime !== null && isProcessRunning(pid, startTime)) return;
      // The process has ended: the shim should report it within moments.
      const recorded = await readExitStatus(handle.stateDir);
      if (recorded) return conclude(recorded);
      const status = await handle.status().catch(() => null);
      if (status?.exit) return conclude(status.exit);
      // The runtime still winding down (a slow machine) is not a lost container.
      if (status?.runtimePid && isProcessRunning(status.runtimePid)) return;
      deadChecks++;
      const shimGone = status === null && (handle.shimPid === null || !isProcessRunning(handle.shimPid));
      if (shimGone || deadChecks >= DEAD_PROCESS_CHECKS) {
        log.error({ container: id, pid }, 'the container process ended without its shim reporting it');
        conclude({ exitCode: 255, finishedAt: nowIso(), oomKilled: false, error: 'container process ended without an exit status from its shim' });
      }
    };
    const schedule = (): void => {
      timer = setTimeout(() => {
        check()
          .catch((e) => log.warn({ container: id, err: errorText(e) }, 'checking the container process failed'))
          .finally(() => {
            if (!settled) schedule();
          });
      }, PROCESS_CHECK_MS).unref();
    };
    schedule();
  }

  private async finishRun(id: string, st: ExitStatus, opts: { startFailed?: boolean } = {}): Promise<void> {
    const { volumes, images, events, records, log } = this.deps;
    this.handles.delete(id);
    const c = records.get(id);
    if (!c) return;
    for (const m of c.mounts) {
      if (m.type !== 'volume') continue;
      await volumes.unmount(m.name, id, { container: id }).catch((e) => log.warn({ container: id, volume: m.name, err: errorText(e) }, 'volume unmount failed'));
    }
    await images.releaseRootfs(this.fsDir(id)).catch((e) => log.warn({ container: id, err: errorText(e) }, 'rootfs unmount failed'));
    this.releaseSubpathMounts(id);
    await this.deleteRuntimeState(id);
    c.state = {
      ...c.state,
      status: 'exited',
      pid: 0,
      exitCode: st.exitCode,
      error: st.error ?? '',
      oomKilled: st.oomKilled,
      finishedAt: st.finishedAt || nowIso(),
    };
    // The exit happened whatever the disk says: kept in memory and retried if the database refuses it now.
    const saved = records.recordFact(c);
    if (!saved.saved) log.error({ container: id, err: errorText(saved.error) }, 'could not store the exit yet; retrying');
    this.lastExit.set(id, st.exitCode);
    events.publish('container', 'die', id, { exitCode: String(st.exitCode), image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
    this.lifecycle.emit(`exit:${id}`, st.exitCode);
    if (c.hostConfig.AutoRemove === true && !opts.startFailed) {
      await this.removeNow(id, { volumes: true }).catch((e) => log.warn({ container: id, err: errorText(e) }, 'auto-remove failed'));
    }
  }

  /**
   * `runc run` in the foreground deletes its container when it exits; only a
   * runtime that left state behind (a crash) needs `runc delete`.
   */
  private async deleteRuntimeState(id: string): Promise<void> {
    if (!existsSync(join(this.runc.root, id))) return;
    await this.runc.delete(id, { force: true }).catch(() => undefined);
  }

  // ---- stop, kill, restart ----

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<'stopped' | 'not-running'> {
    const c = this.resolve(ref);
    const handle = this.handles.get(c.id);
    if (!isRunning(c.state) || !handle) return 'not-running';
    const timeout = opts.timeout ?? c.config.StopTimeout ?? 10;
    const signal = opts.signal ?? c.config.StopSignal ?? 'SIGTERM';
    const exited = this.nextExit(c.id);
    this.deps.events.publish('container', 'kill', c.id, { image: c.config.Image, name: c.name, signal });
    await stopContainer(handle, this.runc, { signal, timeoutSec: timeout, afterSignal: (sig) => this.thawAfterSignal(c.id, sig) });
    await exited;
    this.deps.events.publish('container', 'stop', c.id, { image: c.config.Image, name: c.name });
    return 'stopped';
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.resolve(ref);
    if (!isRunning(c.state) || !this.handles.has(c.id)) {
      throw new Conflict(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    }
    const sig = /^\d+$/.test(signal) ? Number(signal) : signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
    try {
      await this.runc.kill(c.id, sig);
    } catch (e) {
      if (e instanceof BerthError && e.kind === 'invalid-parameter') throw e;
      throw new Conflict(`Cannot kill container: ${ref}: ${errorText(e)}`);
    }
    await this.thawAfterSignal(c.id, sig);
    this.deps.events.publish('container', 'kill', c.id, { image: c.config.Image, name: c.name, signal: String(sig) });
  }

  /**
   * dockerd's kill thaws a paused container after signalling it, so the
   * signal takes effect: always for SIGKILL and the container's stop signal,
   * and for any signal when the container sets no StopSignal (daemon/kill.go).
   */
  private async thawAfterSignal(id: string, signal: string | number): Promise<void> {
    const c = this.deps.records.get(id);
    if (c?.state.status !== 'paused') return;
    const stopSignal = c.config.StopSignal;
    if (stopSignal && signalNumber(signal) !== signalNumber('SIGKILL') && !sameSignal(signal, stopSignal)) return;
    await this.unpause(id).catch((e) => {
      // Not paused any more (unpaused by someone else, or exited) is what was wanted.
      if (this.deps.records.get(id)?.state.status === 'paused') {
        this.deps.log.warn({ container: id, err: errorText(e) }, 'could not thaw the container after signalling it');
      }
    });
  }

  // ---- pause, unpause, freeze ----

  /** `docker pause`: freezes every process of the container (runc's cgroup freezer). */
  async pause(ref: string): Promise<void> {
    const { id } = this.resolve(ref);
    await this.locks.run(id, async () => {
      const c = this.deps.records.get(id);
      if (!c) throw new NotFound(`No such container: ${ref}`);
      // dockerd's messages and classes (daemon/pause.go, container.GetRunningTask).
      if (!isRunning(c.state) || !this.handles.has(id)) throw new Conflict(`container ${id} is not running`);
      if (c.state.status === 'paused') throw new Conflict(`Container ${id} is already paused`);
      try {
        await this.runc.pause(id);
      } catch (e) {
        if (e instanceof NotFound || (e instanceof Conflict && !isRunning(this.deps.records.get(id)?.state ?? { status: 'exited' }))) {
          throw new Conflict(`container ${id} is not running`, { cause: e });
        }
        throw new SystemError(`cannot pause container ${id}: ${errorText(e)}`, { cause: e });
      }
      this.setPaused(id, true);
    });
  }

  /**
   * `docker unpause`. dockerd answers a container that is not paused with a
   * plain error, so a 500, not a 409 (daemon/unpause.go): matched here.
   */
  async unpause(ref: string): Promise<void> {
    const { id } = this.resolve(ref);
    await this.locks.run(id, async () => {
      const c = this.deps.records.get(id);
      if (!c) throw new NotFound(`No such container: ${ref}`);
      if (c.state.status !== 'paused') throw new SystemError(`Container ${id} is not paused`);
      if (!this.handles.has(id)) throw new Conflict(`container ${id} is not running`);
      try {
        await this.runc.resume(id);
      } catch (e) {
        // runc thaws a paused container itself when it sends it SIGKILL: thawed is thawed.
        const now = await this.runc.state(id).catch(() => null);
        if (now?.status === 'paused') throw new SystemError(`Cannot unpause container ${id}: ${errorText(e)}`, { cause: e });
      }
      this.setPaused(id, false);
    });
  }

  /** Records the new state (unless the container exited meanwhile) and publishes `pause` or `unpause`. */
  private setPaused(id: string, paused: boolean): void {
    const c = this.deps.records.get(id);
    if (!c || !isRunning(c.state)) return;
    c.state = { ...c.state, status: paused ? 'paused' : 'running' };
    // The processes are frozen (or thawed) whatever the disk says.
    const saved = this.deps.records.recordFact(c);
    if (!saved.saved) this.deps.log.error({ container: id, err: errorText(saved.error) }, 'could not store the pause state yet; retrying');
    this.deps.events.publish('container', paused ? 'pause' : 'unpause', id, { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
  }

  /**
   * The freeze a consistent backup takes (docs/backups.md): pauses each of
   * `ids` that is running, runs `work`, thaws what it paused, whatever
   * happens; a work that runs past `opts.maxMs` is abandoned (its signal
   * aborts) and the freeze fails. What it pauses is kept in
   * <data-root>/freeze.json until thawed, so a killed berthd thaws it at start.
   */
  freeze<T>(ids: string[], work: (signal: AbortSignal) => Promise<T>, opts: FreezeOptions): Promise<FreezeResult<T>> {
    return this.freezer.freeze(ids, work, opts);
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const c = this.resolve(ref);
    await this.stop(c.id, opts);
    // RestartCount counts restarts by a restart policy, not manual ones (docker).
    await this.start(c.id);
    this.deps.events.publish('container', 'restart', c.id, { image: c.config.Image, name: c.name });
  }

  private nextExit(id: string): Promise<number> {
    return new Promise((resolve) => this.lifecycle.once(`exit:${id}`, resolve));
  }

  // ---- wait ----

  async wait(ref: string, condition: WaitCondition): Promise<WaitResult> {
    const c = this.resolve(ref);
    const id = c.id;
    if (condition === 'removed') {
      const code = await new Promise<number>((resolve) => this.lifecycle.once(`removed:${id}`, resolve));
      return { StatusCode: code };
    }
    if (condition === 'not-running' && !isRunning(c.state)) return { StatusCode: c.state.exitCode };
    const code = await Promise.race([
      this.nextExit(id),
      new Promise<number>((resolve) => this.lifecycle.once(`removed:${id}`, resolve)),
    ]);
    return { StatusCode: code };
  }

  // ---- remove ----

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.resolve(ref);
    if (isRunning(c.state)) {
      if (!opts.force) {
        const why = c.state.status === 'paused' ? 'container is paused and must be unpaused first' : 'container is running: stop the container before removing or force remove';
        throw new Conflict(`cannot remove container "/${c.name}": ${why}`);
      }
      // Listening before the kill: the exit can be recorded while the kill still thaws a paused container.
      const exited = this.nextExit(c.id);
      await this.kill(c.id, 'SIGKILL').catch(() => undefined);
      if (isRunning(this.deps.records.get(c.id)?.state ?? { status: 'exited' })) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
      }
    }
    await this.removeNow(c.id, { volumes: opts.volumes ?? false });
  }

  private async removeNow(id: string, opts: { volumes: boolean }): Promise<void> {
    const { records, volumes, images, events, log } = this.deps;
    await this.locks.run(`remove:${id}`, async () => {
      const c = records.get(id);
      if (!c) return;
      const handle = this.handles.get(id);
      if (handle) {
        await stopContainer(handle, this.runc, { signal: 'SIGKILL', timeoutSec: 0, afterSignal: (sig) => this.thawAfterSignal(id, sig) }).catch(() => undefined);
      }
      // The record and its volume references go first, in one transaction: if
      // that fails (a full disk) nothing else was touched and the container
      // is intact. What follows is cleanup that restore() redoes after a crash.
      volumes.releaseAll(id, () => records.delete(id));
      // docker: spec 6.6 — rm -v removes only volumes whose spec had no source name.
      if (opts.volumes) {
        for (const m of c.mounts) {
          if (m.type !== 'volume' || !m.anonymous) continue;
          try {
            await volumes.remove(m.name);
          } catch (e) {
            if (!(e instanceof Conflict) && !(e instanceof NotFound)) log.warn({ container: id, volume: m.name, err: errorText(e) }, 'could not remove volume');
          }
        }
      }
      await images.removeRootfs(this.fsDir(id)).catch((e) => log.warn({ container: id, err: errorText(e) }, 'rootfs removal failed'));
      await this.deleteRuntimeState(id);
      this.releaseSubpathMounts(id);
      this.removeDir(id);
      events.publish('container', 'destroy', id, { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
      this.lifecycle.emit(`removed:${id}`, this.lastExit.get(id) ?? c.state.exitCode);
      this.lastExit.delete(id);
    });
  }

  // ---- stdio ----

  /**
   * Attaches to a container's stdio. For a container that has not started
   * yet, resolves when it starts (docker attaches before it starts).
   */
  async attach(ref: string, req: AttachRequest): Promise<Attachment | null> {
    const c = this.attachable(ref);
    let handle = this.handles.get(c.id);
    if (!handle) {
      if (isRunning(c.state)) return null;
      handle = (await new Promise<ShimHandle | null>((resolve) => {
        const list = this.pendingAttach.get(c.id) ?? [];
        list.push(resolve);
        this.pendingAttach.set(c.id, list);
      })) ?? undefined;
      if (!handle) return null;
    }
    return handle.attach({ stdin: req.stdin && c.config.OpenStdin, stdout: req.stdout, stderr: req.stderr, raw: true });
  }

  /** The container, when an attach to it may begin: dockerd refuses a paused one (daemon/attach.go). */
  attachable(ref: string): ContainerRecord {
    const c = this.resolve(ref);
    if (c.state.status === 'paused') throw new Conflict(`container ${ref} is paused, unpause the container before attach`);
    return c;
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.resolve(ref);
    const handle = this.handles.get(c.id);
    if (!handle) throw new Conflict(`cannot resize container ${c.id}: container is not running`);
    if (!c.config.Tty) return;
    await handle.resize(height, width);
  }

  logs(ref: string, opts: ReadLogsOptions): AsyncGenerator<LogEntry> {
    const c = this.resolve(ref);
    const path = this.logPath(c.id);
    const running = isRunning(c.state);
    return readLogs(path, { ...opts, follow: opts.follow && running, stateDir: this.stateDir(c.id) });
  }

  isTty(ref: string): boolean {
    return this.resolve(ref).config.Tty;
  }

  /** The running container's shim (exec and archive use it). */
  handle(id: string): ShimHandle | undefined {
    return this.handles.get(id);
  }

  containerDir(id: string): string {
    return this.dir(id);
  }

  /** The host paths inspect reports for a container. */
  paths(id: string): ContainerPaths {
    return { containerDir: this.dir(id), logPath: this.logPath(id), fsDir: this.fsDir(id) };
  }

  /**
   * What `docker cp` sees of a container: its root filesystem and the
   * sources of its mounts, all kept mounted (volumes under a reference of
   * their own) until release().
   */
  async archiveView(id: string): Promise<{ rootfs: string; readonlyRootfs: boolean; mounts: ViewMount[]; release: () => Promise<void> }> {
    const c = this.resolve(id);
    const { volumes } = this.deps;
    const ref = `archive-${generateId().slice(0, 16)}`;
    const mountedVolumes: string[] = [];
    const { rootfs, release } = await this.rootfs(c.id);
    const releaseAll = async () => {
      for (const name of mountedVolumes) await volumes.unmount(name, ref).catch(() => undefined);
      await release();
    };
    try {
      const mounts: ViewMount[] = [];
      for (const m of sortByDepth([...c.mounts, ...c.tmpfs])) {
        if (m.type === 'volume') {
          const path = await volumes.mount(m.name, ref);
          mountedVolumes.push(m.name);
          mounts.push({ source: path, subpath: m.subpath, destination: m.destination, readonly: !m.rw });
        } else if (m.type === 'bind') {
          mounts.push({ source: m.source, destination: m.destination, readonly: !m.rw });
        } else {
          mounts.push({ source: '', tmpfs: true, destination: m.destination, readonly: true });
        }
      }
      return { rootfs, readonlyRootfs: c.hostConfig.ReadonlyRootfs === true, mounts, release: releaseAll };
    } catch (e) {
      await releaseAll();
      throw e;
    }
  }

  /** Mounts the container's root filesystem if needed (archive on a stopped container). */
  async rootfs(id: string): Promise<{ rootfs: string; release: () => Promise<void> }> {
    const c = this.resolve(id);
    const running = isRunning(c.state);
    const { rootfs } = await this.deps.images.prepareRootfs(c.id, c.imageId, this.fsDir(c.id));
    return { rootfs, release: running ? async () => undefined : () => this.deps.images.releaseRootfs(this.fsDir(c.id)) };
  }

  // ---- daemon start ----

  /** Reconciles recorded containers with their shims after a berthd restart. */
  async restore(): Promise<void> {
    const { records, volumes, log } = this.deps;
    const ids = new Set<string>();
    for (const c of records.all()) {
      ids.add(c.id);
      // References are part of the record: re-take any a crash may have lost.
      for (const m of c.mounts) if (m.type === 'volume' && volumes.has(m.name)) volumes.addRef(m.name, c.id);
      const stateDir = this.stateDir(c.id);
      if (isRunning(c.state)) {
        if (await isShimAlive(stateDir)) {
          try {
            await this.reattach(c, await connectShim(stateDir));
            continue;
          } catch (e) {
            log.warn({ container: c.id, err: errorText(e) }, 'could not reattach');
          }
        }
        const st = (await readExitStatus(stateDir)) ?? { exitCode: 255, finishedAt: nowIso(), oomKilled: false, error: 'container exited while berthd was down' };
        // Removes an AutoRemove container too.
        await this.finishRun(c.id, st);
        continue;
      }
      // A shim of a container the record says is not running: the daemon was killed during its start.
      if (await this.settleStrayShim(c)) continue;
      if (c.hostConfig.AutoRemove === true) {
        // docker: AutoRemove containers that are not running are removed at restore, with their anonymous volumes.
        await this.removeNow(c.id, { volumes: true }).then(
          () => log.info({ container: c.id }, 'removed auto-remove container at restore'),
          (e) => log.warn({ container: c.id, err: errorText(e) }, 'auto-remove at restore failed'),
        );
      }
    }
    // Containers a freeze paused when the previous berthd was killed.
    const thawed = await this.freezer.recover();
    if (thawed.length > 0) log.info({ containers: thawed }, 'thawed containers an interrupted freeze left paused');
    // Standbys of a daemon that was killed before they could exit.
    const orphans = this.shimPool.endOrphans();
    if (orphans.length > 0) log.info({ pids: orphans }, 'ended standby shims left by the previous daemon');
    this.shimPool.warm();
    // References held by containers that no longer exist.
    volumes.pruneRefs((ref) => /^[0-9a-f]{64}$/.test(ref) && !ids.has(ref));
    // Container directories without a record (a create cut short).
    for (const entry of readdirSync(join(this.deps.dataRoot, 'containers'))) {
      if (!ids.has(entry) && /^[0-9a-f]{64}$/.test(entry)) {
        await this.deps.images.removeRootfs(this.fsDir(entry)).catch(() => undefined);
        this.releaseSubpathMounts(entry);
        this.removeDir(entry);
      }
    }
  }

  /** Takes a live shim back: volumes mounted again for the container, exit followed. */
  private async reattach(c: ContainerRecord, handle: ShimHandle): Promise<void> {
    for (const m of c.mounts) if (m.type === 'volume') await this.deps.volumes.mount(m.name, c.id).catch(() => undefined);
    this.handles.set(c.id, handle);
    await this.syncPausedState(c);
    this.watch(c.id, handle);
    this.deps.log.info({ container: c.id, status: c.state.status }, 'reattached to running container');
  }

  /**
   * Paused or running is what runc says: the record can be behind it (berthd
   * killed between `runc pause` and the write), and dockerd's restore also
   * takes the runtime's word for it.
   */
  private async syncPausedState(c: ContainerRecord): Promise<void> {
    let runtimeStatus: string;
    try {
      runtimeStatus = (await this.runc.state(c.id)).status;
    } catch (e) {
      this.deps.log.warn({ container: c.id, err: errorText(e) }, 'could not read the runtime state');
      return;
    }
    const status: ContainerStatus = runtimeStatus === 'paused' ? 'paused' : 'running';
    if (c.state.status === status) return;
    this.deps.log.info({ container: c.id, recorded: c.state.status, runtime: runtimeStatus }, 'pause state taken from the runtime');
    c.state = { ...c.state, status };
    this.deps.records.update(c);
  }

  /**
   * A live shim for a container recorded as not running: a never-started one
   * is shut down; one whose container runs is adopted (the record missed the
   * start). True when the container is running now.
   */
  private async settleStrayShim(c: ContainerRecord): Promise<boolean> {
    const stateDir = this.stateDir(c.id);
    if (!existsSync(join(stateDir, 'shim.sock')) || !(await isShimAlive(stateDir))) return false;
    try {
      const handle = await connectShim(stateDir);
      const status = await handle.status();
      if (status.state === 'created') {
        await handle.shutdown();
        this.deps.log.info({ container: c.id }, 'ended the shim of a start cut short');
        return false;
      }
      if (status.state !== 'running' || !status.pid) return false;
      c.state = { ...c.state, status: 'running', pid: status.pid, exitCode: 0, error: '', startedAt: status.startedAt ?? nowIso(), finishedAt: ZERO_TIME };
      this.deps.records.update(c);
      await this.reattach(c, handle);
      return true;
    } catch (e) {
      this.deps.log.warn({ container: c.id, err: errorText(e) }, 'could not settle a stray shim');
      return false;
    }
  }
}
