// ContainerService: containers on an OCI runtime (runc), each under its own
// monitor (conmon) that owns its stdio, log and exit code and outlives
// berthd. Volumes are referenced at create, mounted at start and unmounted
// at exit; restart policies are applied at each exit and at berthd's start.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Conflict, InvalidParameter, NotFound, NotImplemented, BerthError, SystemError, errorText } from '../errors.js';
import type { Readable } from 'node:stream';
import { exportTree } from '../archive/tree-export.js';
import { ensureInitEntries } from './init-entries.js';
import { containerChanges, type Change } from '../images/container-changes.js';
import { matchesPruneLabels } from '../volumes/filters.js';
import type { EventSink } from '../events/bus.js';
import type { VolumeService } from '../volumes/service.js';
import type { ImageService } from '../images/service.js';
import { assembleMounts, nodeFileProbe, resolveVolumeMount, sortByDepth } from '../mounts/parse.js';
import type { MountPoint } from '../mounts/types.js';
import { copyUp, imageVolumePath } from '../mounts/copy-up.js';
import { bindOpened, mkdirAllInRoot, openInside, resolveInScope, unbindOpened, type OpenedPath } from '../mounts/safe-path.js';
import { Runc } from './runtime/runc.js';
import { buildSpec, resolveUser, writeSpec, type MountInput } from './runtime/oci-spec.js';
import { readLogs, type LogEntry, type ReadLogsOptions } from './runtime/container-log.js';
import { signalNumber } from './runtime/signals.js';
import { RuntimeStartError, type ConmonRuntime } from './runtime/conmon.js';
import { ExitWatcher } from './runtime/exit-watcher.js';
import type { AttachRequest, Attachment } from './runtime/attach-hub.js';
import { ContainerMonitor, type PreparedMonitor, runExitOf, type MonitorSettings, type RunExit } from './monitor.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import type { Reaper } from '../util/reaper.js';
import { generateId } from '../util/random-id.js';
import { mergeConfig } from './config.js';
import { checkHostConfig, probeHost, specOptions, specResources, type HostFacts } from './host-config.js';
import { generateName, validateContainerName } from './names.js';
import type { ContainerRecords } from './records.js';
import { ZERO_TIME, isRunning, isRunningOrRestarting, type ContainerCreateSpec, type ContainerPaths, type ContainerRecord, type ContainerStatus } from './types.js';
import * as libc from '../util/libc.js';
import { isProcessRunning } from '../util/proc.js';
import { FreezeJournal } from './freeze-journal.js';
import { Freezer, type FreezeOptions, type FreezeResult } from './freeze.js';
import type { ViewMount } from './archive-helper.js';
import { mountsUnder } from '../util/mount.js';
import { RestartManager, isNoRestart, policyRestarts, restartPolicyOf, validateRestartPolicy } from './restart-policy.js';
import { updateHostConfig } from './update.js';
import { top, type TopResult } from './top.js';
import { cgroupPathsOf, emptyStats, networkStats, readStats, type StatsSample } from './stats.js';
import { DEFAULT_LOG_DRIVER, checkLogConfig, logSettings, type LogConfig, type LogSettings } from './log-config.js';
import { detailsPrefix, logAttributes, withDetails } from './log-attrs.js';
import { LogRotator } from './runtime/log-rotation.js';
import type { NetworkService, SandboxFiles, SandboxSpec } from '../networks/service.js';
import type { EndpointConfig, EndpointRecord } from '../networks/types.js';
import type { PortBinding } from '../networks/ports.js';
import type { NetworkSettingsInput } from '../api/views/networks.js';
import { portRequests } from '../networks/ports.js';
import { versionAtLeast } from '../util/version.js';

export type { AttachRequest, Attachment } from './runtime/attach-hub.js';

export interface ContainerServiceDeps {
  dataRoot: string;
  /** Runtime state that must not live on the data root: conmon's files and exit codes (tmpfs, like /run). */
  execRoot: string;
  records: ContainerRecords;
  volumes: VolumeService;
  images: ImageService;
  /** Networks: endpoints, DNS and published ports of running containers. */
  networks: ContainerNetworking;
  events: EventSink;
  log: Logger;
  /** Reaps the monitors berthd starts (berthd is their subreaper). */
  reaper: Reaper;
  runtimeBinary?: string;
  /** The monitor binary (default "conmon" on PATH). */
  conmonBinary?: string;
  /** The default seccomp profile: "builtin", "unconfined" or a file (berthd --seccomp-profile). */
  seccompProfile?: string;
  /** How long `stats` waits between its two samples when not streaming (dockerd: its 1 s collector tick). */
  statsIntervalMs?: number;
}

/** What the container service asks of the network service. */
export type ContainerNetworking = Pick<
  NetworkService,
  | 'planContainerNetworks'
  | 'checkEndpointConfig'
  | 'find'
  | 'prepare'
  | 'createNamespace'
  | 'plumbNamespace'
  | 'attach'
  | 'release'
  | 'connect'
  | 'disconnect'
  | 'renameContainer'
  | 'restore'
  | 'endpointsOf'
  | 'portsOf'
>;

/** A container's networking as inspect and ps show it. */
export interface ContainerNetworkView {
  /** The running container's endpoints, by network ID. */
  endpoints: Map<string, EndpointRecord>;
  ports: PortBinding[];
  /** The network namespace of the running container. */
  sandboxKey: string;
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

/** The container's logging driver and options as created (dockerd's default driver for records without one). */
function logConfigOf(c: ContainerRecord): LogConfig {
  return (c.hostConfig.LogConfig as LogConfig | undefined) ?? { Type: DEFAULT_LOG_DRIVER, Config: {} };
}

function nowIso(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** "name:alias", "name" or dockerd's "/name:/container/alias" as "name:alias". */
function normalizeLink(link: string): string {
  const colon = link.indexOf(':');
  const name = (colon < 0 ? link : link.slice(0, colon)).replace(/^\//, '');
  const alias = colon < 0 ? name : link.slice(colon + 1).split('/').pop()!;
  return `${name}:${alias}`;
}

/** True for a signal name or number that exists. */
function isKnownSignal(sig: string | number): boolean {
  try {
    signalNumber(sig);
    return true;
  } catch {
    return false;
  }
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

/** dockerd's errContainerIsRestarting. */
function restartingConflict(id: string): Conflict {
  return new Conflict(`Container ${id} is restarting, wait until the container is running`);
}

export class ContainerService {
  readonly runc: Runc;
  /** conmon and the runtime it runs (exec uses them too). */
  readonly conmon: ConmonRuntime;
  private readonly exits: ExitWatcher;
  /** The monitors of running (and paused) containers. */
  private readonly monitors = new Map<string, ContainerMonitor>();
  /** Signals sent but not yet announced, per container: the die they cause waits for them. */
  private readonly signalsInFlight = new Map<string, Set<Promise<void>>>();
  /** Attach clients waiting for a container's start: attached before the entrypoint runs. */
  private readonly pendingAttach = new Map<string, Array<(m: ContainerMonitor | null) => void>>();
  /** Restart state of each container since its last explicit start. */
  private readonly restartManagers = new Map<string, RestartManager>();
  /** Log rotation of running containers that keep more than one log file. */
  private readonly rotators = new Map<string, LogRotator>();
  private readonly lifecycle = new EventEmitter();
  private readonly locks = new KeyedMutex();
  private readonly lastExit = new Map<string, number>();
  private hostFacts?: HostFacts;
  /** Names held by creates and renames in flight (name -> container ID), not yet in the database. */
  private readonly reservedNames = new Map<string, string>();
  private readonly freezer: Freezer;
  private closed = false;

  constructor(private readonly deps: ContainerServiceDeps) {
    this.runc = new Runc({ binary: deps.runtimeBinary ?? 'runc', root: join(deps.dataRoot, 'runtime') });
    this.conmon = { conmon: deps.conmonBinary ?? 'conmon', runc: this.runc, reaper: deps.reaper };
    this.lifecycle.setMaxListeners(0);
    mkdirSync(join(deps.dataRoot, 'containers'), { recursive: true, mode: 0o710 });
    mkdirSync(join(deps.dataRoot, 'runtime'), { recursive: true, mode: 0o700 });
    mkdirSync(join(deps.execRoot, 'containers'), { recursive: true, mode: 0o700 });
    this.exits = new ExitWatcher(join(deps.execRoot, 'exits'));
    this.freezer = new Freezer({
      target: { statusOf: (id) => deps.records.get(id)?.state.status, pause: (id) => this.pause(id), unpause: (id) => this.unpause(id) },
      journal: new FreezeJournal(join(deps.dataRoot, 'freeze.json')),
      log: deps.log.child({ component: 'freeze' }),
    });
  }

  /** Daemon shutdown: running containers keep their monitors; pending restarts are dropped (they run at the next start). */
  close(): void {
    this.closed = true;
    for (const rm of this.restartManagers.values()) rm.cancel();
    for (const id of [...this.rotators.keys()]) this.unwatchLog(id);
    // Exits the disk refused until now get one last chance before the database closes.
    this.deps.records.flush();
    this.exits.close();
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
  /** conmon's files for the container, under the exec root. */
  stateDir(id: string): string {
    return join(this.deps.execRoot, 'containers', id);
  }
  logPath(id: string): string {
    return join(this.dir(id), `${id}.log`);
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

  /** The running (or paused, or restarting) containers created from an image. */
  runningFromImage(imageId: string): string[] {
    return this.list()
      .filter((c) => c.imageId === imageId && (isRunning(c.state) || c.state.status === 'restarting'))
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

    const restart = restartPolicyOf(hostConfig);
    validateRestartPolicy(restart);
    const logConfig = checkLogConfig(hostConfig.LogConfig as Partial<LogConfig> | null | undefined);
    if (hostConfig.AutoRemove === true && !isNoRestart(restart)) {
      throw new InvalidParameter("can't create 'AutoRemove' container with restart policy");
    }
    const hostNetworkMode = typeof hostConfig.NetworkMode === 'string' ? hostConfig.NetworkMode : '';
    const { mode: networkMode, networks } = this.deps.networks.planContainerNetworks(hostNetworkMode, spec.endpoints, {
      multiple: versionAtLeast(spec.apiVersion, '1.44'),
    });
    // HostConfig.Links (--link name:alias): links on the primary network (DNS on user-defined ones, /etc/hosts on the default bridge).
    const links = Array.isArray(hostConfig.Links) ? (hostConfig.Links as unknown[]).filter((l): l is string => typeof l === 'string').map(normalizeLink) : [];
    const primary = Object.values(networks)[0];
    if (primary && links.length > 0) primary.links = [...new Set([...primary.links, ...links])];
    const ports = portRequests(hostConfig, { ...(imageConfig.ExposedPorts ?? {}), ...(spec.config.ExposedPorts ?? {}) });
    if (ports.some((p) => p.protocol === 'sctp')) throw new InvalidParameter('berth cannot publish sctp ports: its port proxy relays tcp and udp');
    const networkWarnings = networkMode === 'host' && ports.length > 0 ? ['Published ports are discarded when using host network mode'] : [];
    // --network container:<name|id>: that container must exist; ports and a hostname go with its namespace.
    let networkContainer: string | undefined;
    if (networkMode === 'container') {
      if (ports.length > 0) throw new InvalidParameter('conflicting options: port publishing and the container type network mode');
      if (typeof config.Hostname === 'string' && config.Hostname !== '') throw new InvalidParameter('conflicting options: hostname and the network mode');
      networkContainer = this.resolve(hostNetworkMode.slice('container:'.length)).id;
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
        LogConfig: logConfig,
      },
      mounts: assembled.mounts,
      tmpfs: assembled.tmpfs,
      state: { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME },
      restartCount: 0,
      networkMode,
      networks,
      ...(networkContainer ? { networkContainer } : {}),
    };

    try {
      mkdirSync(this.dir(id), { recursive: true, mode: 0o710 });
      // From here the container keeps its image's layers, as a Docker container does (rmi -f cannot take them).
      await this.deps.images.reserveRootfs(id, record.imageId, this.fsDir(id));
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
    return { id, warnings: [...hostWarnings, ...networkWarnings, ...assembled.warnings] };
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
        // Image and `-v /path` volumes refused a file at their path above (6.1); copyUp refuses one over an empty volume, as dockerd's copy does.
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
    return this.locks.run(c.id, () => this.startLocked(c.id, { byPolicy: false }));
  }

  /**
   * Starts the container: mounts, spec, conmon (`runc create`), attach
   * clients that came first, `runc start`. An explicit start (not one by the
   * restart policy) begins a new restart history, as dockerd's does.
   */
  private async startLocked(id: string, opts: { byPolicy: boolean }): Promise<'started' | 'already-running'> {
    const c = this.deps.records.get(id);
    if (!c) throw new NotFound(`No such container: ${id}`);
    // dockerd checks paused first: a paused container is running too.
    if (c.state.status === 'paused') throw new Conflict('cannot start a paused container, try unpause instead');
    if (c.state.status === 'running') return 'already-running';
    if (c.state.status === 'restarting' && !opts.byPolicy) return 'already-running';
    if (c.state.status !== 'restarting' && opts.byPolicy) return 'already-running';
    if (c.state.status === 'removing') throw new Conflict(`cannot start container ${id}: container is marked for removal`);
    if (!opts.byPolicy) {
      this.restartManagers.get(id)?.cancel();
      this.restartManagers.delete(id);
      if (c.restartCount !== 0 || c.manuallyStopped) {
        c.restartCount = 0;
        c.manuallyStopped = false;
        this.deps.records.update(c);
      }
    }
    const { images, volumes, events } = this.deps;
    const mountedVolumes: MountPoint[] = [];
    const subpathMounts: string[] = [];
    let rootfsMounted = false;
    let sandboxPrepared = false;
    let monitor: ContainerMonitor | undefined;
    let prepared: PreparedMonitor | undefined;
    try {
      // dockerd initialises the log driver before anything is mounted: bad values fail the start here.
      this.logSettingsOf(c);
      this.logAttributesOf(c);
      // conmon starts up now and waits on its start pipe while the rootfs is mounted and the spec written.
      prepared = ContainerMonitor.prepare(this.monitorDeps(), this.monitorSettings(c));
      const { rootfs } = await images.prepareRootfs(id, c.imageId, this.fsDir(id));
      rootfsMounted = true;
      await ensureInitEntries(rootfs);
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
      let netnsPath: string | undefined;
      let ownNetns: string | undefined;
      let etc: { hostname: string; hosts: string; resolvConf: string };
      if (c.networkMode === 'container') {
        // dockerd: the other container must run; this one shares its namespace, hostname, hosts and resolv.conf.
        const other = c.networkContainer ? this.deps.records.get(c.networkContainer) : undefined;
        if (!other) throw new NotFound(`No such container: ${c.networkContainer ?? ''}`);
        if (!isRunning(other.state) || other.state.pid <= 0) throw new Conflict(`cannot join network namespace of a non running container: ${other.id}`);
        netnsPath = `/proc/${other.state.pid}/ns/net`;
        c.config.Hostname = other.config.Hostname;
        const read = (f: string) => readFileSync(join(this.dir(other.id), f), 'utf8');
        etc = this.writeEtcFiles(c, { hosts: read('hosts'), resolvConf: read('resolv.conf') });
      } else {
        etc = this.writeEtcFiles(c, this.deps.networks.prepare(this.sandboxSpec(c)));
        sandboxPrepared = true;
        ownNetns = this.deps.networks.createNamespace(id);
      }
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
        networkMode: c.networkMode === 'host' ? 'host' : 'private',
        ...(netnsPath ? { networkNamespacePath: netnsPath, networkSysctls: false } : {}),
        ...(ownNetns ? { networkNamespacePath: ownNetns } : {}),
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
      // A stopped container's runtime state is deleted at its exit; one a crash left is in the way.
      await this.deleteRuntimeState(id);
      // conmon runs `runc create` now: the sandbox's interfaces are plumbed
      // while runc creates the container (on another core).
      const creating = prepared.create();
      prepared = undefined;
      let plumbing: unknown;
      try {
        this.deps.networks.plumbNamespace(id);
      } catch (e) {
        plumbing = e;
      }
      try {
        monitor = await creating;
      } catch (e) {
        if (!(e instanceof RuntimeStartError)) throw e;
        // The runtime refused the process (a missing command: 127): recorded as its exit, as Docker does.
        this.releaseSubpathMounts(id);
        await this.finishRun(id, { exitCode: e.exitCode, finishedAt: nowIso(), oomKilled: false, error: e.message }, { startFailed: true });
        throw e.apiError;
      }
      this.monitors.set(id, monitor);
      this.watchLog(c);
      monitor.hub.holdStdin();
      // Attach clients that came before start see everything from the first byte.
      const pending = this.pendingAttach.get(id) ?? [];
      this.pendingAttach.delete(id);
      for (const resolve of pending) resolve(monitor);
      try {
        if (plumbing !== undefined) throw plumbing;
        // The process exists, stopped before its entrypoint: its interfaces (unless plumbed already), DNS and ports come now.
        await this.deps.networks.attach(id, monitor.pid);
        await monitor.start();
      } catch (e) {
        // The container exists but did not run: the monitor records its end once runc deleted it.
        await this.runc.delete(id, { force: true }).catch(() => undefined);
        this.releaseSubpathMounts(id);
        const st = await monitor.exited;
        await this.finishRun(id, { ...st, error: errorText(e) }, { startFailed: true });
        throw e;
      }
      // runc has bound them into the container: the host-side mounts can go.
      this.releaseSubpathMounts(id);
      c.state = { ...c.state, status: 'running', pid: monitor.pid, exitCode: 0, error: '', startedAt: nowIso(), finishedAt: ZERO_TIME };
      this.deps.records.update(c);
      events.publish('container', 'start', id, { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
      this.watch(id, monitor);
      return 'started';
    } catch (e) {
      if (!monitor) {
        // Failed before the monitor existed: undo the mounts and the sandbox taken so far.
        prepared?.abandon();
        if (sandboxPrepared) await this.deps.networks.release(id);
        this.releaseSubpathMounts(id);
        for (const m of mountedVolumes) await volumes.unmount(m.name, id, { container: id }).catch(() => undefined);
        if (rootfsMounted) await images.releaseRootfs(this.fsDir(id)).catch(() => undefined);
        const pending = this.pendingAttach.get(id) ?? [];
        this.pendingAttach.delete(id);
        for (const resolve of pending) resolve(null);
      }
      if (!this.monitors.has(id)) {
        const now = this.deps.records.get(id);
        // A restart by the policy that failed leaves the container stopped.
        if (now?.state.status === 'restarting') this.setStopped(now, errorText(e));
        // docker removes an AutoRemove container whose start failed.
        if (c.hostConfig.AutoRemove === true) await this.removeNow(id, { volumes: true }).catch(() => undefined);
      }
      throw e;
    }
  }

  private monitorDeps(): { conmon: ConmonRuntime; exits: ExitWatcher; reaper: Reaper; log: Logger } {
    return { conmon: this.conmon, exits: this.exits, reaper: this.deps.reaper, log: this.deps.log };
  }

  /** The container's log settings; a start refuses bad values (dockerd's 500), so a running container's are good. */
  private logSettingsOf(c: ContainerRecord): LogSettings {
    return logSettings(logConfigOf(c));
  }

  /** The attributes json-file gives the container's log entries (`docker logs --details`). */
  private logAttributesOf(c: ContainerRecord): Map<string, string> {
    return logAttributes(logConfigOf(c), {
      id: c.id,
      name: c.name,
      entrypoint: c.path,
      args: c.args,
      imageId: c.imageId,
      imageName: c.config.Image,
      env: c.config.Env ?? [],
      labels: c.config.Labels ?? {},
    });
  }

  private monitorSettings(c: ContainerRecord): MonitorSettings {
    const logs = this.logSettingsOf(c);
    return {
      id: c.id,
      name: c.name,
      bundle: this.dir(c.id),
      stateDir: this.stateDir(c.id),
      logPath: logs.kept ? this.logPath(c.id) : null,
      // One file: conmon starts it afresh past max-size; more: berthd rotates (watchLog).
      ...(logs.kept && logs.maxSize !== null && logs.maxFile === 1 ? { logSizeMax: logs.maxSize } : {}),
      tty: c.config.Tty,
      openStdin: c.config.OpenStdin,
      stdinOnce: c.config.StdinOnce,
    };
  }

  /** Rotates a running container's log into generations when its driver keeps more than one file. */
  private watchLog(c: ContainerRecord): void {
    this.unwatchLog(c.id);
    const logs = this.logSettingsOf(c);
    if (!logs.kept || logs.maxSize === null || logs.maxFile < 2) return;
    const rotator = new LogRotator(this.logPath(c.id), this.dir(c.id), { maxSize: logs.maxSize, maxFile: logs.maxFile, compress: logs.compress }, this.deps.log);
    this.rotators.set(c.id, rotator);
    rotator.start();
  }

  private unwatchLog(id: string): void {
    this.rotators.get(id)?.close();
    this.rotators.delete(id);
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

  /** The container's hostname, hosts and resolv.conf files, bind-mounted into it. */
  private writeEtcFiles(c: ContainerRecord, files: SandboxFiles): { hostname: string; hosts: string; resolvConf: string } {
    const dir = this.dir(c.id);
    const paths = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
    writeFileSync(paths.hostname, `${c.config.Hostname}\n`);
    writeFileSync(paths.hosts, files.hosts);
    writeFileSync(paths.resolvConf, files.resolvConf);
    return paths;
  }

  /** What the network service makes a container's sandbox from. */
  private sandboxSpec(c: ContainerRecord): SandboxSpec {
    const h = c.hostConfig;
    const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
    return {
      containerId: c.id,
      name: c.name,
      hostname: c.config.Hostname,
      domainname: c.config.Domainname,
      mode: c.networkMode,
      networks: Object.entries(c.networks),
      dns: { dns: list(h.Dns), dnsSearch: list(h.DnsSearch), dnsOptions: list(h.DnsOptions) },
      extraHosts: list(h.ExtraHosts),
      ports: c.networkMode === 'bridge' ? portRequests(h, c.config.ExposedPorts) : [],
    };
  }

  /** Follows a running container until its monitor reports its end. */
  private watch(id: string, monitor: ContainerMonitor): void {
    void monitor.exited.then((st) => {
      // A removal took the container over (it stopped following first).
      if (this.monitors.get(id) !== monitor) return;
      return this.finishRun(id, st);
    }).catch((e: unknown) => this.deps.log.error({ container: id, err: errorText(e) }, 'cleanup after exit failed'));
  }

  /**
   * A run ended: mounts released, runtime state deleted, the exit recorded
   * and announced; then the restart policy decides whether it runs again,
   * or an AutoRemove container is removed (its rootfs and runtime state go then).
   */
  private async finishRun(id: string, st: RunExit, opts: { startFailed?: boolean } = {}): Promise<void> {
    const { volumes, images, events, records, log } = this.deps;
    this.monitors.delete(id);
    this.unwatchLog(id);
    const c = records.get(id);
    if (!c) return;
    await this.deps.networks.release(id).catch((e) => log.warn({ container: id, err: errorText(e) }, 'network release failed'));
    for (const m of c.mounts) {
      if (m.type !== 'volume') continue;
      await volumes.unmount(m.name, id, { container: id }).catch((e) => log.warn({ container: id, volume: m.name, err: errorText(e) }, 'volume unmount failed'));
    }
    const autoRemove = c.hostConfig.AutoRemove === true && !opts.startFailed;
    // A container that is removed next has its rootfs unmounted and its runtime state deleted then, off the announcement's path.
    if (!autoRemove) await images.releaseRootfs(this.fsDir(id)).catch((e) => log.warn({ container: id, err: errorText(e) }, 'rootfs unmount failed'));
    this.releaseSubpathMounts(id);
    if (!autoRemove) await this.deleteRuntimeState(id);
    const runMs = Math.max(0, Date.parse(st.finishedAt) - Date.parse(c.state.startedAt));
    const delay = opts.startFailed || this.closed ? null : this.restartManager(c).next(st.exitCode, c.manuallyStopped === true, runMs);
    c.state = {
      ...c.state,
      status: delay === null ? 'exited' : 'restarting',
      pid: 0,
      exitCode: st.exitCode,
      error: st.error ?? '',
      oomKilled: st.oomKilled,
      finishedAt: st.finishedAt || nowIso(),
    };
    if (delay !== null) c.restartCount++;
    // The exit happened whatever the disk says: kept in memory and retried if the database refuses it now.
    const saved = records.recordFact(c);
    if (!saved.saved) log.error({ container: id, err: errorText(saved.error) }, 'could not store the exit yet; retrying');
    this.lastExit.set(id, st.exitCode);
    const attributes = { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) };
    if (st.oomKilled) events.publish('container', 'oom', id, attributes);
    await Promise.all(this.signalsInFlight.get(id) ?? []);
    events.publish('container', 'die', id, { ...attributes, exitCode: String(st.exitCode), execDuration: String(Math.floor(runMs / 1000)) });
    this.lifecycle.emit(`exit:${id}`, st.exitCode);
    if (delay === null) this.lifecycle.emit(`stopped:${id}`, st.exitCode);
    if (delay !== null) {
      this.restartManager(c).schedule(delay, () => {
        this.locks
          .run(id, () => this.startLocked(id, { byPolicy: true }))
          .catch((e: unknown) => log.warn({ container: id, err: errorText(e) }, 'restart by the restart policy failed'));
      });
      return;
    }
    if (autoRemove) {
      await this.removeNow(id, { volumes: true }).catch((e) => log.warn({ container: id, err: errorText(e) }, 'auto-remove failed'));
    }
  }

  /** The container's restart state, made from its record after an explicit start or berthd's. */
  private restartManager(c: ContainerRecord): RestartManager {
    let rm = this.restartManagers.get(c.id);
    if (!rm) {
      rm = new RestartManager(restartPolicyOf(c.hostConfig), c.restartCount);
      this.restartManagers.set(c.id, rm);
    }
    return rm;
  }

  /** A restarting container that will not run again: exited, with its last exit code. */
  private setStopped(c: ContainerRecord, error?: string): void {
    this.restartManagers.get(c.id)?.cancel();
    c.state = { ...c.state, status: 'exited', ...(error !== undefined ? { error } : {}) };
    const saved = this.deps.records.recordFact(c);
    if (!saved.saved) this.deps.log.error({ container: c.id, err: errorText(saved.error) }, 'could not store the stop yet; retrying');
    this.lifecycle.emit(`stopped:${c.id}`, c.state.exitCode);
  }

  /**
   * runc keeps a created container's state until it is deleted; a container
   * that never ran has none. One that has ended is cleaned up without a runc
   * process when its state allows it.
   */
  private async deleteRuntimeState(id: string): Promise<void> {
    if (!existsSync(join(this.runc.root, id))) return;
    if (this.runc.removeStoppedState(id)) return;
    await this.runc.delete(id, { force: true }).catch(() => undefined);
  }

  // ---- stop, kill, restart ----

  /**
   * dockerd's kill bookkeeping (daemon/kill.go): any signal counts as a
   * manual stop (unless-stopped containers then stay down at berthd's next
   * start), and the stop signal or SIGKILL (any signal, when the container
   * names no stop signal) ends restarting until the next explicit start.
   */
  private noteKill(c: ContainerRecord, signal: string | number): void {
    const stopSignal = c.config.StopSignal;
    if (!stopSignal || sameSignal(signal, 'SIGKILL') || sameSignal(signal, stopSignal)) {
      // Made if need be: the exit this signal causes must find it cancelled.
      this.restartManager(c).cancel();
    }
    if (c.manuallyStopped) return;
    c.manuallyStopped = true;
    const saved = this.deps.records.recordFact(c);
    if (!saved.saved) this.deps.log.warn({ container: c.id, err: errorText(saved.error) }, 'could not store the manual stop yet; retrying');
  }

  /** Sends `signal` through runc; a container that is gone already is not an error here. */
  private async signal(id: string, signal: string): Promise<void> {
    const c = this.deps.records.get(id);
    if (c) this.noteKill(c, signal);
    await this.beforeDie(id, async () => {
      try {
        await this.runc.kill(id, signal);
      } catch (e) {
        if (e instanceof NotFound || e instanceof Conflict) return;
        throw e;
      }
      await this.thawAfterSignal(id, signal);
    });
  }

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<'stopped' | 'not-running'> {
    const c = this.resolve(ref);
    const signal = opts.signal ?? c.config.StopSignal ?? 'SIGTERM';
    if (c.state.status === 'restarting') {
      // Between two runs: nothing to signal, only the restart to cancel.
      this.noteKill(c, 'SIGKILL');
      this.setStopped(c);
      this.deps.events.publish('container', 'stop', c.id, { image: c.config.Image, name: c.name });
      return 'stopped';
    }
    const monitor = this.monitors.get(c.id);
    if (!isRunning(c.state) || !monitor) return 'not-running';
    const timeout = opts.timeout ?? c.config.StopTimeout ?? 10;
    const exited = this.nextExit(c.id);
    this.deps.events.publish('container', 'kill', c.id, { image: c.config.Image, name: c.name, signal });
    if (timeout !== 0) {
      await this.signal(c.id, signal);
      if (timeout > 0) {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout * 1000)))]);
        clearTimeout(timer);
        if (timedOut) await this.signal(c.id, 'SIGKILL');
      }
    } else {
      await this.signal(c.id, 'SIGKILL');
    }
    await exited;
    this.deps.events.publish('container', 'stop', c.id, { image: c.config.Image, name: c.name });
    return 'stopped';
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.resolve(ref);
    const sig = /^\d+$/.test(signal) ? Number(signal) : signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
    if (c.state.status === 'restarting') {
      // dockerd cancels the restart and sends nothing: the container stops where it is.
      this.noteKill(c, sig);
      this.setStopped(c);
      return;
    }
    if (!isRunning(c.state) || !this.monitors.has(c.id)) {
      throw new Conflict(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    }
    // Before the signal: the exit it causes must find restarting already decided.
    if (isKnownSignal(sig)) this.noteKill(c, sig);
    // The die this signal causes waits for the kill event, so watchers see them in dockerd's order.
    await this.beforeDie(c.id, async () => {
      try {
        await this.runc.kill(c.id, sig);
      } catch (e) {
        if (e instanceof BerthError && e.kind === 'invalid-parameter') throw e;
        throw new Conflict(`Cannot kill container: ${ref}: ${errorText(e)}`);
      }
      await this.thawAfterSignal(c.id, sig);
      this.deps.events.publish('container', 'kill', c.id, { image: c.config.Image, name: c.name, signal: String(sig) });
    });
  }

  /**
   * Runs a signal's work (the signal, the thaw after it, their events) with
   * the die it may cause held back until it is done: dockerd announces kill
   * and unpause before die, and a fast exit must not overtake them.
   */
  private async beforeDie<T>(id: string, work: () => Promise<T>): Promise<T> {
    const running = work();
    const settled = running.then(() => undefined, () => undefined);
    let pending = this.signalsInFlight.get(id);
    if (!pending) this.signalsInFlight.set(id, (pending = new Set()));
    pending.add(settled);
    try {
      return await running;
    } finally {
      pending.delete(settled);
      if (pending.size === 0 && this.signalsInFlight.get(id) === pending) this.signalsInFlight.delete(id);
    }
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
      if (c.state.status === 'restarting') throw restartingConflict(id);
      if (!isRunning(c.state) || !this.monitors.has(id)) throw new Conflict(`container ${id} is not running`);
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
      if (!this.monitors.has(id)) throw new Conflict(`container ${id} is not running`);
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

  private removed(id: string): Promise<number> {
    return new Promise((resolve) => this.lifecycle.once(`removed:${id}`, resolve));
  }

  // ---- wait ----

  /**
   * not-running waits for the container to stop for good (a restart policy
   * that runs it again keeps it "running", as dockerd's State.Running does);
   * next-exit for its next exit.
   */
  async wait(ref: string, condition: WaitCondition): Promise<WaitResult> {
    const c = this.resolve(ref);
    const id = c.id;
    if (condition === 'removed') return { StatusCode: await this.removed(id) };
    if (condition === 'next-exit') return { StatusCode: await Promise.race([this.nextExit(id), this.removed(id)]) };
    if (!isRunningOrRestarting(c.state)) return { StatusCode: c.state.exitCode };
    const stopped = new Promise<number>((resolve) => this.lifecycle.once(`stopped:${id}`, resolve));
    return { StatusCode: await Promise.race([stopped, this.removed(id)]) };
  }

  // ---- remove ----

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.resolve(ref);
    if (c.state.status === 'restarting') {
      if (!opts.force) throw new Conflict(`cannot remove container "/${c.name}": container is restarting: stop the container before removing or force remove`);
      this.setStopped(c);
    }
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

  /**
   * docker export: a tar of the container's root filesystem, its image with
   * its writable layer (not its volumes or other mounts), members named
   * "bin/sh" as dockerd names them. The rootfs stays mounted until the
   * stream closes; an unreadable file ends it with an error.
   */
  async export(ref: string): Promise<Readable> {
    const c = this.resolve(ref);
    if (c.state.status === 'dead') throw new Conflict(`You cannot export container ${c.id} which is Dead`);
    if (c.state.status === 'removing') throw new Conflict(`You cannot export container ${c.id} which is being removed`);
    const { rootfs, release } = await this.rootfs(c.id);
    let tar: Readable;
    try {
      tar = exportTree(rootfs, { topName: '', worker: true });
    } catch (e) {
      await release();
      throw e;
    }
    tar.once('close', () => void release().catch((e) => this.deps.log.warn({ container: c.id, err: errorText(e) }, 'export: rootfs release failed')));
    this.deps.events.publish('container', 'export', c.id, { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
    return tar;
  }

  /**
   * docker ps -s, inspect --size, system df: the bytes of the container's
   * writable layer (as prune counts them), and with its image's (0 when the
   * image is gone).
   */
  async sizes(id: string): Promise<{ rw: number; rootFs: number }> {
    const c = this.resolve(id);
    const rw = await this.deps.images.containerLayerSize(c.id);
    return { rw, rootFs: rw + (this.deps.images.find(c.imageId)?.size ?? 0) };
  }

  /** docker diff: the container's changes to its image's files (see images/container-changes.ts). */
  changes(ref: string): Promise<Change[]> {
    const c = this.resolve(ref);
    return containerChanges(this.deps.images, c.id, c.imageId);
  }

  /**
   * docker container prune: removes every container that is not running
   * (paused and restarting ones count as running) and matches the filters,
   * as `rm` without -v (anonymous volumes stay); the IDs removed and the
   * bytes their writable layers held. One that fails to go is logged and
   * skipped, as dockerd does.
   */
  async prune(filters: { until?: number; label: string[]; notLabel: string[] }): Promise<{ removed: string[]; spaceReclaimed: number }> {
    const { events, log } = this.deps;
    const removed: string[] = [];
    let spaceReclaimed = 0;
    for (const c of this.list()) {
      if (isRunningOrRestarting(c.state)) continue;
      if (filters.until !== undefined && Date.parse(c.created) >= filters.until) continue;
      if (!matchesPruneLabels(c.config.Labels ?? null, filters.label, filters.notLabel)) continue;
      const size = await this.deps.images.containerLayerSize(c.id);
      try {
        await this.remove(c.id);
      } catch (e) {
        log.warn({ container: c.id, err: errorText(e) }, 'container prune: could not remove');
        continue;
      }
      removed.push(c.id);
      spaceReclaimed += size;
    }
    events.publish('container', 'prune', '', { reclaimed: String(spaceReclaimed) });
    return { removed, spaceReclaimed };
  }

  private async removeNow(id: string, opts: { volumes: boolean }): Promise<void> {
    const { records, volumes, images, events, log } = this.deps;
    await this.locks.run(`remove:${id}`, async () => {
      const c = records.get(id);
      if (!c) return;
      this.restartManagers.get(id)?.cancel();
      this.restartManagers.delete(id);
      const monitor = this.monitors.get(id);
      if (monitor) {
        // Still running (a kill that did not take): taken over from watch(), killed, and its end awaited.
        this.monitors.delete(id);
        this.unwatchLog(id);
        await this.runc.delete(id, { force: true }).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([monitor.exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
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
      // The rootfs pins its image: it is released before the container is announced
      // gone, so a `docker rmi` right after `docker run --rm` finds the image free.
      // (An image deletion waits for the release under way: the announcement need not.)
      const rootfsReleased = images.forgetRootfs(this.fsDir(id)).catch((e) => log.warn({ container: id, err: errorText(e) }, 'rootfs release failed'));
      // Gone for every client from here (`docker run --rm` waits for this); the
      // files follow once the answers are out, and a start after a crash removes what they left.
      events.publish('container', 'destroy', id, { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
      this.lifecycle.emit(`removed:${id}`, this.lastExit.get(id) ?? c.state.exitCode);
      await rootfsReleased;
      await new Promise((r) => setImmediate(r));
      await this.deleteRuntimeState(id);
      this.releaseSubpathMounts(id);
      // The rootfs's directories too; kept if anything is still mounted below.
      this.removeDir(id);
      this.removeMonitorState(id);
      this.lastExit.delete(id);
    });
  }

  /** conmon's files of a container that is gone: its state directory and exit file. */
  private removeMonitorState(id: string): void {
    rmSync(this.stateDir(id), { recursive: true, force: true });
    this.exits.clear(id);
  }

  // ---- rename, update ----

  /** `docker rename` (daemon/rename.go): 400 for an empty or unchanged name, 409 for a taken one. */
  async rename(ref: string, newName: string): Promise<void> {
    if (ref === '' || newName === '') throw new InvalidParameter('Neither old nor new names may be empty');
    const { id } = this.resolve(ref);
    const name = validateContainerName(newName);
    await this.locks.run(id, async () => {
      const c = this.deps.records.get(id);
      if (!c) throw new NotFound(`No such container: ${ref}`);
      if (c.name === name) throw new InvalidParameter('Renaming a container with the same name as its current name');
      const holder = this.reservedNames.get(name) ?? this.deps.records.byName(name)?.id;
      if (holder !== undefined) throw new Conflict(`Error when allocating new name: ${nameConflict(name, holder).message}`);
      const oldName = c.name;
      c.name = name;
      try {
        this.deps.records.update(c);
      } catch (e) {
        const taken = (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' ? this.deps.records.byName(name) : undefined;
        if (taken) throw new Conflict(`Error when allocating new name: ${nameConflict(name, taken.id).message}`);
        throw e;
      }
      this.deps.networks.renameContainer(id, name);
      this.deps.events.publish('container', 'rename', id, { image: c.config.Image, name, oldName: `/${oldName}`, ...(c.config.Labels ?? {}) });
    });
  }

  /**
   * `docker update`: resources and restart policy (update.ts); a running
   * container gets the new limits through `runc update` before they are stored.
   */
  async update(ref: string, body: Record<string, unknown>): Promise<{ warnings: string[] }> {
    const { id } = this.resolve(ref);
    return this.locks.run(id, async () => {
      const c = this.deps.records.get(id);
      if (!c) throw new NotFound(`No such container: ${ref}`);
      const cannot = (e: unknown): BerthError => new Conflict(`Cannot update container ${id}: ${errorText(e)}`, { cause: e });
      if (c.state.status === 'removing' || c.state.status === 'dead') throw cannot('container is marked for removal and cannot be "update"');
      let result;
      try {
        result = updateHostConfig(c.hostConfig, body, this.host());
      } catch (e) {
        throw e instanceof Conflict ? cannot(e) : e;
      }
      if (result.resourcesChanged && isRunning(c.state) && this.monitors.has(id)) {
        const resources = specResources(result.hostConfig);
        // 0 or less: unlimited again, which runc writes as "max".
        if (typeof body.PidsLimit === 'number' && body.PidsLimit <= 0) resources.pids = { limit: -1 };
        try {
          await this.runc.update(id, resources);
        } catch (e) {
          throw new SystemError(`Cannot update container ${id}: ${errorText(e)}`, { cause: e });
        }
      }
      c.hostConfig = result.hostConfig;
      this.deps.records.update(c);
      if (result.restartPolicy) {
        const rm = this.restartManagers.get(id);
        if (rm) rm.policy = result.restartPolicy;
      }
      this.deps.events.publish('container', 'update', id, { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
      return { warnings: result.warnings };
    });
  }

  // ---- networks ----

  /**
   * `docker network connect`: a created or stopped container is recorded on
   * the network (its endpoint comes at its start); a running one gets its
   * endpoint now.
   */
  async connectNetwork(ref: string, networkRef: string, asked: Partial<EndpointConfig>): Promise<void> {
    const { id } = this.resolve(ref);
    await this.locks.run(id, async () => {
      const c = this.deps.records.get(id);
      if (!c) throw new NotFound(`No such container: ${ref}`);
      const n = this.deps.networks.find(networkRef);
      if (c.networkMode === 'host') throw new InvalidParameter('container cannot be disconnected from host network or connected to host network');
      if (c.networkMode === 'none') throw new InvalidParameter('container cannot be connected to multiple networks with one of the networks in private (none) mode');
      const cfg = this.deps.networks.checkEndpointConfig(n, asked);
      if (isRunning(c.state) && this.monitors.has(id)) {
        if (c.networkMode === 'private') throw new Conflict(`container ${id} runs without a network namespace berthd can connect; stop it first`);
        await this.deps.networks.connect(id, n, cfg);
      }
      c.networkMode = 'bridge';
      c.networks = { ...c.networks, [n.name]: cfg };
      this.deps.records.update(c);
    });
  }

  /** `docker network disconnect` (`force`: also from a network that no longer exists). */
  async disconnectNetwork(ref: string, networkRef: string, force: boolean): Promise<void> {
    const { id } = this.resolve(ref);
    await this.locks.run(id, async () => {
      const c = this.deps.records.get(id);
      if (!c) throw new NotFound(`No such container: ${ref}`);
      let name: string;
      try {
        const n = this.deps.networks.find(networkRef);
        if (n.driver === 'host' && c.networkMode === 'host') throw new InvalidParameter('container cannot be disconnected from host network or connected to host network');
        if (!Object.hasOwn(c.networks, n.name)) throw new SystemError(`container ${id} is not connected to the network ${n.name}`);
        if (isRunning(c.state) && this.monitors.has(id)) await this.deps.networks.disconnect(id, n);
        name = n.name;
      } catch (e) {
        if (!(force && e instanceof NotFound && Object.hasOwn(c.networks, networkRef))) throw e;
        name = networkRef;
      }
      const { [name]: _gone, ...rest } = c.networks;
      c.networks = rest;
      this.deps.records.update(c);
    });
  }

  /** What inspect's NetworkSettings and ps's Networks and Ports are made from. */
  networkSettings(c: ContainerRecord): NetworkSettingsInput {
    const view = this.networkView(c);
    const idOf = (name: string, fallback?: string): string => {
      try {
        return this.deps.networks.find(name).id;
      } catch {
        return fallback ?? '';
      }
    };
    const networks =
      c.networkMode === 'host' || c.networkMode === 'none'
        ? [{ name: c.networkMode, id: idOf(c.networkMode), cfg: { aliases: [], links: [] } as EndpointConfig }]
        : Object.entries(c.networks).map(([name, cfg]) => ({ name, id: idOf(name, cfg.networkId), cfg }));
    return {
      mode: c.networkMode,
      networks,
      endpoints: view.endpoints,
      ports: view.ports,
      exposedPorts: c.config.ExposedPorts,
      sandboxKey: view.sandboxKey,
      running: isRunning(c.state),
    };
  }

  /** The running container's endpoints and published ports, for inspect and ps. */
  networkView(c: ContainerRecord): ContainerNetworkView {
    const running = isRunning(c.state);
    return {
      endpoints: new Map(running ? this.deps.networks.endpointsOf(c.id).map((e) => [e.networkId, e]) : []),
      ports: running ? this.deps.networks.portsOf(c.id) : [],
      sandboxKey: running && c.state.pid > 0 && c.networkMode !== 'host' ? `/proc/${c.state.pid}/ns/net` : '',
    };
  }

  // ---- top, stats ----

  /** A running container's record, or dockerd's refusal for a top or an exec. */
  private runningRecord(ref: string): ContainerRecord {
    const c = this.resolve(ref);
    if (c.state.status === 'restarting') throw restartingConflict(c.id);
    if (!isRunning(c.state) || !this.monitors.has(c.id)) throw new Conflict(`container ${c.id} is not running`);
    return c;
  }

  /** `docker top`: ps rows of the container's processes. */
  async top(ref: string, psArgs: string): Promise<TopResult> {
    const c = this.runningRecord(ref);
    const result = await top(await this.runc.ps(c.id), psArgs);
    this.deps.events.publish('container', 'top', c.id, { image: c.config.Image, name: c.name, ...(c.config.Labels ?? {}) });
    return result;
  }

  /** One sample of a running container's resource use, or null when it has no processes. */
  private sample(c: ContainerRecord): StatsSample | null {
    if (!isRunning(c.state) || c.state.pid <= 0) return null;
    const paths = cgroupPathsOf(c.state.pid);
    // A container on bridge networks reports its interfaces (eth0, ...), as dockerd; none, private and host report none.
    const networks = c.networkMode === 'bridge' ? networkStats(c.state.pid, (name) => name !== 'lo') : undefined;
    const sample = readStats(paths, networks);
    // The process may have ended while its files were read.
    return isRunning(this.deps.records.get(c.id)?.state ?? { status: 'exited' }) ? sample : null;
  }

  /**
   * GET /containers/{id}/stats (daemon/stats.go): one-shot gives one sample;
   * otherwise each sample carries the previous one's CPU figures, and a
   * single answer (stream=false) is the second sample, one interval later,
   * so the CLI can compute a CPU percentage. A container that is not running
   * gives only its name and ID.
   */
  async *stats(ref: string, opts: { stream: boolean; oneShot: boolean; signal?: AbortSignal }): AsyncGenerator<Record<string, unknown>> {
    const c = this.resolve(ref);
    const head = { name: `/${c.name}`, id: c.id };
    const empty = (): Record<string, unknown> => ({ ...head, ...emptyStats() });
    if (opts.oneShot) {
      const s = this.sample(c);
      yield s ? { ...head, ...s, preread: ZERO_TIME, precpu_stats: emptyStats().cpu_stats } : empty();
      return;
    }
    if (c.state.status === 'restarting' || !isRunning(c.state)) {
      yield empty();
      return;
    }
    let pre: { read: string; cpu: StatsSample['cpu_stats'] } = { read: ZERO_TIME, cpu: emptyStats().cpu_stats };
    for (let first = true; ; first = false) {
      const s = this.sample(this.deps.records.get(c.id) ?? c);
      if (!s) {
        if (!opts.stream) yield empty();
        return;
      }
      const out = { ...head, ...s, preread: pre.read, precpu_stats: pre.cpu };
      pre = { read: s.read, cpu: s.cpu_stats };
      if (!(first && !opts.stream)) {
        yield out;
        if (!opts.stream) return;
      }
      const aborted = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), this.deps.statsIntervalMs ?? 1000);
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve(true);
        }, { once: true });
      });
      if (aborted) return;
    }
  }

  // ---- stdio ----

  /**
   * Attaches to a container's stdio. For a container that has not started
   * yet, resolves when it starts (docker attaches before it starts); null
   * when it is not running and does not start.
   */
  async attach(ref: string, req: AttachRequest): Promise<Attachment | null> {
    const c = this.attachable(ref);
    const want = { stdin: req.stdin && c.config.OpenStdin, stdout: req.stdout, stderr: req.stderr };
    const monitor = this.monitors.get(c.id);
    if (monitor) return monitor.hub.attach(want);
    if (isRunning(c.state)) return null;
    return new Promise<Attachment | null>((resolve) => {
      const list = this.pendingAttach.get(c.id) ?? [];
      // Called by the start, before the entrypoint runs: the connection exists before the first output.
      list.push((m) => resolve(m ? m.hub.attach(want) : null));
      this.pendingAttach.set(c.id, list);
    });
  }

  /** The container, when an attach to it may begin: dockerd refuses a paused or restarting one (daemon/attach.go). */
  attachable(ref: string): ContainerRecord {
    const c = this.resolve(ref);
    if (c.state.status === 'paused') throw new Conflict(`container ${ref} is paused, unpause the container before attach`);
    if (c.state.status === 'restarting') throw new Conflict(`container ${ref} is restarting, wait until the container is running`);
    return c;
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.resolve(ref);
    const monitor = this.monitors.get(c.id);
    if (!monitor) throw new Conflict(`cannot resize container ${c.id}: container is not running`);
    if (!c.config.Tty) return;
    try {
      monitor.resize(height, width);
    } catch (e) {
      throw new Conflict(`cannot resize container ${c.id}: ${errorText(e)}`, { cause: e });
    }
  }

  /** `details`: each line after its time gets the log's attributes and a space (`docker logs --details`). */
  logs(ref: string, opts: Omit<ReadLogsOptions, 'finished'> & { details?: boolean }): AsyncGenerator<LogEntry> {
    const c = this.resolve(ref);
    if (!this.logSettingsOf(c).kept) throw new NotImplemented('configured logging driver does not support reading');
    const running = isRunning(c.state);
    // conmon writes all the output before its exit file.
    const finished = (): boolean => !running || this.exits.read(c.id) !== null || !this.monitors.has(c.id);
    const { details, ...read } = opts;
    const entries = readLogs(this.logPath(c.id), { ...read, follow: read.follow && running, finished });
    return details ? withDetails(entries, detailsPrefix(this.logAttributesOf(c)), read.timestamps === true) : entries;
  }

  /** Whether the container's logging driver keeps a log `docker logs` can read (not none). */
  keepsLog(ref: string): boolean {
    return this.logSettingsOf(this.resolve(ref)).kept;
  }

  isTty(ref: string): boolean {
    return this.resolve(ref).config.Tty;
  }

  containerDir(id: string): string {
    return this.dir(id);
  }

  /** The host paths inspect reports for a container. */
  paths(id: string): ContainerPaths {
    // dockerd names a log file for json-file only (local keeps its own format; none has none).
    const c = this.deps.records.get(id);
    const driver = c ? logConfigOf(c).Type : DEFAULT_LOG_DRIVER;
    return { containerDir: this.dir(id), logPath: driver === 'json-file' ? this.logPath(id) : '', fsDir: this.fsDir(id) };
  }

  /**
   * A descriptor (O_PATH) of a running container's root as its init sees it,
   * in the container's own mount namespace (its volumes, binds and tmpfs
   * mounts in place); null when it is not running. Checked after the open
   * that the pid is still the container's init (not a reused one), so the
   * descriptor is its root. The caller closes it.
   */
  openRunningRoot(id: string): number | null {
    const c = this.deps.records.get(id);
    if (!c || !isRunning(c.state) || c.state.pid <= 0) return null;
    const init = this.runc.initOf(id);
    if (!init || init.pid !== c.state.pid) return null;
    let fd: number;
    try {
      fd = libc.openat(libc.AT_FDCWD, `/proc/${init.pid}/root`, libc.O_PATH | libc.O_DIRECTORY);
    } catch {
      return null;
    }
    if (!isProcessRunning(init.pid, init.startTime)) {
      libc.close(fd);
      return null;
    }
    return fd;
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

  /**
   * Reconciles recorded containers with their monitors after a berthd
   * restart, then applies restart policies as dockerd does at its start.
   */
  async restore(): Promise<void> {
    const { records, volumes, log } = this.deps;
    const ids = new Set<string>();
    for (const c of records.all()) {
      ids.add(c.id);
      // References are part of the record: re-take any a crash may have lost.
      for (const m of c.mounts) if (m.type === 'volume' && volumes.has(m.name)) volumes.addRef(m.name, c.id);
      if (isRunning(c.state)) {
        const monitor = ContainerMonitor.adopt(this.monitorDeps(), this.monitorSettings(c));
        if (monitor) {
          await this.reattach(c, monitor);
          continue;
        }
        const recorded = this.exits.read(c.id);
        const st: RunExit = recorded
          ? runExitOf(recorded, this.stateDir(c.id))
          : { exitCode: 255, finishedAt: nowIso(), oomKilled: false, error: 'container exited while berthd was down' };
        // Removes an AutoRemove container too, or restarts it by its policy.
        await this.finishRun(c.id, st);
        continue;
      }
      if (c.state.status === 'restarting') {
        // berthd stopped while a restart waited: the policy is applied below, as for any stopped container.
        c.state = { ...c.state, status: 'exited' };
        records.update(c);
        continue;
      }
      // A monitor of a container the record says is not running: the daemon was killed during its start.
      if (await this.settleStrayMonitor(c)) continue;
      if (c.hostConfig.AutoRemove === true) {
        // docker: AutoRemove containers that are not running are removed at restore, with their anonymous volumes.
        await this.removeNow(c.id, { volumes: true }).then(
          () => log.info({ container: c.id }, 'removed auto-remove container at restore'),
          (e) => log.warn({ container: c.id, err: errorText(e) }, 'auto-remove at restore failed'),
        );
      }
    }
    // Sandboxes of the containers still running: endpoints, DNS, published ports; the rest is cleaned up.
    const running = records
      .all()
      .filter((c) => isRunning(c.state) && this.monitors.has(c.id))
      .map((c) => ({ spec: this.sandboxSpec(c), pid: c.state.pid }));
    await this.deps.networks.restore(running);
    // Containers a freeze paused when the previous berthd was killed.
    const thawed = await this.freezer.recover();
    if (thawed.length > 0) log.info({ containers: thawed }, 'thawed containers an interrupted freeze left paused');
    // References held by containers that no longer exist.
    volumes.pruneRefs((ref) => /^[0-9a-f]{64}$/.test(ref) && !ids.has(ref));
    // Container directories without a record (a create cut short), and monitor files of containers that are gone.
    for (const entry of readdirSync(join(this.deps.dataRoot, 'containers'))) {
      if (!ids.has(entry) && /^[0-9a-f]{64}$/.test(entry)) {
        await this.deps.images.removeRootfs(this.fsDir(entry)).catch(() => undefined);
        this.releaseSubpathMounts(entry);
        this.removeDir(entry);
      }
    }
    for (const dir of [join(this.deps.execRoot, 'containers'), this.exits.dir]) {
      for (const entry of readdirSync(dir)) if (/^[0-9a-f]{64}$/.test(entry) && !ids.has(entry)) this.removeMonitorState(entry);
    }
    await this.restartAtDaemonStart();
  }

  /**
   * dockerd's autostart: a stopped container that ran before and whose
   * policy says so (always even after a manual stop, unless-stopped only
   * without one, on-failure after a failure with retries left) starts again.
   */
  private async restartAtDaemonStart(): Promise<void> {
    for (const c of this.deps.records.all()) {
      if (c.state.status !== 'exited' || c.state.startedAt === ZERO_TIME) continue;
      if (!policyRestarts(restartPolicyOf(c.hostConfig), c.state.exitCode, c.manuallyStopped === true, c.restartCount)) continue;
      await this.start(c.id).then(
        () => this.deps.log.info({ container: c.id }, 'started by its restart policy at daemon start'),
        (e) => this.deps.log.warn({ container: c.id, err: errorText(e) }, 'restart policy: start at daemon start failed'),
      );
    }
  }

  /** Takes a live monitor back: volumes mounted again for the container, exit followed. */
  private async reattach(c: ContainerRecord, monitor: ContainerMonitor): Promise<void> {
    for (const m of c.mounts) if (m.type === 'volume') await this.deps.volumes.mount(m.name, c.id).catch(() => undefined);
    this.monitors.set(c.id, monitor);
    await this.syncPausedState(c);
    this.watchLog(c);
    this.watch(c.id, monitor);
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
   * A live monitor for a container recorded as not running: a container
   * created but never started is deleted (its monitor then exits); one that
   * runs is adopted (the record missed the start). True when it is running now.
   */
  private async settleStrayMonitor(c: ContainerRecord): Promise<boolean> {
    const monitor = ContainerMonitor.adopt(this.monitorDeps(), this.monitorSettings(c));
    if (!monitor) return false;
    const state = await this.runc.state(c.id).catch(() => null);
    if (state?.status === 'running' || state?.status === 'paused') {
      c.state = { ...c.state, status: 'running', pid: monitor.pid, exitCode: 0, error: '', startedAt: nowIso(), finishedAt: ZERO_TIME };
      this.deps.records.update(c);
      await this.reattach(c, monitor);
      return true;
    }
    monitor.detach();
    await this.runc.delete(c.id, { force: true }).catch(() => undefined);
    this.deps.log.info({ container: c.id }, 'ended the monitor of a start cut short');
    return false;
  }
}

