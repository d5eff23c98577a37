// Repository secrets of scheduled backups. berth.db holds none: a policy
// refers either to a file berthd keeps for it under the data root
// (backup/credentials/<policy id>.json, 0600 in a 0700 directory, written
// atomically), or to a file the administrator keeps, which must be owned by
// root (or berthd's user) and readable by its owner only.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { Forbidden, InvalidParameter, NotFound, errorText } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * What a repository needs besides its location: the X-Berth-Repository
 * header's fields (docs/backups.md) without `repo`.
 */
export interface RepositoryCredentials {
  password?: string;
  /** An X25519 identity, for repositories keyed to a recipient. */
  identity?: string;
  s3?: { endpoint?: string; region?: string; accessKeyId?: string; secretAccessKey?: string };
}

/** Where a policy's credentials are. */
export type CredentialRef = { kind: 'stored' } | { kind: 'file'; path: string };

/** An S3 repository's endpoint, region and keys, each optional (the AWS environment fills in the rest). */
export const S3SettingsSchema = z.object({
  endpoint: z.string().optional(),
  region: z.string().optional(),
  accessKeyId: z.string().optional(),
  secretAccessKey: z.string().optional(),
});

const CredentialsSchema = z
  .object({
    password: z.string().min(1).optional(),
    identity: z.string().min(1).optional(),
    s3: S3SettingsSchema.optional(),
  })
  .refine((c) => c.password !== undefined || c.identity !== undefined, 'a repository needs a password or an identity');

export const CredentialRefSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('stored') }),
  z.object({ kind: z.literal('file'), path: z.string().refine(isAbsolute, 'an absolute path') }),
]);

/** Checks credentials given to a policy; InvalidParameter with the first problem. */
export function checkCredentials(value: unknown): RepositoryCredentials {
  const r = CredentialsSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InvalidParameter(`repository credentials: ${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return r.data;
}

const POLICY_ID = /^[0-9a-f]{64}$/;

export class CredentialStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private pathOf(policyId: string): string {
    if (!POLICY_ID.test(policyId)) throw new InvalidParameter(`invalid policy ID: ${policyId}`);
    return join(this.dir, `${policyId}.json`);
  }

  /** Keeps a policy's credentials in a file of its own (0600, replaced atomically). */
  async store(policyId: string, credentials: RepositoryCredentials): Promise<void> {
    await writeFileAtomic(this.pathOf(policyId), JSON.stringify(checkCredentials(credentials)) + '\n', 0o600);
  }

  /** The credentials `ref` names for the policy; a file kept loosely is refused, not read. */
  async read(policyId: string, ref: CredentialRef): Promise<RepositoryCredentials> {
    const path = ref.kind === 'stored' ? this.pathOf(policyId) : ref.path;
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      throw new NotFound(`repository credentials ${path}: ${errorText(e)}`, { cause: e });
    }
    if (!st.isFile()) throw new InvalidParameter(`repository credentials ${path}: not a regular file`);
    const owner = process.getuid?.() ?? 0;
    if (st.uid !== 0 && st.uid !== owner) throw new Forbidden(`repository credentials ${path}: owned by uid ${st.uid}, not by root`);
    if ((st.mode & 0o077) !== 0) {
      throw new Forbidden(`repository credentials ${path}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets others read it: chmod 600 it`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (e) {
      throw new InvalidParameter(`repository credentials ${path}: ${errorText(e)}`, { cause: e });
    }
    return checkCredentials(parsed);
  }

  /** Removes a policy's stored credentials (none stored is fine). */
  remove(policyId: string): void {
    rmSync(this.pathOf(policyId), { force: true });
  }

  /** Removes stored credentials of policies that no longer exist (a removal cut short); returns their IDs. */
  removeOrphans(policyIds: ReadonlySet<string>): string[] {
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = /^([0-9a-f]{64})\.json$/.exec(name);
      // Temporary files of a write cut short go too.
      if (m ? policyIds.has(m[1]!) : !name.startsWith('.')) continue;
      rmSync(join(this.dir, name), { force: true });
      if (m) removed.push(m[1]!);
    }
    return removed;
  }
}
