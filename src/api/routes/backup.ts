// /backup endpoints (docs/backups.md): translate requests for the backup
// service and its policies, nothing more. Long operations answer with JSON
// lines; the repository and its credentials come in X-Berth-Repository.
import type { Router } from '../router.js';
import { readJsonObject, sendJson, sendNoContent } from '../http.js';
import { HttpError } from '../errors.js';
import { answerWithJsonLines } from '../json-lines.js';
import { BackupBody, decodeBody, ForgetBody, InitBody, KeyBody, PolicyBody, policyRetention, repositoryAccess, RestoreBody, retentionPolicy } from '../decode/backup.js';
import { toApiDiff, toApiForget, toApiKey, toApiPolicy, toApiSnapshot } from '../views/backup.js';
import type { BackupService } from '../../backup/service.js';
import type { BackupPolicies } from '../../backup/policy-runner.js';
import { parseDuration } from '../../go/time.js';

export type BackupBackend = Pick<BackupService, 'init' | 'backup' | 'snapshots' | 'restore' | 'diff' | 'check' | 'forget' | 'keys' | 'addKey' | 'removeKey'>;
export type PolicyBackend = Pick<BackupPolicies, 'create' | 'list' | 'remove' | 'runNow'>;

/** A query percentage (check --read-data=PERCENT): 0 to 100. */
function percent(text: string | null): number | undefined {
  if (text === null || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new HttpError(400, `invalid readData value "${text}": a percentage from 0 to 100`);
  return n;
}

export function registerBackupRoutes(router: Router, backups: BackupBackend, policies: PolicyBackend): void {
  router.add('POST', '/backup/init', async (ctx) => {
    const access = repositoryAccess(ctx.req);
    const body = decodeBody(InitBody, await readJsonObject(ctx.req), 'init request');
    const r = await backups.init(access, { recipients: body.Recipients ?? [] });
    sendJson(ctx.res, 201, { Id: r.id, Location: r.location });
  });

  router.add('POST', '/backup/snapshots', async (ctx) => {
    const access = repositoryAccess(ctx.req);
    const body = decodeBody(BackupBody, await readJsonObject(ctx.req), 'backup request');
    await answerWithJsonLines(ctx.res, async (reply, signal) => {
      reply.start();
      const r = await backups.backup(access, {
        volumes: body.Volumes ?? [],
        labels: body.Labels ?? [],
        tags: body.Tags ?? [],
        consistency: body.Consistency ?? 'freeze',
        signal,
        onProgress: (p) =>
          reply.line({
            status: 'Backing up',
            id: p.volume,
            progressDetail: { phase: p.phase, current: p.bytes, total: p.totalBytes, files: p.files, totalFiles: p.totalFiles, bytesAdded: p.bytesAdded },
          }),
      });
      reply.line({ status: 'Backed up', snapshots: r.snapshots.map(toApiSnapshot), freezeMs: r.freezeMs, warnings: r.warnings });
    });
  });

  router.add('GET', '/backup/snapshots', async (ctx) => {
    const volume = ctx.query.get('volume') || undefined;
    const list = await backups.snapshots(repositoryAccess(ctx.req), volume !== undefined ? { volume } : {});
    sendJson(ctx.res, 200, list.map(toApiSnapshot));
  });

  router.add('POST', '/backup/snapshots/{id}/restore', async (ctx) => {
    const access = repositoryAccess(ctx.req);
    const body = decodeBody(RestoreBody, await readJsonObject(ctx.req), 'restore request');
    if ((body.To === undefined) === (body.Replace === undefined)) throw new HttpError(400, 'restore needs exactly one of To (a new volume) and Replace (an existing volume)');
    await answerWithJsonLines(ctx.res, async (reply, signal) => {
      reply.start();
      const id = body.To ?? body.Replace!;
      const r = await backups.restore(access, ctx.params.id!, {
        ...(body.To !== undefined ? { to: body.To } : { replace: body.Replace! }),
        signal,
        onProgress: (p) => reply.line({ status: 'Restoring', id, progressDetail: { current: p.bytes, total: p.totalBytes, files: p.files, totalFiles: p.totalFiles } }),
      });
      reply.line({ status: 'Restored', id: r.volume, snapshot: r.snapshot.id, created: r.created, progressDetail: { current: r.bytes, files: r.files } });
    });
  });

  router.add('GET', '/backup/diff', async (ctx) => {
    const from = ctx.query.get('from') ?? '';
    const to = ctx.query.get('to') ?? '';
    if (from === '' || to === '') throw new HttpError(400, 'diff needs two snapshots: from= and to=');
    sendJson(ctx.res, 200, toApiDiff(await backups.diff(repositoryAccess(ctx.req), from, to)));
  });

  router.add('POST', '/backup/check', async (ctx) => {
    const access = repositoryAccess(ctx.req);
    const readData = percent(ctx.query.get('readData'));
    await answerWithJsonLines(ctx.res, async (reply) => {
      reply.start();
      const report = await backups.check(access, {
        ...(readData !== undefined ? { readData } : {}),
        onProgress: (p) => reply.line({ status: 'Checking', id: p.phase, progressDetail: { current: p.done, total: p.total } }),
      });
      reply.line({ status: 'Checked', report });
    });
  });

  router.add('POST', '/backup/forget', async (ctx) => {
    const access = repositoryAccess(ctx.req);
    const body = decodeBody(ForgetBody, await readJsonObject(ctx.req), 'forget request');
    const policy = retentionPolicy(body.Retention);
    if (Object.keys(policy).length === 0 && (body.Ids ?? []).length === 0) throw new HttpError(400, 'forget needs a retention rule (keep-last, keep-daily, ..., within) or snapshot IDs');
    const r = await backups.forget(access, {
      policy,
      ...(body.Ids ? { ids: body.Ids } : {}),
      ...(body.Volume !== undefined ? { volume: body.Volume } : {}),
      dryRun: body.DryRun === true,
      prune: body.Prune === true,
    });
    sendJson(ctx.res, 200, toApiForget(r.plans, r.prune, body.DryRun === true));
  });

  router.add('GET', '/backup/keys', async (ctx) => {
    const { keys, current } = await backups.keys(repositoryAccess(ctx.req));
    sendJson(ctx.res, 200, keys.map((k) => toApiKey(k, current)));
  });

  router.add('POST', '/backup/keys', async (ctx) => {
    const access = repositoryAccess(ctx.req);
    const body = decodeBody(KeyBody, await readJsonObject(ctx.req), 'key request');
    const key = await backups.addKey(access, {
      kind: body.Kind ?? 'full',
      ...(body.Password !== undefined ? { password: body.Password } : {}),
      ...(body.Recipient !== undefined ? { recipient: body.Recipient } : {}),
    });
    sendJson(ctx.res, 201, toApiKey(key, ''));
  });

  router.add('DELETE', '/backup/keys/{id}', async (ctx) => {
    await backups.removeKey(repositoryAccess(ctx.req), ctx.params.id!);
    sendNoContent(ctx.res);
  });

  router.add('GET', '/backup/policies', (ctx) => {
    sendJson(
      ctx.res,
      200,
      policies.list().map((p) => toApiPolicy(p.policy, p.runs, p.nextRun)),
    );
  });

  router.add('POST', '/backup/policies', async (ctx) => {
    const body = decodeBody(PolicyBody, await readJsonObject(ctx.req), 'policy');
    const volumes = body.Volumes ?? [];
    const labels = body.Labels ?? [];
    if ((volumes.length === 0) === (labels.length === 0)) throw new HttpError(400, 'a policy selects volumes by name (Volumes) or by label (Labels), one of them');
    let jitterMs = 0;
    if (body.Jitter !== undefined && body.Jitter !== '') {
      try {
        jitterMs = Math.round(parseDuration(body.Jitter) / 1e6);
      } catch (e) {
        throw new HttpError(400, `invalid jitter "${body.Jitter}": ${(e as Error).message}`);
      }
    }
    // The repository comes with its credentials in the header; berthd keeps them (or the file the request names).
    const access = repositoryAccess(ctx.req);
    const { repo, ...secrets } = access;
    const policy = await policies.create(
      {
        name: body.Name,
        selector: volumes.length > 0 ? { volumes } : { labels },
        schedule: body.Schedule,
        jitterMs,
        retention: policyRetention(body.Retention),
        repository: repo,
        consistency: body.Consistency ?? 'freeze',
        tags: body.Tags ?? [],
      },
      body.CredentialsFile !== undefined ? { file: body.CredentialsFile } : { secrets },
    );
    sendJson(ctx.res, 201, toApiPolicy(policy.policy, policy.runs, policy.nextRun));
  });

  router.add('POST', '/backup/policies/{name}/run', async (ctx) => {
    const view = await policies.runNow(ctx.params.name!);
    sendJson(ctx.res, 200, toApiPolicy(view.policy, view.runs, view.nextRun));
  });

  router.add('DELETE', '/backup/policies/{name}', (ctx) => {
    policies.remove(ctx.params.name!);
    sendNoContent(ctx.res);
  });
}
