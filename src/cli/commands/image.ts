// Image commands with docker CLI 28.2's flags and output: images / image ls,
// rmi / image rm, import, load, tag, save, image prune and image inspect;
// history is in image-history.ts, pull and push in registry.ts.
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { DaemonError, type ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { renderList } from '../format/formatter.js';
import { collect, defineCommand } from '../command.js';
import { contextJSON, IMAGE_HEADERS, imageFormat, imageRows } from './contexts.js';
import { displayJSONMessages } from './jsonmessage.js';
import { runInspect } from './inspect.js';
import { namedReference, parseFilters } from './container.js';
import { filtersQuery, parseFilterFlags, writeArchive } from './shared.js';
import { defineHistoryCommand } from './image-history.js';
import { registerRegistryCommands } from './registry.js';
import { registerBuildCommands } from './build.js';
import { confirm } from '../prompt.js';
import { humanSize } from '../../go/units.js';
import { fullName, parseReference } from '../../images/reference.js';
import type { ApiImagePruneReport, ApiImageSummary } from '../../api/types/index.js';
import { goPathError } from '../../util/go-errno.js';

type Client = () => ApiClient;
const enc = encodeURIComponent;

export interface ImagesOptions {
  format?: string;
  quiet?: boolean;
  trunc?: boolean;
  digests?: boolean;
}

/** The `docker images` output for an image list (trailing newline included). */
export function renderImages(images: readonly ApiImageSummary[], opts: ImagesOptions, now = Date.now()): string {
  const format = imageFormat(opts.format ?? '', !!opts.quiet, !!opts.digests);
  // needDigest: a format that shows {{.Digest}} gets a row per digest too.
  const needDigest = !!opts.digests || format.includes('{{.Digest}}');
  const rows = images.flatMap((img) => imageRows(img, opts.trunc !== false, needDigest, !!opts.digests, now));
  if (format === 'json' || format.trim() === '{{json .}}') return rows.map((r) => `${contextJSON(r)}\n`).join('');
  return renderList(rows, {
    format,
    quiet: false,
    defaultTable: format,
    quietTemplate: '{{.ID}}',
    headers: IMAGE_HEADERS,
    context: (r) => r,
  });
}

/** The lines `docker rmi` prints for a DELETE /images/{name} response. */
export function renderRemoved(items: ReadonlyArray<{ Untagged?: string; Deleted?: string }>): string {
  let out = '';
  for (const item of items) {
    if (item.Deleted) out += `Deleted: ${item.Deleted}\n`;
    else if (item.Untagged) out += `Untagged: ${item.Untagged}\n`;
  }
  return out;
}

function openInput(path: string): Readable {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new CliError(`read ${path}: is a directory`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(goPathError(e, 'open', path));
  }
  return createReadStream(path);
}

/** The query docker import sends (changes repeated, keys sorted like url.Values). */
function importPath(source: string, ref: string | undefined, opts: { change?: string[]; message?: string; platform?: string }): string {
  const params: Array<[string, string]> = [];
  for (const c of opts.change ?? []) params.push(['changes', c]);
  params.push(['fromSrc', source === '-' || !/^(https?:\/\/)/.test(source) ? '-' : source]);
  if (opts.message) params.push(['message', opts.message]);
  if (opts.platform) params.push(['platform', opts.platform.toLowerCase()]);
  if (ref) params.push(['repo', ref]);
  params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const qs = params.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%20/g, '+')}`).join('&');
  return `/images/create?${qs}`;
}

function defineImageCommands(parent: Command, client: Client, inGroup: boolean): void {
  defineCommand<ImagesOptions & { all?: boolean; filter?: string[]; tree?: boolean }>(
    parent,
    {
      name: inGroup ? 'ls' : 'images',
      aliases: inGroup ? ['images', 'list'] : [],
      use: '[OPTIONS] [REPOSITORY[:TAG]]',
      description: 'List images',
      arity: { max: 1 },
    },
    (cmd) =>
      cmd
        .option('-a, --all', 'Show all images (default hides intermediate images)')
        .option('--digests', 'Show digests')
        .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
        .option('--format <string>', 'Format output using a custom template')
        .option('--no-trunc', "Don't truncate output")
        .option('-q, --quiet', 'Only show image IDs'),
    async (args, opts, cmd) => {
      const filters = parseFilters(opts.filter ?? [], cmd);
      if (args[0] !== undefined) {
        const list = filters.get('reference');
        if (list) list.push(args[0]);
        else filters.set('reference', [args[0]]);
      }
      const query: Record<string, string | undefined> = { all: opts.all ? '1' : undefined, ...filtersQuery(filters) };
      const images = await client().json<ApiImageSummary[]>('GET', '/images/json', { query });
      process.stdout.write(renderImages(images, opts));
    },
  );

  defineCommand<{ force?: boolean; prune?: boolean }>(
    parent,
    {
      name: inGroup ? 'rm' : 'rmi',
      aliases: inGroup ? ['rmi', 'remove'] : [],
      use: '[OPTIONS] IMAGE [IMAGE...]',
      description: 'Remove one or more images',
      arity: { min: 1 },
    },
    (cmd) => cmd.option('-f, --force', 'Force removal of the image').option('--no-prune', 'Do not delete untagged parents'),
    async (args, opts) => {
      const api = client();
      const errors: string[] = [];
      const query = { force: opts.force ? '1' : undefined, noprune: opts.prune === false ? '1' : undefined };
      for (const name of args) {
        try {
          const items = await api.json<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${enc(name)}`, { query });
          process.stdout.write(renderRemoved(items ?? []));
        } catch (e) {
          if (!(e instanceof DaemonError)) throw e;
          errors.push(`Error response from daemon: ${e.message}`);
        }
      }
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    },
  );

  defineCommand<{ change?: string[]; message?: string; platform?: string }>(
    parent,
    { name: 'import', use: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]', description: 'Import the contents from a tarball to create a filesystem image', arity: { min: 1 } },
    (cmd) =>
      cmd
        .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
        .option('-m, --message <string>', 'Set commit message for imported image')
        .option('--platform <string>', 'Set platform if server is multi-platform capable'),
    async (args, opts) => {
      const [source, ref] = args as [string, string | undefined];
      if (ref !== undefined && ref !== '') {
        try {
          namedReference(ref);
        } catch (e) {
          throw new CliError((e as Error).message);
        }
      }
      const isUrl = /^https?:\/\//.test(source);
      const body: Readable | undefined = source === '-' ? process.stdin : isUrl ? undefined : openInput(source);
      const path = importPath(source, ref || undefined, opts);
      const { res } = await client().stream('POST', path, {
        raw: body ?? Buffer.alloc(0),
        headers: { 'Content-Type': 'text/plain' },
      });
      await displayJSONMessages(res, process.stdout);
    },
  );

  defineCommand<{ input?: string; quiet?: boolean; platform?: string }>(
    parent,
    { name: 'load', use: '[OPTIONS]', description: 'Load an image from a tar archive or STDIN', arity: { none: true } },
    (cmd) =>
      cmd
        .option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
        .option('--platform <string>', 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")')
        .option('-q, --quiet', 'Suppress the load output'),
    async (_args, opts) => {
      let input: Readable;
      if (opts.input !== undefined && opts.input !== '') input = openInput(opts.input);
      else {
        if (process.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty');
        input = process.stdin;
      }
      const quiet = !!opts.quiet || !process.stdout.isTTY;
      const query: Record<string, string | undefined> = { quiet: quiet ? '1' : '0' };
      if (opts.platform) query.platform = JSON.stringify([opts.platform]);
      const { res } = await client().stream('POST', '/images/load', {
        query,
        raw: input,
        headers: { 'Content-Type': 'application/x-tar' },
      });
      const type = String(res.headers['content-type'] ?? '');
      if (type.includes('application/json')) {
        await displayJSONMessages(res, process.stdout);
        return;
      }
      await new Promise<void>((resolvePromise, reject) => {
        res.on('data', (c: Buffer) => process.stdout.write(c));
        res.on('end', () => resolvePromise());
        res.on('error', reject);
      });
    },
  );

  if (inGroup) {
    defineCommand<{ format?: string; platform?: string }>(
      parent,
      { name: 'inspect', use: '[OPTIONS] IMAGE [IMAGE...]', description: 'Display detailed information on one or more images', arity: { min: 1 } },
      (cmd) =>
        cmd
          .option('-f, --format <string>', 'Format output using a custom template')
          .option('--platform <string>', 'Inspect a specific platform of the multi-platform image.'),
      async (args, opts) => runInspect(client(), args, 'image', opts.format),
    );
  }
}


function defineImageStoreCommands(parent: Command, client: Client, inGroup: boolean): void {
  defineCommand(
    parent,
    { name: 'tag', use: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', arity: { exact: 2 }, stopAtFirstArg: true },
    (cmd) => cmd,
    async (args) => {
      const [source, target] = args as [string, string];
      const bad = (name: string, e: unknown): CliError => new CliError(`Error parsing reference: ${JSON.stringify(name)} is not a valid repository/tag: ${(e as Error).message}`);
      if (!/^(sha256:)?[a-f0-9]{64}$/.test(source)) {
        try {
          parseReference(source);
        } catch (e) {
          throw bad(source, e);
        }
      }
      let ref;
      try {
        ref = parseReference(target);
      } catch (e) {
        throw bad(target, e);
      }
      if (ref.digest !== undefined) throw new CliError('refusing to create a tag with a digest reference');
      await client().request('POST', `/images/${source}/tag`, { query: { repo: fullName(ref), tag: ref.tag ?? 'latest' } });
    },
  );

  defineCommand<{ output?: string; platform?: string }>(
    parent,
    { name: 'save', use: '[OPTIONS] IMAGE [IMAGE...]', description: 'Save one or more images to a tar archive (streamed to STDOUT by default)', arity: { min: 1 } },
    (cmd) =>
      cmd
        .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
        .option('--platform <string>', 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")'),
    async (args, opts) => {
      const output = opts.output ?? '';
      if (output === '' && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const qs = args.map((n) => `names=${encodeURIComponent(n)}`).join('&');
      const { res } = await client().stream('GET', `/images/get?${qs}`);
      await writeArchive(res, output, 'failed to save image');
    },
  );

  if (inGroup) {
    defineCommand<{ all?: boolean; filter?: string[]; force?: boolean }>(
      parent,
      { name: 'prune', use: '[OPTIONS]', description: 'Remove unused images', arity: { none: true } },
      (cmd) =>
        cmd
          .option('-a, --all', 'Remove all unused images, not just dangling ones')
          .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
          .option('-f, --force', 'Do not prompt for confirmation'),
      async (_args, opts, cmd) => {
        const filters = parseFilterFlags(opts.filter ?? [], 'berth image prune', cmd.usage());
        filters.set('dangling', [String(!opts.all)]);
        const warning = opts.all
          ? 'WARNING! This will remove all images without at least one container associated to them.\n'
          : 'WARNING! This will remove all dangling images.\n';
        // Declining is a cancellation: docker prints nothing more and exits 0.
        if (!opts.force && !(await confirm(`${warning}Are you sure you want to continue? [y/N] `))) return;
        const report = await client().json<ApiImagePruneReport>('POST', '/images/prune', { query: filtersQuery(filters) });
        let out = '';
        let reclaimed = 0;
        if ((report.ImagesDeleted ?? []).length > 0) {
          out = 'Deleted Images:\n';
          for (const d of report.ImagesDeleted ?? []) out += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`;
          out += '\n';
          reclaimed = report.SpaceReclaimed;
        }
        process.stdout.write(`${out}Total reclaimed space: ${humanSize(reclaimed)}\n`);
      },
    );
  }
  defineHistoryCommand(parent, client);
}

export function registerImageCommands(program: Command, client: Client): void {
  defineImageCommands(program, client, false);
  defineImageStoreCommands(program, client, false);
  const image = program.command('image').description('Manage images').usage('COMMAND');
  image.action(() => {
    process.stdout.write(image.helpInformation());
  });
  defineImageCommands(image, client, true);
  defineImageStoreCommands(image, client, true);
  registerRegistryCommands(program, image, client);
  registerBuildCommands(program, image, client);
}
