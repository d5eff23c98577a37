// `berth build` (also `image build`, `builder build`) with docker CLI 28.2's
// flags and output for the classic builder: the context sent with
// "Sending build context to Docker daemon", the daemon's stream printed as
// it comes, -q printing only the image ID (and everything held back when
// the build fails), the exit code of a failing RUN, --iidfile; and
// `berth builder prune`.
import { rmSync, writeFileSync } from 'node:fs';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Command } from 'commander';
import type { ApiClient } from '../client.js';
import { collect, defineCommand, flagValueError, hiddenOption, parseIntFlag } from '../command.js';
import { CliError } from '../errors.js';
import { allStoredAuths } from '../docker-config.js';
import { confirm } from '../prompt.js';
import { directoryContext, stdinContext, type PreparedContext } from '../build-context.js';
import { displayJSONMessages, JSONStreamError, stdoutDisplay } from './jsonmessage.js';
import { namedReference } from './container.js';
import { humanSize, ramInBytes } from '../../go/units.js';
import { progressString } from '../../go/jsonmessage.js';

type Client = () => ApiClient;

interface BuildFlags {
  tag?: string[];
  buildArg?: string[];
  ulimit?: string[];
  file?: string;
  memory?: string;
  memorySwap?: string;
  shmSize?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  cgroupParent?: string;
  isolation?: string;
  label?: string[];
  cache?: boolean;
  rm?: boolean;
  forceRm?: boolean;
  quiet?: boolean;
  pull?: boolean;
  cacheFrom?: string[];
  compress?: boolean;
  securityOpt?: string[];
  network?: string;
  addHost?: string[];
  target?: string;
  iidfile?: string;
  platform?: string;
  squash?: boolean;
}

/** A stream that reports how many bytes went through it, as moby's progress reader does. */
function countingStream(report: (bytes: number, last: boolean) => void): Transform {
  let bytes = 0;
  let lastReport = 0;
  let lastTime = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb): void {
      bytes += chunk.length;
      const now = Date.now();
      if (bytes - lastReport > 512 * 1024 && now - lastTime >= 100) {
        lastReport = bytes;
        lastTime = now;
        report(bytes, false);
      }
      cb(null, chunk);
    },
    flush(cb): void {
      report(bytes, true);
      cb();
    },
  });
}

/** A write target: stdout, or a buffer (-q holds the output back). */
interface Sink {
  write(s: string): boolean;
  text(): string;
}

function bufferSink(): Sink {
  let out = '';
  return {
    write: (s) => {
      out += s;
      return true;
    },
    text: () => out,
  };
}

const stdoutSink: Sink = { write: (s) => process.stdout.write(s), text: () => '' };

/** --build-arg and --label as the docker CLI validates them (opts.ValidateEnv, opts.ValidateLabel). */
function keyValueFlags(cmd: Command, flag: string, values: readonly string[], lookupEnv: boolean): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key.trim() === '') throw flagValueError(cmd, flag, v, lookupEnv ? `invalid environment variable: ${v}` : `invalid label '${v}': empty name`);
    if (eq !== -1) out.set(key, v.slice(eq + 1));
    else if (lookupEnv) out.set(key, process.env[key] ?? null);
    else out.set(key, '');
  }
  return out;
}

function memFlag(cmd: Command, flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  if (flag === '--memory-swap' && value === '-1') return -1;
  try {
    return ramInBytes(value);
  } catch (e) {
    throw flagValueError(cmd, flag, value, (e as Error).message);
  }
}

/** The query docker's client sends for an image build. */
function buildQuery(cmd: Command, opts: BuildFlags, dockerfile: string): string {
  const q = new URLSearchParams();
  for (const t of opts.tag ?? []) {
    try {
      namedReference(t);
    } catch (e) {
      throw flagValueError(cmd, '-t, --tag', t, (e as Error).message);
    }
    q.append('t', t);
  }
  for (const s of opts.securityOpt ?? []) q.append('securityopt', s);
  for (const h of opts.addHost ?? []) q.append('extrahosts', h);
  if (opts.quiet) q.set('q', '1');
  if (opts.cache === false) q.set('nocache', '1');
  q.set('rm', opts.rm === false ? '0' : '1');
  if (opts.forceRm) q.set('forcerm', '1');
  if (opts.pull) q.set('pull', '1');
  if (opts.squash) q.set('squash', '1');
  if (opts.isolation && opts.isolation !== 'default') q.set('isolation', opts.isolation);
  q.set('cpusetcpus', opts.cpusetCpus ?? '');
  q.set('networkmode', opts.network ?? 'default');
  q.set('cpusetmems', opts.cpusetMems ?? '');
  q.set('cpushares', String(opts.cpuShares !== undefined ? parseIntFlag(cmd, '-c, --cpu-shares', opts.cpuShares) : 0));
  q.set('cpuquota', String(opts.cpuQuota !== undefined ? parseIntFlag(cmd, '--cpu-quota', opts.cpuQuota) : 0));
  q.set('cpuperiod', String(opts.cpuPeriod !== undefined ? parseIntFlag(cmd, '--cpu-period', opts.cpuPeriod) : 0));
  q.set('memory', String(memFlag(cmd, '-m, --memory', opts.memory)));
  q.set('memswap', String(memFlag(cmd, '--memory-swap', opts.memorySwap)));
  q.set('cgroupparent', opts.cgroupParent ?? '');
  q.set('shmsize', String(memFlag(cmd, '--shm-size', opts.shmSize)));
  q.set('dockerfile', dockerfile);
  q.set('target', opts.target ?? '');
  q.set('ulimits', (opts.ulimit ?? []).length > 0 ? JSON.stringify((opts.ulimit ?? []).map(parseUlimit)) : 'null');
  q.set('buildargs', JSON.stringify(Object.fromEntries(keyValueFlags(cmd, '--build-arg', opts.buildArg ?? [], true))));
  q.set('labels', JSON.stringify(Object.fromEntries(keyValueFlags(cmd, '--label', opts.label ?? [], false))));
  q.set('cachefrom', JSON.stringify((opts.cacheFrom ?? []).flatMap((c) => c.split(',')).filter((c) => c !== '')));
  if (opts.platform) q.set('platform', opts.platform.toLowerCase());
  q.set('version', '1');
  return q.toString();
}

/** A --ulimit "name=soft[:hard]" as the API's Ulimit (the daemon refuses it; berth sets no rlimits). */
function parseUlimit(spec: string): { Name: string; Soft: number; Hard: number } {
  const [name, limits] = spec.split('=', 2);
  const [soft, hard] = (limits ?? '').split(':');
  return { Name: name ?? '', Soft: Number(soft), Hard: Number(hard ?? soft) };
}

async function prepareContext(source: string, dockerfile: string): Promise<PreparedContext> {
  if (source === '-') {
    if (dockerfile === '-') throw new CliError("invalid argument: can't use stdin for both build context and dockerfile");
    return stdinContext(process.stdin as AsyncIterable<Buffer>, dockerfile);
  }
  if (/^(https?:\/\/|git@|git:\/\/)/.test(source) || /\.git(#.*)?$/.test(source)) {
    throw new CliError(`unable to prepare context: berth build takes a local directory or "-" (a tar or a Dockerfile on stdin), not ${source}`);
  }
  let stdinDockerfile: Buffer | null = null;
  if (dockerfile === '-') {
    const parts: Buffer[] = [];
    for await (const c of process.stdin as AsyncIterable<Buffer>) parts.push(c);
    stdinDockerfile = Buffer.concat(parts);
  }
  return directoryContext(source, dockerfile, stdinDockerfile);
}

async function runBuild(client: Client, cmd: Command, source: string, opts: BuildFlags): Promise<void> {
  const quiet = !!opts.quiet;
  const progress: Sink = quiet ? bufferSink() : stdoutSink;
  const output: Sink = quiet ? bufferSink() : stdoutSink;
  if (opts.iidfile) rmSync(opts.iidfile, { force: true });
  const context = await prepareContext(source, opts.file ?? '');
  const query = buildQuery(cmd, opts, context.dockerfile);
  const terminal = !quiet && process.stdout.isTTY === true;
  // "Sending build context": every update on a terminal (redrawn), else only the last.
  const counted = countingStream((bytes, last) => {
    if (!terminal && !last) return;
    const counts = progressString({ current: bytes }, 200);
    progress.write(`Sending build context to Docker daemon ${counts}${counts === '' ? '\r\n' : '\r'}`);
    if (last) progress.write('\r\n');
  });
  let body: Readable = context.body;
  if (opts.compress) body = body.pipe(createGzip());
  const sent = body.pipe(counted).pipe(new PassThrough());
  const headers = {
    'Content-Type': 'application/x-tar',
    'X-Registry-Config': Buffer.from(JSON.stringify(allStoredAuths())).toString('base64url'),
  };
  let res;
  try {
    ({ res } = await client().stream('POST', `/build?${query}`, { raw: sent, headers }));
  } catch (e) {
    if (quiet) process.stderr.write(progress.text());
    throw e;
  }
  let imageId = '';
  try {
    const onAux = (aux: unknown): void => {
      const id = (aux as { ID?: unknown } | null)?.ID;
      if (typeof id === 'string') imageId = id;
    };
    await displayJSONMessages(res, output as unknown as NodeJS.WritableStream, quiet ? { onAux } : stdoutDisplay(onAux));
  } catch (e) {
    if (!(e instanceof JSONStreamError)) throw e;
    if (quiet) process.stderr.write(progress.text() + output.text());
    throw new CliError(e.message, e.code !== 0 ? e.code : 1);
  }
  if (quiet) {
    imageId = output.text();
    process.stdout.write(imageId);
  }
  if (opts.iidfile) {
    if (imageId === '') throw new CliError(`Server did not provide an image ID. Cannot write ${opts.iidfile}`);
    writeFileSync(opts.iidfile, imageId, { mode: 0o666 });
  }
}

function defineBuild(parent: Command, client: Client): void {
  defineCommand<BuildFlags>(
    parent,
    { name: 'build', use: '[OPTIONS] PATH | URL | -', description: 'Build an image from a Dockerfile', arity: { exact: 1 } },
    (cmd) =>
      cmd
        .option('--add-host <list>', 'Add a custom host-to-IP mapping ("host:ip")', collect)
        .option('--build-arg <list>', 'Set build-time variables', collect)
        .option('--cache-from <strings>', 'Images to consider as cache sources', collect)
        .option('--cgroup-parent <string>', 'Set the parent cgroup for the "RUN" instructions during build')
        .option('--compress', 'Compress the build context using gzip')
        .option('--cpu-period <int>', 'Limit the CPU CFS (Completely Fair Scheduler) period')
        .option('--cpu-quota <int>', 'Limit the CPU CFS (Completely Fair Scheduler) quota')
        .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
        .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
        .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
        .option('--disable-content-trust [bool]', 'Skip image verification', true)
        .option('-f, --file <string>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")')
        .option('--force-rm', 'Always remove intermediate containers')
        .option('--iidfile <string>', 'Write the image ID to the file')
        .option('--isolation <string>', 'Container isolation technology')
        .option('--label <list>', 'Set metadata for an image', collect)
        .option('-m, --memory <bytes>', 'Memory limit')
        .option('--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap')
        .option('--network <string>', 'Set the networking mode for the RUN instructions during build', 'default')
        .option('--no-cache', 'Do not use cache when building the image')
        .option('--platform <string>', 'Set platform if server is multi-platform capable', process.env.DOCKER_DEFAULT_PLATFORM)
        .option('--pull', 'Always attempt to pull a newer version of the image')
        .option('-q, --quiet', 'Suppress the build output and print image ID on success')
        .option('--rm', 'Remove intermediate containers after a successful build (default true)')
        .addOption(hiddenOption('--no-rm', 'Keep intermediate containers after a successful build'))
        .option('--security-opt <strings>', 'Security options', collect)
        .option('--shm-size <bytes>', 'Size of "/dev/shm"')
        .option('--squash', 'Squash newly built layers into a single new layer')
        .option('-t, --tag <list>', 'Name and optionally a tag in the "name:tag" format', collect)
        .option('--target <string>', 'Set the target build stage to build.')
        .option('--ulimit <ulimit>', 'Ulimit options', collect),
    async (args, opts, cmd) => runBuild(client, cmd, args[0]!, opts),
  );
}

export function registerBuildCommands(program: Command, image: Command, client: Client): void {
  defineBuild(program, client);
  defineBuild(image, client);
  const builder = program.command('builder').description('Manage builds').usage('COMMAND');
  builder.action(() => {
    process.stdout.write(builder.helpInformation());
  });
  defineBuild(builder, client);
  defineCommand<{ all?: boolean; filter?: string[]; force?: boolean; keepStorage?: string }>(
    builder,
    { name: 'prune', use: '[OPTIONS]', description: 'Remove build cache', arity: { none: true } },
    (cmd) =>
      cmd
        .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
        .option('--filter <filter>', 'Provide filter values (e.g. "until=24h")', collect)
        .option('-f, --force', 'Do not prompt for confirmation')
        .option('--keep-storage <bytes>', 'Amount of disk space to keep for cache'),
    async (_args, opts) => {
      const warning = opts.all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
      if (!opts.force && !(await confirm(`${warning} Are you sure you want to continue? [y/N] `))) return;
      const query: Record<string, string | undefined> = { all: opts.all ? '1' : undefined };
      const report = await client().json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', { query });
      let out = '';
      if ((report.CachesDeleted ?? []).length > 0) out = `Deleted build cache objects:\n${(report.CachesDeleted ?? []).join('\n')}\n\n`;
      process.stdout.write(`${out}Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
    },
  );
}
