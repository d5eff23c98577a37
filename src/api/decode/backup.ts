// Requests of the /backup endpoints to the backup service's terms: the
// X-Berth-Repository header (where the repository is and what opens it)
// and the JSON bodies.
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import type { RepositoryAccess } from '../../backup/service.js';
import type { RetentionPolicy } from '../../backup/engine/forget.js';
import type { Retention } from '../../backup/policies.js';
import { retentionOf } from '../../backup/policy-runner.js';
import { S3SettingsSchema } from '../../backup/credentials.js';

export const REPOSITORY_HEADER = 'x-berth-repository';

const Access = z.object({
  repo: z.string().min(1),
  password: z.string().optional(),
  identity: z.string().optional(),
  s3: S3SettingsSchema.optional(),
});

function invalid(what: string, e: z.ZodError): HttpError {
  const issue = e.issues[0]!;
  return new HttpError(400, `invalid ${what}: ${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
}

/** The repository a request is about; 400 when the header is missing or malformed. */
export function repositoryAccess(req: IncomingMessage): RepositoryAccess {
  const raw = req.headers[REPOSITORY_HEADER];
  if (typeof raw !== 'string' || raw === '') {
    throw new HttpError(400, 'no repository: send the X-Berth-Repository header (base64url JSON {"repo": PATH|s3://bucket/prefix, "password": ...})');
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid X-Berth-Repository header: not base64url-encoded JSON');
  }
  const parsed = Access.safeParse(json);
  if (!parsed.success) throw invalid('X-Berth-Repository header', parsed.error);
  return parsed.data;
}

const Consistency = z.enum(['freeze', 'stop', 'none']);
const Names = z.array(z.string().min(1)).optional();

export const BackupBody = z.object({ Volumes: Names, Labels: Names, Tags: Names, Consistency: Consistency.optional() });
export const RestoreBody = z.object({ To: z.string().min(1).optional(), Replace: z.string().min(1).optional() });
export const KeyBody = z.object({ Kind: z.enum(['full', 'write-only']).optional(), Password: z.string().min(1).optional(), Recipient: z.string().min(1).optional() });
export const InitBody = z.object({ Recipients: Names });

const Count = z.number().int().min(0).optional();
const RetentionBody = z.object({
  KeepLast: Count,
  KeepHourly: Count,
  KeepDaily: Count,
  KeepWeekly: Count,
  KeepMonthly: Count,
  KeepYearly: Count,
  Within: z.string().min(1).optional(),
});
export const ForgetBody = z.object({ Retention: RetentionBody.optional(), Ids: Names, Volume: z.string().min(1).optional(), DryRun: z.boolean().optional(), Prune: z.boolean().optional() });
export const PolicyBody = z.object({
  Name: z.string().min(1),
  Volumes: Names,
  Labels: Names,
  Schedule: z.string().min(1),
  Jitter: z.string().optional(),
  Retention: RetentionBody.optional(),
  Consistency: Consistency.optional(),
  Tags: Names,
  CredentialsFile: z.string().min(1).optional(),
});

/** A body checked against `schema`; 400 naming the first problem. */
export function decodeBody<T extends z.ZodTypeAny>(schema: T, raw: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalid(what, parsed.error);
  return parsed.data;
}

/** The engine's retention rules from the wire's. */
export function retentionPolicy(r: z.infer<typeof RetentionBody> | undefined): RetentionPolicy {
  return retentionOf(policyRetention(r));
}

/** A policy's retention (the store's terms) from the wire's. */
export function policyRetention(r: z.infer<typeof RetentionBody> | undefined): Retention {
  const out: Retention = {};
  if (!r) return out;
  if (r.KeepLast !== undefined) out.keepLast = r.KeepLast;
  if (r.KeepHourly !== undefined) out.keepHourly = r.KeepHourly;
  if (r.KeepDaily !== undefined) out.keepDaily = r.KeepDaily;
  if (r.KeepWeekly !== undefined) out.keepWeekly = r.KeepWeekly;
  if (r.KeepMonthly !== undefined) out.keepMonthly = r.KeepMonthly;
  if (r.KeepYearly !== undefined) out.keepYearly = r.KeepYearly;
  if (r.Within !== undefined) out.within = r.Within;
  return out;
}
