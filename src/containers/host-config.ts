// HostConfig's security and resource options at create: each one berth
// honours is validated with dockerd's rules and messages and turned into OCI
// spec settings at start; each one berth cannot honour on this host is
// refused with a 400 naming it, never stored and ignored.
import { readFileSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InvalidParameter } from '../errors.js';
import { ALL_CAPABILITIES, hostDevices, isCgroup2UnifiedHost, normalizeCapabilities, type OciDevice, type OciResources, type SpecInput } from './runtime/oci-spec.js';
import { builtinSeccompProfile, loadDefaultSeccompProfile, parseSeccompProfile, type SeccompProfile } from './runtime/seccomp.js';
import { parseBool } from '../go/strconv.js';

type Json = Record<string, unknown>;

/** What this host (and berthd's own privileges) allows; probed once per daemon. */
export interface HostFacts {
  /** Capabilities berthd holds, so runc can grant them. */
  capabilities: readonly string[];
  cpus: number;
  /** CPUs and memory nodes a container may be pinned to. */
  cpusetCpus: ReadonlySet<number>;
  cpusetMems: ReadonlySet<number>;
  cgroup2: boolean;
  controllers: { memory: boolean; swap: boolean; swappiness: boolean; pids: boolean; cpuCfs: boolean; cpuShares: boolean; cpuset: boolean };
  /** berthd's oom_score_adj: going below it needs CAP_SYS_RESOURCE. */
  oomScoreAdj: number;
  /** The seccomp profile containers get unless they ask otherwise: "builtin" (Docker's), "unconfined", or a profile file (berthd --seccomp-profile). */
  seccompProfile: string;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Parses a cpuset list ("0-3,5"); null when malformed. */
export function parseCpuList(list: string): Set<number> | null {
  const out = new Set<number>();
  if (list.trim() === '') return out;
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 65536) return null;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

function effectiveCapabilities(): string[] {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readText('/proc/self/status') ?? '');
  if (!m) return [...ALL_CAPABILITIES];
  const bits = BigInt(`0x${m[1]}`);
  // ALL_CAPABILITIES is in capability-number order.
  return ALL_CAPABILITIES.filter((_, i) => (bits >> BigInt(i)) & 1n);
}

export function probeHost(seccompProfile = 'builtin'): HostFacts {
  const cgroup2 = isCgroup2UnifiedHost();
  const v2 = cgroup2 ? (readText('/sys/fs/cgroup/cgroup.controllers') ?? '').split(/\s+/) : [];
  const v1 = (file: string) => existsSync(`/sys/fs/cgroup/${file}`);
  const cpusetFile = (name: string) =>
    readText(cgroup2 ? `/sys/fs/cgroup/cpuset.${name}.effective` : `/sys/fs/cgroup/cpuset/cpuset.${name}`) ?? '';
  const cpus = availableParallelism();
  return {
    capabilities: effectiveCapabilities(),
    cpus,
    cpusetCpus: parseCpuList(cpusetFile('cpus')) ?? new Set(Array.from({ length: cpus }, (_, i) => i)),
    cpusetMems: parseCpuList(cpusetFile('mems')) ?? new Set([0]),
    cgroup2,
    controllers: cgroup2
      ? {
          memory: v2.includes('memory'),
          swap: v2.includes('memory') && existsSync('/sys/fs/cgroup/memory.swap.max'),
          swappiness: false,
          pids: v2.includes('pids'),
          cpuCfs: v2.includes('cpu'),
          cpuShares: v2.includes('cpu'),
          cpuset: v2.includes('cpuset'),
        }
      : {
          memory: v1('memory/memory.limit_in_bytes'),
          swap: v1('memory/memory.memsw.limit_in_bytes'),
          swappiness: v1('memory/memory.swappiness'),
          pids: v1('pids'),
          cpuCfs: v1('cpu/cpu.cfs_quota_us'),
          cpuShares: v1('cpu/cpu.shares'),
          cpuset: v1('cpuset/cpuset.cpus'),
        },
    oomScoreAdj: Number((readText('/proc/self/oom_score_adj') ?? '0').trim()) || 0,
    seccompProfile,
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** --security-opt seccomp=...: unset means the daemon's default. */
  seccomp?: 'unconfined' | 'builtin' | SeccompProfile;
}

/** dockerd's parseSecurityOpt, refusing what berth cannot apply. */
export function parseSecurityOpt(opts: readonly string[], privileged: boolean): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue; // label=disable: berth applies no SELinux labels.
    if (opt === 'writable-cgroups') throw new InvalidParameter('security option "writable-cgroups" is not supported by berth yet');
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (sep === '') throw new InvalidParameter(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const i = opt.indexOf(sep);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    switch (key) {
      case 'no-new-privileges': {
        const b = parseBool(value);
        if (b === undefined) throw new InvalidParameter(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.noNewPrivileges = b;
        break;
      }
      case 'seccomp':
        // The docker CLI sends a profile file's content inline; "builtin" is the default profile.
        out.seccomp = value === 'unconfined' || value === 'builtin' ? value : parseSeccompProfile(value);
        break;
      case 'apparmor':
        if (value !== 'unconfined') {
          throw new InvalidParameter(`security option "apparmor=${value}" is not supported by berth: it applies no AppArmor profile; only apparmor=unconfined is accepted`);
        }
        break;
      case 'label':
        if (value !== 'disable') {
          throw new InvalidParameter(`security option "label=${value}" is not supported by berth: it applies no SELinux labels; only label=disable is accepted`);
        }
        break;
      case 'writable-cgroups': {
        const b = parseBool(value);
        if (b === undefined) throw new InvalidParameter(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        if (b && !privileged) throw new InvalidParameter('security option "writable-cgroups=true" is not supported by berth yet');
        break;
      }
      default:
        throw new InvalidParameter(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}

/** HostConfig fields berth cannot honour yet: any value but the default is refused. */
const UNSUPPORTED: Array<{ field: string; flag: string; isDefault: (v: unknown) => boolean; why?: string }> = [
  { field: 'Devices', flag: '--device', isDefault: (v) => list(v).length === 0 },
  { field: 'DeviceCgroupRules', flag: '--device-cgroup-rule', isDefault: (v) => list(v).length === 0 },
  { field: 'DeviceRequests', flag: '--gpus', isDefault: (v) => list(v).length === 0 },
  { field: 'Sysctls', flag: '--sysctl', isDefault: (v) => !v || Object.keys(v as Json).length === 0 },
  { field: 'Ulimits', flag: '--ulimit', isDefault: (v) => list(v).length === 0, why: 'berth sets no rlimits: containers inherit the runtime\'s limits' },
  { field: 'CgroupParent', flag: '--cgroup-parent', isDefault: (v) => text(v) === '' },
  { field: 'Cgroup', flag: '--cgroup', isDefault: (v) => text(v) === '' },
  { field: 'StorageOpt', flag: '--storage-opt', isDefault: (v) => !v || Object.keys(v as Json).length === 0 },
  { field: 'BlkioWeight', flag: '--blkio-weight', isDefault: (v) => num(v) === 0 },
  { field: 'BlkioWeightDevice', flag: '--blkio-weight-device', isDefault: (v) => list(v).length === 0 },
  { field: 'BlkioDeviceReadBps', flag: '--device-read-bps', isDefault: (v) => list(v).length === 0 },
  { field: 'BlkioDeviceWriteBps', flag: '--device-write-bps', isDefault: (v) => list(v).length === 0 },
  { field: 'BlkioDeviceReadIOps', flag: '--device-read-iops', isDefault: (v) => list(v).length === 0 },
  { field: 'BlkioDeviceWriteIOps', flag: '--device-write-iops', isDefault: (v) => list(v).length === 0 },
  { field: 'CpuRealtimePeriod', flag: '--cpu-rt-period', isDefault: (v) => num(v) === 0 },
  { field: 'CpuRealtimeRuntime', flag: '--cpu-rt-runtime', isDefault: (v) => num(v) === 0 },
  { field: 'KernelMemory', flag: '--kernel-memory', isDefault: (v) => num(v) === 0 },
  { field: 'KernelMemoryTCP', flag: '--kernel-memory-tcp', isDefault: (v) => num(v) === 0 },
  { field: 'CpuCount', flag: '--cpu-count', isDefault: (v) => num(v) === 0, why: 'it is a Windows option' },
  { field: 'CpuPercent', flag: '--cpu-percent', isDefault: (v) => num(v) === 0, why: 'it is a Windows option' },
  { field: 'Init', flag: '--init', isDefault: (v) => v !== true, why: 'berth has no init binary (docker-init) to run' },
];

function refuse(field: string, flag: string, why?: string): never {
  throw new InvalidParameter(`HostConfig.${field} (${flag}) is not supported by berth yet${why ? `: ${why}` : ''}`);
}

/**
 * Validates HostConfig's security and resource options (the request already
 * has Docker's types, see create-request.ts) and returns it with dockerd's
 * defaults filled in, as it is stored and inspected. Throws InvalidParameter.
 */
export function checkHostConfig(input: Json, host: HostFacts): { hostConfig: Json; warnings: string[] } {
  const hc: Json = { ...input };
  const warnings: string[] = [];

  for (const u of UNSUPPORTED) {
    if (!u.isDefault(hc[u.field])) refuse(u.field, u.flag, u.why);
  }
  if (num(hc.IOMaximumBandwidth) !== 0) throw new InvalidParameter('invalid option: QoS maximum bandwidth configuration is not supported on linux');
  if (num(hc.IOMaximumIOps) !== 0) throw new InvalidParameter('invalid option: QoS maximum IOPs configuration is not supported on linux');
  const isolation = text(hc.Isolation);
  if (isolation !== '' && isolation !== 'default') throw new InvalidParameter(`invalid isolation (${isolation}): linux only supports 'default'`);
  const runtime = text(hc.Runtime);
  if (runtime !== '' && runtime !== 'runc') throw new InvalidParameter(`unknown or invalid runtime name: ${runtime}`);

  // Namespaces: berth gives every container its own; sharing the host's or another container's is not there yet.
  const ipc = text(hc.IpcMode);
  if (!['', 'private', 'shareable', 'none', 'host'].includes(ipc) && !/^container:./.test(ipc)) throw new InvalidParameter(`invalid IPC mode: ${ipc}`);
  if (!['', 'private', 'shareable'].includes(ipc)) refuse('IpcMode', '--ipc', `only a private IPC namespace ("private" or "shareable"), not "${ipc}"`);
  const pid = text(hc.PidMode);
  if (pid !== '' && pid !== 'host' && !/^container:./.test(pid)) throw new InvalidParameter(`invalid PID mode: ${pid}`);
  if (pid !== '') refuse('PidMode', '--pid', `only a private PID namespace, not "${pid}"`);
  const uts = text(hc.UTSMode);
  if (uts !== '' && uts !== 'host') throw new InvalidParameter(`invalid UTS mode: ${uts}`);
  if (uts !== '') refuse('UTSMode', '--uts', 'only a private UTS namespace, not "host"');
  const userns = text(hc.UsernsMode);
  // berth never remaps users, so "host" is what every container gets.
  if (userns !== '' && userns !== 'host') refuse('UsernsMode', '--userns', `only the host's user namespace, not "${userns}"`);
  const cgroupns = text(hc.CgroupnsMode);
  if (!['', 'host', 'private'].includes(cgroupns)) throw new InvalidParameter(`invalid cgroup namespace mode: ${cgroupns}`);

  for (const k of Object.keys((hc.Annotations as Json | null) ?? {})) {
    if (k === '') throw new InvalidParameter('invalid Annotations: the empty string is not permitted as an annotation key');
  }

  // Capabilities and security options.
  try {
    normalizeCapabilities(list(hc.CapAdd), host.capabilities);
  } catch (e) {
    throw new InvalidParameter(`invalid CapAdd: ${(e as Error).message}`);
  }
  try {
    normalizeCapabilities(list(hc.CapDrop), host.capabilities);
  } catch (e) {
    throw new InvalidParameter(`invalid CapDrop: ${(e as Error).message}`);
  }
  parseSecurityOpt(list(hc.SecurityOpt), hc.Privileged === true);

  const oomScoreAdj = num(hc.OomScoreAdj);
  if (oomScoreAdj < -1000 || oomScoreAdj > 1000) throw new InvalidParameter(`Invalid value ${oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  if (oomScoreAdj < host.oomScoreAdj && !host.capabilities.includes('CAP_SYS_RESOURCE')) {
    throw new InvalidParameter(
      `HostConfig.OomScoreAdj (--oom-score-adj) ${oomScoreAdj} is below berthd's own (${host.oomScoreAdj}), which needs CAP_SYS_RESOURCE that berthd does not have`,
    );
  }
  const shm = num(hc.ShmSize);
  if (shm < 0) throw new InvalidParameter('SHM size can not be less than 0');
  if (shm === 0) hc.ShmSize = 64 * 1024 * 1024;

  // Memory (dockerd's verifyPlatformContainerResources, refusing instead of discarding).
  const c = host.controllers;
  const minMemory = 6 * 1024 * 1024;
  const memory = num(hc.Memory);
  if (memory !== 0 && memory < minMemory) throw new InvalidParameter('Minimum memory limit allowed is 6MB');
  if (memory > 0 && !c.memory) refuse('Memory', '--memory', 'this host has no memory cgroup controller');
  let swap = num(hc.MemorySwap);
  if (memory > 0 && swap === 0) swap = memory * 2; // dockerd's default: as much swap as memory
  if (memory > 0 && swap > 0 && swap < memory) throw new InvalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0) throw new InvalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (memory > 0 && swap > 0 && !c.swap) {
    if (num(input.MemorySwap) > 0) refuse('MemorySwap', '--memory-swap', 'this host has no swap accounting in its memory cgroup');
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    swap = -1;
  }
  hc.MemorySwap = swap;
  const swappiness = hc.MemorySwappiness;
  if (typeof swappiness === 'number' && swappiness !== -1) {
    if (swappiness < 0 || swappiness > 100) throw new InvalidParameter(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
    if (!c.swappiness) refuse('MemorySwappiness', '--memory-swappiness', 'this host\'s memory cgroup has no swappiness setting');
  } else {
    hc.MemorySwappiness = null;
  }
  const reservation = num(hc.MemoryReservation);
  if (reservation > 0 && !c.memory) refuse('MemoryReservation', '--memory-reservation', 'this host has no memory cgroup controller');
  if (reservation > 0 && reservation < minMemory) throw new InvalidParameter('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw new InvalidParameter('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (hc.OomKillDisable === true) {
    if (!c.memory || host.cgroup2) refuse('OomKillDisable', '--oom-kill-disable', 'this host\'s memory cgroup cannot disable the OOM killer');
    if (memory === 0) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  } else {
    hc.OomKillDisable = false;
  }
  const pids = hc.PidsLimit;
  if (typeof pids === 'number' && pids > 0) {
    if (!c.pids) refuse('PidsLimit', '--pids-limit', 'this host has no pids cgroup controller');
  } else {
    hc.PidsLimit = null; // 0 and negative values mean unlimited
  }

  // CPU.
  const nano = num(hc.NanoCpus);
  const period = num(hc.CpuPeriod);
  const quota = num(hc.CpuQuota);
  if (nano > 0 && period > 0) throw new InvalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw new InvalidParameter('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0 && !c.cpuCfs) throw new InvalidParameter('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  if (nano < 0 || nano > host.cpus * 1e9) {
    throw new InvalidParameter(`Range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`);
  }
  const shares = num(hc.CpuShares);
  if (shares < 0) throw new InvalidParameter(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (shares > 0 && !c.cpuShares) refuse('CpuShares', '--cpu-shares', 'this host has no cpu cgroup controller');
  if ((period !== 0 || quota !== 0) && !c.cpuCfs) refuse(period !== 0 ? 'CpuPeriod' : 'CpuQuota', period !== 0 ? '--cpu-period' : '--cpu-quota', 'this host has no CPU CFS scheduler cgroup');
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw new InvalidParameter('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (quota > 0 && quota < 1000) throw new InvalidParameter('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  for (const [field, flag, what, available] of [
    ['CpusetCpus', '--cpuset-cpus', 'cpus', host.cpusetCpus],
    ['CpusetMems', '--cpuset-mems', 'mems', host.cpusetMems],
  ] as const) {
    const value = text(hc[field]);
    if (value === '') continue;
    if (!c.cpuset) refuse(field, flag, 'this host has no cpuset cgroup controller');
    const wanted = parseCpuList(value);
    if (!wanted) throw new InvalidParameter(`Invalid value ${value} for cpuset ${what}: invalid format: ${value}`);
    if ([...wanted].some((n) => !available.has(n))) {
      throw new InvalidParameter(`Requested ${what === 'cpus' ? 'CPUs' : 'memory nodes'} are not available - requested ${value}, available: ${formatCpuList(available)}`);
    }
  }
  return { hostConfig: hc, warnings };
}

function formatCpuList(set: ReadonlySet<number>): string {
  const sorted = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** dockerd's getMemoryResources / getCPUResources / getPidsLimit for a checked HostConfig. */
export function specResources(hc: Json): Omit<OciResources, 'devices'> {
  const out: Omit<OciResources, 'devices'> = {};
  const memory: NonNullable<OciResources['memory']> = {};
  if (num(hc.Memory) > 0) memory.limit = num(hc.Memory);
  if (num(hc.MemoryReservation) > 0) memory.reservation = num(hc.MemoryReservation);
  if (num(hc.MemorySwap) > 0) memory.swap = num(hc.MemorySwap);
  if (typeof hc.MemorySwappiness === 'number' && hc.MemorySwappiness >= 0) memory.swappiness = hc.MemorySwappiness;
  if (hc.OomKillDisable === true) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) out.memory = memory;
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (num(hc.CpuShares) > 0) cpu.shares = num(hc.CpuShares);
  if (text(hc.CpusetCpus) !== '') cpu.cpus = text(hc.CpusetCpus);
  if (text(hc.CpusetMems) !== '') cpu.mems = text(hc.CpusetMems);
  if (num(hc.NanoCpus) > 0) {
    cpu.period = 100_000;
    cpu.quota = Math.floor((num(hc.NanoCpus) * 100_000) / 1e9);
  }
  if (num(hc.CpuPeriod) !== 0) cpu.period = num(hc.CpuPeriod);
  if (num(hc.CpuQuota) !== 0) cpu.quota = num(hc.CpuQuota);
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (typeof hc.PidsLimit === 'number' && hc.PidsLimit > 0) out.pids = { limit: hc.PidsLimit };
  return out;
}

/**
 * The seccomp profile a container runs under, as dockerd picks it: none when
 * privileged or unconfined, the default file for "builtin", the container's
 * own profile, else the daemon's default.
 */
function seccompProfileFor(security: SecurityOptions, privileged: boolean, host: HostFacts): SeccompProfile | undefined {
  if (privileged || security.seccomp === 'unconfined') return undefined;
  if (security.seccomp === 'builtin') return builtinSeccompProfile();
  if (security.seccomp) return security.seccomp;
  if (host.seccompProfile === 'unconfined') return undefined;
  return host.seccompProfile === 'builtin' ? builtinSeccompProfile() : loadDefaultSeccompProfile(host.seccompProfile);
}

/** The OCI spec settings a stored (checked) HostConfig asks for. */
export function specOptions(hc: Json, host: HostFacts): Pick<
  SpecInput,
  'privileged' | 'capAdd' | 'capDrop' | 'availableCapabilities' | 'noNewPrivileges' | 'seccomp' | 'oomScoreAdj' | 'resources' | 'shmSize' | 'maskedPaths' | 'readonlyPaths' | 'cgroupns' | 'devices' | 'annotations'
> {
  const privileged = hc.Privileged === true;
  const devices: OciDevice[] = privileged ? hostDevices() : [];
  const cgroupns = text(hc.CgroupnsMode);
  const annotations = (hc.Annotations as Record<string, string> | null | undefined) ?? undefined;
  const security = parseSecurityOpt(list(hc.SecurityOpt), privileged);
  const seccomp = seccompProfileFor(security, privileged, host);
  return {
    privileged,
    capAdd: list(hc.CapAdd),
    capDrop: list(hc.CapDrop),
    availableCapabilities: host.capabilities,
    noNewPrivileges: security.noNewPrivileges,
    ...(seccomp ? { seccomp } : {}),
    oomScoreAdj: num(hc.OomScoreAdj),
    resources: specResources(hc),
    shmSize: num(hc.ShmSize) > 0 ? num(hc.ShmSize) : undefined,
    maskedPaths: Array.isArray(hc.MaskedPaths) ? list(hc.MaskedPaths) : undefined,
    readonlyPaths: Array.isArray(hc.ReadonlyPaths) ? list(hc.ReadonlyPaths) : undefined,
    cgroupns: cgroupns === 'host' || cgroupns === 'private' ? cgroupns : undefined,
    devices,
    annotations: annotations && Object.keys(annotations).length > 0 ? { ...annotations } : undefined,
  };
}
