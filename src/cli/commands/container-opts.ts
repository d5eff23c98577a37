// `berth run` / `berth create` flags → the POST /containers/create body,
// field for field as docker CLI 28.2 builds it (cli/command/container/opts.go
// parse(), then runRun's environment round trip). Pure: the process
// environment, working directory and file reader are parameters.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseMountFlag, splitVolumeSpec } from './mount-flags.js';
import type { ApiMount } from '../../api/types/index.js';
import type { ApiContainerCreateBody, ApiEndpointSettings, ApiRestartPolicy } from '../../api/types/index.js';
import { newDict } from '../../util/dict.js';
import { ramInBytes } from '../../go/units.js';
import { goPathError } from '../../util/go-errno.js';

/** The flags of run/create, as commander hands them over. */
export interface ContainerFlags {
  name?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  volume?: string[];
  mount?: string[];
  tmpfs?: string[];
  volumesFrom?: string[];
  volumeDriver?: string;
  readOnly?: boolean;
  rm?: boolean;
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  network?: string[];
  networkAlias?: string[];
  ip?: string;
  ip6?: string;
  macAddress?: string;
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  addHost?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  label?: string[];
  labelFile?: string[];
  logDriver?: string;
  logOpt?: string[];
  hostname?: string;
  domainname?: string;
  stopSignal?: string;
  stopTimeout?: string;
  restart?: string;
  attach?: string[];
  privileged?: boolean;
  init?: boolean;
  // Security and resources: passed through as the docker CLI sends them; berthd honours or refuses each.
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  groupAdd?: string[];
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
  pidsLimit?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  shmSize?: string;
  ipc?: string;
  pid?: string;
  uts?: string;
  userns?: string;
  cgroupns?: string;
  cgroupParent?: string;
}

/** A flag whose value pflag itself rejects: `invalid argument "v" for "-e, --env" flag: ...`. */
export class FlagValueError extends Error {
  constructor(
    readonly flag: string,
    readonly value: string,
    readonly detail: string,
  ) {
    super(`invalid argument "${value}" for "${flag}" flag: ${detail}`);
  }
}

/** An error from docker's parse(): printed as `docker: <msg>` + the --help hint, exit 125. */
export class ContainerParseError extends Error {}

export interface BuildContext {
  /** For `-v ./x:/y`, `--mount src=./x` and relative --env-file paths. */
  cwd: string;
  /** Where `-e KEY` and env-file `KEY` lines look their value up. */
  env: NodeJS.ProcessEnv;
  /** `run` applies -d to the Attach fields; `create` does not. */
  command?: 'run' | 'create';
  /** [height, width] of the CLI's terminal, [0, 0] when stdout is not one. */
  consoleSize?: [number, number];
  readFile?: (path: string) => string;
  onWarning?: (msg: string) => void;
}

export interface CreateRequest {
  /** `?name=` when --name was given. */
  name?: string;
  body: ApiContainerCreateBody;
}

function emptyEndpoint(): ApiEndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

// ---------------------------------------------------------------------------
// Flag validators (pflag time)

/** opts.ValidateEnv: `KEY` alone takes the CLI's value when it has one. */
export function validateEnv(val: string, env: NodeJS.ProcessEnv): string {
  const eq = val.indexOf('=');
  const key = eq < 0 ? val : val.slice(0, eq);
  if (key === '') throw new FlagValueError('-e, --env', val, `invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  const v = env[key];
  return v !== undefined ? `${key}=${v}` : val;
}

/** opts.ValidateLabel. */
function validateLabel(val: string): string {
  const key = val.split('=', 1)[0]!;
  if (key.trim() === '') throw new FlagValueError('-l, --label', val, `invalid label '${val}': empty name`);
  return val;
}

/** validateAttach: stdin/stdout/stderr in any case. */
export function validateAttach(val: string): string {
  const s = val.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw new FlagValueError('-a, --attach', val, 'valid streams are STDIN, STDOUT and STDERR');
}

/** pflag's Int64Var / IntVar parsing: `strconv.ParseInt: parsing "x": invalid syntax`. */
/** A pflag integer flag of `bits` bits, 0 when not given. */
export function parseIntValue(flag: string, value: string | undefined, bits: 16 | 32 | 64 = 64): number {
  if (value === undefined) return 0;
  if (!/^[+-]?\d+$/.test(value)) throw new FlagValueError(flag, value, `strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = BigInt(value);
  if (n > 2n ** BigInt(bits - 1) - 1n || n < -(2n ** BigInt(bits - 1))) {
    throw new FlagValueError(flag, value, `strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  }
  return Number(n);
}

/** opts.MemBytes (go-units RAMInBytes). */
export function parseMemBytes(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  try {
    return ramInBytes(value);
  } catch (e) {
    throw new FlagValueError(flag, value, (e as Error).message);
  }
}

/** opts.ParseCPUs: a rational number of CPUs, in units of 1e-9. */
export function parseCpus(value: string): number {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`failed to parse ${value} as a rational number`);
  const frac = m[3] ?? '';
  if (frac.replace(/0+$/, '').length > 9) throw new Error('value is too precise');
  const nano = BigInt(m[2] || '0') * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
  return Number(m[1] === '-' ? -nano : nano);
}

/** The --cpus flag (opts.NanoCPUs): 0 when not given, pflag's error for a bad value. */
export function parseCpusFlag(value: string | undefined): number {
  if (value === undefined) return 0;
  try {
    return parseCpus(value);
  } catch (e) {
    throw new FlagValueError('--cpus', value, (e as Error).message);
  }
}

/** The moby client's normalizeCapabilities: upper case, CAP_ prefix, unique, sorted; null when empty. */
function normalizeCapabilityFlags(caps: string[] | undefined): string[] | null {
  if (!caps || caps.length === 0) return null;
  const out = [...new Set(caps.map((c) => {
    const u = c.toUpperCase();
    return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
  }))];
  return out.sort();
}

/** parseSecurityOpts (a seccomp profile file is sent inline) and parseSystemPaths. */
/** --log-driver and --log-opt key=value (a bare key maps to ""), as the docker CLI sends them. */
function loggingConfig(driver: string | undefined, opts: string[] | undefined): { Type: string; Config: Record<string, string> } {
  const list = opts ?? [];
  if (driver === 'none' && list.length > 0) throw new ContainerParseError('invalid logging opts for driver none');
  const config: Record<string, string> = {};
  for (const o of list) {
    const i = o.indexOf('=');
    if (i < 0) config[o] = '';
    else config[o.slice(0, i)] = o.slice(i + 1);
  }
  return { Type: driver ?? '', Config: config };
}

function securityOpts(opts: string[] | undefined, ctx: BuildContext): { securityOpt: string[] | null; unconfinedPaths: boolean } {
  if (!opts || opts.length === 0) return { securityOpt: null, unconfinedPaths: false };
  const read = ctx.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const out: string[] = [];
  let unconfinedPaths = false;
  for (const opt of opts) {
    let i = opt.indexOf('=');
    if (i < 0 && opt !== 'no-new-privileges') i = opt.indexOf(':');
    const k = i < 0 ? opt : opt.slice(0, i);
    const v = i < 0 ? '' : opt.slice(i + 1);
    if ((i < 0 || v === '') && k !== 'no-new-privileges') throw new ContainerParseError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (opt === 'systempaths=unconfined') {
      unconfinedPaths = true;
      continue;
    }
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let profile: string;
      try {
        profile = read(resolve(ctx.cwd, v));
      } catch (e) {
        throw new ContainerParseError(`opening seccomp profile (${v}) failed: ${goPathError(e, 'open', v)}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(profile);
      } catch (e) {
        throw new ContainerParseError(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
      out.push(`seccomp=${JSON.stringify(parsed)}`);
      continue;
    }
    out.push(opt);
  }
  return { securityOpt: out, unconfinedPaths };
}

// ---------------------------------------------------------------------------
// Files of KEY=VALUE lines (opts.ParseEnvFile / ParseKVFile)

const WHITESPACE = ' \t';

/**
 * parseKeyValueFile: skips blank and `#` lines, trims leading whitespace.
 * With `lookup`, a line without '=' takes its value from the environment or
 * is dropped; without it the bare key is kept.
 */
export function parseKeyValueFile(text: string, filename: string, lookup?: (k: string) => string | undefined): string[] {
  const lines: string[] = [];
  const raw = text.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  raw.forEach((rawLine, i) => {
    let l = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (i === 0 && l.startsWith('\uFEFF')) l = l.slice(1);
    const line = l.replace(/^\s+/u, '');
    if (line.length === 0 || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    let variable = eq < 0 ? line : line.slice(0, eq);
    variable = variable.replace(/^[ \t]+/, '');
    if ([...WHITESPACE].some((c) => variable.includes(c))) {
      throw new ContainerParseError(`invalid env file (${filename}): variable '${variable}' contains whitespaces`);
    }
    if (variable.length === 0) {
      throw new ContainerParseError(`invalid env file (${filename}): no variable name on line '${line}'`);
    }
    if (eq >= 0) {
      lines.push(`${variable}=${line.slice(eq + 1)}`);
    } else if (lookup) {
      const v = lookup(line);
      if (v !== undefined) lines.push(`${variable.trim()}=${v}`);
    } else {
      lines.push(variable);
    }
  });
  return lines;
}

function readKvFiles(files: string[], ctx: BuildContext, lookup?: (k: string) => string | undefined): string[] {
  const read = ctx.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = read(resolve(ctx.cwd, f));
    } catch (e) {
      throw new ContainerParseError(goPathError(e, 'open', f));
    }
    out.push(...parseKeyValueFile(text, f, lookup));
  }
  return out;
}

/**
 * runRun converts the env list to a map and back: later values win and a
 * key without '=' stays bare. Docker's map order is random; berth keeps the
 * first position of each key.
 */
export function dedupeEnv(list: string[]): string[] {
  const order: string[] = [];
  const values = new Map<string, string | undefined>();
  for (const item of list) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (!values.has(key)) order.push(key);
    values.set(key, eq < 0 ? undefined : item.slice(eq + 1));
  }
  return order.map((k) => {
    const v = values.get(k);
    return v === undefined ? k : `${k}=${v}`;
  });
}

/** opts.ParseRestartPolicy. */
export function parseRestartPolicy(policy: string): ApiRestartPolicy | Record<string, never> {
  if (policy === '') return {};
  const colon = policy.indexOf(':');
  const name = colon < 0 ? policy : policy.slice(0, colon);
  const count = colon < 0 ? '' : policy.slice(colon + 1);
  if (colon >= 0 && name === '') throw new ContainerParseError('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw new ContainerParseError('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
  }
  return { Name: name, MaximumRetryCount: max };
}

// ---------------------------------------------------------------------------

/** Builds the create request from the flags, the image and the container command. */
export function buildCreateBody(flags: ContainerFlags, image: string, args: string[], ctx: BuildContext): CreateRequest {
  const lookup = (k: string): string | undefined => ctx.env[k];

  // pflag-time validation, in flag order as docker reports the first bad value.
  const envFlags = (flags.env ?? []).map((e) => validateEnv(e, ctx.env));
  const labelFlags = (flags.label ?? []).map(validateLabel);
  const attach = (flags.attach ?? []).map(validateAttach);
  const mounts: ApiMount[] = (flags.mount ?? []).map((m) => {
    try {
      return parseMountFlag(m, ctx.cwd, ctx.onWarning);
    } catch (e) {
      throw new FlagValueError('--mount', m, (e as Error).message);
    }
  });
  let stopTimeout: number | undefined;
  if (flags.stopTimeout !== undefined) {
    if (!/^[+-]?\d+$/.test(flags.stopTimeout)) {
      throw new FlagValueError('--stop-timeout', flags.stopTimeout, `strconv.ParseInt: parsing "${flags.stopTimeout}": invalid syntax`);
    }
    stopTimeout = Number(flags.stopTimeout);
  }

  const memory = parseMemBytes('-m, --memory', flags.memory);
  const memoryReservation = parseMemBytes('--memory-reservation', flags.memoryReservation);
  const memorySwap = flags.memorySwap === '-1' ? -1 : parseMemBytes('--memory-swap', flags.memorySwap);
  const shmSize = parseMemBytes('--shm-size', flags.shmSize);
  const swappiness = flags.memorySwappiness === undefined ? -1 : parseIntValue('--memory-swappiness', flags.memorySwappiness);
  const oomScoreAdj = parseIntValue('--oom-score-adj', flags.oomScoreAdj);
  const pidsLimit = parseIntValue('--pids-limit', flags.pidsLimit);
  const cpuShares = parseIntValue('-c, --cpu-shares', flags.cpuShares);
  const cpuPeriod = parseIntValue('--cpu-period', flags.cpuPeriod);
  const cpuQuota = parseIntValue('--cpu-quota', flags.cpuQuota);
  const nanoCpus = parseCpusFlag(flags.cpus);

  // parse()
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new ContainerParseError(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  if (flags.interactive) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }

  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const spec of flags.volume ?? []) {
    let target;
    try {
      target = splitVolumeSpec(spec, ctx.cwd);
    } catch (e) {
      throw new ContainerParseError((e as Error).message);
    }
    if (target.field === 'Binds') {
      if (!binds.includes(target.value)) binds.push(target.value);
    } else {
      volumes[target.value] = {};
    }
  }

  const tmpfs: Record<string, string> = {};
  for (const t of flags.tmpfs ?? []) {
    const colon = t.indexOf(':');
    if (colon < 0) tmpfs[t] = '';
    else tmpfs[t.slice(0, colon)] = t.slice(colon + 1);
  }

  let entrypoint: string[] | null = null;
  if (flags.entrypoint !== undefined) entrypoint = [flags.entrypoint];

  const env = dedupeEnv([...readKvFiles(flags.envFile ?? [], ctx, lookup), ...envFlags]);
  const labelList = [...readKvFiles(flags.labelFile ?? [], ctx), ...labelFlags];
  const labels = newDict();
  for (const l of labelList) {
    const eq = l.indexOf('=');
    if (eq < 0) labels[l] = '';
    else labels[l.slice(0, eq)] = l.slice(eq + 1);
  }

  const restartPolicy = parseRestartPolicy(flags.restart ?? 'no');
  const rpName = 'Name' in restartPolicy ? restartPolicy.Name : '';
  if (flags.rm && rpName !== 'no' && rpName !== '') {
    throw new ContainerParseError('conflicting options: cannot specify both --restart and --rm');
  }

  const networks = flags.network ?? [];
  const networkMode = networks[0] ?? 'default';
  const endpoints: Record<string, ApiEndpointSettings> = {};
  if (networks.length === 0) endpoints.default = emptyEndpoint();
  else if (networks.length > 1) {
    for (const n of networks) {
      if (n in endpoints) throw new ContainerParseError(`network "${n}" is specified multiple times`);
      endpoints[n] = emptyEndpoint();
    }
  }
  // --network-alias, --ip, --ip6 and --mac-address go with the (single) network, as the docker CLI's.
  if (flags.networkAlias?.length || flags.ip || flags.ip6 || flags.macAddress) {
    if (networks.length > 1) throw new ContainerParseError('conflicting options: cannot specify --network-alias, --ip, --ip6 or --mac-address with more than one --network');
    const key = networks.length === 0 ? 'default' : networkMode;
    const ep = (endpoints[key] ??= emptyEndpoint());
    if (flags.networkAlias?.length) ep.Aliases = [...flags.networkAlias];
    // EndpointIPAMConfig's fields are omitempty.
    if (flags.ip || flags.ip6) ep.IPAMConfig = { ...(flags.ip ? { IPv4Address: flags.ip } : {}), ...(flags.ip6 ? { IPv6Address: flags.ip6 } : {}) };
    if (flags.macAddress) ep.MacAddress = flags.macAddress;
  }
  const published = parsePublish(flags.publish ?? [], flags.expose ?? []);

  const openStdin = !!flags.interactive;
  let stdinOnce = openStdin && attachStdin;
  if (ctx.command === 'run' && flags.detach) {
    attachStdin = false;
    attachStdout = false;
    attachStderr = false;
    stdinOnce = false;
  }

  const security = securityOpts(flags.securityOpt, ctx);
  const hostConfig: ApiContainerCreateBody['HostConfig'] = {
    Binds: binds.length > 0 ? binds : null,
    ContainerIDFile: '',
    LogConfig: loggingConfig(flags.logDriver, flags.logOpt),
    NetworkMode: networkMode,
    PortBindings: published.bindings,
    RestartPolicy: restartPolicy,
    AutoRemove: !!flags.rm,
    VolumeDriver: flags.volumeDriver ?? '',
    VolumesFrom: flags.volumesFrom && flags.volumesFrom.length > 0 ? flags.volumesFrom : null,
    ConsoleSize: ctx.consoleSize ?? [0, 0],
    CapAdd: normalizeCapabilityFlags(flags.capAdd),
    CapDrop: normalizeCapabilityFlags(flags.capDrop),
    CgroupnsMode: flags.cgroupns ?? '',
    Dns: flags.dns ?? [],
    DnsOptions: flags.dnsOption ?? [],
    DnsSearch: flags.dnsSearch ?? [],
    ExtraHosts: flags.addHost && flags.addHost.length > 0 ? flags.addHost : null,
    GroupAdd: flags.groupAdd && flags.groupAdd.length > 0 ? flags.groupAdd : null,
    IpcMode: flags.ipc ?? '',
    Cgroup: '',
    Links: null,
    OomScoreAdj: oomScoreAdj,
    PidMode: flags.pid ?? '',
    Privileged: !!flags.privileged,
    PublishAllPorts: !!flags.publishAll,
    ReadonlyRootfs: !!flags.readOnly,
    SecurityOpt: security.securityOpt,
  };
  if (Object.keys(tmpfs).length > 0) hostConfig.Tmpfs = tmpfs;
  Object.assign(hostConfig, {
    UTSMode: flags.uts ?? '',
    UsernsMode: flags.userns ?? '',
    ShmSize: shmSize,
    Isolation: '',
    CpuShares: cpuShares,
    Memory: memory,
    NanoCpus: nanoCpus,
    CgroupParent: flags.cgroupParent ?? '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: cpuPeriod,
    CpuQuota: cpuQuota,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: flags.cpusetCpus ?? '',
    CpusetMems: flags.cpusetMems ?? '',
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: memoryReservation,
    MemorySwap: memorySwap,
    MemorySwappiness: swappiness,
    OomKillDisable: !!flags.oomKillDisable,
    PidsLimit: pidsLimit,
    Ulimits: [],
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
  });
  if (mounts.length > 0) hostConfig.Mounts = mounts;
  hostConfig.MaskedPaths = security.unconfinedPaths ? [] : null;
  hostConfig.ReadonlyPaths = security.unconfinedPaths ? [] : null;
  if (flags.init !== undefined) hostConfig.Init = flags.init;

  const body: ApiContainerCreateBody = {
    Hostname: flags.hostname ?? '',
    Domainname: flags.domainname ?? '',
    User: flags.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    Tty: !!flags.tty,
    ...(Object.keys(published.exposed).length > 0 ? { ExposedPorts: published.exposed } : {}),
    OpenStdin: openStdin,
    StdinOnce: stdinOnce,
    Env: env.length > 0 ? env : null,
    Cmd: args.length > 0 ? args : null,
    Image: image,
    Volumes: volumes,
    WorkingDir: flags.workdir ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labels,
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  if (flags.stopSignal !== undefined) body.StopSignal = flags.stopSignal;
  if (stopTimeout !== undefined) body.StopTimeout = stopTimeout;
  // JSON key order as docker's struct: StopSignal/StopTimeout sit before HostConfig.
  const ordered = reorder(body);
  return { name: flags.name, body: ordered };
}

function reorder(body: ApiContainerCreateBody): ApiContainerCreateBody {
  const { HostConfig, NetworkingConfig, ...rest } = body;
  return { ...rest, HostConfig, NetworkingConfig } as ApiContainerCreateBody;
}

/** "a-b" or "a" as a port range. */
function portRange(text: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new ContainerParseError(`invalid ${what}: ${text}`);
  const first = Number(m[1]);
  const last = m[2] !== undefined ? Number(m[2]) : first;
  if (first > 65535 || last > 65535 || last < first) throw new ContainerParseError(`invalid ${what}: ${text}`);
  return [first, last];
}

/**
 * -p and --expose as nat.ParsePortSpecs reads them: [ip:][hostPort:]containerPort[/proto],
 * ranges on both sides, an IPv6 host address in brackets.
 */
export function parsePublish(
  specs: readonly string[],
  expose: readonly string[],
): { bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>; exposed: Record<string, Record<string, never>> } {
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  const exposed: Record<string, Record<string, never>> = {};
  for (const e of expose) {
    const slash = e.lastIndexOf('/');
    const proto = slash < 0 ? 'tcp' : e.slice(slash + 1).toLowerCase();
    const [first, last] = portRange(slash < 0 ? e : e.slice(0, slash), 'range format for --expose');
    for (let p = first; p <= last; p++) exposed[`${p}/${proto}`] = {};
  }
  for (const spec of specs) {
    let rest = spec;
    let proto = 'tcp';
    const slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      proto = rest.slice(slash + 1).toLowerCase();
      rest = rest.slice(0, slash);
    }
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new ContainerParseError(`invalid proto: ${proto}`);
    let ip = '';
    const bracket = /^\[([^\]]+)\]:(.*)$/.exec(rest);
    if (bracket) {
      ip = bracket[1]!;
      rest = bracket[2]!;
    }
    const parts = rest.split(':');
    let hostPart = '';
    let containerPart: string;
    if (bracket) {
      if (parts.length !== 2) throw new ContainerParseError(`invalid port format: ${spec}`);
      [hostPart, containerPart] = [parts[0]!, parts[1]!];
    } else if (parts.length === 1) {
      containerPart = parts[0]!;
    } else if (parts.length === 2) {
      [hostPart, containerPart] = [parts[0]!, parts[1]!];
    } else if (parts.length === 3) {
      [ip, hostPart, containerPart] = [parts[0]!, parts[1]!, parts[2]!];
    } else {
      throw new ContainerParseError(`invalid port format: ${spec}`);
    }
    if (containerPart === '') throw new ContainerParseError(`no port specified: ${spec}<empty>`);
    const [cFirst, cLast] = portRange(containerPart, 'containerPort');
    const host = hostPart === '' ? undefined : portRange(hostPart, 'hostPort');
    if (host && host[1] - host[0] !== cLast - cFirst && cLast !== cFirst) {
      throw new ContainerParseError(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`);
    }
    for (let p = cFirst; p <= cLast; p++) {
      const key = `${p}/${proto}`;
      let hostPort = '';
      if (host) hostPort = cLast === cFirst ? (host[0] === host[1] ? String(host[0]) : `${host[0]}-${host[1]}`) : String(host[0] + (p - cFirst));
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hostPort });
    }
  }
  return { bindings, exposed };
}
