// Backup domain objects as the /backup endpoints show them.
import type { DiffResult } from '../../backup/engine/diff.js';
import type { ForgetPlan } from '../../backup/engine/forget.js';
import type { PruneReport } from '../../backup/engine/prune.js';
import type { Policy, PolicyRun } from '../../backup/policies.js';
import type { KeyInfo } from '../../backup/repo/keys.js';
import { nsToIso, type SnapshotRecord } from '../../backup/repo/snapshot.js';
import type { ApiDiff, ApiForgetResult, ApiKey, ApiPolicy, ApiPolicyRun, ApiRetention, ApiSnapshot } from '../types/backup.js';
import type { Retention } from '../../backup/policies.js';

export function toApiSnapshot(s: SnapshotRecord): ApiSnapshot {
  return {
    Id: s.id,
    Time: nsToIso(s.timeNs),
    Volume: s.volume.name,
    Driver: s.volume.driver,
    Labels: { ...s.volume.labels },
    Options: { ...s.volume.options },
    Tags: [...s.tags],
    Group: s.group,
    Parent: s.parent,
    Host: s.host,
    Consistency: s.consistency.mode,
    FreezeMs: s.consistency.freezeMs,
    Size: s.summary.size,
    Files: s.summary.files,
    Dirs: s.summary.dirs,
    BytesAdded: s.summary.bytesAdded,
    DurationMs: s.summary.durationMs,
  };
}

const isUtf8 = (b: Buffer): boolean => Buffer.from(b.toString('utf8')).equals(b);

export function toApiDiff(d: DiffResult): ApiDiff {
  return {
    From: d.from,
    To: d.to,
    Added: d.added,
    Removed: d.removed,
    Changed: d.changed,
    Entries: d.entries.map((e) => ({
      Path: e.path.toString('utf8'),
      ...(isUtf8(e.path) ? {} : { PathBase64: e.path.toString('base64') }),
      Change: e.change,
      Type: e.type,
      ...(e.fields ? { Fields: [...e.fields] } : {}),
    })),
  };
}

export function toApiForget(plans: ForgetPlan[], prune: PruneReport | undefined, dryRun: boolean): ApiForgetResult {
  return {
    Plans: plans.map((p) => ({
      Volume: p.volume,
      Keep: p.keep.map((k) => ({ Id: k.snapshot.id, Reasons: [...k.reasons] })),
      Remove: p.remove.map((s) => s.id),
    })),
    ...(prune ? { Prune: { ...prune } as unknown as Record<string, number> } : {}),
    DryRun: dryRun,
  };
}

export function toApiKey(k: KeyInfo, current: string): ApiKey {
  return { Id: k.id, Kind: k.kind, WrappedFor: k.wrappedFor, Created: k.created, Host: k.host, Current: k.id === current };
}

export function toApiRetention(r: Retention): ApiRetention {
  const out: ApiRetention = {};
  if (r.keepLast !== undefined) out.KeepLast = r.keepLast;
  if (r.keepHourly !== undefined) out.KeepHourly = r.keepHourly;
  if (r.keepDaily !== undefined) out.KeepDaily = r.keepDaily;
  if (r.keepWeekly !== undefined) out.KeepWeekly = r.keepWeekly;
  if (r.keepMonthly !== undefined) out.KeepMonthly = r.keepMonthly;
  if (r.keepYearly !== undefined) out.KeepYearly = r.keepYearly;
  if (r.within !== undefined) out.Within = r.within;
  return out;
}

function toApiRun(r: PolicyRun): ApiPolicyRun {
  return {
    Started: new Date(r.started).toISOString(),
    DurationMs: r.durationMs,
    Snapshots: [...r.snapshots],
    BytesAdded: r.bytesAdded,
    FreezeMs: r.freezeMs,
    Error: r.error,
  };
}

export function toApiPolicy(p: Policy, runs: PolicyRun[], nextRun: number | undefined): ApiPolicy {
  const last = runs[0];
  const success = runs.find((r) => r.error === null);
  return {
    Id: p.id,
    Name: p.name,
    ...('volumes' in p.selector ? { Volumes: [...p.selector.volumes] } : { Labels: [...p.selector.labels] }),
    Schedule: p.schedule,
    JitterMs: p.jitterMs,
    Retention: toApiRetention(p.retention),
    Repository: p.repository,
    Consistency: p.consistency,
    Tags: [...p.tags],
    Created: new Date(p.created).toISOString(),
    NextRun: nextRun === undefined ? null : new Date(nextRun).toISOString(),
    LastRun: last ? toApiRun(last) : null,
    LastSuccess: success ? toApiRun(success) : null,
  };
}
