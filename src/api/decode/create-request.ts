// The Go types of POST /containers/create (moby's container.CreateRequest)
// and a decoder with encoding/json's rules for them: a value of the wrong
// JSON type is refused with the error dockerd gives ("invalid JSON: json:
// cannot unmarshal string into Go struct field HostConfig.HostConfig.Privileged
// of type bool"), field names match case-insensitively as in Go and come back
// spelled as Docker spells them, null leaves a field unset, and string-or-list
// fields (Cmd, Entrypoint, CapAdd, ...) become lists. Nothing of the wrong
// shape reaches the container service, so a stored record always inspects.
import { InvalidParameter } from '../../errors.js';

type GoType =
  | { kind: 'bool' }
  | { kind: 'string'; name?: string }
  | { kind: 'int'; name: string; bits: 8 | 16 | 32 | 64; unsigned: boolean }
  | { kind: 'slice'; elem: GoType; name?: string }
  | { kind: 'array'; len: number; elem: GoType }
  | { kind: 'map'; elem: GoType; name?: string }
  | { kind: 'struct'; pkg: string; name: string; fields: Record<string, GoType> }
  | { kind: 'ptr'; elem: GoType }
  /** strslice.StrSlice: a string or a list of strings. */
  | { kind: 'strslice' }
  | { kind: 'any' };

const bool: GoType = { kind: 'bool' };
const str: GoType = { kind: 'string' };
const named = (name: string): GoType => ({ kind: 'string', name });
const int = (name: string, bits: 8 | 16 | 32 | 64 = 64, unsigned = false): GoType => ({ kind: 'int', name, bits, unsigned });
const int64 = int('int64');
const goInt = int('int');
const slice = (elem: GoType, name?: string): GoType => ({ kind: 'slice', elem, name });
const map = (elem: GoType, name?: string): GoType => ({ kind: 'map', elem, name });
const ptr = (elem: GoType): GoType => ({ kind: 'ptr', elem });
const struct = (pkg: string, name: string, fields: Record<string, GoType>): GoType => ({ kind: 'struct', pkg, name, fields });
const strslice: GoType = { kind: 'strslice' };
const strings = slice(str);
const stringMap = map(str);
const emptyStruct = struct('', '', {});

const duration = int('time.Duration');

const healthConfig = struct('container', 'HealthConfig', {
  Test: strings,
  Interval: duration,
  Timeout: duration,
  StartPeriod: duration,
  StartInterval: duration,
  Retries: goInt,
});

const portSet = map(emptyStruct, 'nat.PortSet');
const portBinding = struct('nat', 'PortBinding', { HostIp: str, HostPort: str });
const portMap = map(slice(portBinding), 'nat.PortMap');

const config: Record<string, GoType> = {
  Hostname: str,
  Domainname: str,
  User: str,
  AttachStdin: bool,
  AttachStdout: bool,
  AttachStderr: bool,
  ExposedPorts: portSet,
  Tty: bool,
  OpenStdin: bool,
  StdinOnce: bool,
  Env: strings,
  Cmd: strslice,
  Healthcheck: ptr(healthConfig),
  ArgsEscaped: bool,
  Image: str,
  Volumes: map(emptyStruct),
  WorkingDir: str,
  Entrypoint: strslice,
  NetworkDisabled: bool,
  MacAddress: str,
  OnBuild: strings,
  Labels: stringMap,
  StopSignal: str,
  StopTimeout: ptr(goInt),
  Shell: strslice,
};

const mount = struct('mount', 'Mount', {
  Type: named('mount.Type'),
  Source: str,
  Target: str,
  ReadOnly: bool,
  Consistency: named('mount.Consistency'),
  BindOptions: ptr(
    struct('mount', 'BindOptions', {
      Propagation: named('mount.Propagation'),
      NonRecursive: bool,
      CreateMountpoint: bool,
      ReadOnlyNonRecursive: bool,
      ReadOnlyForceRecursive: bool,
    }),
  ),
  VolumeOptions: ptr(
    struct('mount', 'VolumeOptions', {
      NoCopy: bool,
      Labels: stringMap,
      Subpath: str,
      DriverConfig: ptr(struct('mount', 'Driver', { Name: str, Options: stringMap })),
    }),
  ),
  ImageOptions: ptr(struct('mount', 'ImageOptions', { Subpath: str })),
  TmpfsOptions: ptr(
    struct('mount', 'TmpfsOptions', {
      SizeBytes: int64,
      Mode: int('fs.FileMode', 32, true),
      Options: slice(strings),
    }),
  ),
  ClusterOptions: ptr(struct('mount', 'ClusterOptions', {})),
});

const weightDevice = ptr(struct('blkiodev', 'WeightDevice', { Path: str, Weight: int('uint16', 16, true) }));
const throttleDevice = ptr(struct('blkiodev', 'ThrottleDevice', { Path: str, Rate: int('uint64', 64, true) }));

const resources: Record<string, GoType> = {
  CpuShares: int64,
  Memory: int64,
  NanoCpus: int64,
  CgroupParent: str,
  BlkioWeight: int('uint16', 16, true),
  BlkioWeightDevice: slice(weightDevice),
  BlkioDeviceReadBps: slice(throttleDevice),
  BlkioDeviceWriteBps: slice(throttleDevice),
  BlkioDeviceReadIOps: slice(throttleDevice),
  BlkioDeviceWriteIOps: slice(throttleDevice),
  CpuPeriod: int64,
  CpuQuota: int64,
  CpuRealtimePeriod: int64,
  CpuRealtimeRuntime: int64,
  CpusetCpus: str,
  CpusetMems: str,
  Devices: slice(struct('container', 'DeviceMapping', { PathOnHost: str, PathInContainer: str, CgroupPermissions: str })),
  DeviceCgroupRules: strings,
  DeviceRequests: slice(
    struct('container', 'DeviceRequest', {
      Driver: str,
      Count: goInt,
      DeviceIDs: strings,
      Capabilities: slice(strings),
      Options: stringMap,
    }),
  ),
  KernelMemory: int64,
  KernelMemoryTCP: int64,
  MemoryReservation: int64,
  MemorySwap: int64,
  MemorySwappiness: ptr(int64),
  OomKillDisable: ptr(bool),
  PidsLimit: ptr(int64),
  Ulimits: slice(ptr(struct('units', 'Ulimit', { Name: str, Hard: int64, Soft: int64 }))),
  CpuCount: int64,
  CpuPercent: int64,
  IOMaximumIOps: int('uint64', 64, true),
  IOMaximumBandwidth: int('uint64', 64, true),
};

const hostConfig = struct('container', 'HostConfig', {
  Binds: strings,
  ContainerIDFile: str,
  LogConfig: struct('container', 'LogConfig', { Type: str, Config: stringMap }),
  NetworkMode: named('container.NetworkMode'),
  PortBindings: portMap,
  RestartPolicy: struct('container', 'RestartPolicy', { Name: named('container.RestartPolicyMode'), MaximumRetryCount: goInt }),
  AutoRemove: bool,
  VolumeDriver: str,
  VolumesFrom: strings,
  ConsoleSize: { kind: 'array', len: 2, elem: int('uint', 64, true) },
  Annotations: stringMap,
  CapAdd: strslice,
  CapDrop: strslice,
  CgroupnsMode: named('container.CgroupnsMode'),
  Dns: strings,
  DnsOptions: strings,
  DnsSearch: strings,
  ExtraHosts: strings,
  GroupAdd: strings,
  IpcMode: named('container.IpcMode'),
  Cgroup: named('container.CgroupSpec'),
  Links: strings,
  OomScoreAdj: goInt,
  PidMode: named('container.PidMode'),
  Privileged: bool,
  PublishAllPorts: bool,
  ReadonlyRootfs: bool,
  SecurityOpt: strings,
  StorageOpt: stringMap,
  Tmpfs: stringMap,
  UTSMode: named('container.UTSMode'),
  UsernsMode: named('container.UsernsMode'),
  ShmSize: int64,
  Sysctls: stringMap,
  Runtime: str,
  Isolation: named('container.Isolation'),
  ...resources,
  Mounts: slice(mount),
  MaskedPaths: strings,
  ReadonlyPaths: strings,
  Init: ptr(bool),
});

const endpointSettings = struct('network', 'EndpointSettings', {
  IPAMConfig: ptr(struct('network', 'EndpointIPAMConfig', { IPv4Address: str, IPv6Address: str, LinkLocalIPs: strings })),
  Links: strings,
  Aliases: strings,
  MacAddress: str,
  DriverOpts: stringMap,
  GwPriority: goInt,
  NetworkID: str,
  EndpointID: str,
  Gateway: str,
  IPAddress: str,
  IPPrefixLen: goInt,
  IPv6Gateway: str,
  GlobalIPv6Address: str,
  GlobalIPv6PrefixLen: goInt,
  DNSNames: strings,
});

/** container.CreateRequest: Config's fields inline (an embedded *Config), then HostConfig and NetworkingConfig. */
const createRequest = struct('container', 'CreateRequest', {
  ...config,
  HostConfig: ptr(hostConfig),
  NetworkingConfig: ptr(struct('network', 'NetworkingConfig', { EndpointsConfig: map(ptr(endpointSettings)) })),
});

/** reflect.Type.String() of a Go type. */
function typeName(t: GoType): string {
  switch (t.kind) {
    case 'bool':
      return 'bool';
    case 'string':
      return t.name ?? 'string';
    case 'int':
      return t.name;
    case 'slice':
      return t.name ?? `[]${typeName(t.elem)}`;
    case 'array':
      return `[${t.len}]${typeName(t.elem)}`;
    case 'map':
      return t.name ?? `map[string]${typeName(t.elem)}`;
    case 'struct':
      return t.name === '' ? 'struct {}' : `${t.pkg}.${t.name}`;
    case 'ptr':
      return `*${typeName(t.elem)}`;
    case 'strslice':
      return 'strslice.StrSlice';
    case 'any':
      return 'interface {}';
  }
}

function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** Where the decoder is: the innermost struct's name and the field path from the root. */
interface Context {
  struct: string;
  fields: string[];
}

function typeError(value: string, t: GoType, ctx: Context): InvalidParameter {
  // A type error names the value's type, not a pointer to it (Go allocates the pointer first).
  const target = t.kind === 'ptr' ? typeName(t.elem) : typeName(t);
  const where = ctx.struct !== '' || ctx.fields.length > 0 ? `Go struct field ${ctx.struct}.${ctx.fields.join('.')}` : 'Go value';
  return new InvalidParameter(`invalid JSON: json: cannot unmarshal ${value} into ${where} of type ${target}`);
}

/** What a JSON null leaves in a list element or map value: Go's zero value. */
function zero(t: GoType): unknown {
  switch (t.kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'int':
      return 0;
    case 'struct':
      return {};
    case 'array':
      return new Array(t.len).fill(0);
    default:
      return null;
  }
}

function decodeElem(v: unknown, t: GoType, ctx: Context): unknown {
  return v === null ? zero(t) : decode(v, t, ctx);
}

function decode(v: unknown, t: GoType, ctx: Context): unknown {
  if (v === null) return null;
  switch (t.kind) {
    case 'any':
      return v;
    case 'ptr':
      return decode(v, t.elem, ctx);
    case 'bool':
      if (typeof v !== 'boolean') throw typeError(jsonKind(v), t, ctx);
      return v;
    case 'string':
      if (typeof v !== 'string') throw typeError(jsonKind(v), t, ctx);
      return v;
    case 'int': {
      if (typeof v !== 'number') throw typeError(jsonKind(v), t, ctx);
      const max = t.unsigned ? 2 ** t.bits - 1 : 2 ** (t.bits - 1) - 1;
      const min = t.unsigned ? 0 : -(2 ** (t.bits - 1));
      if (!Number.isInteger(v) || v > max || v < min) throw typeError(`number ${v}`, t, ctx);
      return v;
    }
    case 'strslice':
      // StrSlice.UnmarshalJSON: a list of strings, else a string; the error is the string attempt's.
      if (typeof v === 'string') return [v];
      if (Array.isArray(v) && v.every((x) => typeof x === 'string' || x === null)) return v.map((x) => x ?? '');
      throw typeError(jsonKind(v), str, ctx);
    case 'slice':
      if (!Array.isArray(v)) throw typeError(jsonKind(v), t, ctx);
      return v.map((x) => decodeElem(x, t.elem, ctx));
    case 'array': {
      if (!Array.isArray(v)) throw typeError(jsonKind(v), t, ctx);
      const out = v.slice(0, t.len).map((x) => decode(x, t.elem, ctx) ?? 0);
      while (out.length < t.len) out.push(0);
      return out;
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) throw typeError(jsonKind(v), t, ctx);
      const out: Record<string, unknown> = Object.create(null);
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = decodeElem(x, t.elem, ctx);
      return out;
    }
    case 'struct': {
      if (typeof v !== 'object' || Array.isArray(v)) throw typeError(jsonKind(v), t, ctx);
      const out: Record<string, unknown> = {};
      const names = Object.keys(t.fields);
      const folded = new Map(names.map((n) => [n.toLowerCase(), n]));
      for (const [key, x] of Object.entries(v as Record<string, unknown>)) {
        // encoding/json: an exact name first, else a case-insensitive match; unknown keys pass through.
        const field = key in t.fields ? key : folded.get(key.toLowerCase());
        if (field === undefined) {
          out[key] = x;
          continue;
        }
        out[field] = decode(x, t.fields[field]!, { struct: t.name, fields: [...ctx.fields, field] });
      }
      return out;
    }
  }
}

/**
 * Checks every field of a create request against Docker's Go types and
 * returns it with Docker's field names. Throws InvalidParameter (400) with
 * dockerd's message for the first value of the wrong type.
 */
export function decodeCreateRequest(body: Record<string, unknown>): Record<string, unknown> {
  return decode(body, createRequest, { struct: '', fields: [] }) as Record<string, unknown>;
}
