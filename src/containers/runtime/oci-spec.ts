// OCI runtime-spec (1.0.2) config.json generation for Linux containers, with
// the defaults Docker (moby's oci package plus the daemon's spec options)
// applies, and Docker's way of resolving `--user` against the image's
// /etc/passwd and /etc/group.
//
// Deliberate differences from Docker, and why:
//  - no `process.rlimits`: setting RLIMIT_NOFILE etc. above the current hard
//    limit needs CAP_SYS_RESOURCE, which berth's hosts may lack; the container
//    inherits the runtime's limits instead.
//  - no AppArmor/SELinux labels (Docker sets them only when the host has the
//    LSM enabled and its profile loaded).
//  - capabilities come from the set the daemon itself holds (Docker's
//    GetAllCapabilities does the same): a cap runc cannot grant fails the start.
import { existsSync, readFileSync, readdirSync, writeFileSync, renameSync, lstatSync, readlinkSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join, posix } from 'node:path';
import { InvalidParameter, NotFound } from '../../errors.js';
import { ociSeccomp, type OciSeccomp, type SeccompProfile } from './seccomp.js';

export const OCI_VERSION = '1.0.2';
export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's default capability set (moby oci/caps DefaultCapabilities). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every capability of Linux 5.9+, for `capAdd: ['ALL']`. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

/** Paths hidden from the container (a /dev/null bind over files, an empty ro tmpfs over dirs). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

// ---------------------------------------------------------------------------
// Types (the subset of the runtime-spec that berth writes)

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface OciProcess {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities: OciCapabilities;
  noNewPrivileges: boolean;
  oomScoreAdj: number;
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access: string;
}

export interface OciNamespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  path?: string;
}

/** The cgroup limits berth sets (runtime-spec linux.resources). */
export interface OciResources {
  devices: OciDeviceRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  linux: {
    namespaces: OciNamespace[];
    maskedPaths: string[];
    readonlyPaths: string[];
    devices: OciDevice[];
    resources: OciResources;
    cgroupsPath?: string;
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
  };
  annotations?: Record<string, string>;
}

/** A resolved user, as `resolveUser` returns it. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** Home directory from passwd ("/" when the user has no entry). */
  home: string;
}

/** A mount the caller asks for (volumes, binds, tmpfs), in Docker's terms. */
export type MountInput =
  | {
      type: 'bind';
      source: string;
      destination: string;
      readonly?: boolean;
      /** rbind (default) or a plain bind (Docker's bind-recursive=disabled). */
      recursive?: boolean;
      /** Default 'rprivate', as Docker. */
      propagation?: 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';
    }
  | {
      type: 'tmpfs';
      destination: string;
      /** Bytes, or a mount(8) size string such as "64m". */
      size?: number | string;
      /** File mode of the tmpfs root, e.g. 0o1777. */
      mode?: number;
      readonly?: boolean;
      /** Extra tmpfs options ("exec", "uid=1000", ...); they override the defaults. */
      options?: string[];
    }
  | { type: 'raw'; mount: OciMount };

export type NetworkMode = 'none' | 'host' | 'private';

export interface SpecInput {
  /** Absolute path of the root filesystem (an overlay mount, a directory). */
  rootfs: string;
  args: string[];
  /** KEY=VALUE entries from the image config and `-e`; they override the defaults. */
  env?: string[];
  /** Working directory inside the container; default "/". */
  cwd?: string;
  /** Resolved user (see resolveUser); default root. */
  user?: ResolvedUser | OciUser;
  tty?: boolean;
  consoleSize?: { height: number; width: number };
  readonlyRootfs?: boolean;
  /** Default 'private': a new network namespace with only loopback (runc brings lo up). */
  networkMode?: NetworkMode;
  /** Joins this network namespace (--network container:<id>: the other container's /proc/PID/ns/net) instead of a new one. */
  networkNamespacePath?: string;
  /** Container hostname; with network 'host' it defaults to the host's name. */
  hostname?: string;
  mounts?: MountInput[];
  /** Host files bind-mounted over /etc/hostname, /etc/hosts and /etc/resolv.conf. */
  etcFiles?: { hostname?: string; hosts?: string; resolvConf?: string };
  /** e.g. "/berth/<id>"; omitted means runc's default (the container id). */
  cgroupsPath?: string;
  /**
   * 'private' adds a cgroup namespace. Default as Docker: private on a pure
   * cgroup v2 host, host (no namespace) on cgroup v1 / hybrid hosts.
   */
  cgroupns?: 'private' | 'host';
  /** Size of the private /dev/shm in bytes; default 64 MiB. */
  shmSize?: number;
  capAdd?: string[];
  capDrop?: string[];
  /** Capabilities the runtime can grant (default every one); privileged and `ALL` mean these. */
  availableCapabilities?: readonly string[];
  /**
   * Docker's --privileged: every available capability, no masked or
   * read-only paths, writable /sys, the host's devices (see hostDevices) and
   * a device cgroup that allows everything.
   */
  privileged?: boolean;
  /** Devices to create in the container in addition to the defaults (privileged: the host's). */
  devices?: OciDevice[];
  /** process.noNewPrivileges (Docker's default: false). */
  noNewPrivileges?: boolean;
  /** process.oomScoreAdj; default 0. */
  oomScoreAdj?: number;
  /** Cgroup limits (memory, cpu, pids); the device rules are berth's own. */
  resources?: Omit<OciResources, 'devices'>;
  /** Replace the default masked / read-only paths (Docker's MaskedPaths, ReadonlyPaths, systempaths=unconfined). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** Docker's sysctls for private networks (unprivileged ports, ping); default true. */
  networkSysctls?: boolean;
  /** A seccomp profile (Docker's format), filtered for this container's capabilities and this machine; none: unconfined. */
  seccomp?: SeccompProfile;
  annotations?: Record<string, string>;
}

// ---------------------------------------------------------------------------
// Spec

/** Docker's default devices: runc creates these, listed explicitly for clarity. */
function defaultDevices(): OciDevice[] {
  const dev = (path: string, major: number, minor: number): OciDevice => ({
    path,
    type: 'c',
    major,
    minor,
    fileMode: 0o666,
    uid: 0,
    gid: 0,
  });
  // /dev/console is bind-mounted by the runtime over the container's pty when
  // process.terminal is true; /dev/ptmx links to the container's devpts.
  return [
    dev('/dev/null', 1, 3),
    dev('/dev/zero', 1, 5),
    dev('/dev/full', 1, 7),
    dev('/dev/random', 1, 8),
    dev('/dev/urandom', 1, 9),
    dev('/dev/tty', 5, 0),
  ];
}

/** The defaults, then the extra devices; an extra one at the same path replaces the default. */
function mergeDevices(defaults: OciDevice[], extra: OciDevice[]): OciDevice[] {
  const paths = new Set(extra.map((d) => d.path));
  return [...defaults.filter((d) => !paths.has(d.path)), ...extra.map((d) => ({ ...d }))];
}

/**
 * The host's device nodes as a privileged Docker container gets them (runc's
 * HostDevices): everything under /dev except pts, shm, fd, mqueue, console
 * and FIFOs, with the host's modes and owners.
 */
export function hostDevices(root = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(dir, name);
      let st;
      try {
        st = lstatSync(path, { bigint: true });
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (!['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(name)) walk(path);
        continue;
      }
      if (name === 'console') continue;
      const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : null;
      if (!type) continue;
      const rdev = st.rdev;
      // Linux's dev_t encoding (glibc gnu_dev_major / gnu_dev_minor).
      const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      out.push({ path, type, major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) });
    }
  };
  walk(root);
  return out;
}

/** Docker's default device cgroup rules: deny all, then allow the standard character devices. */
function defaultDeviceRules(): OciDeviceRule[] {
  const allowC = (major: number, minor: number): OciDeviceRule => ({ allow: true, type: 'c', major, minor, access: 'rwm' });
  return [
    { allow: false, access: 'rwm' },
    allowC(1, 5), // zero
    allowC(1, 3), // null
    allowC(1, 9), // urandom
    allowC(1, 8), // random
    allowC(5, 0), // tty
    allowC(5, 1), // console
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // fuse
  ];
}

function defaultMounts(shmSize: number): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${Math.floor(shmSize / 1024)}k`],
    },
  ];
}

/** True when /sys/fs/cgroup is a pure cgroup v2 (unified) hierarchy. */
export function isCgroup2UnifiedHost(): boolean {
  return existsSync('/sys/fs/cgroup/cgroup.controllers');
}

function normalizeCap(name: string): string {
  const upper = name.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/**
 * CapAdd/CapDrop names as Docker accepts them (any case, with or without
 * CAP_, or ALL), refusing what the kernel does not know or the runtime
 * cannot grant with Docker's messages.
 */
export function normalizeCapabilities(names: readonly string[], available: readonly string[] = ALL_CAPABILITIES): string[] {
  return names.map((n) => {
    const c = normalizeCap(n);
    if (c === 'ALL') return c;
    if (!ALL_CAPABILITIES.includes(c)) throw new InvalidParameter(`unknown capability: "${c}"`);
    if (!available.includes(c)) {
      throw new InvalidParameter(`capability not supported by your kernel or not available in the current environment: "${c}"`);
    }
    return c;
  });
}

/** Docker's TweakCapabilities: ALL in CapAdd wins over drops of single caps; ALL in CapDrop keeps only CapAdd. */
export function capabilitySet(add: readonly string[] = [], drop: readonly string[] = [], opts: { privileged?: boolean; available?: readonly string[] } = {}): string[] {
  const available = opts.available ?? ALL_CAPABILITIES;
  const all = ALL_CAPABILITIES.filter((c) => available.includes(c));
  if (opts.privileged) return all;
  if (add.length === 0 && drop.length === 0) return [...DEFAULT_CAPABILITIES];
  const drops = normalizeCapabilities(drop, available);
  const adds = normalizeCapabilities(add, available);
  let caps: string[];
  if (adds.includes('ALL')) caps = all.filter((c) => !drops.includes(c));
  else if (drops.includes('ALL')) caps = [...adds];
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds];
  return [...new Set(caps)];
}

/** Docker's env assembly: PATH, HOSTNAME, TERM (tty) first, then the container's env replacing or appending. */
export function buildEnv(hostname: string, tty: boolean, env: string[] = []): string[] {
  const out: string[] = [`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${hostname}`];
  if (tty) out.push('TERM=xterm');
  for (const kv of env) {
    const eq = kv.indexOf('=');
    const key = eq === -1 ? kv : kv.slice(0, eq);
    if (eq === -1) {
      // Docker drops bare "KEY" entries whose value it could not resolve.
      continue;
    }
    const idx = out.findIndex((e) => e.slice(0, e.indexOf('=') === -1 ? e.length : e.indexOf('=')) === key);
    if (idx === -1) out.push(kv);
    else out[idx] = kv;
  }
  return out;
}

/** Merges mount flag options: a later option overrides an earlier conflicting one. */
function mergeOptions(base: string[], extra: string[]): string[] {
  const opposite: Record<string, string> = {
    ro: 'rw', rw: 'ro', exec: 'noexec', noexec: 'exec', suid: 'nosuid', nosuid: 'suid', dev: 'nodev', nodev: 'dev',
    atime: 'noatime', noatime: 'atime',
  };
  const out = [...base];
  for (const opt of extra) {
    if (!opt) continue;
    const eq = opt.indexOf('=');
    if (eq !== -1) {
      const key = opt.slice(0, eq + 1);
      const i = out.findIndex((o) => o.startsWith(key));
      if (i === -1) out.push(opt);
      else out[i] = opt;
      continue;
    }
    const opp = opposite[opt];
    const i = opp === undefined ? -1 : out.indexOf(opp);
    if (i !== -1) out.splice(i, 1);
    if (!out.includes(opt)) out.push(opt);
  }
  return out;
}

function toOciMount(m: MountInput): OciMount {
  if (m.type === 'raw') return { ...m.mount, options: m.mount.options ? [...m.mount.options] : undefined };
  if (!posix.isAbsolute(m.destination)) {
    throw new InvalidParameter(`invalid mount config: mount path must be absolute: ${m.destination}`);
  }
  if (m.type === 'bind') {
    if (!posix.isAbsolute(m.source)) {
      throw new InvalidParameter(`invalid mount config: bind source path must be absolute: ${m.source}`);
    }
    const options = [m.recursive === false ? 'bind' : 'rbind'];
    if (m.readonly) options.push('ro');
    options.push(m.propagation ?? 'rprivate');
    return { destination: m.destination, type: 'bind', source: m.source, options };
  }
  let options = ['noexec', 'nosuid', 'nodev'];
  const extra: string[] = [];
  if (m.size !== undefined) extra.push(`size=${typeof m.size === 'number' ? `${Math.floor(m.size / 1024)}k` : m.size}`);
  if (m.mode !== undefined) extra.push(`mode=${m.mode.toString(8)}`);
  if (m.readonly) extra.push('ro');
  extra.push(...(m.options ?? []));
  options = mergeOptions(options, extra);
  return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options };
}

function pathDepth(p: string): number {
  return posix.normalize(p).split('/').filter(Boolean).length;
}

/** Builds a config.json object for `runc run` the way Docker does for Linux containers. */
export function buildSpec(input: SpecInput): OciSpec {
  if (!input.args || input.args.length === 0) {
    throw new InvalidParameter('no command specified');
  }
  if (!posix.isAbsolute(input.rootfs)) throw new InvalidParameter(`rootfs path must be absolute: ${input.rootfs}`);
  const networkMode: NetworkMode = input.networkMode ?? 'private';
  const tty = input.tty ?? false;
  const readonlyRootfs = input.readonlyRootfs ?? false;
  const hostname = input.hostname ?? (networkMode === 'host' ? osHostname() : '');
  const cwd = input.cwd && input.cwd !== '' ? input.cwd : '/';
  if (!posix.isAbsolute(cwd)) {
    throw new InvalidParameter(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  }
  const user = input.user ?? { uid: 0, gid: 0, additionalGids: [] };
  const privileged = input.privileged === true;
  const caps = capabilitySet(input.capAdd, input.capDrop, { privileged, available: input.availableCapabilities });

  const process: OciProcess = {
    terminal: tty,
    user: {
      uid: user.uid,
      gid: user.gid,
      ...(user.additionalGids && user.additionalGids.length > 0 ? { additionalGids: [...user.additionalGids] } : {}),
    },
    args: [...input.args],
    env: buildEnv(hostname, tty, input.env),
    cwd,
    capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
    noNewPrivileges: input.noNewPrivileges === true,
    oomScoreAdj: input.oomScoreAdj ?? 0,
  };
  if (tty && input.consoleSize) process.consoleSize = { ...input.consoleSize };

  // User mounts (and the /etc files) sorted by destination depth, as Docker.
  const userMounts: OciMount[] = (input.mounts ?? []).map(toOciMount);
  const etc = input.etcFiles ?? {};
  const etcBinds: Array<[string | undefined, string]> = [
    [etc.hostname, '/etc/hostname'],
    [etc.hosts, '/etc/hosts'],
    [etc.resolvConf, '/etc/resolv.conf'],
  ];
  for (const [src, dst] of etcBinds) {
    if (!src) continue;
    if (userMounts.some((m) => m.destination === dst)) continue; // a user mount wins
    const options = ['rbind', 'rprivate'];
    if (readonlyRootfs) options.push('ro');
    userMounts.push({ destination: dst, type: 'bind', source: src, options });
  }
  const sortedUser = userMounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => pathDepth(a.m.destination) - pathDepth(b.m.destination) || a.i - b.i)
    .map((x) => x.m);
  const userDests = new Set(sortedUser.map((m) => posix.normalize(m.destination)));
  const mountsDev = userDests.has('/dev');
  const defaults = defaultMounts(input.shmSize ?? 64 * 1024 * 1024).filter((m) => {
    if (userDests.has(m.destination)) return false;
    if (mountsDev && m.destination.startsWith('/dev/')) return false;
    return true;
  });
  if (privileged) {
    // Docker: a privileged container gets /sys and its cgroups writable.
    for (const m of defaults) {
      if (m.destination === '/sys' || m.destination === '/sys/fs/cgroup') m.options = (m.options ?? []).filter((o) => o !== 'ro');
    }
  }
  if (readonlyRootfs) {
    for (const m of defaults) {
      if (['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue'].includes(m.destination)) continue;
      if (!m.options?.includes('ro')) m.options = [...(m.options ?? []), 'ro'];
    }
  }

  const namespaces: OciNamespace[] = [{ type: 'mount' }];
  if (networkMode !== 'host') namespaces.push(input.networkNamespacePath ? { type: 'network', path: input.networkNamespacePath } : { type: 'network' });
  namespaces.push({ type: 'uts' }, { type: 'pid' }, { type: 'ipc' });
  const cgroupns = input.cgroupns ?? (isCgroup2UnifiedHost() ? 'private' : 'host');
  if (cgroupns === 'private' && existsSync('/proc/self/ns/cgroup')) namespaces.push({ type: 'cgroup' });

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process,
    root: { path: input.rootfs, readonly: readonlyRootfs },
    hostname,
    mounts: [...defaults, ...sortedUser],
    linux: {
      namespaces,
      maskedPaths: privileged ? [] : [...(input.maskedPaths ?? DEFAULT_MASKED_PATHS)],
      readonlyPaths: privileged ? [] : [...(input.readonlyPaths ?? DEFAULT_READONLY_PATHS)],
      devices: mergeDevices(defaultDevices(), input.devices ?? []),
      resources: {
        // A privileged container may use every device, as with Docker.
        devices: privileged ? [{ allow: true, access: 'rwm' }] : defaultDeviceRules(),
        ...structuredClone(input.resources ?? {}),
      },
    },
  };
  if (input.cgroupsPath) spec.linux.cgroupsPath = input.cgroupsPath;
  if (networkMode !== 'host' && (input.networkSysctls ?? true)) {
    // Docker (20.10+) for non-host networks: any port bindable and ping usable
    // without capabilities; these sysctls are per network namespace.
    spec.linux.sysctl = {
      'net.ipv4.ip_unprivileged_port_start': '0',
      'net.ipv4.ping_group_range': '0 2147483647',
    };
  }
  if (input.seccomp) spec.linux.seccomp = ociSeccomp(input.seccomp, { capabilities: caps });
  if (input.annotations) spec.annotations = { ...input.annotations };
  return spec;
}

/** Writes `<bundleDir>/config.json` atomically. */
export function writeSpec(bundleDir: string, spec: OciSpec | object): string {
  const path = join(bundleDir, 'config.json');
  const tmp = `${path}.tmp-${process.pid}`;
  // The spec carries the container's environment: owner only.
  writeFileSync(tmp, JSON.stringify(spec, null, 2), { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

/** The cgroups path berth gives a container (cgroupfs driver). */
export function defaultCgroupsPath(id: string): string {
  return `/berth/${id}`;
}

// ---------------------------------------------------------------------------
// User resolution (the semantics of Docker's `--user`, moby/sys/user GetExecUser)

const MAX_ID = 2 ** 31 - 1;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * Resolves `path` (absolute, inside the container) against `root` the way the
 * container would see it: symlinks are followed but never escape `root`.
 */
export function resolveInRoot(root: string, path: string): string {
  const parts = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = join(root, ...done, part);
    let st;
    try {
      st = lstatSync(candidate);
    } catch {
      done.push(part);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 255) throw new InvalidParameter(`too many levels of symbolic links resolving ${path}`);
      const target = readlinkSync(candidate);
      const rest = target.split('/').filter(Boolean);
      if (target.startsWith('/')) done.length = 0;
      parts.unshift(...rest);
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

function readRootFile(rootfs: string, path: string): string | null {
  try {
    return readFileSync(resolveInRoot(rootfs, path), 'utf8');
  } catch {
    return null;
  }
}

function parseIntStrict(s: string): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = parseIntStrict(f[2] ?? '');
    const gid = parseIntStrict(f[3] ?? '');
    out.push({ name: f[0] ?? '', uid: uid ?? -1, gid: gid ?? -1, home: f[5] ?? '' });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = parseIntStrict(f[2] ?? '');
    const members = (f[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    out.push({ name: f[0] ?? '', gid: gid ?? -1, members });
  }
  return out;
}

/**
 * Resolves a Docker `--user` value (`name`, `uid`, `name:group`, `uid:gid`,
 * ...) against the rootfs's /etc/passwd and /etc/group. Empty means root.
 * `groupAdd` is `--group-add` (names or numeric gids).
 */
export function resolveUser(rootfs: string, userSpec: string | undefined, groupAdd: string[] = []): ResolvedUser {
  const spec = (userSpec ?? '').trim();
  const colon = spec.indexOf(':');
  const userArg = colon === -1 ? spec : spec.slice(0, colon);
  const groupArg = colon === -1 ? '' : spec.slice(colon + 1);
  const passwdText = readRootFile(rootfs, '/etc/passwd');
  const groupText = readRootFile(rootfs, '/etc/group');
  const passwd = passwdText === null ? [] : parsePasswd(passwdText);
  const groups = groupText === null ? [] : parseGroup(groupText);
  const uidArg = parseIntStrict(userArg);
  const gidArg = parseIntStrict(groupArg);

  const user: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  const match = passwd.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== null ? u.uid === uidArg : u.name === userArg));
  let matchedName = '';
  if (match) {
    matchedName = match.name;
    user.uid = match.uid;
    user.gid = match.gid;
    user.home = match.home || '/';
  } else if (userArg !== '') {
    if (uidArg === null) {
      throw new NotFound(`unable to find user ${userArg}: no matching entries in passwd file`);
    }
    if (uidArg > MAX_ID) throw new InvalidParameter(`uids and gids must be in range 0-${MAX_ID}`);
    user.uid = uidArg;
  }

  if (groupArg !== '') {
    const g = groups.find((x) => (gidArg !== null ? x.gid === gidArg : x.name === groupArg));
    if (g) user.gid = g.gid;
    else if (gidArg === null) throw new NotFound(`unable to find group ${groupArg}: no matching entries in group file`);
    else if (gidArg > MAX_ID) throw new InvalidParameter(`uids and gids must be in range 0-${MAX_ID}`);
    else user.gid = gidArg;
  } else if (matchedName !== '') {
    // Supplementary groups: every group listing the user as a member.
    for (const g of groups) {
      if (g.members.includes(matchedName) && !user.additionalGids.includes(g.gid)) user.additionalGids.push(g.gid);
    }
  }

  for (const add of groupAdd) {
    const n = parseIntStrict(add);
    let gid: number;
    if (n !== null) gid = n;
    else {
      const g = groups.find((x) => x.name === add);
      if (!g) throw new NotFound(`unable to find group ${add}: no matching entries in group file`);
      gid = g.gid;
    }
    if (!user.additionalGids.includes(gid)) user.additionalGids.push(gid);
  }
  return user;
}
