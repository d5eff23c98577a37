// Backup policies in berth.db (migration 4): what to back up, when, where to,
// how to keep it consistent and how long to keep snapshots; and the results
// of each policy's recent runs. The tables are drawn in docs/data-root.md.
import { z } from 'zod';
import type { DB } from '../store/db.js';
import { Conflict, InvalidParameter, NotFound } from '../errors.js';
import { quote } from '../go/strconv.js';
import { generateId } from '../util/random-id.js';
import { parseSchedule } from './cron.js';
import { CredentialRefSchema, checkCredentials, type CredentialRef, type CredentialStore, type RepositoryCredentials } from './credentials.js';

export type Consistency = 'freeze' | 'stop' | 'none';

/**
 * Which volumes a policy backs up: named ones, or every volume matching all
 * of the label filters ("key" or "key=value", as `volume ls --filter label=`).
 */
export type VolumeSelector = { volumes: string[] } | { labels: string[] };

/**
 * Which snapshots `forget` keeps after a run (docs/backup-format.md): a
 * snapshot kept by any rule stays. `within` is a restic-style span of years,
 * months, days and hours ("1y6m", "30d", "12h").
 */
export interface Retention {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  within?: string;
}

export interface PolicySpec {
  /** Unique among policies; what `backup policy rm NAME` takes. */
  name: string;
  selector: VolumeSelector;
  /** A 5-field cron expression or a macro (src/backup/cron.ts). */
  schedule: string;
  /** Runs start up to this long after the scheduled time (fixed per policy). */
  jitterMs: number;
  retention: Retention;
  /** The repository location (a path or s3://bucket/prefix); no secret in it. */
  repository: string;
  consistency: Consistency;
  tags: string[];
}

export interface Policy extends PolicySpec {
  /** 64 hex. */
  id: string;
  /** Where the repository's credentials are (never in the database). */
  credentials: CredentialRef;
  /** Milliseconds since the epoch. */
  created: number;
}

/** One run's outcome, as `backup policy ls` shows it. */
export interface PolicyRun {
  policyId: string;
  /** Milliseconds since the epoch. */
  started: number;
  durationMs: number;
  snapshots: string[];
  bytesAdded: number;
  /** How long containers were frozen; null when nothing was frozen. */
  freezeMs: number | null;
  /** Why the run failed; null when it succeeded. */
  error: string | null;
}

/** How a new policy gets its repository credentials: given (berthd keeps them), or a file the administrator keeps. */
export type CredentialSource = { secrets: RepositoryCredentials } | { file: string };

/** How many runs are kept per policy. */
export const DEFAULT_KEPT_RUNS = 50;

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const WITHIN = /^(?=\d)(\d+y)?(\d+m)?(\d+d)?(\d+h)?$/;
const count = z.number().int().positive();

const SelectorSchema = z.union(
  [
    z.object({ volumes: z.array(z.string().min(1)).min(1) }).strict(),
    z.object({ labels: z.array(z.string().min(1).refine((l) => !l.startsWith('='), 'a label filter starts with its key')).min(1) }).strict(),
  ],
  { error: 'either {"volumes": [names]} or {"labels": [filters]}' },
);

const RetentionSchema = z
  .object({
    keepLast: count.optional(),
    keepHourly: count.optional(),
    keepDaily: count.optional(),
    keepWeekly: count.optional(),
    keepMonthly: count.optional(),
    keepYearly: count.optional(),
    within: z.string().regex(WITHIN, 'a span of years, months, days and hours such as "1y6m", "30d" or "12h"').optional(),
  })
  .strict()
  .refine((r) => Object.values(r).some((v) => v !== undefined), 'at least one keep rule (a forget without rules is refused)');

const SpecSchema = z.object({
  name: z.string().regex(NAME, 'names start with a letter or digit, then letters, digits, "_", "." or "-"'),
  selector: SelectorSchema,
  schedule: z.string(),
  jitterMs: z.number().int().nonnegative(),
  retention: RetentionSchema,
  repository: z.string().min(1),
  consistency: z.enum(['freeze', 'stop', 'none']),
  tags: z.array(z.string().min(1)),
});

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new InvalidParameter(`${what}: ${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
}

/** Checks a policy before it is stored: InvalidParameter naming the first problem. */
export function checkPolicySpec(spec: PolicySpec): PolicySpec {
  const checked = parseWith(SpecSchema, spec, 'invalid backup policy');
  parseSchedule(checked.schedule);
  return checked;
}

interface PolicyRow {
  id: string;
  name: string;
  selector: string;
  schedule: string;
  jitter_ms: number;
  retention: string;
  repository: string;
  credentials: string;
  consistency: string;
  tags: string;
  created_at: number;
}

interface RunRow {
  policy: string;
  started_at: number;
  duration_ms: number;
  snapshots: string;
  bytes_added: number;
  freeze_ms: number | null;
  error: string | null;
}

function fromRow(r: PolicyRow): Policy {
  const what = `backup policy ${r.name} in berth.db`;
  return {
    id: r.id,
    name: r.name,
    selector: parseWith(SelectorSchema, JSON.parse(r.selector), what),
    schedule: r.schedule,
    jitterMs: r.jitter_ms,
    retention: parseWith(RetentionSchema, JSON.parse(r.retention), what),
    repository: r.repository,
    credentials: parseWith(CredentialRefSchema, JSON.parse(r.credentials), what),
    consistency: parseWith(SpecSchema.shape.consistency, r.consistency, what),
    tags: parseWith(SpecSchema.shape.tags, JSON.parse(r.tags), what),
    created: r.created_at,
  };
}

function runFromRow(r: RunRow): PolicyRun {
  return {
    policyId: r.policy,
    started: r.started_at,
    durationMs: r.duration_ms,
    snapshots: JSON.parse(r.snapshots) as string[],
    bytesAdded: r.bytes_added,
    freezeMs: r.freeze_ms,
    error: r.error,
  };
}

export class PolicyStore {
  private readonly stmts;
  private readonly keptRuns: number;

  constructor(
    private readonly db: DB,
    private readonly credentials: CredentialStore,
    opts: { keptRuns?: number } = {},
  ) {
    this.keptRuns = opts.keptRuns ?? DEFAULT_KEPT_RUNS;
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO backup_policies (id, name, selector, schedule, jitter_ms, retention, repository, credentials, consistency, tags, created_at)
         VALUES (@id, @name, @selector, @schedule, @jitter_ms, @retention, @repository, @credentials, @consistency, @tags, @created_at)`,
      ),
      all: db.prepare<[], PolicyRow>('SELECT * FROM backup_policies ORDER BY created_at, id'),
      byId: db.prepare<[string], PolicyRow>('SELECT * FROM backup_policies WHERE id = ?'),
      byName: db.prepare<[string], PolicyRow>('SELECT * FROM backup_policies WHERE name = ?'),
      // Only called with hex prefixes: no LIKE wildcard can be in one.
      byPrefix: db.prepare<[string], PolicyRow>("SELECT * FROM backup_policies WHERE id LIKE ? || '%'"),
      delete: db.prepare('DELETE FROM backup_policies WHERE id = ?'),
      insertRun: db.prepare(
        `INSERT INTO backup_runs (policy, started_at, duration_ms, snapshots, bytes_added, freeze_ms, error)
         VALUES (@policy, @started_at, @duration_ms, @snapshots, @bytes_added, @freeze_ms, @error)`,
      ),
      // Keeps the newest `kept` runs of a policy.
      trimRuns: db.prepare(
        `DELETE FROM backup_runs WHERE policy = @policy AND id NOT IN
           (SELECT id FROM backup_runs WHERE policy = @policy ORDER BY started_at DESC, id DESC LIMIT @kept)`,
      ),
      lastRuns: db.prepare<[string, number], RunRow>('SELECT * FROM backup_runs WHERE policy = ? ORDER BY started_at DESC, id DESC LIMIT ?'),
    };
  }

  /**
   * Stores a new policy. Given secrets are kept in a file of the policy's
   * own (written before the row, removed again if the row cannot be written);
   * a credentials file the administrator keeps is named as it is.
   */
  async create(spec: PolicySpec, source: CredentialSource): Promise<Policy> {
    const checked = checkPolicySpec(spec);
    if (this.stmts.byName.get(checked.name)) throw new Conflict(`backup policy ${quote(checked.name)} already exists`);
    const id = generateId();
    let credentials: CredentialRef;
    if ('secrets' in source) {
      await this.credentials.store(id, checkCredentials(source.secrets));
      credentials = { kind: 'stored' };
    } else {
      credentials = parseWith(CredentialRefSchema, { kind: 'file', path: source.file }, 'repository credentials file');
    }
    const policy: Policy = { ...checked, id, credentials, created: Date.now() };
    try {
      this.stmts.insert.run({
        id,
        name: policy.name,
        selector: JSON.stringify(policy.selector),
        schedule: policy.schedule,
        jitter_ms: policy.jitterMs,
        retention: JSON.stringify(policy.retention),
        repository: policy.repository,
        credentials: JSON.stringify(policy.credentials),
        consistency: policy.consistency,
        tags: JSON.stringify(policy.tags),
        created_at: policy.created,
      });
    } catch (e) {
      this.credentials.remove(id);
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Conflict(`backup policy ${quote(checked.name)} already exists`);
      throw e;
    }
    return policy;
  }

  list(): Policy[] {
    return this.stmts.all.all().map(fromRow);
  }

  /** By ID, name, or a unique ID prefix; NotFound otherwise. */
  get(ref: string): Policy {
    const row = this.stmts.byId.get(ref) ?? this.stmts.byName.get(ref);
    if (row) return fromRow(row);
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = this.stmts.byPrefix.all(ref);
      if (matches.length === 1) return fromRow(matches[0]!);
      if (matches.length > 1) throw new InvalidParameter(`multiple backup policies found with provided prefix: ${ref}`);
    }
    throw new NotFound(`No such backup policy: ${ref}`);
  }

  /** Removes the policy with its runs, then its stored credentials. */
  remove(ref: string): Policy {
    const policy = this.get(ref);
    this.stmts.delete.run(policy.id);
    if (policy.credentials.kind === 'stored') this.credentials.remove(policy.id);
    return policy;
  }

  /** The policy's repository credentials, wherever they are kept. */
  readCredentials(policy: Policy): Promise<RepositoryCredentials> {
    return this.credentials.read(policy.id, policy.credentials);
  }

  /** Stores a run's outcome and drops the policy's runs beyond the newest ones kept; NotFound when the policy is gone. */
  recordRun(run: PolicyRun): void {
    if (!this.stmts.byId.get(run.policyId)) throw new NotFound(`No such backup policy: ${run.policyId}`);
    this.db.transaction(() => {
      this.stmts.insertRun.run({
        policy: run.policyId,
        started_at: Math.round(run.started),
        duration_ms: Math.round(run.durationMs),
        snapshots: JSON.stringify(run.snapshots),
        bytes_added: run.bytesAdded,
        freeze_ms: run.freezeMs === null ? null : Math.round(run.freezeMs),
        error: run.error,
      });
      this.stmts.trimRuns.run({ policy: run.policyId, kept: this.keptRuns });
    })();
  }

  /** The policy's newest runs first, at most `limit`. */
  lastRuns(policyId: string, limit = this.keptRuns): PolicyRun[] {
    return this.stmts.lastRuns.all(policyId, limit).map(runFromRow);
  }

  /** At start: stored credentials whose policy is gone (a removal cut short) are deleted. */
  removeOrphanCredentials(): string[] {
    return this.credentials.removeOrphans(new Set(this.list().map((p) => p.id)));
  }
}
