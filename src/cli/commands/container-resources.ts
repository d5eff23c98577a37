// `top`, `stats`, `rename` and `update` with docker CLI 28.2's flags,
// output and exit codes (cli/command/container/top.go, stats*.go,
// rename.go, update.go).
import type { Command } from 'commander';
import { bytesSize, humanSizeWithPrecision } from '../../go/units.js';
import { DaemonError, type ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { defineCommand } from '../command.js';
import { renderList } from '../format/formatter.js';
import { tabwrite } from '../format/tabwriter.js';
import { truncateID } from './contexts.js';
import { ContainerParseError, FlagValueError, parseCpusFlag, parseIntValue, parseMemBytes, parseRestartPolicy } from './container-opts.js';
import { flagValueError } from '../command.js';
import type { ApiContainerSummary } from '../../api/types/index.js';
import { writeArchive } from './shared.js';

type Client = () => ApiClient;
type NameOf = (n: string) => { name: string; aliases?: string[] };

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------
// top

async function topAction(api: ApiClient, args: string[]): Promise<void> {
  const [name, ...psArgs] = args;
  const query = psArgs.length > 0 ? { ps_args: psArgs.join(' ') } : {};
  const r = await api.json<{ Titles: string[]; Processes: string[][] | null }>('GET', `/containers/${enc(name!)}/top`, { query });
  const lines = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))];
  // top.go: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
  process.stdout.write(tabwrite(lines.map((l) => `${l}\n`).join(''), { minwidth: 20, padding: 3 }));
}

// ---------------------------------------------------------------------------
// stats

/** The figures of one container, as the CLI computes them from a stats sample (stats_helpers.go). */
interface StatsEntry {
  container: string;
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
}

interface StatsJSON {
  name?: string;
  id?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  pids_stats?: { current?: number };
}

/** calculateCPUPercentUnix, calculateMemUsageUnixNoCache, calculateBlockIO, calculateNetwork. */
export function statsEntry(container: string, v: StatsJSON): StatsEntry {
  const cpu = v.cpu_stats ?? {};
  const pre = v.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const onlineCPUs = cpu.online_cpus || (cpu.cpu_usage?.percpu_usage?.length ?? 0);
  const cpuPercentage = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * onlineCPUs * 100 : 0;
  const mem = v.memory_stats ?? {};
  const usage = mem.usage ?? 0;
  const stats = mem.stats ?? {};
  let memory = usage;
  if (stats.total_inactive_file !== undefined && stats.total_inactive_file < usage) memory = usage - stats.total_inactive_file;
  else if ((stats.inactive_file ?? 0) < usage) memory = usage - (stats.inactive_file ?? 0);
  const memoryLimit = mem.limit ?? 0;
  let blockRead = 0;
  let blockWrite = 0;
  for (const e of v.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (e.op === 'read' || e.op === 'Read') blockRead += e.value;
    if (e.op === 'write' || e.op === 'Write') blockWrite += e.value;
  }
  let networkRx = 0;
  let networkTx = 0;
  for (const n of Object.values(v.networks ?? {})) {
    networkRx += n.rx_bytes;
    networkTx += n.tx_bytes;
  }
  return {
    container,
    name: v.name ?? '',
    id: v.id ?? '',
    cpuPercentage,
    memory,
    memoryLimit,
    memoryPercentage: memoryLimit !== 0 ? (memory / memoryLimit) * 100 : 0,
    networkRx,
    networkTx,
    blockRead,
    blockWrite,
    pidsCurrent: v.pids_stats?.current ?? 0,
  };
}

const STATS_HEADERS: Readonly<Record<string, string>> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

const DEFAULT_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

/** formatter's statsContext: the template fields of one row (`{{json .}}` marshals them all). */
export class StatsContext {
  readonly #s: StatsEntry;
  readonly #trunc: boolean;

  constructor(s: StatsEntry, trunc: boolean) {
    this.#s = s;
    this.#trunc = trunc;
  }

  Container(): string {
    return this.#s.container;
  }
  Name(): string {
    return this.#s.name.length > 1 ? this.#s.name.slice(1) : '--';
  }
  ID(): string {
    return this.#trunc ? truncateID(this.#s.id) : this.#s.id;
  }
  CPUPerc(): string {
    return `${this.#s.cpuPercentage.toFixed(2)}%`;
  }
  MemUsage(): string {
    return `${bytesSize(this.#s.memory)} / ${bytesSize(this.#s.memoryLimit)}`;
  }
  MemPerc(): string {
    return `${this.#s.memoryPercentage.toFixed(2)}%`;
  }
  NetIO(): string {
    return `${humanSizeWithPrecision(this.#s.networkRx, 3)} / ${humanSizeWithPrecision(this.#s.networkTx, 3)}`;
  }
  BlockIO(): string {
    return `${humanSizeWithPrecision(this.#s.blockRead, 3)} / ${humanSizeWithPrecision(this.#s.blockWrite, 3)}`;
  }
  PIDs(): string {
    return String(this.#s.pidsCurrent);
  }
}

async function sample(api: ApiClient, container: string): Promise<StatsEntry> {
  const v = await api.json<StatsJSON>('GET', `/containers/${enc(container)}/stats`, { query: { stream: '0' } });
  return statsEntry(container, v);
}

interface StatsFlags {
  all?: boolean;
  format?: string;
  stream?: boolean;
  trunc?: boolean;
}

/** The table of one round of samples (`--no-stream`, or one screen of a stream). */
async function statsRound(api: ApiClient, names: string[], opts: StatsFlags): Promise<{ text: string; errors: string[] }> {
  const results = await Promise.allSettled(names.map((n) => sample(api, n)));
  const rows: StatsEntry[] = [];
  const errors: string[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') rows.push(r.value);
    else if (r.reason instanceof DaemonError) errors.push(`Error response from daemon: ${r.reason.message}`);
    else throw r.reason;
  }
  const text = renderList(rows, {
    format: opts.format ?? '',
    quiet: false,
    defaultTable: DEFAULT_STATS_TABLE,
    quietTemplate: DEFAULT_STATS_TABLE,
    headers: STATS_HEADERS,
    context: (s) => new StatsContext(s, opts.trunc !== false),
  });
  return { text, errors };
}

async function statsAction(api: ApiClient, args: string[], opts: StatsFlags): Promise<void> {
  const named = args.length > 0;
  const names = async (): Promise<string[]> => {
    if (named) return args;
    const list = await api.json<ApiContainerSummary[]>('GET', '/containers/json', { query: opts.all ? { all: '1' } : {} });
    return list.map((c) => c.Id);
  };
  if (opts.stream === false) {
    const { text, errors } = await statsRound(api, await names(), opts);
    if (errors.length > 0) throw new CliError(errors.join('\n'));
    process.stdout.write(text);
    return;
  }
  // Streaming: the table again every second on a cleared screen, as the CLI redraws it.
  for (;;) {
    const { text, errors } = await statsRound(api, await names(), opts);
    if (named && errors.length === args.length) throw new CliError(errors.join('\n'));
    process.stdout.write(`\u001b[2J\u001b[H${text}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---------------------------------------------------------------------------
// update

interface UpdateFlags {
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpuShares?: string;
  cpus?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  kernelMemory?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
  restart?: string;
}

/** The UpdateConfig the flags ask for (Resources inline, RestartPolicy), as the CLI sends it. */
export function updateBody(opts: UpdateFlags): Record<string, unknown> {
  const int = (flag: string, v: string | undefined, bits: 16 | 64 = 64): number => parseIntValue(flag, v, bits);
  const pidsLimit = int('--pids-limit', opts.pidsLimit);
  const body: Record<string, unknown> = {
    BlkioWeight: int('--blkio-weight', opts.blkioWeight, 16),
    CpusetCpus: opts.cpusetCpus ?? '',
    CpusetMems: opts.cpusetMems ?? '',
    CpuShares: int('-c, --cpu-shares', opts.cpuShares),
    Memory: parseMemBytes('-m, --memory', opts.memory),
    MemoryReservation: parseMemBytes('--memory-reservation', opts.memoryReservation),
    MemorySwap: opts.memorySwap === '-1' ? -1 : parseMemBytes('--memory-swap', opts.memorySwap),
    KernelMemory: parseMemBytes('--kernel-memory', opts.kernelMemory),
    CpuPeriod: int('--cpu-period', opts.cpuPeriod),
    CpuQuota: int('--cpu-quota', opts.cpuQuota),
    CpuRealtimePeriod: int('--cpu-rt-period', opts.cpuRtPeriod),
    CpuRealtimeRuntime: int('--cpu-rt-runtime', opts.cpuRtRuntime),
    NanoCpus: parseCpusFlag(opts.cpus),
    RestartPolicy: opts.restart !== undefined ? parseRestartPolicy(opts.restart) : { Name: '', MaximumRetryCount: 0 },
  };
  // Only a flag that was given changes the pids limit (0 would be a value).
  if (pidsLimit !== 0) body.PidsLimit = pidsLimit;
  return body;
}

async function updateAction(api: ApiClient, cmd: Command, args: string[], opts: UpdateFlags): Promise<void> {
  if (Object.values(opts).every((v) => v === undefined)) throw new CliError('you must provide one or more flags when using this command');
  let body: Record<string, unknown>;
  try {
    body = updateBody(opts);
  } catch (e) {
    if (e instanceof FlagValueError) throw flagValueError(cmd, e.flag, e.value, e.detail);
    if (e instanceof ContainerParseError) throw new CliError(e.message);
    throw e;
  }
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const name of args) {
    try {
      const r = await api.json<{ Warnings: string[] | null }>('POST', `/containers/${enc(name)}/update`, { body });
      process.stdout.write(`${name}\n`);
      warnings.push(...(r.Warnings ?? []));
    } catch (e) {
      if (!(e instanceof DaemonError)) throw e;
      errors.push(`Error response from daemon: ${e.message}`);
    }
  }
  if (warnings.length > 0) process.stdout.write(`${warnings.join('\n')}\n`);
  if (errors.length > 0) throw new CliError(errors.join('\n'));
}

// ---------------------------------------------------------------------------

export function defineContainerResourceCommands(parent: Command, client: Client, nameOf: NameOf): void {
  defineCommand(
    parent,
    { ...nameOf('top'), use: 'CONTAINER [ps OPTIONS]', description: 'Display the running processes of a container', arity: { min: 1 }, stopAtFirstArg: true },
    () => undefined,
    async (args) => topAction(client(), args),
  );

  defineCommand<StatsFlags>(
    parent,
    { ...nameOf('stats'), use: '[OPTIONS] [CONTAINER...]', description: 'Display a live stream of container(s) resource usage statistics', arity: { min: 0 } },
    (cmd) =>
      cmd
        .option('-a, --all', 'Show all containers (default shows just running)')
        .option('--format <string>', 'Format output using a custom template')
        .option('--no-stream', 'Disable streaming stats and only pull the first result')
        .option('--no-trunc', "Don't truncate output"),
    async (args, opts) => statsAction(client(), args, opts),
  );

  defineCommand<{ output?: string }>(
    parent,
    { ...nameOf('export'), use: '[OPTIONS] CONTAINER', description: "Export a container's filesystem as a tar archive", arity: { exact: 1 } },
    (cmd) => cmd.option('-o, --output <string>', 'Write to a file, instead of STDOUT'),
    async (args, opts) => {
      const output = opts.output ?? '';
      if (output === '' && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const { res } = await client().stream('GET', `/containers/${enc(args[0]!)}/export`);
      await writeArchive(res, output, 'failed to export container');
    },
  );

  defineCommand(
    parent,
    { ...nameOf('diff'), use: 'CONTAINER', description: "Inspect changes to files or directories on a container's filesystem", arity: { exact: 1 } },
    () => undefined,
    async (args) => {
      const changes = await client().json<Array<{ Path: string; Kind: number }> | null>('GET', `/containers/${enc(args[0]!)}/changes`);
      const kinds = ['C', 'A', 'D'];
      process.stdout.write((changes ?? []).map((c) => `${kinds[c.Kind] ?? ''} ${c.Path}\n`).join(''));
    },
  );

  defineCommand(
    parent,
    { ...nameOf('rename'), use: 'CONTAINER NEW_NAME', description: 'Rename a container', arity: { exact: 2 } },
    () => undefined,
    async (args) => {
      const oldName = args[0]!.trim();
      const newName = args[1]!.trim();
      if (oldName === '' || newName === '') throw new CliError('Error: Neither old nor new names may be empty');
      try {
        await client().request('POST', `/containers/${enc(oldName)}/rename`, { query: { name: newName } });
      } catch (e) {
        if (!(e instanceof DaemonError)) throw e;
        process.stderr.write(`Error response from daemon: ${e.message}\n`);
        throw new CliError(`Error: failed to rename container named ${oldName}`);
      }
    },
  );

  defineCommand<UpdateFlags>(
    parent,
    { ...nameOf('update'), use: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Update configuration of one or more containers', arity: { min: 1 } },
    (cmd) =>
      cmd
        .option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)')
        .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
        .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
        .option('--cpu-rt-period <int>', 'Limit the CPU real-time period in microseconds')
        .option('--cpu-rt-runtime <int>', 'Limit the CPU real-time runtime in microseconds')
        .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
        .option('--cpus <decimal>', 'Number of CPUs')
        .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
        .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
        .option('-m, --memory <bytes>', 'Memory limit')
        .option('--memory-reservation <bytes>', 'Memory soft limit')
        .option('--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap')
        .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
        .option('--restart <string>', 'Restart policy to apply when a container exits'),
    async (args, opts, cmd) => updateAction(client(), cmd, args, opts),
  );
}
