// Forgetting snapshots (docs/backup-format.md, "forget and prune"): the
// retention rules (restic's keep-last/hourly/daily/weekly/monthly/yearly/
// within) applied to each volume's snapshots apart, or snapshots named by
// ID. Only snapshot files are deleted; prune reclaims the data. A plan that
// would leave a volume without any snapshot is refused.
import { Conflict, InvalidParameter } from '../../errors.js';
import type { Repository } from '../repo/repository.js';
import { uniqueByPrefix } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';

export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Keep everything newer than the volume's newest snapshot minus this: "1y2m3d4h" (years, months, days, hours). */
  within?: string;
}

export interface ForgetOptions {
  policy?: RetentionPolicy;
  /** Snapshots to forget by ID (or unique prefix), instead of or besides the policy. */
  ids?: string[];
  /** Only this volume's snapshots. */
  volume?: string;
  dryRun?: boolean;
  /** Calendar buckets in local time (restic's choice, the default) or UTC. */
  timeZone?: 'local' | 'utc';
}

export interface KeptSnapshot {
  snapshot: SnapshotRecord;
  /** The rules that keep it ("last", "daily", "within", ...). */
  reasons: string[];
}

export interface ForgetPlan {
  volume: string;
  keep: KeptSnapshot[];
  remove: SnapshotRecord[];
}

const BUCKET_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
type BucketRule = (typeof BUCKET_RULES)[number];

/** A calendar field reader for one time zone. */
function calendar(utc: boolean) {
  return (d: Date) => ({
    year: utc ? d.getUTCFullYear() : d.getFullYear(),
    month: utc ? d.getUTCMonth() : d.getMonth(),
    day: utc ? d.getUTCDate() : d.getDate(),
    hour: utc ? d.getUTCHours() : d.getHours(),
  });
}

/** The ISO 8601 week a calendar date is in ("2024-W01"): the week's Thursday decides its year. */
function isoWeek(c: { year: number; month: number; day: number }): string {
  const date = new Date(Date.UTC(c.year, c.month, c.day));
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7) + 3);
  const firstThursday = new Date(Date.UTC(date.getUTCFullYear(), 0, 4));
  const week = 1 + Math.round(((date.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

function bucketOf(rule: BucketRule, s: SnapshotRecord, utc: boolean): string {
  const c = calendar(utc)(new Date(Number(s.timeNs / 1_000_000n)));
  switch (rule) {
    case 'last':
      return s.id;
    case 'hourly':
      return `${c.year}-${c.month}-${c.day}-${c.hour}`;
    case 'daily':
      return `${c.year}-${c.month}-${c.day}`;
    case 'weekly':
      return isoWeek(c);
    case 'monthly':
      return `${c.year}-${c.month}`;
    case 'yearly':
      return `${c.year}`;
  }
}

/** `newest` minus a "1y2m3d4h" duration, in calendar terms. */
export function subtractWithin(newest: Date, within: string, utc: boolean): Date {
  const m = /^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$/.exec(within);
  if (!m || within === '') throw new InvalidParameter(`invalid duration ${JSON.stringify(within)}: expected e.g. 1y2m3d4h`);
  const [y, mo, d, h] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  const t = new Date(newest.getTime());
  if (utc) {
    t.setUTCFullYear(t.getUTCFullYear() - y, t.getUTCMonth() - mo, t.getUTCDate() - d);
    t.setUTCHours(t.getUTCHours() - h);
  } else {
    t.setFullYear(t.getFullYear() - y, t.getMonth() - mo, t.getDate() - d);
    t.setHours(t.getHours() - h);
  }
  return t;
}

function hasRule(p: RetentionPolicy | undefined): boolean {
  return p !== undefined && (BUCKET_RULES.some((r) => (p[r] ?? 0) > 0) || (p.within !== undefined && p.within !== ''));
}

/** Which of one volume's snapshots the policy keeps, newest first, and why. */
export function applyPolicy(snapshots: SnapshotRecord[], policy: RetentionPolicy, utc: boolean): Map<string, string[]> {
  const newestFirst = [...snapshots].sort((a, b) => (a.timeNs > b.timeNs ? -1 : a.timeNs < b.timeNs ? 1 : 0));
  const kept = new Map<string, string[]>();
  const keep = (s: SnapshotRecord, reason: string): void => {
    kept.set(s.id, [...(kept.get(s.id) ?? []), reason]);
  };
  for (const rule of BUCKET_RULES) {
    let left = policy[rule] ?? 0;
    if (left < 0 || !Number.isInteger(left)) throw new InvalidParameter(`keep-${rule} must be a whole number, not ${left}`);
    let last: string | undefined;
    for (const s of newestFirst) {
      if (left === 0) break;
      const bucket = bucketOf(rule, s, utc);
      if (bucket === last) continue;
      last = bucket;
      left--;
      keep(s, rule);
    }
  }
  if (policy.within && newestFirst.length > 0) {
    const newest = new Date(Number(newestFirst[0]!.timeNs / 1_000_000n));
    const since = BigInt(subtractWithin(newest, policy.within, utc).getTime()) * 1_000_000n;
    for (const s of newestFirst) if (s.timeNs >= since) keep(s, 'within');
  }
  return kept;
}

/**
 * Plans (and unless dryRun, carries out) forgetting snapshots. Refuses
 * (InvalidParameter) without a rule or ID, and (Conflict) when a volume
 * would be left with no snapshot; then nothing is deleted.
 */
export async function forgetSnapshots(repo: Repository, opts: ForgetOptions): Promise<ForgetPlan[]> {
  if (!hasRule(opts.policy) && (opts.ids ?? []).length === 0) throw new InvalidParameter('forget needs a keep rule or snapshot IDs; refusing to forget everything');
  const lock = await repo.lock('shared', 'forget');
  try {
    const all = await repo.listSnapshots();
    const named = new Set((opts.ids ?? []).map((id) => uniqueByPrefix(all, (s) => s.id, id, 'snapshot').id));
    const byVolume = new Map<string, SnapshotRecord[]>();
    for (const s of all) {
      if (opts.volume !== undefined && s.volume.name !== opts.volume) continue;
      byVolume.set(s.volume.name, [...(byVolume.get(s.volume.name) ?? []), s]);
    }
    const utc = opts.timeZone === 'utc';
    const plans: ForgetPlan[] = [];
    for (const [volume, snapshots] of byVolume) {
      const kept = hasRule(opts.policy) ? applyPolicy(snapshots, opts.policy!, utc) : new Map(snapshots.map((s) => [s.id, ['not named']]));
      for (const id of named) kept.delete(id);
      const keep = snapshots.filter((s) => kept.has(s.id)).map((snapshot) => ({ snapshot, reasons: kept.get(snapshot.id)! }));
      const remove = snapshots.filter((s) => !kept.has(s.id));
      if (keep.length === 0) throw new Conflict(`refusing to forget every snapshot of volume ${volume} (${snapshots.length}); keep at least one`);
      plans.push({ volume, keep, remove });
    }
    if (!opts.dryRun) for (const p of plans) for (const s of p.remove) await repo.deleteSnapshot(s.id);
    return plans;
  } finally {
    await lock.release();
  }
}
