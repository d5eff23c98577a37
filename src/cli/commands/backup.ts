// `berth backup ...`, `berth volume backup` and `berth volume restore`: the
// client side of docs/backups.md. The repository and its credentials come
// from flags and this process's environment and travel to berthd in the
// X-Berth-Repository header; progress comes back as JSON lines.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ApiClient } from '../client.js';
import { collect, defineCommand, flagValueError, parseIntFlag } from '../command.js';
import { CliError } from '../errors.js';
import { renderList } from '../format/formatter.js';
import { readMessages, type JsonMessage } from '../json-messages.js';
import { PROGRESS_HELP, ProgressDisplay, progressFlag } from '../progress.js';
import { humanSize } from '../../go/units.js';
import { envSecret, resolveS3Settings } from '../../backup/targets/s3-settings.js';
import { parseRepository } from '../../backup/targets/open.js';
import { generateIdentity } from '../../backup/repo/recipients.js';
import type { ApiDiff, ApiForgetResult, ApiKey, ApiPolicy, ApiRepositoryAccess, ApiRetention, ApiSnapshot } from '../../api/types/backup.js';
import type { CheckReport } from '../../backup/engine/check.js';
import { goErrnoText } from '../../util/go-errno.js';

interface RepoFlags {
  repo?: string;
  s3Endpoint?: string;
  s3Region?: string;
  identity?: string;
}

const enc = encodeURIComponent;

function repoFlags(cmd: Command): Command {
  return cmd
    .option('-r, --repo <string>', 'Repository: a path or s3://bucket/prefix (default $BERTH_REPOSITORY)')
    .option('--s3-endpoint <string>', 'S3-compatible endpoint URL (default $AWS_ENDPOINT_URL)')
    .option('--s3-region <string>', 'S3 region (default $AWS_REGION)')
    .option('--identity <string>', 'File holding an X25519 identity that opens the repository (default $BERTH_IDENTITY_FILE)');
}

/**
 * The X-Berth-Repository header for a command: the repository (a relative
 * path made absolute here, where it means something), the passphrase
 * (BERTH_PASSWORD or BERTH_PASSWORD_FILE) or identity, and for S3 the
 * endpoint, region and keys from flags or the AWS environment.
 */
async function repositoryHeader(flags: RepoFlags, opts: { needsSecret?: boolean } = {}): Promise<string> {
  const repo = flags.repo || process.env.BERTH_REPOSITORY;
  if (!repo) throw new CliError('no repository: give --repo PATH|s3://bucket/prefix or set BERTH_REPOSITORY');
  const address = parseRepository(repo, process.cwd());
  const access: ApiRepositoryAccess = { repo: address.type === 'local' ? address.path : repo };
  const password = await envSecret(process.env, 'BERTH_PASSWORD');
  if (password !== undefined) access.password = password;
  const identityFile = flags.identity || process.env.BERTH_IDENTITY_FILE;
  if (identityFile) {
    try {
      access.identity = readFileSync(resolve(identityFile), 'utf8');
    } catch (e) {
      throw new CliError(`read identity ${identityFile}: ${goErrnoText(e)}`);
    }
  }
  if ((opts.needsSecret ?? true) && access.password === undefined && access.identity === undefined) {
    throw new CliError('no passphrase: set BERTH_PASSWORD or BERTH_PASSWORD_FILE (or give --identity for a recipient key)');
  }
  if (address.type === 's3') {
    const s3 = await resolveS3Settings({ ...(flags.s3Endpoint ? { endpoint: flags.s3Endpoint } : {}), ...(flags.s3Region ? { region: flags.s3Region } : {}) });
    access.s3 = {
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      region: s3.region,
      ...(s3.credentials ? { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey } : {}),
    };
  }
  return Buffer.from(JSON.stringify(access)).toString('base64url');
}

async function repoRequest(client: ApiClient, flags: RepoFlags): Promise<{ headers: Record<string, string> }> {
  return { headers: { 'X-Berth-Repository': await repositoryHeader(flags) } };
}

const shortId = (id: string): string => id.slice(0, 12);

/** A local time as docker prints created times in tables. */
function localTime(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function snapshotContext(s: ApiSnapshot): object {
  return {
    ID: shortId(s.Id),
    FullID: s.Id,
    Time: localTime(s.Time),
    Volume: s.Volume,
    Size: humanSize(s.Size),
    Files: String(s.Files),
    Added: humanSize(s.BytesAdded),
    Freeze: s.Consistency === 'freeze' ? `${s.FreezeMs}ms` : s.Consistency,
    Tags: s.Tags.join(','),
    Host: s.Host,
  };
}

const SNAPSHOT_HEADERS = { ID: 'SNAPSHOT ID', FullID: 'SNAPSHOT ID', Time: 'TIME', Volume: 'VOLUME', Size: 'SIZE', Files: 'FILES', Added: 'ADDED', Freeze: 'FREEZE', Tags: 'TAGS', Host: 'HOST' };

/** The progress bar's counts from a backup/restore progress line. */
function counts(m: JsonMessage): { bytes?: number; files?: number; totalBytes?: number; totalFiles?: number } {
  const d = m.progressDetail ?? {};
  return {
    ...(typeof d.current === 'number' ? { bytes: d.current } : {}),
    ...(typeof d.files === 'number' ? { files: d.files } : {}),
    ...(typeof d.total === 'number' && d.total > 0 ? { totalBytes: d.total } : {}),
    ...(typeof d.totalFiles === 'number' && d.totalFiles > 0 ? { totalFiles: d.totalFiles } : {}),
  };
}

function retentionFlags(cmd: Command): Command {
  return cmd
    .option('--keep-last <int>', 'Keep the last N snapshots')
    .option('--keep-hourly <int>', 'Keep the last N hourly snapshots')
    .option('--keep-daily <int>', 'Keep the last N daily snapshots')
    .option('--keep-weekly <int>', 'Keep the last N weekly snapshots')
    .option('--keep-monthly <int>', 'Keep the last N monthly snapshots')
    .option('--keep-yearly <int>', 'Keep the last N yearly snapshots')
    .option('--keep-within <duration>', 'Keep snapshots newer than the newest minus this (e.g. 1y2m3d4h)');
}

interface RetentionOpts {
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
}

function retention(cmd: Command, o: RetentionOpts): ApiRetention {
  const out: ApiRetention = {};
  const n = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const x = parseIntFlag(cmd, flag, v);
    if (x < 0) throw flagValueError(cmd, flag, v, 'must not be negative');
    return x;
  };
  const set = (k: keyof ApiRetention, flag: string, v: string | undefined) => {
    const x = n(flag, v);
    if (x !== undefined) (out as Record<string, number>)[k] = x;
  };
  set('KeepLast', '--keep-last', o.keepLast);
  set('KeepHourly', '--keep-hourly', o.keepHourly);
  set('KeepDaily', '--keep-daily', o.keepDaily);
  set('KeepWeekly', '--keep-weekly', o.keepWeekly);
  set('KeepMonthly', '--keep-monthly', o.keepMonthly);
  set('KeepYearly', '--keep-yearly', o.keepYearly);
  if (o.keepWithin !== undefined) out.Within = o.keepWithin;
  return out;
}

/** `--filter label=K[=V]` values as label selectors. */
function labelFilters(cmd: Command, filters: string[] = []): string[] {
  return filters.map((f) => {
    const i = f.indexOf('=');
    const key = i < 0 ? f : f.slice(0, i);
    if (key !== 'label') throw flagValueError(cmd, '--filter', f, 'only label=KEY or label=KEY=VALUE filters select volumes');
    return f.slice(i + 1);
  });
}

const CONSISTENCY = ['freeze', 'stop', 'none'];

function consistencyFlag(cmd: Command, v: string | undefined): 'freeze' | 'stop' | 'none' {
  const c = v ?? 'freeze';
  if (!CONSISTENCY.includes(c)) throw flagValueError(cmd, '--consistency', c, 'must be "freeze", "stop" or "none"');
  return c as 'freeze' | 'stop' | 'none';
}

export function registerBackupCommands(program: Command, client: () => ApiClient): void {
  const backup = program.command('backup').description('Manage backup repositories and snapshots').usage('COMMAND');
  backup.action(() => {
    process.stdout.write(backup.helpInformation());
  });
  const volume = program.commands.find((c) => c.name() === 'volume');
  if (!volume) throw new Error('the volume command must be registered before the backup commands');

  defineCommand<RepoFlags & { recipient?: string[] }>(
    backup,
    { name: 'init', use: '[OPTIONS]', description: 'Create a backup repository', arity: { none: true } },
    (cmd) => repoFlags(cmd).option('--recipient <string>', 'Also give a full key to this X25519 recipient (berth backup keygen)', collect),
    async (_args, opts) => {
      const repo = await repositoryHeader(opts, { needsSecret: (opts.recipient ?? []).length === 0 });
      const r = await client().json<{ Id: string; Location: string }>('POST', '/backup/init', { headers: { 'X-Berth-Repository': repo }, body: { Recipients: opts.recipient ?? [] } });
      process.stdout.write(`created repository ${r.Id.slice(0, 8)} at ${r.Location}\n`);
    },
  );

  defineCommand<RepoFlags & { filter?: string[]; tag?: string[]; consistency?: string; progress?: string; json?: boolean }>(
    volume,
    { name: 'backup', use: '[OPTIONS] [VOLUME...]', description: 'Back up volumes into a repository (consistent while their containers run)', arity: { min: 0 } },
    (cmd) =>
      repoFlags(cmd)
        .option('-f, --filter <string>', 'Back up the volumes with this label (label=KEY or label=KEY=VALUE)', collect)
        .option('--tag <string>', 'Tag the snapshots', collect)
        .option('--consistency <string>', 'How running containers are handled: "freeze" (default), "stop" or "none"', 'freeze')
        .option('--progress <string>', PROGRESS_HELP, 'auto')
        .option('--json', 'Print each snapshot as a JSON object (one per line)'),
    async (args, opts, cmd) => {
      const labels = labelFilters(cmd, opts.filter);
      if (args.length === 0 && labels.length === 0) throw new CliError('name the volumes to back up, or select them with --filter label=KEY=VALUE');
      const consistency = consistencyFlag(cmd, opts.consistency);
      const progress = new ProgressDisplay(progressFlag(cmd, opts.progress), 'Backing up', 'Backed up', args.length > 0 ? args.join(', ') : labels.join(', '));
      const { res } = await client().stream('POST', '/backup/snapshots', {
        ...(await repoRequest(client(), opts)),
        body: { Volumes: args, Labels: labels, Tags: opts.tag ?? [], Consistency: consistency },
      });
      let end: JsonMessage;
      try {
        end = await readMessages(res, 'Backed up', (m) => progress.update(counts(m)));
        const made = (end.snapshots as ApiSnapshot[] | undefined) ?? [];
        progress.finish(true, { bytes: made.reduce((n, s) => n + s.Size, 0), files: made.reduce((n, s) => n + s.Files, 0) });
      } catch (e) {
        progress.finish(false);
        throw e;
      }
      for (const w of (end.warnings as string[] | undefined) ?? []) process.stderr.write(`WARNING: ${w}\n`);
      for (const s of (end.snapshots as ApiSnapshot[] | undefined) ?? []) {
        const frozen = s.Consistency === 'freeze' ? `frozen ${s.FreezeMs} ms` : s.Consistency === 'stop' ? 'containers stopped' : 'not point-in-time';
        process.stderr.write(`${s.Volume}: snapshot ${shortId(s.Id)}, ${humanSize(s.Size)} in ${s.Files} files, ${humanSize(s.BytesAdded)} added, ${frozen}\n`);
        process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : `${s.Id}\n`);
      }
    },
  );

  defineCommand<RepoFlags & { volume?: string; format?: string; quiet?: boolean }>(
    backup,
    { name: 'ls', aliases: ['list', 'snapshots'], use: '[OPTIONS]', description: 'List snapshots', arity: { none: true } },
    (cmd) =>
      repoFlags(cmd)
        .option('--volume <string>', "Only this volume's snapshots")
        .option('-q, --quiet', 'Only display snapshot IDs')
        .option('--format <string>', 'Format output: "table", "json" (one object per line) or a Go template'),
    async (_args, opts) => {
      const list = await client().json<ApiSnapshot[]>('GET', '/backup/snapshots', { ...(await repoRequest(client(), opts)), query: { volume: opts.volume } });
      const format = opts.format ?? '';
      if (format === 'json') {
        process.stdout.write(list.map((s) => `${JSON.stringify(s)}\n`).join(''));
        return;
      }
      process.stdout.write(
        renderList(list, {
          format,
          quiet: !!opts.quiet,
          defaultTable: 'table {{.ID}}\t{{.Time}}\t{{.Volume}}\t{{.Size}}\t{{.Added}}\t{{.Freeze}}\t{{.Tags}}',
          quietTemplate: '{{.FullID}}',
          headers: SNAPSHOT_HEADERS,
          context: snapshotContext,
        }),
      );
    },
  );

  defineCommand<RepoFlags & { to?: string; replace?: string; progress?: string }>(
    volume,
    { name: 'restore', use: '[OPTIONS] SNAPSHOT', description: 'Restore a snapshot into a new volume or over an existing one', arity: { exact: 1 } },
    (cmd) =>
      repoFlags(cmd)
        .option('--to <string>', 'Restore into this new volume')
        .option('--replace <string>', "Replace this volume's data (its running containers are stopped and started again)")
        .option('--progress <string>', PROGRESS_HELP, 'auto'),
    async (args, opts, cmd) => {
      if ((opts.to === undefined) === (opts.replace === undefined)) throw new CliError('give exactly one of --to NEWVOL and --replace VOL');
      const target = opts.to ?? opts.replace!;
      const progress = new ProgressDisplay(progressFlag(cmd, opts.progress), 'Restoring', 'Restored', target);
      const { res } = await client().stream('POST', `/backup/snapshots/${enc(args[0]!)}/restore`, {
        ...(await repoRequest(client(), opts)),
        body: opts.to !== undefined ? { To: opts.to } : { Replace: opts.replace },
      });
      try {
        await readMessages(res, 'Restored', (m) => progress.update(counts(m)));
        progress.finish(true);
      } catch (e) {
        progress.finish(false);
        throw e;
      }
      process.stdout.write(`${target}\n`);
    },
  );

  defineCommand<RepoFlags & { format?: string }>(
    backup,
    { name: 'diff', use: '[OPTIONS] SNAPSHOT1 SNAPSHOT2', description: 'Show what changed between two snapshots', arity: { exact: 2 } },
    (cmd) => repoFlags(cmd).option('--format <string>', 'Format output: "json" for one object'),
    async (args, opts) => {
      const d = await client().json<ApiDiff>('GET', '/backup/diff', { ...(await repoRequest(client(), opts)), query: { from: args[0], to: args[1] } });
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(d)}\n`);
        return;
      }
      const mark = { added: '+', removed: '-', changed: 'M' } as const;
      for (const e of d.Entries) {
        const path = e.Path === '' ? '/' : `/${e.Path}${e.Type === 'directory' ? '/' : ''}`;
        process.stdout.write(`${mark[e.Change]}    ${path}${e.Fields ? `  (${e.Fields.join(', ')})` : ''}\n`);
      }
      process.stdout.write(`\nFiles: ${d.Added} added, ${d.Removed} removed, ${d.Changed} changed\n`);
    },
  );

  defineCommand<RepoFlags & { readData?: string | boolean; json?: boolean }>(
    backup,
    { name: 'check', use: '[OPTIONS]', description: "Check the repository's structure, and with --read-data its data", arity: { none: true } },
    (cmd) =>
      repoFlags(cmd)
        .option('--read-data [percent]', 'Also read and verify data: all of it, or PERCENT of the packs')
        .option('--json', 'Print the report as one JSON object'),
    async (_args, opts, cmd) => {
      let readData: number | undefined;
      if (opts.readData === true) readData = 100;
      else if (typeof opts.readData === 'string') {
        const n = Number(opts.readData.replace(/%$/, ''));
        if (!Number.isFinite(n) || n <= 0 || n > 100) throw flagValueError(cmd, '--read-data', opts.readData, 'must be a percentage above 0, at most 100');
        readData = n;
      }
      const { res } = await client().stream('POST', '/backup/check', { ...(await repoRequest(client(), opts)), query: { readData: readData === undefined ? undefined : String(readData) } });
      const end = await readMessages(res, 'Checked', () => undefined);
      const report = end.report as CheckReport;
      if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        for (const p of report.problems) process.stdout.write(`${p.severity}: ${p.message}\n`);
        for (const a of report.affected) {
          process.stdout.write(`snapshot ${shortId(a.snapshot)} of volume ${a.volume} is damaged:\n`);
          for (const p of a.paths) process.stdout.write(`  /${p.path}: ${p.problem}\n`);
        }
        process.stdout.write(
          `${report.snapshots} snapshots, ${report.packs} packs, ${report.blobs} blobs${report.packsRead > 0 ? `, ${report.packsRead} packs read` : ''}${report.treesChecked ? '' : ' (write-only key: trees not checked)'}: ${report.ok ? 'no errors were found' : 'errors were found'}\n`,
        );
      }
      if (!report.ok) throw new CliError('the repository has errors');
    },
  );

  defineCommand<RepoFlags & RetentionOpts & { volume?: string; prune?: boolean; dryRun?: boolean; json?: boolean }>(
    backup,
    { name: 'forget', use: '[OPTIONS] [SNAPSHOT...]', description: 'Remove snapshots by retention rules or by ID', arity: { min: 0 } },
    (cmd) =>
      retentionFlags(repoFlags(cmd))
        .option('--volume <string>', "Only this volume's snapshots")
        .option('--prune', 'Then remove the data no snapshot uses any more')
        .option('-n, --dry-run', 'Only say what would be removed')
        .option('--json', 'Print the result as one JSON object'),
    async (args, opts, cmd) => {
      const rules = retention(cmd, opts);
      if (Object.keys(rules).length === 0 && args.length === 0) throw new CliError('give retention rules (--keep-last, --keep-daily, ..., --keep-within) or snapshot IDs');
      const r = await client().json<ApiForgetResult>('POST', '/backup/forget', {
        ...(await repoRequest(client(), opts)),
        body: { Retention: rules, Ids: args, ...(opts.volume ? { Volume: opts.volume } : {}), DryRun: !!opts.dryRun, Prune: !!opts.prune },
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      for (const p of r.Plans) {
        process.stdout.write(`volume ${p.Volume}: keep ${p.Keep.length} snapshots, ${r.DryRun ? 'would remove' : 'removed'} ${p.Remove.length}\n`);
        for (const id of p.Remove) process.stdout.write(`  ${r.DryRun ? 'would remove' : 'removed'} ${shortId(id)}\n`);
      }
      if (r.Prune) process.stdout.write(`prune: ${r.Prune.packsDeleted ?? 0} packs deleted, ${r.Prune.packsRewritten ?? 0} rewritten, ${humanSize(r.Prune.bytesFreed ?? 0)} freed\n`);
    },
  );

  const key = backup.command('key').description('Manage repository keys').usage('COMMAND');
  key.action(() => {
    process.stdout.write(key.helpInformation());
  });
  defineCommand<RepoFlags & { writeOnly?: boolean; recipient?: string }>(
    key,
    { name: 'add', use: '[OPTIONS]', description: 'Add a key: a new passphrase (BERTH_NEW_PASSWORD or BERTH_NEW_PASSWORD_FILE) or a recipient', arity: { none: true } },
    (cmd) =>
      repoFlags(cmd)
        .option('--write-only', 'The key can back up but not read or restore')
        .option('--recipient <string>', 'Wrap the key to this X25519 recipient instead of a passphrase'),
    async (_args, opts) => {
      const password = opts.recipient === undefined ? await envSecret(process.env, 'BERTH_NEW_PASSWORD') : undefined;
      if (opts.recipient === undefined && password === undefined) throw new CliError('the new key needs a passphrase: set BERTH_NEW_PASSWORD or BERTH_NEW_PASSWORD_FILE (or give --recipient)');
      const k = await client().json<ApiKey>('POST', '/backup/keys', {
        ...(await repoRequest(client(), opts)),
        body: { Kind: opts.writeOnly ? 'write-only' : 'full', ...(password !== undefined ? { Password: password } : { Recipient: opts.recipient }) },
      });
      process.stdout.write(`${k.Id}\n`);
    },
  );
  defineCommand<RepoFlags & { format?: string }>(
    key,
    { name: 'list', aliases: ['ls'], use: '[OPTIONS]', description: "List the repository's keys", arity: { none: true } },
    (cmd) => repoFlags(cmd).option('--format <string>', 'Format output: "table", "json" (one object per line) or a Go template'),
    async (_args, opts) => {
      const keys = await client().json<ApiKey[]>('GET', '/backup/keys', await repoRequest(client(), opts));
      if (opts.format === 'json') {
        process.stdout.write(keys.map((k) => `${JSON.stringify(k)}\n`).join(''));
        return;
      }
      process.stdout.write(
        renderList(keys, {
          format: opts.format ?? '',
          quiet: false,
          defaultTable: 'table {{.Current}}{{.ID}}\t{{.Kind}}\t{{.For}}\t{{.Host}}\t{{.Created}}',
          quietTemplate: '{{.ID}}',
          headers: { Current: ' ', ID: 'KEY ID', Kind: 'KIND', For: 'WRAPPED FOR', Host: 'HOST', Created: 'CREATED' },
          context: (k) => ({ Current: k.Current ? '*' : ' ', ID: shortId(k.Id), Kind: k.Kind, For: k.WrappedFor, Host: k.Host, Created: localTime(k.Created) }),
        }),
      );
    },
  );
  defineCommand<RepoFlags>(
    key,
    { name: 'remove', aliases: ['rm'], use: '[OPTIONS] KEY', description: 'Remove a key (not the last full one)', arity: { exact: 1 } },
    (cmd) => repoFlags(cmd),
    async (args, opts) => {
      await client().request('DELETE', `/backup/keys/${enc(args[0]!)}`, await repoRequest(client(), opts));
      process.stdout.write(`${args[0]}\n`);
    },
  );

  defineCommand<{ output?: string }>(
    backup,
    { name: 'keygen', use: '[OPTIONS]', description: 'Make an X25519 identity; its recipient can be given a key (init --recipient, key add --recipient)', arity: { none: true } },
    (cmd) => cmd.option('-o, --output <string>', 'Write the identity to this file (mode 0600) instead of stdout'),
    async (_args, opts) => {
      const { identity, recipient } = generateIdentity();
      const text = `# created: ${new Date().toISOString()}\n# recipient: ${recipient}\n${identity}\n`;
      if (opts.output) writeFileSync(opts.output, text, { mode: 0o600, flag: 'wx' });
      else process.stdout.write(text);
      process.stderr.write(`Recipient: ${recipient}\n`);
    },
  );

  const policy = backup.command('policy').description('Manage scheduled backups').usage('COMMAND');
  policy.action(() => {
    process.stdout.write(policy.helpInformation());
  });
  defineCommand<RepoFlags & RetentionOpts & { volume?: string[]; filter?: string[]; schedule?: string; jitter?: string; consistency?: string; tag?: string[]; credentialsFile?: string }>(
    policy,
    { name: 'create', use: '[OPTIONS] NAME', description: 'Back up volumes on a schedule, with retention', arity: { exact: 1 } },
    (cmd) =>
      retentionFlags(repoFlags(cmd))
        .option('--volume <string>', 'A volume to back up', collect)
        .option('-f, --filter <string>', 'Back up the volumes with this label (label=KEY or label=KEY=VALUE)', collect)
        .option('--schedule <string>', 'When: a cron expression ("0 3 * * *") or @hourly, @daily, @weekly, @monthly, @every 6h')
        .option('--jitter <duration>', 'Start up to this much later than scheduled (e.g. 10m)')
        .option('--consistency <string>', '"freeze" (default), "stop" or "none"', 'freeze')
        .option('--tag <string>', 'Tag the snapshots', collect)
        .option('--credentials-file <string>', 'A root-owned 0600 file with the repository credentials for berthd to read (instead of keeping the given ones)'),
    async (args, opts, cmd) => {
      if (!opts.schedule) throw new CliError('a policy needs --schedule');
      const labels = labelFilters(cmd, opts.filter);
      const volumes = opts.volume ?? [];
      if ((volumes.length === 0) === (labels.length === 0)) throw new CliError('select volumes with --volume or with --filter label=..., one of them');
      const p = await client().json<ApiPolicy>('POST', '/backup/policies', {
        headers: { 'X-Berth-Repository': await repositoryHeader(opts, { needsSecret: opts.credentialsFile === undefined }) },
        body: {
          Name: args[0],
          ...(volumes.length > 0 ? { Volumes: volumes } : { Labels: labels }),
          Schedule: opts.schedule,
          ...(opts.jitter ? { Jitter: opts.jitter } : {}),
          Retention: retention(cmd, opts),
          Consistency: consistencyFlag(cmd, opts.consistency),
          Tags: opts.tag ?? [],
          ...(opts.credentialsFile ? { CredentialsFile: resolve(opts.credentialsFile) } : {}),
        },
      });
      process.stdout.write(`${p.Name}\n`);
    },
  );
  defineCommand<{ format?: string }>(
    policy,
    { name: 'ls', aliases: ['list'], use: '[OPTIONS]', description: 'List backup policies and how their last runs went', arity: { none: true } },
    (cmd) => cmd.option('--format <string>', 'Format output: "table", "json" (one object per line) or a Go template'),
    async (_args, opts) => {
      const list = await client().json<ApiPolicy[]>('GET', '/backup/policies');
      if (opts.format === 'json') {
        process.stdout.write(list.map((p) => `${JSON.stringify(p)}\n`).join(''));
        return;
      }
      process.stdout.write(
        renderList(list, {
          format: opts.format ?? '',
          quiet: false,
          defaultTable: 'table {{.Name}}\t{{.Schedule}}\t{{.Volumes}}\t{{.Next}}\t{{.LastRun}}\t{{.Result}}\t{{.Added}}\t{{.Freeze}}',
          quietTemplate: '{{.Name}}',
          headers: { Name: 'NAME', Schedule: 'SCHEDULE', Volumes: 'VOLUMES', Next: 'NEXT RUN', LastRun: 'LAST RUN', Result: 'RESULT', Added: 'ADDED', Freeze: 'FREEZE', LastSuccess: 'LAST SUCCESS', Repository: 'REPOSITORY' },
          context: (p) => ({
            Name: p.Name,
            Schedule: p.Schedule,
            Volumes: p.Volumes ? p.Volumes.join(',') : p.Labels!.map((l) => `label=${l}`).join(','),
            Next: p.NextRun ? localTime(p.NextRun) : '-',
            LastRun: p.LastRun ? localTime(p.LastRun.Started) : '-',
            Result: p.LastRun ? (p.LastRun.Error === null ? `ok in ${(p.LastRun.DurationMs / 1000).toFixed(1)}s` : `failed: ${p.LastRun.Error}`) : '-',
            Added: p.LastRun ? humanSize(p.LastRun.BytesAdded) : '-',
            Freeze: p.LastRun?.FreezeMs != null ? `${p.LastRun.FreezeMs}ms` : '-',
            LastSuccess: p.LastSuccess ? localTime(p.LastSuccess.Started) : '-',
            Repository: p.Repository,
          }),
        }),
      );
    },
  );
  defineCommand<Record<string, never>>(
    policy,
    { name: 'run', use: 'NAME', description: 'Run a backup policy now', arity: { exact: 1 } },
    () => undefined,
    async (args) => {
      const p = await client().json<ApiPolicy>('POST', `/backup/policies/${enc(args[0]!)}/run`);
      const run = p.LastRun;
      if (!run) throw new CliError(`backup policy ${args[0]} did not record a run`);
      if (run.Error !== null) throw new CliError(`backup policy ${p.Name} failed: ${run.Error}`);
      for (const id of run.Snapshots) process.stdout.write(`${id}\n`);
    },
  );
  defineCommand<Record<string, never>>(
    policy,
    { name: 'rm', aliases: ['remove'], use: 'NAME', description: 'Remove a backup policy (its snapshots stay)', arity: { exact: 1 } },
    () => undefined,
    async (args) => {
      await client().request('DELETE', `/backup/policies/${enc(args[0]!)}`);
      process.stdout.write(`${args[0]}\n`);
    },
  );
}
