// `berth volume create|ls|inspect|rm|prune`: flags, output and exit codes of
// `docker volume` 28.2 (spec 4); plus berth's own export, import and clone
// (docs/volume-archives.md).
import type { ApiVolume } from '../../api/types/index.js';
import type { Command } from 'commander';
import { ApiClient, DaemonError } from '../client.js';
import { versionLess } from '../../util/version.js';
import { collect, defineCommand, flagValueError } from '../command.js';
import { PROGRESS_HELP, progressFlag } from '../progress.js';
import { cloneVolume, exportVolume, importVolume } from './volume-archive.js';
import { CliError, formatError } from '../errors.js';
import { confirm } from '../prompt.js';
import { renderList } from '../format/formatter.js';
import { compileTemplate, NIL_MAP } from '../../go/template.js';
import { humanSize } from '../../go/units.js';
import { naturalCompare } from '../format/natural-sort.js';
import { parseFilterFlags, filtersQuery, parseKeyValueList } from './shared.js';


const VOLUME_HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Label: 'LABEL',
  Links: 'LINKS',
  Size: 'SIZE',
  Group: 'GROUP',
  Availability: 'AVAILABILITY',
  Status: 'STATUS',
  ID: 'ID',
};

/** The docker CLI's volume formatting context: string fields plus the Label method. */
export function volumeContext(v: ApiVolume): object {
  const labels = v.Labels ?? {};
  return {
    Availability: 'N/A',
    Driver: v.Driver,
    Group: 'N/A',
    Labels: Object.entries(labels)
      .map(([k, val]) => `${k}=${val}`)
      .join(','),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: v.UsageData ? (v.UsageData.Size < 0 ? 'N/A' : humanSize(v.UsageData.Size)) : 'N/A',
    Status: 'N/A',
    Label: (key: string) => labels[key] ?? '',
  };
}

/** Go decodes null maps as nil maps: `{{.Labels}}` prints map[] and `{{json .Labels}}` null. */
function templateView(v: ApiVolume): object {
  return { ...v, Labels: v.Labels ?? NIL_MAP, Options: v.Options ?? NIL_MAP, Status: v.Status ?? NIL_MAP };
}

export function registerVolumeCommands(program: Command, client: () => ApiClient): void {
  const volume = program.command('volume').description('Manage volumes').usage('COMMAND');
  volume.action(() => {
    process.stdout.write(volume.helpInformation());
  });

  defineCommand<{ driver: string; label?: string[]; opt?: string[]; name?: string }>(
    volume,
    { name: 'create', use: '[OPTIONS] [VOLUME]', description: 'Create a volume', arity: { max: 1 } },
    (cmd) =>
      cmd
        .option('-d, --driver <string>', 'Specify volume driver name', 'local')
        .option('--label <list>', 'Set metadata for a volume', collect)
        .option('-o, --opt <map>', 'Set driver specific options', collect)
        .option('--name <string>', 'Specify volume name'),
    async (args, opts, cmd) => {
      const path = 'berth volume create';
      if (args[0] !== undefined && opts.name !== undefined) {
        throw new CliError('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
      }
      const labels = parseKeyValueList(opts.label ?? [], '--label', path, cmd.usage(), 'label');
      const driverOpts = parseKeyValueList(opts.opt ?? [], '-o, --opt', path, cmd.usage(), 'opt');
      const body: Record<string, unknown> = { Driver: opts.driver };
      if (Object.keys(driverOpts).length > 0) body.DriverOpts = driverOpts;
      if (Object.keys(labels).length > 0) body.Labels = labels;
      body.Name = args[0] ?? opts.name ?? '';
      const v = await client().json<ApiVolume>('POST', '/volumes/create', { body });
      process.stdout.write(`${v.Name}\n`);
    },
  );

  defineCommand<{ quiet?: boolean; format?: string; filter?: string[] }>(
    volume,
    { name: 'ls', aliases: ['list'], use: '[OPTIONS]', description: 'List volumes', arity: { none: true } },
    (cmd) =>
      cmd
        .option('-q, --quiet', 'Only display volume names')
        .option('--format <string>', 'Format output using a custom template')
        .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect),
    async (_args, opts, cmd) => {
      const filters = parseFilterFlags(opts.filter ?? [], 'berth volume ls', cmd.usage());
      const res = await client().json<{ Volumes: ApiVolume[] | null }>('GET', '/volumes', { query: filtersQuery(filters) });
      const volumes = [...(res.Volumes ?? [])].sort((a, b) => naturalCompare(a.Name, b.Name));
      const format = opts.format ?? '';
      if (format === 'raw') {
        process.stdout.write(volumes.map((v) => `name: ${v.Name}\ndriver: ${v.Driver}\n\n`).join(''));
        return;
      }
      process.stdout.write(
        renderList(volumes, {
          format,
          quiet: !!opts.quiet,
          defaultTable: 'table {{.Driver}}\t{{.Name}}',
          quietTemplate: '{{.Name}}',
          headers: VOLUME_HEADERS,
          context: volumeContext,
        }),
      );
    },
  );

  defineCommand<{ format?: string }>(
    volume,
    { name: 'inspect', use: '[OPTIONS] VOLUME [VOLUME...]', description: 'Display detailed information on one or more volumes', arity: { min: 1 } },
    (cmd) => cmd.option('-f, --format <string>', 'Format output using a custom template'),
    async (args, opts) => {
      const api = client();
      const found: ApiVolume[] = [];
      const errors: string[] = [];
      for (const name of args) {
        try {
          found.push(await api.json<ApiVolume>('GET', `/volumes/${encodeURIComponent(name)}`));
        } catch (e) {
          if (!(e instanceof DaemonError)) throw e;
          errors.push(formatError(e).trimEnd());
        }
      }
      process.stdout.write(renderInspect(found, opts.format));
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    },
  );

  defineCommand<{ force?: boolean }>(
    volume,
    { name: 'rm', aliases: ['remove'], use: '[OPTIONS] VOLUME [VOLUME...]', description: 'Remove one or more volumes', arity: { min: 1 } },
    (cmd) => cmd.option('-f, --force', 'Force the removal of one or more volumes'),
    async (args, opts) => {
      const api = client();
      const errors: string[] = [];
      for (const name of args) {
        try {
          await api.request('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: opts.force ? '1' : undefined } });
          process.stdout.write(`${name}\n`);
        } catch (e) {
          if (!(e instanceof DaemonError)) throw e;
          errors.push(formatError(e).trimEnd());
        }
      }
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    },
  );

  defineCommand<{ all?: boolean; filter?: string[]; force?: boolean }>(
    volume,
    { name: 'prune', use: '[OPTIONS]', description: 'Remove unused local volumes', arity: { none: true } },
    (cmd) =>
      cmd
        .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
        .option('--filter <filter>', "Provide filter values (e.g. 'label=<label>')", collect)
        .option('-f, --force', 'Do not prompt for confirmation'),
    async (_args, opts, cmd) => {
      const api = client();
      const filters = parseFilterFlags(opts.filter ?? [], 'berth volume prune', cmd.usage());
      const version = await api.apiVersion();
      if (opts.all) {
        if (versionLess(version, '1.42')) {
          throw new CliError(`"--all" requires API version 1.42, but the berth daemon API version is ${version}`);
        }
        if (filters.has('all')) throw new CliError('conflicting options: cannot specify both --all and --filter all=1');
        filters.set('all', ['true']);
      }
      const everything = opts.all || versionLess(version, '1.42') || filters.get('all')?.some((v) => ['1', 'true', 't', 'TRUE', 'True'].includes(v));
      const warning = everything
        ? 'WARNING! This will remove all local volumes not used by at least one container.\n'
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.\n';
      if (!opts.force && !(await confirm(`${warning}Are you sure you want to continue? [y/N] `))) return;
      const report = await api.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', {
        query: filtersQuery(filters),
      });
      const deleted = report.VolumesDeleted ?? [];
      let out = '';
      let reclaimed = 0;
      if (deleted.length > 0) {
        out = `Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`;
        reclaimed = report.SpaceReclaimed;
      }
      process.stdout.write(`${out}Total reclaimed space: ${humanSize(reclaimed)}\n`);
    },
  );

  defineCommand<{ output?: string; compress?: string; progress?: string }>(
    volume,
    { name: 'export', use: '[OPTIONS] VOLUME', description: "Export a volume's contents as a tar archive", arity: { exact: 1 } },
    (cmd) =>
      cmd
        .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
        .option('--compress <string>', 'Compress the archive: "gzip" or "zstd" (default none)')
        .option('--progress <string>', PROGRESS_HELP, 'auto'),
    async (args, opts, cmd) => {
      const compress = opts.compress ?? 'none';
      if (compress !== 'none' && compress !== 'gzip' && compress !== 'zstd') {
        throw flagValueError(cmd, '--compress', compress, 'must be "gzip", "zstd" or "none"');
      }
      const progress = progressFlag(cmd, opts.progress);
      await exportVolume(client(), args[0]!, { output: opts.output, compress, progress });
    },
  );

  defineCommand<{ replace?: boolean; progress?: string }>(
    volume,
    { name: 'import', use: '[OPTIONS] VOLUME FILE|-', description: 'Import a tar archive into a volume, creating it if needed', arity: { exact: 2 } },
    (cmd) =>
      cmd
        .option('--replace', "Replace a non-empty volume's contents with the archive")
        .option('--progress <string>', PROGRESS_HELP, 'auto'),
    async (args, opts, cmd) => {
      const progress = progressFlag(cmd, opts.progress);
      await importVolume(client(), args[0]!, args[1]!, { replace: !!opts.replace, progress });
    },
  );

  defineCommand<{ progress?: string }>(
    volume,
    { name: 'clone', use: '[OPTIONS] SOURCE TARGET', description: "Create a volume with a copy of another volume's data, labels and options", arity: { exact: 2 } },
    (cmd) => cmd.option('--progress <string>', PROGRESS_HELP, 'auto'),
    async (args, opts, cmd) => {
      const progress = progressFlag(cmd, opts.progress);
      await cloneVolume(client(), args[0]!, args[1]!, { progress });
    },
  );

  defineCommand(
    volume,
    { name: 'update', use: '[OPTIONS] [VOLUME]', description: 'Update a volume (cluster volumes only)', arity: { exact: 1 } },
    (cmd) => cmd.option('--availability <string>', 'Cluster Volume availability (active, pause, drain)', 'active'),
    async (args) => {
      await client().json('GET', `/volumes/${encodeURIComponent(args[0]!)}`);
      throw new CliError('can only update cluster volumes');
    },
  );
}

/** `inspect` output: indented JSON array, `json` compact, or a template per item. */
export function renderInspect(items: object[], format: string | undefined, view: (o: object) => object = (o) => templateView(o as ApiVolume)): string {
  if (!format) return `${JSON.stringify(items, null, 4)}\n`;
  if (format === 'json') return `${JSON.stringify(items)}\n`;
  const tmpl = compileTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  return items.map((o) => `${tmpl(view(o))}\n`).join('');
}

