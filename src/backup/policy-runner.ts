// Backup policies kept in berthd (docs/backups.md, "Daemon"): the store,
// the scheduler that runs them, and what a run is: a backup of the
// selected volumes, then forget with the policy's retention rules.
import type { Logger } from 'pino';
import { errorText } from '../errors.js';
import type { RetentionPolicy } from './engine/forget.js';
import type { CredentialSource, Policy, PolicyRun, PolicySpec, PolicyStore, Retention } from './policies.js';
import { Scheduler, type Clock, type RunOutcome } from './scheduler.js';
import type { BackupService } from './service.js';

export interface PolicyView {
  policy: Policy;
  /** Newest first. */
  runs: PolicyRun[];
  nextRun: number | undefined;
}

/** The engine's retention rules for a policy's. */
export function retentionOf(r: Retention): RetentionPolicy {
  const out: RetentionPolicy = {};
  if (r.keepLast !== undefined) out.last = r.keepLast;
  if (r.keepHourly !== undefined) out.hourly = r.keepHourly;
  if (r.keepDaily !== undefined) out.daily = r.keepDaily;
  if (r.keepWeekly !== undefined) out.weekly = r.keepWeekly;
  if (r.keepMonthly !== undefined) out.monthly = r.keepMonthly;
  if (r.keepYearly !== undefined) out.yearly = r.keepYearly;
  if (r.within !== undefined) out.within = r.within;
  return out;
}

export class BackupPolicies {
  private readonly scheduler: Scheduler;

  constructor(
    private readonly deps: {
      store: PolicyStore;
      backups: Pick<BackupService, 'backup' | 'forget'>;
      log: Logger;
      clock?: Clock;
    },
  ) {
    this.scheduler = new Scheduler({ store: deps.store, run: (p) => this.run(p), log: deps.log, ...(deps.clock ? { clock: deps.clock } : {}) });
  }

  /** Starts the schedule (catching up missed runs once); drops credentials of policies removed halfway. */
  start(): void {
    const orphans = this.deps.store.removeOrphanCredentials();
    if (orphans.length > 0) this.deps.log.info({ policies: orphans }, 'removed the credentials of deleted backup policies');
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
  }

  async create(spec: PolicySpec, source: CredentialSource): Promise<PolicyView> {
    const policy = await this.deps.store.create(spec, source);
    this.scheduler.policyAdded(policy);
    return this.view(policy);
  }

  remove(ref: string): void {
    const policy = this.deps.store.remove(ref);
    this.scheduler.policyRemoved(policy.id);
  }

  /** Runs a policy at once; resolves with how it went (the run is in its history). */
  async runNow(ref: string): Promise<PolicyView> {
    const policy = this.deps.store.get(ref);
    await this.scheduler.runNow(policy.id);
    return this.view(policy);
  }

  list(): PolicyView[] {
    return this.deps.store.list().map((p) => this.view(p));
  }

  private view(policy: Policy): PolicyView {
    return { policy, runs: this.deps.store.lastRuns(policy.id), nextRun: this.scheduler.nextRunOf(policy.id) };
  }

  /** One scheduled run: back up what the policy selects, then forget what its retention no longer keeps. */
  async run(policy: Policy): Promise<RunOutcome> {
    const credentials = await this.deps.store.readCredentials(policy);
    const access = { repo: policy.repository, ...credentials };
    const outcome = await this.deps.backups.backup(access, {
      ...('volumes' in policy.selector ? { volumes: policy.selector.volumes } : { labels: policy.selector.labels }),
      tags: policy.tags,
      consistency: policy.consistency,
    });
    const retention = retentionOf(policy.retention);
    if (Object.keys(retention).length > 0) {
      for (const volume of new Set(outcome.snapshots.map((s) => s.volume.name))) {
        await this.deps.backups.forget(access, { policy: retention, volume }).catch((e: unknown) => {
          this.deps.log.warn({ policy: policy.name, volume, err: errorText(e) }, 'backup policy: forget failed after the backup');
        });
      }
    }
    return {
      snapshots: outcome.snapshots.map((s) => s.id),
      bytesAdded: outcome.snapshots.reduce((n, s) => n + s.summary.bytesAdded, 0),
      freezeMs: outcome.snapshots.some((s) => s.consistency.mode === 'freeze' && s.consistency.freezeMs > 0) ? outcome.freezeMs : null,
    };
  }
}
