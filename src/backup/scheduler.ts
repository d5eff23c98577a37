// Runs each backup policy at its next scheduled time, with one timer per
// policy (no polling). Rules (docs/backups.md, "Daemon building blocks"):
// - the next time is computed from the schedule and the policy's fixed jitter
//   when berthd starts, when the policy is added, and after each run;
// - a run never overlaps itself: times that pass while it runs are skipped,
//   and the next time is the first one after the run ends;
// - missed times (berthd was down, or killed during a run) are caught up
//   with one run at start, however many were missed: when the first time
//   after the last recorded run start (or the policy's creation) has passed,
//   the policy runs at start, delayed by its jitter.
import type { Logger } from 'pino';
import { Conflict, NotFound, errorText } from '../errors.js';
import { jitterOffset, nextRun, parseSchedule, type Schedule } from './cron.js';
import type { Policy, PolicyRun, PolicyStore } from './policies.js';

/** Time and timers, injectable so tests drive the scheduler with a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // A pending backup must not keep berthd alive on its own.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What a successful run reports, for the policy's run history. */
export interface RunOutcome {
  snapshots: string[];
  bytesAdded: number;
  /** How long containers were frozen; null when nothing was. */
  freezeMs: number | null;
}

export interface SchedulerDeps {
  store: Pick<PolicyStore, 'list' | 'lastRuns' | 'recordRun'>;
  /** Backs up what the policy selects; a thrown error is recorded as the run's error. */
  run(policy: Policy): Promise<RunOutcome>;
  log: Logger;
  clock?: Clock;
  /** Time zone of cron fields; default: berthd's own. */
  tz?: string;
}

/** setTimeout's longest delay; a later time is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  policy: Policy;
  schedule: Schedule;
  offsetMs: number;
  /** When it runs next (ms since the epoch); undefined while it runs. */
  due?: number;
  timer?: unknown;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** Schedules every stored policy, catching up the ones that missed a time. */
  start(): void {
    this.stopped = false;
    for (const policy of this.deps.store.list()) this.add(policy, { catchUp: true });
  }

  /** Clears every timer; runs in progress finish, and are recorded, but nothing new starts. */
  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) this.clock.clearTimeout(e.timer);
    this.entries.clear();
  }

  /** A policy was created: its first time is the first one after now. */
  policyAdded(policy: Policy): void {
    this.add(policy, { catchUp: false });
  }

  /** A policy was removed: no more runs (one in progress finishes). */
  policyRemoved(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.clock.clearTimeout(e.timer);
    this.entries.delete(id);
  }

  /** When the policy runs next (ms since the epoch); undefined while it runs or when it is not scheduled. */
  nextRunOf(id: string): number | undefined {
    return this.entries.get(id)?.due;
  }

  /**
   * Runs the policy now (`berth backup policy run`), then schedules its next
   * time as after any run; resolves once the run is recorded. Conflict while
   * it is already running.
   */
  async runNow(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) throw new NotFound(`backup policy ${id} is not scheduled`);
    if (entry.due === undefined) throw new Conflict(`backup policy ${entry.policy.name} is running`);
    this.clock.clearTimeout(entry.timer);
    entry.due = this.clock.now();
    const before = new Set(this.inFlight);
    this.fire(entry);
    const started = [...this.inFlight].find((p) => !before.has(p));
    if (started) await started;
  }

  /** Resolves once no run is in progress. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private add(policy: Policy, opts: { catchUp: boolean }): void {
    if (this.stopped) return;
    this.policyRemoved(policy.id);
    let schedule: Schedule;
    try {
      schedule = parseSchedule(policy.schedule, { tz: this.deps.tz, anchor: new Date(policy.created) });
    } catch (e) {
      // Checked at create; a stored schedule this berth no longer takes is left unscheduled, loudly.
      this.deps.log.error({ policy: policy.name, err: errorText(e) }, 'backup policy not scheduled');
      return;
    }
    const entry: Entry = { policy, schedule, offsetMs: jitterOffset(policy.id, policy.jitterMs) };
    this.entries.set(policy.id, entry);
    const now = this.clock.now();
    let due = nextRun(schedule, new Date(now), entry.offsetMs).getTime();
    if (opts.catchUp) {
      const last = this.deps.store.lastRuns(policy.id, 1)[0]?.started ?? policy.created;
      const missed = nextRun(schedule, new Date(last), entry.offsetMs).getTime();
      if (missed <= now) {
        due = now + entry.offsetMs;
        this.deps.log.info({ policy: policy.name, missed: new Date(missed).toISOString() }, 'backup policy missed a run while berthd was down: running it now');
      }
    }
    this.arm(entry, due);
  }

  private arm(entry: Entry, due: number): void {
    entry.due = due;
    const delay = Math.max(0, due - this.clock.now());
    entry.timer = this.clock.setTimeout(() => this.fire(entry), Math.min(delay, MAX_TIMER_MS));
  }

  private fire(entry: Entry): void {
    if (this.entries.get(entry.policy.id) !== entry || entry.due === undefined) return;
    // Early (a long wait in steps, or the wall clock set back): wait for the rest.
    if (this.clock.now() < entry.due) {
      this.arm(entry, entry.due);
      return;
    }
    entry.due = undefined;
    entry.timer = undefined;
    const done = this.runOnce(entry).finally(() => {
      this.inFlight.delete(done);
      if (this.entries.get(entry.policy.id) !== entry) return;
      this.arm(entry, nextRun(entry.schedule, new Date(this.clock.now()), entry.offsetMs).getTime());
    });
    this.inFlight.add(done);
  }

  private async runOnce(entry: Entry): Promise<void> {
    const { policy } = entry;
    const { log, store } = this.deps;
    const started = this.clock.now();
    let record: PolicyRun;
    try {
      const outcome = await this.deps.run(policy);
      record = { policyId: policy.id, started, durationMs: this.clock.now() - started, ...outcome, error: null };
      log.info({ policy: policy.name, snapshots: outcome.snapshots }, 'backup policy run finished');
    } catch (e) {
      record = { policyId: policy.id, started, durationMs: this.clock.now() - started, snapshots: [], bytesAdded: 0, freezeMs: null, error: errorText(e) };
      log.error({ policy: policy.name, err: errorText(e) }, 'backup policy run failed');
    }
    try {
      store.recordRun(record);
    } catch (e) {
      // The policy was removed while it ran.
      log.warn({ policy: policy.name, err: errorText(e) }, 'backup policy run not recorded');
    }
  }
}
