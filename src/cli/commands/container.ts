// Container commands with docker CLI 28.2's flags, output and exit codes:
// run, create, start, stop, kill, restart, pause, unpause, rm, wait, logs, exec, ps and
// inspect (top, stats, rename and update in container-resources.ts), at the
// top level and under `berth container`.
import { parseFilterValues, parseFilterFlags, filtersQuery } from './shared.js';
import { confirm } from '../prompt.js';
import { humanSize } from '../../go/units.js';
import type { Command } from 'commander';
import type { IncomingMessage } from 'node:http';
import { ConnectionError, DaemonError, type ApiClient } from '../client.js';
import { CliError, UsageError, exitCodeFor } from '../errors.js';
import { renderList } from '../format/formatter.js';
import { GoTemplate, TemplateExecError } from '../../go/template.js';
import { familiarName, parseReference, type Reference } from '../../images/reference.js';
import {
  buildCreateBody, ContainerParseError, FlagValueError, parseKeyValueFile, validateEnv,
  type ContainerFlags, type CreateRequest,
} from './container-opts.js';
import { collect, defineCommand, flagValueError, hiddenOption, parseIntFlag, UsageExit } from '../command.js';
import { hijack, pumpStreams, type HijackedConn, type StreamHandle } from './hijack.js';
import { Demuxer } from './stdcopy.js';
import { pullImage } from './registry.js';
import { CONTAINER_HEADERS, ContainerContext, containerFormat, contextJSON } from './contexts.js';
import { getTimestamp } from './human.js';
import { runInspect } from './inspect.js';
import { registerCpCommand } from './cp.js';
import { defineContainerResourceCommands } from './container-resources.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ApiContainerSummary } from '../../api/types/index.js';

type Client = () => ApiClient;

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------
// Shared pieces

/** [height, width] of the terminal on stdout, [0, 0] when it is not one. */
function ttySize(): [number, number] {
  const out = process.stdout;
  if (!out.isTTY) return [0, 0];
  return [out.rows ?? 0, out.columns ?? 0];
}

/** docker run's toStatusError: `docker: <err>` + help hint, exit 125/126/127. */
function runStatusError(e: unknown, command = 'run'): CliError {
  if (e instanceof UsageExit || e instanceof UsageError) return e as CliError;
  let message: string;
  if (e instanceof DaemonError) message = `Error response from daemon: ${e.message}`;
  else if (e instanceof Error) message = e.message;
  else message = String(e);
  let code = 125;
  if (e instanceof DaemonError) code = exitCodeFor(e, true);
  else if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) code = 127;
  else if (/permission denied|is a directory/.test(message)) code = 126;
  return new CliError(`berth: ${message}\n\nRun 'berth ${command} --help' for more information`, code);
}

function sortedQuery(q: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of Object.keys(q).sort()) if (q[k] !== undefined) out[k] = q[k];
  return out;
}

/** `-f key=value` flags with docker's flag error. */
export function parseFilters(values: string[], cmd: Command): Map<string, string[]> {
  return parseFilterValues(values, (v) => flagValueError(cmd, '-f, --filter', v, 'bad format of filter (expected name=value)'));
}


/** Collects the response body of a streamed request. */
function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolvePromise(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

function logrusError(msg: string): void {
  const now = new Date();
  const off = -now.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const p = (n: number): string => String(n).padStart(2, '0');
  const local = new Date(now.getTime() + off * 60_000).toISOString().slice(0, 19);
  const zone = off === 0 ? 'Z' : `${sign}${p(Math.trunc(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  process.stderr.write(`time="${local}${zone}" level=error msg="${msg.replace(/"/g, '\\"')}"\n`);
}

export interface WaitHandle {
  /** Exit status (125 when the wait itself failed). */
  status: Promise<number>;
  abort(): void;
}

/**
 * POST /containers/{id}/wait?condition=...; resolves once the daemon has sent
 * the headers (the wait is registered), before the container is started.
 */
async function waitExitOrRemoved(api: ApiClient, id: string, autoRemove: boolean): Promise<WaitHandle> {
  const condition = autoRemove ? 'removed' : 'next-exit';
  let res: IncomingMessage;
  let abort = (): void => undefined;
  try {
    const s = await api.stream('POST', `/containers/${enc(id)}/wait`, { query: { condition } });
    res = s.res;
    abort = () => s.req.destroy();
  } catch (e) {
    logrusError(`error waiting for container: ${e instanceof Error ? e.message : String(e)}`);
    return { status: Promise.resolve(125), abort };
  }
  const status = readAll(res).then(
    (body) => {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { StatusCode?: number; Error?: { Message?: string } | null };
        if (parsed.Error && parsed.Error.Message) {
          logrusError(`Error waiting for container: ${parsed.Error.Message}`);
          return 125;
        }
        return parsed.StatusCode ?? 0;
      } catch (e) {
        logrusError(`error waiting for container: ${(e as Error).message}`);
        return 125;
      }
    },
    (e: unknown) => {
      logrusError(`error waiting for container: ${e instanceof Error ? e.message : String(e)}`);
      return 125;
    },
  );
  return { status, abort };
}

/** POST /containers/{id}/resize (or /exec/{id}/resize) now and on SIGWINCH. */
function monitorTtySize(api: ApiClient, id: string, isExec: boolean): () => void {
  const path = isExec ? `/exec/${enc(id)}/resize` : `/containers/${enc(id)}/resize`;
  const resize = async (): Promise<void> => {
    const [h, w] = ttySize();
    if (h === 0 && w === 0) return;
    await api.request('POST', path, { query: { h: String(h), w: String(w) } });
  };
  void (async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await resize();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, (attempt + 1) * 10));
      }
    }
    process.stderr.write('failed to resize tty, using default size\n');
  })();
  const onWinch = (): void => {
    resize().catch(() => undefined);
  };
  process.on('SIGWINCH', onWinch);
  return () => process.removeListener('SIGWINCH', onWinch);
}

const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** --sig-proxy: signals the CLI receives are sent to the container. */
function forwardSignals(api: ApiClient, id: string): () => void {
  const handlers = PROXIED_SIGNALS.map((sig) => {
    const h = (): void => {
      api.request('POST', `/containers/${enc(id)}/kill`, { query: { signal: sig.slice(3) } }).catch(() => undefined);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
}

export function namedReference(image: string): Reference | undefined {
  if (/^(sha256:)?[a-f0-9]{64}$/.test(image)) return undefined;
  try {
    return parseReference(image);
  } catch (e) {
    // distribution/reference names the normalised path ("library/Bad").
    const m = /^(invalid reference format: repository name \()([^/)]+)(\) must be lowercase)$/.exec((e as Error).message);
    if (m && !image.includes('/')) throw new Error(`${m[1]}library/${m[2]}${m[3]}`);
    throw e;
  }
}

/** reference.FamiliarString(TagNameOnly(ref)). */
function familiarTagged(ref: Reference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  else if (ref.tag === undefined) s += ':latest';
  return s;
}

/** docker run's pull: TagNameOnly, progress on stderr (nothing with --quiet), no credentials prompt. */
function pullForRun(api: ApiClient, ref: Reference, quiet: boolean): Promise<void> {
  const tagged = ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref;
  return pullImage(api, tagged, quiet ? null : process.stderr);
}

/** createContainer: POST /containers/create, pulling once on "No such image". */
async function createContainer(api: ApiClient, req: CreateRequest, opts: { pull?: string; quiet?: boolean }): Promise<string> {
  const image = req.body.Image;
  const ref = namedReference(image);
  if (opts.pull === 'always' && ref) await pullForRun(api, ref, !!opts.quiet);
  const send = (): Promise<{ Id: string; Warnings?: string[] | null }> =>
    api.json('POST', '/containers/create', { query: { name: req.name }, body: req.body });
  let res: { Id: string; Warnings?: string[] | null };
  try {
    res = await send();
  } catch (e) {
    if (!(e instanceof DaemonError && e.status === 404 && ref && (opts.pull ?? 'missing') === 'missing')) throw e;
    if (!opts.quiet) process.stderr.write(`Unable to find image '${familiarTagged(ref)}' locally\n`);
    await pullForRun(api, ref, !!opts.quiet);
    res = await send();
  }
  for (const w of res.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
  return res.Id;
}

function validatePull(value: string | undefined): void {
  if (value === undefined || ['always', 'missing', 'never', ''].includes(value)) return;
  throw new ContainerParseError(`invalid pull option: '${value}': must be one of "always", "missing" or "never"`);
}

interface RunFlags extends ContainerFlags {
  pull?: string;
  quiet?: boolean;
  sigProxy?: boolean | string;
  detachKeys?: string;
}

/** Flags shared by run and create. */
function addContainerFlags(cmd: Command): Command {
  return cmd
    .option('-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR', collect)
    .option('--cap-add <list>', 'Add Linux capabilities', collect)
    .option('--cap-drop <list>', 'Drop Linux capabilities', collect)
    .option('--cgroup-parent <string>', 'Optional parent cgroup for the container')
    .option('--cgroupns <string>', 'Cgroup namespace to use (host|private)')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--group-add <list>', 'Add additional groups to join', collect)
    .option('--ipc <string>', 'IPC mode to use')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)')
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--pid <string>', 'PID namespace to use')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--security-opt <list>', 'Security Options', collect)
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--userns <string>', 'User namespace to use')
    .option('--uts <string>', 'UTS namespace to use')
    .option('--domainname <string>', 'Container NIS domain name')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-e, --env <list>', 'Set environment variables', collect)
    .option('--env-file <list>', 'Read in a file of environment variables', collect)
    .option('-h, --hostname <string>', 'Container host name')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-l, --label <list>', 'Set meta data on a container', collect)
    .option('--label-file <list>', 'Read in a line delimited file of labels', collect)
    .option('--log-driver <string>', 'Logging driver for the container')
    .option('--log-opt <list>', 'Log driver options', collect)
    .option('--mount <mount>', 'Attach a filesystem mount to the container', collect)
    .option('--name <string>', 'Assign a name to the container')
    .option('--network <network>', 'Connect a container to a network', collect)
    .option('--network-alias <list>', 'Add network-scoped alias for the container', collect)
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <string>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect)
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--expose <list>', 'Expose a port or a range of ports', collect)
    .option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect)
    .option('--dns <list>', 'Set custom DNS servers', collect)
    .option('--dns-search <list>', 'Set custom DNS search domains', collect)
    .option('--dns-option <list>', 'Set DNS options', collect)
    .option('--privileged', 'Give extended privileges to this container')
    .option('--pull <string>', 'Pull image before running ("always", "missing", "never")')
    .option('-q, --quiet', 'Suppress the pull output')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--restart <string>', 'Restart policy to apply when a container exits')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('--tmpfs <list>', 'Mount a tmpfs directory', collect)
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('-v, --volume <list>', 'Bind mount a volume', collect)
    .option('--volume-driver <string>', 'Optional volume driver for the container')
    .option('--volumes-from <list>', 'Mount volumes from the specified container(s)', collect)
    .option('-w, --workdir <string>', 'Working directory inside the container');
}

/** Parses run/create flags into a create request, turning errors into docker's output. */
function parseOrFail(cmd: Command, flags: RunFlags, args: string[], command: 'run' | 'create'): CreateRequest {
  if (flags.sigProxy !== undefined && !/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(String(flags.sigProxy))) {
    throw flagValueError(cmd, '--sig-proxy', String(flags.sigProxy), `strconv.ParseBool: parsing "${String(flags.sigProxy)}": invalid syntax`);
  }
  try {
    validatePull(flags.pull);
    return buildCreateBody(flags, args[0]!, args.slice(1), {
      cwd: process.cwd(),
      env: process.env,
      command,
      consoleSize: ttySize(),
      onWarning: (m) => process.stderr.write(`WARNING: ${m}\n`),
    });
  } catch (e) {
    if (e instanceof FlagValueError) throw flagValueError(cmd, e.flag, e.value, e.detail);
    if (e instanceof ContainerParseError) throw new CliError(`berth: ${e.message}\n\nRun 'berth ${command} --help' for more information`, 125);
    throw e;
  }
}

function imageRefOrFail(image: string, command: 'run' | 'create'): void {
  try {
    namedReference(image);
  } catch (e) {
    // run reports it with the --help hint (125); create returns it as is (1).
    if (command === 'create') throw new CliError((e as Error).message, 1);
    throw new CliError(`berth: ${(e as Error).message}\n\nRun 'berth ${command} --help' for more information`, 125);
  }
}

function attachQuery(stdin: boolean, stdout: boolean, stderr: boolean): Record<string, string | undefined> {
  return sortedQuery({ stderr: stderr ? '1' : undefined, stdin: stdin ? '1' : undefined, stdout: stdout ? '1' : undefined, stream: '1' });
}

/** Waits for the output to end and the exit status, as runContainer's attachWait does. */
async function finishAttached(stream: StreamHandle, wait: WaitHandle): Promise<number> {
  const first = await Promise.race([
    stream.done.then(
      (r) => ({ kind: 'stream' as const, detached: r.detached, error: undefined as Error | undefined }),
      (e: Error) => ({ kind: 'stream' as const, detached: false, error: e }),
    ),
    wait.status.then((s) => ({ kind: 'status' as const, status: s })),
  ]);
  if (first.kind === 'stream') {
    if (first.detached) {
      wait.abort();
      return 0;
    }
    if (first.error) {
      wait.abort();
      throw new CliError(first.error.message);
    }
    return wait.status;
  }
  // Exited first: let the remaining output drain briefly, then stop streaming.
  await Promise.race([stream.done.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  stream.stop();
  return first.status;
}

// ---------------------------------------------------------------------------
// run / create

async function runAction(api: ApiClient, cmd: Command, args: string[], flags: RunFlags): Promise<void> {
  const req = parseOrFail(cmd, flags, args, 'run');
  imageRefOrFail(req.body.Image, 'run');
  const body = req.body;

  if (!flags.detach) {
    if (body.Tty && body.AttachStdin && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
  } else if ((flags.attach ?? []).length > 0) {
    throw new CliError('conflicting options: cannot specify both --attach and --detach');
  }

  let id: string;
  try {
    id = await createContainer(api, req, { pull: flags.pull, quiet: flags.quiet });
  } catch (e) {
    throw runStatusError(e);
  }

  const attach = body.AttachStdin || body.AttachStdout || body.AttachStderr;
  if (!attach) {
    // Detached: docker still registers the wait, to see an --rm container go on a failed start.
    const wait = await waitExitOrRemoved(api, id, !!flags.rm);
    process.stdout.write(`${id}\n`);
    try {
      await api.request('POST', `/containers/${enc(id)}/start`);
    } catch (e) {
      if (flags.rm) await wait.status;
      else wait.abort();
      throw runStatusError(e);
    }
    wait.abort();
    throw new UsageExit(0);
  }

  let conn: HijackedConn;
  try {
    conn = await hijack(api, `/containers/${enc(id)}/attach`, attachQuery(body.AttachStdin, body.AttachStdout, body.AttachStderr));
  } catch (e) {
    throw e instanceof DaemonError || e instanceof ConnectionError ? e : new CliError((e as Error).message);
  }
  const sigProxy = flags.sigProxy === undefined || !/^(false|0|f|F|FALSE|False)$/.test(String(flags.sigProxy));
  const stopSignals = sigProxy ? forwardSignals(api, id) : () => undefined;
  const wait = await waitExitOrRemoved(api, id, !!flags.rm);
  const stream = pumpStreams(conn, {
    tty: body.Tty,
    stdout: body.AttachStdout ? process.stdout : undefined,
    stderr: body.AttachStderr ? (body.Tty ? process.stdout : process.stderr) : undefined,
    stdin: body.AttachStdin ? process.stdin : undefined,
    rawTerminal: body.Tty,
    detachKeys: detachKeys(flags.detachKeys, body.Tty),
  });

  try {
    await api.request('POST', `/containers/${enc(id)}/start`);
  } catch (e) {
    stream.stop();
    conn.close();
    stopSignals();
    if (flags.rm) await wait.status;
    else wait.abort();
    throw runStatusError(e);
  }

  const stopResize = body.Tty && process.stdout.isTTY ? monitorTtySize(api, id, false) : () => undefined;
  let status: number;
  try {
    status = await finishAttached(stream, wait);
  } finally {
    stopResize();
    stopSignals();
    conn.close();
  }
  throw new UsageExit(status);
}

/** --detach-keys "ctrl-p,ctrl-q" → bytes. */
function detachKeys(spec: string | undefined, tty: boolean): number[] {
  if (spec === undefined) return tty ? [0x10, 0x11] : [];
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(part);
    if (m) out.push(m[1]!.charCodeAt(0) & 0x1f);
    else if (part.length === 1) out.push(part.charCodeAt(0));
    else throw new CliError(`Invalid detach keys (${spec}) provided`);
  }
  return out;
}

async function createAction(api: ApiClient, cmd: Command, args: string[], flags: RunFlags): Promise<void> {
  const req = parseOrFail(cmd, flags, args, 'create');
  imageRefOrFail(req.body.Image, 'create');
  const id = await createContainer(api, req, { pull: flags.pull, quiet: flags.quiet });
  process.stdout.write(`${id}\n`);
}

// ---------------------------------------------------------------------------
// start / stop / kill / restart / rm / wait

interface ContainerJSON {
  Id: string;
  Name?: string;
  Config?: { Tty?: boolean; OpenStdin?: boolean };
  HostConfig?: { AutoRemove?: boolean };
  State?: { Running?: boolean };
}

async function startAttached(api: ApiClient, name: string, opts: { attach?: boolean; interactive?: boolean; detachKeys?: string }): Promise<void> {
  const c = await api.json<ContainerJSON>('GET', `/containers/${enc(name)}/json`);
  const tty = !!c.Config?.Tty;
  const withStdin = !!opts.interactive && !!c.Config?.OpenStdin;
  if (tty && withStdin && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
  const conn = await hijack(api, `/containers/${enc(c.Id)}/attach`, attachQuery(withStdin, true, true));
  const stopSignals = forwardSignals(api, c.Id);
  const wait = await waitExitOrRemoved(api, c.Id, !!c.HostConfig?.AutoRemove);
  const stream = pumpStreams(conn, {
    tty,
    stdout: process.stdout,
    stderr: tty ? process.stdout : process.stderr,
    stdin: withStdin ? process.stdin : undefined,
    rawTerminal: tty,
    detachKeys: detachKeys(opts.detachKeys, tty),
  });
  try {
    await api.request('POST', `/containers/${enc(c.Id)}/start`);
  } catch (e) {
    stream.stop();
    conn.close();
    stopSignals();
    wait.abort();
    throw e;
  }
  const stopResize = tty && process.stdout.isTTY ? monitorTtySize(api, c.Id, false) : () => undefined;
  let status: number;
  try {
    status = await finishAttached(stream, wait);
  } finally {
    stopResize();
    stopSignals();
    conn.close();
  }
  throw new UsageExit(status);
}

/** Runs `op` on every container concurrently; prints names in order, then the errors (exit 1). */
async function forEachContainer(
  names: string[],
  op: (name: string) => Promise<void>,
  opts: { ignoreNotFound?: boolean } = {},
  api?: ApiClient,
): Promise<void> {
  // Negotiate once, not once per concurrent request.
  await api?.apiVersion();
  const results = await Promise.allSettled(names.map((n) => op(n)));
  const errors: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      process.stdout.write(`${names[i]}\n`);
      return;
    }
    const e = r.reason as unknown;
    if (!(e instanceof DaemonError) && !(e instanceof CliError)) throw e;
    const text = e instanceof DaemonError ? `Error response from daemon: ${e.message}` : e.message;
    if (opts.ignoreNotFound && e instanceof DaemonError && e.status === 404) {
      process.stderr.write(`${text}\n`);
      return;
    }
    errors.push(text);
  });
  if (errors.length > 0) throw new CliError(errors.join('\n'));
}

// ---------------------------------------------------------------------------
// logs

async function logsAction(
  api: ApiClient,
  name: string,
  opts: { follow?: boolean; tail?: string; timestamps?: boolean; since?: string; until?: string; details?: boolean },
): Promise<void> {
  const c = await api.json<ContainerJSON>('GET', `/containers/${enc(name)}/json`);
  const now = Date.now();
  const stamp = (v: string | undefined): string | undefined => {
    if (v === undefined || v === '') return undefined;
    try {
      return getTimestamp(v, now);
    } catch (e) {
      throw new CliError(`invalid value for "${v === opts.since ? 'since' : 'until'}": ${(e as Error).message}`);
    }
  };
  const query = sortedQuery({
    details: opts.details ? '1' : undefined,
    follow: opts.follow ? '1' : undefined,
    since: stamp(opts.since),
    stderr: '1',
    stdout: '1',
    tail: opts.tail ?? 'all',
    timestamps: opts.timestamps ? '1' : undefined,
    until: stamp(opts.until),
  });
  const { res } = await api.stream('GET', `/containers/${enc(c.Id)}/logs`, { query });
  const tty = !!c.Config?.Tty;
  const demux = tty ? undefined : new Demuxer({ stdout: (b) => process.stdout.write(b), stderr: (b) => process.stderr.write(b) });
  await new Promise<void>((resolvePromise, reject) => {
    for (const [w, name] of [[process.stdout, 'stdout'], [process.stderr, 'stderr']] as const) {
      w.on('error', (e: NodeJS.ErrnoException) => {
        res.destroy();
        // docker logs dies of SIGPIPE (shell status 141) without a message.
        reject(e.code === 'EPIPE' ? new UsageExit(141) : new CliError(`write /dev/${name}: ${e.message}`));
      });
    }
    res.on('data', (chunk: Buffer) => {
      try {
        if (demux) demux.push(chunk);
        else process.stdout.write(chunk);
      } catch (e) {
        res.destroy();
        reject(new CliError((e as Error).message));
      }
    });
    res.on('end', () => resolvePromise());
    res.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// exec

interface ExecFlags {
  detach?: boolean;
  detachKeys?: string;
  env?: string[];
  envFile?: string[];
  interactive?: boolean;
  privileged?: boolean;
  tty?: boolean;
  user?: string;
  workdir?: string;
}

/** The POST /containers/{id}/exec body docker sends. */
export function buildExecBody(flags: ExecFlags, command: string[], env: NodeJS.ProcessEnv, cwd: string, consoleSize: [number, number]): Record<string, unknown> {
  const envFlags = (flags.env ?? []).map((e) => validateEnv(e, env));
  const fileLines: string[] = [];
  for (const f of flags.envFile ?? []) {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, f), 'utf8');
    } catch {
      throw new ContainerParseError(`open ${f}: no such file or directory`);
    }
    fileLines.push(...parseKeyValueFile(text, f, (k) => env[k]));
  }
  const all = [...fileLines, ...envFlags];
  const body: Record<string, unknown> = {
    User: flags.user ?? '',
    Privileged: !!flags.privileged,
    Tty: !!flags.tty,
  };
  if (flags.tty) body.ConsoleSize = consoleSize;
  Object.assign(body, {
    AttachStdin: !flags.detach && !!flags.interactive,
    AttachStderr: !flags.detach,
    AttachStdout: !flags.detach,
    Detach: !!flags.detach,
    DetachKeys: flags.detachKeys ?? '',
    Env: all.length > 0 ? all : null,
    WorkingDir: flags.workdir ?? '',
    Cmd: command,
  });
  return body;
}

async function execAction(api: ApiClient, cmd: Command, args: string[], flags: ExecFlags): Promise<void> {
  const [container, ...command] = args as [string, ...string[]];
  let body: Record<string, unknown>;
  try {
    body = buildExecBody(flags, command, process.env, process.cwd(), ttySize());
  } catch (e) {
    if (e instanceof FlagValueError) throw flagValueError(cmd, e.flag, e.value, e.detail);
    if (e instanceof ContainerParseError) throw new CliError(e.message);
    throw e;
  }
  await api.json('GET', `/containers/${enc(container)}/json`);
  const tty = !!flags.tty;
  if (!flags.detach && tty && flags.interactive && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
  const created = await api.json<{ Id: string }>('POST', `/containers/${enc(container)}/exec`, { body });
  if (!created.Id) throw new CliError('exec ID empty');
  const startBody: Record<string, unknown> = { Detach: !!flags.detach, Tty: tty };
  if (tty) startBody.ConsoleSize = body.ConsoleSize;
  if (flags.detach) {
    await api.request('POST', `/exec/${enc(created.Id)}/start`, { body: startBody });
    return;
  }
  const conn = await hijack(api, `/exec/${enc(created.Id)}/start`, {}, startBody);
  const stream = pumpStreams(conn, {
    tty,
    stdout: process.stdout,
    stderr: tty ? process.stdout : process.stderr,
    stdin: flags.interactive ? process.stdin : undefined,
    rawTerminal: tty,
    detachKeys: detachKeys(flags.detachKeys, tty),
  });
  const stopResize = tty && process.stdout.isTTY ? monitorTtySize(api, created.Id, true) : () => undefined;
  let detached = false;
  try {
    detached = (await stream.done).detached;
  } catch (e) {
    throw new CliError((e as Error).message);
  } finally {
    stopResize();
    conn.close();
  }
  if (detached) throw new UsageExit(0);
  const info = await api.json<{ ExitCode?: number | null; Running?: boolean }>('GET', `/exec/${enc(created.Id)}/json`);
  throw new UsageExit(info.ExitCode ?? 0);
}

// ---------------------------------------------------------------------------
// ps

export interface PsOptions {
  all?: boolean;
  filter?: string[];
  format?: string;
  last?: string;
  latest?: boolean;
  trunc?: boolean;
  quiet?: boolean;
  size?: boolean;
}

/** The ps output for a container list (trailing newline included). */
export function renderPs(containers: readonly ApiContainerSummary[], opts: { format?: string; quiet?: boolean; size?: boolean; trunc?: boolean }, now = Date.now()): string {
  const format = containerFormat(opts.format ?? '', !!opts.quiet, !!opts.size);
  if (format === 'json' || format.trim() === '{{json .}}') return containers.map((c) => `${contextJSON(new ContainerContext(c, opts.trunc !== false, now))}\n`).join('');
  return renderList(containers, {
    format,
    quiet: false,
    defaultTable: format,
    quietTemplate: '{{.ID}}',
    headers: CONTAINER_HEADERS,
    context: (c) => new ContainerContext(c, opts.trunc !== false, now),
  });
}

/** docker ps runs a given --format once against an empty row before asking the daemon. */
function precheckTemplate(format: string, empty: object): void {
  let t: GoTemplate;
  try {
    t = GoTemplate.parse(format);
  } catch (e) {
    throw new CliError((e as Error).message.replace(/^template parsing error: /, 'failed to parse template: '));
  }
  try {
    t.execute(empty);
  } catch (e) {
    if (e instanceof TemplateExecError) throw new CliError(`failed to execute template: ${e.message}`);
    throw e;
  }
}

async function psAction(api: ApiClient, cmd: Command, opts: PsOptions): Promise<void> {
  const filters = parseFilters(opts.filter ?? [], cmd);
  if (opts.quiet && opts.format) process.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  const fieldsUsed = new Set<string>();
  if (opts.format) precheckTemplate(opts.format, new ContainerContext({ Id: '' }, true, Date.now(), fieldsUsed));
  let last = opts.last === undefined ? -1 : parseIntFlag(cmd, '-n, --last', opts.last);
  if (last === -1 && opts.latest) last = 1;
  const format = opts.format ?? '';
  let size = !!opts.size;
  if (!opts.quiet && opts.size === undefined && fieldsUsed.has('Size')) size = true;
  const query = sortedQuery({
    all: opts.all ? '1' : undefined,
    limit: last > 0 ? String(last) : undefined,
    size: size ? '1' : undefined,
    ...filtersQuery(filters),
  });
  const list = await api.json<ApiContainerSummary[]>('GET', '/containers/json', { query });
  process.stdout.write(renderPs(list, { format, quiet: opts.quiet, size: !!opts.size, trunc: opts.trunc }));
}

// ---------------------------------------------------------------------------
// Registration

const CONTAINER_IN_GROUP: Record<string, { name: string; aliases?: string[] }> = {
  ps: { name: 'ls', aliases: ['ps', 'list'] },
  rm: { name: 'rm', aliases: ['remove'] },
};

/** Defines the container commands under `parent` (the program or `berth container`). */
function defineContainerCommands(parent: Command, client: Client, inGroup: boolean): void {
  const nameOf = (n: string): { name: string; aliases?: string[] } => (inGroup ? (CONTAINER_IN_GROUP[n] ?? { name: n }) : { name: n });

  defineCommand<RunFlags>(
    parent,
    { ...nameOf('run'), use: '[OPTIONS] IMAGE [COMMAND] [ARG...]', description: 'Create and run a new container from an image', arity: { min: 1 }, stopAtFirstArg: true, longHelpOnly: true },
    (cmd) => {
      addContainerFlags(cmd)
        .option('-d, --detach', 'Run container in background and print container ID')
        .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
        .option('--sig-proxy <bool>', 'Proxy received signals to the process (default true)');
    },
    async (args, opts, cmd) => runAction(client(), cmd, args, opts),
  );

  defineCommand<RunFlags>(
    parent,
    { ...nameOf('create'), use: '[OPTIONS] IMAGE [COMMAND] [ARG...]', description: 'Create a new container', arity: { min: 1 }, stopAtFirstArg: true, longHelpOnly: true },
    (cmd) => {
      addContainerFlags(cmd);
    },
    async (args, opts, cmd) => createAction(client(), cmd, args, opts),
  );

  defineCommand<{ attach?: boolean; interactive?: boolean; detachKeys?: string }>(
    parent,
    { ...nameOf('start'), use: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Start one or more stopped containers', arity: { min: 1 } },
    (cmd) =>
      cmd
        .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
        .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
        .option('-i, --interactive', "Attach container's STDIN"),
    async (args, opts) => {
      const api = client();
      if (opts.attach || opts.interactive) {
        if (args.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
        await startAttached(api, args[0]!, opts);
        return;
      }
      const failed: string[] = [];
      for (const name of args) {
        try {
          await api.request('POST', `/containers/${enc(name)}/start`);
          process.stdout.write(`${name}\n`);
        } catch (e) {
          if (!(e instanceof DaemonError)) throw e;
          process.stderr.write(`Error response from daemon: ${e.message}\n`);
          failed.push(name);
        }
      }
      if (failed.length > 0) throw new CliError(`Error: failed to start containers: ${failed.join(', ')}`);
    },
  );

  for (const verb of ['stop', 'restart'] as const) {
    defineCommand<{ signal?: string; timeout?: string; time?: string }>(
      parent,
      {
        ...nameOf(verb),
        use: '[OPTIONS] CONTAINER [CONTAINER...]',
        description: verb === 'stop' ? 'Stop one or more running containers' : 'Restart one or more containers',
        arity: { min: 1 },
      },
      (cmd) =>
        cmd
          .option('-s, --signal <string>', 'Signal to send to the container')
          .option('-t, --timeout <int>', 'Seconds to wait before killing the container')
          .addOption(hiddenOption('--time <int>', 'Seconds to wait before killing the container')),
      async (args, opts, cmd) => {
        let t: string | undefined;
        if (opts.timeout !== undefined) t = String(parseIntFlag(cmd, '-t, --timeout', opts.timeout));
        else if (opts.time !== undefined) {
          process.stdout.write('Flag --time has been deprecated, use --timeout instead\n');
          t = String(parseIntFlag(cmd, '--time', opts.time));
        }
        const query = sortedQuery({ signal: opts.signal, t });
        const api = client();
        await forEachContainer(
          args,
          async (name) => {
            await api.request('POST', `/containers/${enc(name)}/${verb}`, { query });
          },
          {},
          api,
        );
      },
    );
  }

  defineCommand<{ signal?: string }>(
    parent,
    { ...nameOf('kill'), use: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Kill one or more running containers', arity: { min: 1 } },
    (cmd) => cmd.option('-s, --signal <string>', 'Signal to send to the container'),
    async (args, opts) => {
      const api = client();
      await forEachContainer(
        args,
        async (name) => {
          await api.request('POST', `/containers/${enc(name)}/kill`, { query: { signal: opts.signal || undefined } });
        },
        {},
        api,
      );
    },
  );

  for (const verb of ['pause', 'unpause'] as const) {
    defineCommand(
      parent,
      {
        ...nameOf(verb),
        use: 'CONTAINER [CONTAINER...]',
        description: verb === 'pause' ? 'Pause all processes within one or more containers' : 'Unpause all processes within one or more containers',
        arity: { min: 1 },
      },
      () => undefined,
      async (args) => {
        const api = client();
        await forEachContainer(args, async (name) => void (await api.request('POST', `/containers/${enc(name)}/${verb}`)), {}, api);
      },
    );
  }

  defineCommand<{ force?: boolean; link?: boolean; volumes?: boolean }>(
    parent,
    { ...nameOf('rm'), use: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Remove one or more containers', arity: { min: 1 } },
    (cmd) =>
      cmd
        .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
        .option('-l, --link', 'Remove the specified link')
        .option('-v, --volumes', 'Remove anonymous volumes associated with the container'),
    async (args, opts) => {
      const api = client();
      const query = sortedQuery({ force: opts.force ? '1' : undefined, link: opts.link ? '1' : undefined, v: opts.volumes ? '1' : undefined });
      await forEachContainer(
        args,
        async (name) => {
          const trimmed = name.replace(/^\/+|\/+$/g, '');
          if (trimmed === '') throw new CliError('Container name cannot be empty');
          await api.request('DELETE', `/containers/${enc(trimmed)}`, { query });
        },
        { ignoreNotFound: !!opts.force },
        api,
      );
    },
  );

  defineCommand(
    parent,
    { ...nameOf('wait'), use: 'CONTAINER [CONTAINER...]', description: 'Block until one or more containers stop, then print their exit codes', arity: { min: 1 } },
    () => undefined,
    async (args) => {
      const api = client();
      const errors: string[] = [];
      for (const name of args) {
        try {
          const res = await api.json<{ StatusCode?: number }>('POST', `/containers/${enc(name)}/wait`);
          process.stdout.write(`${res.StatusCode ?? 0}\n`);
        } catch (e) {
          if (!(e instanceof DaemonError)) throw e;
          errors.push(`Error response from daemon: ${e.message}`);
        }
      }
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    },
  );

  defineCommand<{ follow?: boolean; tail?: string; timestamps?: boolean; since?: string; until?: string; details?: boolean }>(
    parent,
    { ...nameOf('logs'), use: '[OPTIONS] CONTAINER', description: 'Fetch the logs of a container', arity: { exact: 1 } },
    (cmd) =>
      cmd
        .option('--details', 'Show extra details provided to logs')
        .option('-f, --follow', 'Follow log output')
        .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
        .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
        .option('-t, --timestamps', 'Show timestamps')
        .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    async (args, opts) => logsAction(client(), args[0]!, opts),
  );

  defineCommand<ExecFlags>(
    parent,
    { ...nameOf('exec'), use: '[OPTIONS] CONTAINER COMMAND [ARG...]', description: 'Execute a command in a running container', arity: { min: 2 }, stopAtFirstArg: true },
    (cmd) =>
      cmd
        .option('-d, --detach', 'Detached mode: run command in the background')
        .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
        .option('-e, --env <list>', 'Set environment variables', collect)
        .option('--env-file <list>', 'Read in a file of environment variables', collect)
        .option('-i, --interactive', 'Keep STDIN open even if not attached')
        .option('--privileged', 'Give extended privileges to the command')
        .option('-t, --tty', 'Allocate a pseudo-TTY')
        .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
        .option('-w, --workdir <string>', 'Working directory inside the container'),
    async (args, opts, cmd) => execAction(client(), cmd, args, opts),
  );

  defineCommand<PsOptions>(
    parent,
    { ...nameOf('ps'), use: '[OPTIONS]', description: 'List containers', arity: { none: true } },
    (cmd) =>
      cmd
        .option('-a, --all', 'Show all containers (default shows just running)')
        .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
        .option('--format <string>', 'Format output using a custom template')
        .option('-n, --last <int>', 'Show n last created containers (includes all states)')
        .option('-l, --latest', 'Show the latest created container (includes all states)')
        .option('--no-trunc', "Don't truncate output")
        .option('-q, --quiet', 'Only display container IDs')
        .option('-s, --size', 'Display total file sizes'),
    async (_args, opts, cmd) => psAction(client(), cmd, opts),
  );

  if (inGroup) {
    defineCommand<{ format?: string; size?: boolean }>(
      parent,
      { name: 'inspect', use: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Display detailed information on one or more containers', arity: { min: 1 } },
      (cmd) => cmd.option('-f, --format <string>', 'Format output using a custom template').option('-s, --size', 'Display total file sizes'),
      async (args, opts) => runInspect(client(), args, 'container', opts.format, !!opts.size),
    );

    defineCommand<{ filter?: string[]; force?: boolean }>(
      parent,
      { name: 'prune', use: '[OPTIONS]', description: 'Remove all stopped containers', arity: { none: true } },
      (cmd) => cmd.option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", collect).option('-f, --force', 'Do not prompt for confirmation'),
      async (_args, opts, cmd) => {
        const filters = parseFilterFlags(opts.filter ?? [], 'berth container prune', cmd.usage());
        if (!opts.force && !(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))) return;
        const report = await client().json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: filtersQuery(filters) });
        const deleted = report.ContainersDeleted ?? [];
        const out = deleted.length > 0 ? `Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n` : '';
        process.stdout.write(`${out}Total reclaimed space: ${humanSize(deleted.length > 0 ? report.SpaceReclaimed : 0)}\n`);
      },
    );
  }

  defineContainerResourceCommands(parent, client, nameOf);
  registerCpCommand(parent, client);
}

export function registerContainerCommands(program: Command, client: Client): void {
  // run/create/exec pass everything after IMAGE/CONTAINER to the container.
  program.enablePositionalOptions();
  defineContainerCommands(program, client, false);
  const container = program.command('container').description('Manage containers').usage('COMMAND');
  container.enablePositionalOptions();
  container.action(() => {
    process.stdout.write(container.helpInformation());
  });
  defineContainerCommands(container, client, true);
}
