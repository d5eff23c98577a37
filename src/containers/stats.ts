// One sample of a container's resource use, read from its cgroups (v1
// controllers or the v2 unified hierarchy, whichever holds each one) and
// from /proc, in the Engine API's stats shape (dockerd's statsV1/statsV2 in
// daemon/stats_unix.go, from containerd's cgroup readers).
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { readMountInfo, type MountInfo } from '../util/mount.js';

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** GET /containers/{id}/stats, one sample (Go's omitempty fields left out when zero). */
export interface StatsSample {
  read: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<'io_service_bytes_recursive' | 'io_serviced_recursive' | 'io_queue_recursive' | 'io_service_time_recursive' | 'io_wait_time_recursive' | 'io_merged_recursive' | 'io_time_recursive' | 'sectors_recursive', BlkioEntry[] | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  networks?: Record<string, NetworkStats>;
}

/** Where each controller of a process's cgroups is, on this host. */
export interface CgroupPaths {
  memory?: { dir: string; v2: boolean };
  cpu?: { dir: string; v2: boolean };
  cpuacct?: { dir: string; v2: boolean };
  blkio?: { dir: string; v2: boolean };
  pids?: { dir: string; v2: boolean };
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readNumber(path: string): number | null {
  const t = readText(path)?.trim();
  if (t === undefined || t === '' || t === 'max') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** "key value" lines (memory.stat, cpu.stat) as a map. */
function readKeyValues(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readText(path) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** The cgroup directories of process `pid` (its /proc/PID/cgroup, as berthd's cgroup namespace sees it). */
export function cgroupPathsOf(pid: number): CgroupPaths {
  return cgroupPaths(readText(`/proc/${pid}/cgroup`) ?? '', readMountInfo());
}

/**
 * A process's cgroup lines (/proc/PID/cgroup) joined to the mount points of
 * the hierarchies (/proc/self/mountinfo). A controller mounted as v1 is read
 * there; the others from the v2 hierarchy, when it has them.
 */
export function cgroupPaths(procCgroup: string, mountinfo: MountInfo[]): CgroupPaths {
  const lines = procCgroup.split('\n').filter(Boolean);
  const out: CgroupPaths = {};
  const v1Mounts = mountinfo.filter((m) => m.fsType === 'cgroup');
  const v2Mount = mountinfo.find((m) => m.fsType === 'cgroup2');
  let unified: string | undefined;
  for (const line of lines) {
    const [, controllers = '', path = ''] = line.split(/:(.*?):(.*)/s);
    if (controllers === '') {
      unified = path;
      continue;
    }
    const mount = v1Mounts.find((m) => m.superOptions.split(',').some((o) => controllers.split(',').includes(o)));
    if (!mount) continue;
    for (const c of controllers.split(',')) {
      if (c === 'memory' || c === 'cpu' || c === 'cpuacct' || c === 'blkio' || c === 'pids') out[c] = { dir: join(mount.mountPoint, path), v2: false };
    }
  }
  if (unified !== undefined && v2Mount) {
    const dir = join(v2Mount.mountPoint, unified);
    const enabled = (readText(join(dir, 'cgroup.controllers')) ?? '').split(/\s+/);
    if (!out.memory && enabled.includes('memory')) out.memory = { dir, v2: true };
    if (!out.cpu && enabled.includes('cpu')) out.cpu = { dir, v2: true };
    if (!out.cpuacct && enabled.includes('cpu')) out.cpuacct = { dir, v2: true };
    if (!out.blkio && enabled.includes('io')) out.blkio = { dir, v2: true };
    if (!out.pids && enabled.includes('pids')) out.pids = { dir, v2: true };
  }
  return out;
}

// The memory.stat keys dockerd reports (containerd's Metrics fields), per cgroup version.
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit', 'hierarchical_memsw_limit',
  'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty', 'total_writeback', 'total_pgpgin', 'total_pgpgout',
  'total_pgfault', 'total_pgmajfault', 'total_inactive_anon', 'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable',
];
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan', 'pgsteal',
  'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

/** Clock ticks per second of /proc/stat and cpuacct.stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;
const NS_PER_TICK = 1e9 / USER_HZ;

function memoryStats(c: NonNullable<CgroupPaths['memory']>, machineMemory: number): StatsSample['memory_stats'] {
  const raw = readKeyValues(join(c.dir, 'memory.stat'));
  const stats: Record<string, number> = {};
  for (const k of c.v2 ? V2_MEMORY_KEYS : V1_MEMORY_KEYS) stats[k] = raw.get(k) ?? 0;
  const out: StatsSample['memory_stats'] = { stats };
  let limit: number;
  if (c.v2) {
    out.usage = readNumber(join(c.dir, 'memory.current')) ?? 0;
    limit = readNumber(join(c.dir, 'memory.max')) ?? Number.MAX_SAFE_INTEGER;
    const oom = readKeyValues(join(c.dir, 'memory.events')).get('oom') ?? 0;
    if (oom > 0) out.failcnt = oom;
  } else {
    out.usage = readNumber(join(c.dir, 'memory.usage_in_bytes')) ?? 0;
    out.max_usage = readNumber(join(c.dir, 'memory.max_usage_in_bytes')) ?? 0;
    limit = readNumber(join(c.dir, 'memory.limit_in_bytes')) ?? Number.MAX_SAFE_INTEGER;
    const failcnt = readNumber(join(c.dir, 'memory.failcnt')) ?? 0;
    if (failcnt > 0) out.failcnt = failcnt;
  }
  // No limit of its own: the machine's memory, as dockerd reports it.
  out.limit = machineMemory > 0 && limit > machineMemory ? machineMemory : limit;
  return out;
}

function cpuStats(cpu: CgroupPaths['cpu'], cpuacct: CgroupPaths['cpuacct']): CpuStats {
  const out: CpuStats = {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
  if (cpuacct?.v2) {
    const s = readKeyValues(join(cpuacct.dir, 'cpu.stat'));
    out.cpu_usage.total_usage = (s.get('usage_usec') ?? 0) * 1000;
    out.cpu_usage.usage_in_kernelmode = (s.get('system_usec') ?? 0) * 1000;
    out.cpu_usage.usage_in_usermode = (s.get('user_usec') ?? 0) * 1000;
    out.throttling_data = { periods: s.get('nr_periods') ?? 0, throttled_periods: s.get('nr_throttled') ?? 0, throttled_time: (s.get('throttled_usec') ?? 0) * 1000 };
    return out;
  }
  if (cpuacct) {
    out.cpu_usage.total_usage = readNumber(join(cpuacct.dir, 'cpuacct.usage')) ?? 0;
    const percpu = (readText(join(cpuacct.dir, 'cpuacct.usage_percpu')) ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
    if (percpu.length > 0) out.cpu_usage.percpu_usage = percpu;
    const s = readKeyValues(join(cpuacct.dir, 'cpuacct.stat'));
    out.cpu_usage.usage_in_kernelmode = (s.get('system') ?? 0) * NS_PER_TICK;
    out.cpu_usage.usage_in_usermode = (s.get('user') ?? 0) * NS_PER_TICK;
  }
  if (cpu && !cpu.v2) {
    const s = readKeyValues(join(cpu.dir, 'cpu.stat'));
    out.throttling_data = { periods: s.get('nr_periods') ?? 0, throttled_periods: s.get('nr_throttled') ?? 0, throttled_time: s.get('throttled_time') ?? 0 };
  }
  return out;
}

function blkioStats(c: CgroupPaths['blkio']): StatsSample['blkio_stats'] {
  const out: StatsSample['blkio_stats'] = {
    io_service_bytes_recursive: null,
    io_serviced_recursive: null,
    io_queue_recursive: null,
    io_service_time_recursive: null,
    io_wait_time_recursive: null,
    io_merged_recursive: null,
    io_time_recursive: null,
    sectors_recursive: null,
  };
  if (!c) return out;
  if (c.v2) {
    // io.stat: "8:0 rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device.
    const entries: BlkioEntry[] = [];
    for (const line of (readText(join(c.dir, 'io.stat')) ?? '').split('\n')) {
      const m = /^(\d+):(\d+)\s+(.*)$/.exec(line.trim());
      if (!m) continue;
      const kv = new Map(m[3]!.split(/\s+/).map((p) => p.split('=') as [string, string]));
      const dev = { major: Number(m[1]), minor: Number(m[2]) };
      entries.push({ ...dev, op: 'read', value: Number(kv.get('rbytes') ?? 0) }, { ...dev, op: 'write', value: Number(kv.get('wbytes') ?? 0) });
    }
    out.io_service_bytes_recursive = entries.length > 0 ? entries : null;
    return out;
  }
  // The CFQ files when the kernel keeps them, else the throttling layer's (containerd's order).
  const read = (name: string): BlkioEntry[] | null => {
    for (const file of [`blkio.${name}`, `blkio.throttle.${name}`]) {
      const entries: BlkioEntry[] = [];
      for (const line of (readText(join(c.dir, file)) ?? '').split('\n')) {
        const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
        if (m) entries.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
      }
      if (entries.length > 0) return entries;
    }
    return null;
  };
  out.io_service_bytes_recursive = read('io_service_bytes_recursive');
  out.io_serviced_recursive = read('io_serviced_recursive');
  return out;
}

function pidsStats(c: CgroupPaths['pids']): StatsSample['pids_stats'] {
  if (!c) return {};
  const out: StatsSample['pids_stats'] = {};
  const current = readNumber(join(c.dir, 'pids.current'));
  const limit = readNumber(join(c.dir, 'pids.max'));
  if (current) out.current = current;
  if (limit) out.limit = limit;
  return out;
}

/** The host's CPU time (nanoseconds) and online CPUs from /proc/stat, as dockerd's getSystemCPUUsage. */
export function systemCpuUsage(stat = readText('/proc/stat') ?? ''): { usage: number; cpus: number } {
  let usage = 0;
  let cpus = 0;
  for (const line of stat.split('\n')) {
    if (!line.startsWith('cpu')) break;
    if (line[3] === ' ') usage = line.trim().split(/\s+/).slice(1, 8).reduce((sum, v) => sum + Number(v), 0) * NS_PER_TICK;
    else if (/^cpu\d/.test(line)) cpus++;
  }
  return { usage, cpus };
}

/** Interfaces of the network namespace process `pid` is in (/proc/PID/net/dev), by name. */
export function networkStats(pid: number, only?: (name: string) => boolean): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of (readText(`/proc/${pid}/net/dev`) ?? '').split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || (only && !only(m[1]!))) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out[m[1]!] = {
      rx_bytes: f[0] ?? 0,
      rx_packets: f[1] ?? 0,
      rx_errors: f[2] ?? 0,
      rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0,
      tx_packets: f[9] ?? 0,
      tx_errors: f[10] ?? 0,
      tx_dropped: f[11] ?? 0,
    };
  }
  return out;
}

/**
 * One sample of the container whose cgroups are `paths`. `networks` are
 * the interfaces to report (none for a container on the host's network or
 * on none, as dockerd reports none for those).
 */
export function readStats(paths: CgroupPaths, networks: Record<string, NetworkStats> | undefined, read = new Date()): StatsSample {
  const system = systemCpuUsage();
  const cpu = cpuStats(paths.cpu, paths.cpuacct);
  if (system.usage > 0) cpu.system_cpu_usage = system.usage;
  if (system.cpus > 0) cpu.online_cpus = system.cpus;
  const sample: StatsSample = {
    read: read.toISOString(),
    pids_stats: pidsStats(paths.pids),
    blkio_stats: blkioStats(paths.blkio),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    memory_stats: paths.memory ? memoryStats(paths.memory, totalmem()) : {},
  };
  if (networks && Object.keys(networks).length > 0) sample.networks = networks;
  return sample;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The stats of a container that is not running: dockerd's zero StatsResponse. */
export function emptyStats(): StatsSample & { preread: string; precpu_stats: CpuStats } {
  const cpu = (): CpuStats => ({
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: blkioStats(undefined),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(),
    precpu_stats: cpu(),
    memory_stats: {},
  };
}
