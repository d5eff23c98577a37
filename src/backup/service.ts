// Backups in the daemon (docs/backups.md, "Daemon"): which volumes, which
// containers freeze or stop for them, hooks, the repository session, and
// restores into volumes. The repository and engine (src/backup/repo,
// src/backup/engine) know nothing of volumes or containers; the routes and
// the CLI know nothing of repositories.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Conflict, InvalidParameter, errorText } from '../errors.js';
import type { EventSink } from '../events/bus.js';
import { generateId } from '../util/random-id.js';
import type { ContainerService } from '../containers/service.js';
import type { VolumeService, Volume } from '../volumes/service.js';
import { backupGroup, findParent, startBackup, type BackupProgress, type SnapshotMeta } from './engine/backup.js';
import { checkRepository, type CheckReport } from './engine/check.js';
import { diffSnapshots, type DiffResult } from './engine/diff.js';
import { forgetSnapshots, type ForgetPlan, type RetentionPolicy } from './engine/forget.js';
import { pruneRepository, type PruneReport } from './engine/prune.js';
import { restoreSnapshot, type RestoreProgress } from './engine/restore.js';
import { runBackupHooks, type HookServices } from './hooks.js';
import type { CaptureAreas } from './capture-area.js';
import type { KeyInfo, KeyKind } from './repo/keys.js';
import { Repository } from './repo/repository.js';
import type { ConsistencyMode, SnapshotRecord } from './repo/snapshot.js';
import type { RepositoryCredentials } from './credentials.js';
import { openTarget } from './targets/open.js';
import type { Target } from './targets/target.js';

/** A repository and what opens it (the X-Berth-Repository header, or a policy's credentials). */
export interface RepositoryAccess extends RepositoryCredentials {
  repo: string;
}

export interface BackupRequest {
  /** Volumes by name; or `labels` (every volume matching all of them). */
  volumes?: string[];
  labels?: string[];
  tags?: string[];
  consistency?: ConsistencyMode;
  onProgress?: (p: BackupProgress & { volume: string }) => void;
  signal?: AbortSignal;
}

export interface BackupOutcome {
  snapshots: SnapshotRecord[];
  /** ms the containers were frozen (0 when nothing was: no writers, stop or none). */
  freezeMs: number;
  /** Hook failures labelled on-error=continue, and other notes for the user. */
  warnings: string[];
}

export interface RestoreRequest {
  /** Restore into a new volume of this name. */
  to?: string;
  /** Replace this volume's data (its running users are stopped and started again). */
  replace?: string;
  onProgress?: (p: RestoreProgress) => void;
  signal?: AbortSignal;
}

export interface ForgetRequest {
  policy?: RetentionPolicy;
  ids?: string[];
  volume?: string;
  dryRun?: boolean;
  prune?: boolean;
}

export interface BackupServiceDeps {
  dataRoot: string;
  volumes: Pick<VolumeService, 'get' | 'find' | 'list' | 'mount' | 'unmount' | 'createWithData' | 'replaceData' | 'scratch'>;
  containers: Pick<ContainerService, 'usersOf' | 'freeze' | 'stop' | 'start' | 'resolve'>;
  hooks: HookServices;
  events: EventSink;
  log: Logger;
  /** The longest a freeze may last before it is abandoned (thawed, the backup failed). */
  maxFreezeMs?: number;
  /** Memory-backed areas for a freeze's small captures; none: every capture goes to the volume's filesystem. */
  captureAreas?: CaptureAreas;
}

const DEFAULT_MAX_FREEZE_MS = 60_000;

/** A mount reference for one backup (never a container ID). */
const backupRef = (): string => `berth-backup-${generateId().slice(0, 16)}`;

export class BackupService {
  constructor(private readonly deps: BackupServiceDeps) {}

  /** This host's cache of snapshot trees (docs/backup-format.md, "Cache"). */
  private get cacheDir(): string {
    return join(this.deps.dataRoot, 'backup', 'cache');
  }

  private async target(access: RepositoryAccess): Promise<Target> {
    const s3 = access.s3 ? Object.fromEntries(Object.entries(access.s3).filter(([, v]) => v !== undefined && v !== '')) : undefined;
    return openTarget(access.repo, s3 ? { s3 } : {});
  }

  /** Opens the repository for one operation and closes its target after. */
  async withRepository<T>(access: RepositoryAccess, fn: (repo: Repository) => Promise<T>): Promise<T> {
    const target = await this.target(access);
    try {
      const repo = await Repository.open(target, { ...(access.password !== undefined ? { password: access.password } : {}), ...(access.identity !== undefined ? { identity: access.identity } : {}) });
      return await fn(repo);
    } finally {
      target.close();
    }
  }

  async init(access: RepositoryAccess, opts: { recipients?: string[] } = {}): Promise<{ id: string; location: string }> {
    const target = await this.target(access);
    try {
      const repo = await Repository.init(target, { ...(access.password !== undefined ? { password: access.password } : {}), recipients: opts.recipients ?? [] });
      return { id: repo.id, location: target.location };
    } finally {
      target.close();
    }
  }

  /** The volumes a backup request names, in a stable order. */
  private selectVolumes(req: BackupRequest): Volume[] {
    const { volumes } = this.deps;
    const byName = req.volumes ?? [];
    const labels = req.labels ?? [];
    if (byName.length === 0 && labels.length === 0) throw new InvalidParameter('name the volumes to back up, or give a label filter');
    const chosen = new Map<string, Volume>();
    for (const name of byName) {
      const v = volumes.find(name);
      if (!v) throw new InvalidParameter(`no such volume: ${name}`);
      chosen.set(v.name, v);
    }
    if (labels.length > 0) {
      const matched = volumes.list({ label: labels });
      if (matched.length === 0 && byName.length === 0) throw new InvalidParameter(`no volume matches the label filter ${labels.join(', ')}`);
      for (const v of matched) chosen.set(v.name, v);
    }
    return [...chosen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Backs up the volumes at one instant: by default every running container
   * that mounts one of them read-write is frozen just long enough to see
   * what changed while the volumes were read (one freeze for all of them);
   * `stop` stops those containers for the whole backup; `none` reads the
   * volumes as they are. Pre hooks run before, post hooks after (also on
   * failure).
   */
  async backup(access: RepositoryAccess, req: BackupRequest): Promise<BackupOutcome> {
    const { containers, events, log } = this.deps;
    const chosen = this.selectVolumes(req);
    const mode = req.consistency ?? 'freeze';
    const writers = [...new Set(chosen.flatMap((v) => containers.usersOf(v.name).filter((u) => u.readWrite).map((u) => u.id)))];
    const hookTargets = [...new Set(chosen.flatMap((v) => containers.usersOf(v.name).map((u) => u.id)))];
    const warnings: string[] = [];
    const pre = await runBackupHooks('pre', hookTargets, this.deps.hooks);
    warnings.push(...pre.warnings);
    let outcome: BackupOutcome | undefined;
    try {
      outcome = await this.withRepository(access, (repo) => this.backupInto(repo, chosen, mode, writers, req));
    } finally {
      // Post hooks run after a failure too (a dump to clean up); a failing one fails a backup that succeeded.
      const post = await runBackupHooks('post', hookTargets, this.deps.hooks).catch((e: unknown) => {
        if (outcome) throw e;
        log.warn({ err: errorText(e) }, 'backup: a post hook failed after the backup had failed');
        return { results: [], warnings: [] };
      });
      warnings.push(...post.warnings);
    }
    outcome.warnings.unshift(...warnings);
    for (const s of outcome.snapshots) {
      events.publish('volume', 'backup', s.volume.name, {
        driver: s.volume.driver,
        snapshot: s.id,
        freezeMs: String(s.consistency.freezeMs),
        bytesAdded: String(s.summary.bytesAdded),
        repository: access.repo,
      });
    }
    return outcome;
  }

  private async backupInto(repo: Repository, chosen: Volume[], mode: ConsistencyMode, writers: string[], req: BackupRequest): Promise<BackupOutcome> {
    const { volumes, containers } = this.deps;
    const ref = backupRef();
    const mounted: Array<{ volume: Volume; root: string; scratch?: { dir: string; discard: () => Promise<void> } }> = [];
    try {
      for (const volume of chosen) {
        const root = await volumes.mount(volume.name, ref);
        mounted.push({ volume, root, scratch: volumes.scratch(volume.name) });
      }
      const metaOf = (v: Volume): Omit<SnapshotMeta, 'group' | 'consistency'> => ({
        volume: { name: v.name, driver: v.driver, labels: { ...(v.labels ?? {}) }, options: { ...(v.options ?? {}) } },
        tags: req.tags ?? [],
      });
      const progress = (volume: string) => (p: BackupProgress) => req.onProgress?.({ ...p, volume });
      if (mode === 'freeze' && writers.length > 0) {
        let freezeMs = 0;
        const items = await Promise.all(
          mounted.map(async (m) => ({
            root: m.root,
            parent: await findParent(repo, m.volume.name),
            meta: metaOf(m.volume),
            ...(m.scratch ? { captureDir: join(m.scratch.dir, 'capture') } : {}),
          })),
        );
        const small = await this.deps.captureAreas?.open();
        try {
          const snapshots = await backupGroup(
            repo,
            items,
            async (inside) => {
              const frozen = await containers.freeze(writers, () => inside(), { maxMs: this.deps.maxFreezeMs ?? DEFAULT_MAX_FREEZE_MS });
              freezeMs = Math.round(frozen.frozenMs);
              return frozen;
            },
            {
              cacheDir: this.cacheDir,
              onProgress: (p) => req.onProgress?.({ ...p, volume: chosen.length === 1 ? chosen[0]!.name : '' }),
              ...(req.signal ? { signal: req.signal } : {}),
              ...(small ? { smallCaptures: small.area } : {}),
            },
          );
          return { snapshots, freezeMs, warnings: [] };
        } finally {
          await small?.close();
        }
      }
      // Nothing writes (or stop, or none): one pass per volume is already a point-in-time view.
      const stopped = mode === 'stop' ? await this.stopWriters(writers) : [];
      try {
        const snapshots: SnapshotRecord[] = [];
        const group = mounted.length > 1 ? generateId().slice(0, 32) : undefined;
        const warnings = mode === 'none' && writers.length > 0 ? ['the volumes were read while running containers wrote to them: the snapshots are not point-in-time copies'] : [];
        const recorded: ConsistencyMode = mode === 'freeze' ? 'freeze' : mode;
        for (const m of mounted) {
          const session = await startBackup(repo, {
            parent: await findParent(repo, m.volume.name),
            cacheDir: this.cacheDir,
            onProgress: progress(m.volume.name),
            ...(req.signal ? { signal: req.signal } : {}),
          });
          try {
            const scan = await session.scan(m.root);
            snapshots.push(await session.finish(scan, { ...metaOf(m.volume), ...(group ? { group } : {}), consistency: { mode: recorded, freezeMs: 0 } }));
          } finally {
            await session.abort();
          }
        }
        return { snapshots, freezeMs: 0, warnings };
      } finally {
        await this.startAgain(stopped);
      }
    } finally {
      for (const m of mounted.reverse()) {
        await m.scratch?.discard().catch(() => undefined);
        await volumes.unmount(m.volume.name, ref).catch((e: unknown) => this.deps.log.warn({ volume: m.volume.name, err: errorText(e) }, 'backup: unmount failed'));
      }
    }
  }

  /** Stops the running containers among `ids`; returns the ones it stopped, to start again. */
  private async stopWriters(ids: string[]): Promise<string[]> {
    const stopped: string[] = [];
    try {
      for (const id of ids) if ((await this.deps.containers.stop(id)) === 'stopped') stopped.push(id);
    } catch (e) {
      await this.startAgain(stopped);
      throw e;
    }
    return stopped;
  }

  private async startAgain(ids: string[]): Promise<void> {
    for (const id of ids) {
      await this.deps.containers.start(id).catch((e: unknown) => this.deps.log.error({ container: id, err: errorText(e) }, 'backup: could not start a container again'));
    }
  }

  async snapshots(access: RepositoryAccess, opts: { volume?: string } = {}): Promise<SnapshotRecord[]> {
    return this.withRepository(access, async (repo) => (await repo.listSnapshots()).filter((s) => opts.volume === undefined || s.volume.name === opts.volume));
  }

  /**
   * Restores a snapshot into staging, verified, then swaps it in: as a new
   * volume (`to`, with the snapshot's driver, labels and options) or as
   * the data of an existing one (`replace`: its running users are stopped
   * for the swap and started again).
   */
  async restore(access: RepositoryAccess, snapshotId: string, req: RestoreRequest): Promise<{ snapshot: SnapshotRecord; volume: string; files: number; bytes: number; created: boolean }> {
    const { volumes, events } = this.deps;
    if ((req.to === undefined) === (req.replace === undefined)) throw new InvalidParameter('restore needs exactly one of --to NEWVOL and --replace VOL');
    return this.withRepository(access, async (repo) => {
      repo.requireRead('restore');
      const snapshot = await repo.loadSnapshot(snapshotId);
      const opts = { ...(req.onProgress ? { onProgress: req.onProgress } : {}), ...(req.signal ? { signal: req.signal } : {}) };
      if (req.to !== undefined) {
        const name = req.to;
        if (volumes.find(name)) throw new Conflict(`volume ${name} already exists: restore --to needs a new volume name (or use --replace ${name})`);
        const { result } = await volumes.createWithData(
          { name, driver: snapshot.volume.driver || 'local', driverOpts: { ...snapshot.volume.options }, labels: { ...snapshot.volume.labels } },
          (dir) => restoreSnapshot(repo, snapshot.id, dir, opts),
          () => {
            throw new Conflict(`volume ${name} was created while the snapshot was restored`);
          },
        );
        events.publish('volume', 'restore', name, { driver: snapshot.volume.driver || 'local', snapshot: snapshot.id });
        return { snapshot, volume: name, files: result.files, bytes: result.bytes, created: true };
      }
      const name = req.replace!;
      const volume = await volumes.get(name);
      const users = this.deps.containers.usersOf(name).map((u) => u.id);
      const ref = backupRef();
      await volumes.mount(name, ref);
      try {
        // Restore first, while the users run: they are stopped only for the swap.
        let stopped: string[] = [];
        const result = await volumes.replaceData(
          name,
          async (dir) => {
            const r = await restoreSnapshot(repo, snapshot.id, dir, opts);
            stopped = await this.stopWriters(users);
            return r;
          },
          () => {
            const still = this.deps.containers.usersOf(name);
            if (still.length > 0) throw new Conflict(`volume ${name} is in use by running container(s) ${still.map((u) => u.name).join(', ')}: they could not be stopped for the restore`);
          },
        ).finally(() => this.startAgain(stopped));
        events.publish('volume', 'restore', name, { driver: volume.driver, snapshot: snapshot.id });
        return { snapshot, volume: name, files: result.files, bytes: result.bytes, created: false };
      } finally {
        await volumes.unmount(name, ref);
      }
    });
  }

  async diff(access: RepositoryAccess, from: string, to: string): Promise<DiffResult> {
    return this.withRepository(access, (repo) => diffSnapshots(repo, from, to));
  }

  async check(access: RepositoryAccess, opts: { readData?: number; onProgress?: (p: { phase: string; done: number; total: number }) => void } = {}): Promise<CheckReport> {
    return this.withRepository(access, (repo) => checkRepository(repo, opts));
  }

  async forget(access: RepositoryAccess, req: ForgetRequest): Promise<{ plans: ForgetPlan[]; prune?: PruneReport }> {
    return this.withRepository(access, async (repo) => {
      const plans = await forgetSnapshots(repo, {
        ...(req.policy ? { policy: req.policy } : {}),
        ...(req.ids ? { ids: req.ids } : {}),
        ...(req.volume !== undefined ? { volume: req.volume } : {}),
        ...(req.dryRun ? { dryRun: true } : {}),
      });
      if (!req.prune) return { plans };
      return { plans, prune: await pruneRepository(repo, req.dryRun ? { dryRun: true } : {}) };
    });
  }

  /** The repository's keys, and the one the credentials opened. */
  async keys(access: RepositoryAccess): Promise<{ keys: KeyInfo[]; current: string }> {
    return this.withRepository(access, async (repo) => ({ keys: await repo.listKeys(), current: repo.keyId }));
  }

  async addKey(access: RepositoryAccess, opts: { kind: KeyKind; password?: string; recipient?: string }): Promise<KeyInfo> {
    if ((opts.password === undefined) === (opts.recipient === undefined)) throw new InvalidParameter('a new key needs a passphrase or a recipient');
    return this.withRepository(access, (repo) => repo.addKey(opts.kind, opts.password !== undefined ? { password: opts.password } : { recipient: opts.recipient! }));
  }

  async removeKey(access: RepositoryAccess, id: string): Promise<void> {
    await this.withRepository(access, (repo) => repo.removeKey(id));
  }
}
