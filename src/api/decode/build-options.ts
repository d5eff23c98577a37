// POST /build's query as dockerd's newImageBuildOptions reads it, into the
// builder's options: what berth's classic builder applies (tags, dockerfile,
// build args, labels, target, cache, pull, rm/forcerm, cache-from, platform,
// network mode and the resource limits of RUN containers, which the
// container service checks as for any container) and a clear refusal of the
// rest (BuildKit, remote contexts, squash, ulimits, cgroup parent, extra
// hosts, security options).
import type { IncomingHttpHeaders } from 'node:http';
import { InvalidParameter } from '../../errors.js';
import { errorText } from '../../errors.js';
import { buildTags, type BuildOptions } from '../../build/builder.js';
import { decodeAuthConfigsHeader } from '../../registry/auth.js';
import { queryBool } from '../http.js';
import { versionAtLeast } from '../version.js';

function jsonParam<T>(q: URLSearchParams, key: string, what: string, check: (v: unknown) => v is T): T | undefined {
  const raw = q.get(key) ?? '';
  if (raw === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new InvalidParameter(`error reading ${what}: ${errorText(e)}`);
  }
  // Go's json.Unmarshal leaves the value as it was for null.
  if (v === null) return undefined;
  if (!check(v)) throw new InvalidParameter(`error reading ${what}: json: cannot unmarshal ${JSON.stringify(v) === undefined ? 'value' : typeof v} into Go value`);
  return v;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');
const isArgMap = (v: unknown): v is Record<string, string | null> => isObject(v) && Object.values(v).every((x) => typeof x === 'string' || x === null);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** httputils.Int64ValueOrZero: a number, 0 when absent or not one. */
function int64OrZero(q: URLSearchParams, key: string): number {
  const raw = q.get(key) ?? '';
  return /^[+-]?\d+$/.test(raw) ? Number(raw) : 0;
}

function refuse(what: string, why: string): never {
  throw new InvalidParameter(`${what} is not supported by berth's builder: ${why}`);
}

/** The builder's options for a POST /build request. */
export function decodeBuildOptions(q: URLSearchParams, apiVersion: string, headers: IncomingHttpHeaders): BuildOptions {
  const version = q.get('version') ?? '';
  if (version !== '' && version !== '1' && version !== '2') throw new InvalidParameter(`invalid version ${JSON.stringify(version)}`);
  if (version === '2') refuse('BuildKit (version=2)', 'berth has the classic builder only; build with DOCKER_BUILDKIT=0');
  const remote = q.get('remote') ?? '';
  if (remote === 'client-session') throw new InvalidParameter('experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead');
  if (remote !== '') refuse('a remote build context', 'send the context as the request body');
  if (q.getAll('securityopt').length > 0) throw new InvalidParameter('security options are not supported on linux');
  if (queryBool(q, 'squash')) throw new InvalidParameter('squash is only supported with experimental mode');
  const isolation = q.get('isolation') ?? '';
  if (isolation !== '' && isolation !== 'default') throw new InvalidParameter(`unsupported isolation: ${JSON.stringify(isolation)}`);
  const ulimits = jsonParam(q, 'ulimits', 'ulimit settings', Array.isArray);
  if (ulimits !== undefined && ulimits.length > 0) refuse('--ulimit', 'RUN containers get no rlimits of their own');
  if ((q.get('cgroupparent') ?? '') !== '') refuse('--cgroup-parent', 'containers run in the cgroup berth gives them');
  if (q.getAll('extrahosts').some((h) => h !== '')) refuse('--add-host', "RUN containers get berth's fixed /etc/hosts");

  const hostConfig: Record<string, unknown> = {};
  const network = q.get('networkmode') ?? '';
  if (network !== '' && network !== 'default') hostConfig.NetworkMode = network;
  const numeric: Array<[string, string]> = [
    ['memory', 'Memory'],
    ['memswap', 'MemorySwap'],
    ['cpushares', 'CpuShares'],
    ['cpuperiod', 'CpuPeriod'],
    ['cpuquota', 'CpuQuota'],
  ];
  for (const [param, field] of numeric) {
    const v = int64OrZero(q, param);
    if (v !== 0) hostConfig[field] = v;
  }
  for (const [param, field] of [
    ['cpusetcpus', 'CpusetCpus'],
    ['cpusetmems', 'CpusetMems'],
  ] as const) {
    const v = q.get(param) ?? '';
    if (v !== '') hostConfig[field] = v;
  }
  const shm = q.get('shmsize') ?? '';
  if (shm !== '') {
    if (!/^[+-]?\d+$/.test(shm)) throw new InvalidParameter(`strconv.ParseInt: parsing ${JSON.stringify(shm)}: invalid syntax`);
    if (Number(shm) !== 0) hostConfig.ShmSize = Number(shm);
  }

  let tags: string[];
  try {
    tags = buildTags(q.getAll('t'));
  } catch (e) {
    throw new InvalidParameter(errorText(e), { cause: e });
  }
  const buildArgs = jsonParam(q, 'buildargs', 'build args', isArgMap) ?? {};
  const auth = headers['x-registry-config'];
  return {
    tags,
    dockerfile: (q.get('dockerfile') ?? '') || 'Dockerfile',
    buildArgs: new Map(Object.entries(buildArgs)),
    labels: jsonParam(q, 'labels', 'labels', isStringMap) ?? {},
    target: q.get('target') ?? '',
    noCache: queryBool(q, 'nocache'),
    pull: queryBool(q, 'pull'),
    // dockerd: rm defaults to true, and forcerm implies it.
    remove: queryBool(q, 'forcerm') || (q.get('rm') ?? '') === '' || queryBool(q, 'rm'),
    forceRemove: queryBool(q, 'forcerm'),
    cacheFrom: jsonParam(q, 'cachefrom', 'cache-from', isStringList) ?? [],
    platform: versionAtLeast(apiVersion, '1.32') ? (q.get('platform') ?? '') : '',
    hostConfig,
    authConfigs: decodeAuthConfigsHeader(Array.isArray(auth) ? auth[0] : auth),
    apiVersion,
  };
}
