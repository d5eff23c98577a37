// /_ping, /version, /info, /events and /system/df (spec 1.2, 1.10).
import { cpus, totalmem, hostname, release, arch } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Router } from '../router.js';
import { sendJson } from '../http.js';
import { HttpError } from '../errors.js';
import { parseFilters, checkFilterKeys } from '../filters.js';
import { toApiVolume } from '../views/volumes.js';
import { ENGINE_VERSION, MAX_API_VERSION, MIN_API_VERSION } from '../version.js';
import type { EventBus, EngineEvent } from '../../events/bus.js';
import type { VolumeService } from '../../volumes/service.js';

export interface ContainerCounts {
  total: number;
  running: number;
  paused: number;
  stopped: number;
}

export interface SystemBackend {
  id: string;
  dataRoot: string;
  volumes: Pick<VolumeService, 'usage' | 'driverNames'>;
  events: Pick<EventBus, 'subscribe'>;
  containerCounts(): ContainerCounts;
  imageCount(): number;
  /** `docker info` SecurityOptions, e.g. "name=seccomp,profile=builtin". */
  securityOptions?: string[];
  /** GET /info's RegistryConfig (insecure registries, mirrors). */
  registryConfig?(): unknown;
  /** GET /system/df sections owned by other services (images, containers). */
  diskUsageExtras?(): Promise<{ LayersSize: number; Images: unknown[]; Containers: unknown[] }>;
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' };

function operatingSystem(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
    if (m) return m[1]!;
  } catch {
    // fall through
  }
  return 'Linux';
}

export function registerSystemRoutes(router: Router, backend: SystemBackend): void {
  const ping = (head: boolean) => (ctx: { res: import('node:http').ServerResponse }) => {
    ctx.res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      Swarm: 'inactive',
      // The berth CLI may hand archive files over instead of streaming them (docs/volume-archives.md).
      'Berth-Fd-Handoff': '1',
      'Content-Length': head ? '0' : '2',
    });
    ctx.res.end(head ? undefined : 'OK');
  };
  router.add('HEAD', '/_ping', ping(true));
  router.add('GET', '/_ping', ping(false));

  router.add('GET', '/version', (ctx) => {
    const goArch = GO_ARCH[arch()] ?? arch();
    const details = {
      ApiVersion: MAX_API_VERSION,
      Arch: goArch,
      BuildTime: '',
      Experimental: 'false',
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      KernelVersion: release(),
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
    };
    sendJson(ctx.res, 200, {
      Platform: { Name: `berth ${ENGINE_VERSION}` },
      Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: details }],
      Version: ENGINE_VERSION,
      ApiVersion: MAX_API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: details.GoVersion,
      Os: 'linux',
      Arch: goArch,
      KernelVersion: release(),
      BuildTime: '',
    });
  });

  router.add('GET', '/info', (ctx) => {
    const c = backend.containerCounts();
    sendJson(ctx.res, 200, {
      ID: backend.id,
      Containers: c.total,
      ContainersRunning: c.running,
      ContainersPaused: c.paused,
      ContainersStopped: c.stopped,
      Images: backend.imageCount(),
      Driver: 'overlay2',
      DriverStatus: [],
      Plugins: { Volume: backend.volumes.driverNames(), Network: ['host', 'none'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: false,
      SwapLimit: false,
      CpuCfsPeriod: false,
      CpuCfsQuota: false,
      CPUShares: false,
      CPUSet: false,
      PidsLimit: false,
      IPv4Forwarding: false,
      Debug: false,
      NFd: 0,
      OomKillDisable: false,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: operatingSystem(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: backend.registryConfig ? backend.registryConfig() : null,
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: backend.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: ENGINE_VERSION,
      Runtimes: { runc: { path: 'runc' } },
      DefaultRuntime: 'runc',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: false,
      Isolation: '',
      InitBinary: '',
      SecurityOptions: backend.securityOptions ?? [],
      Warnings: null,
    });
  });

  router.add('GET', '/system/df', async (ctx) => {
    const types = ctx.query.getAll('type');
    const want = (t: string) => types.length === 0 || types.includes(t);
    const usage = want('volume') ? await backend.volumes.usage() : [];
    const extras = backend.diskUsageExtras ? await backend.diskUsageExtras() : { LayersSize: 0, Images: [], Containers: [] };
    sendJson(ctx.res, 200, {
      LayersSize: extras.LayersSize,
      Images: want('image') ? extras.Images : null,
      Containers: want('container') ? extras.Containers : null,
      Volumes: want('volume') ? usage.map((u) => ({ ...toApiVolume(u.volume), UsageData: { RefCount: u.refCount, Size: u.size } })) : null,
      BuildCache: want('build-cache') ? [] : null,
    });
  });

  router.add('GET', '/events', (ctx) => streamEvents(ctx, backend.events));
}

function parseTime(raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  // docker accepts unix seconds (with optional fraction) or RFC 3339.
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new HttpError(400, `failed to parse value ${raw} as a timestamp`);
  return t;
}

function eventMatches(e: EngineEvent, filters: Map<string, string[]>): boolean {
  const check = (key: string, value: string | undefined) => {
    const want = filters.get(key);
    return !want || want.length === 0 || (value !== undefined && want.includes(value));
  };
  if (!check('type', e.Type)) return false;
  if (!check('event', e.Action.split(':')[0])) return false;
  if (filters.has('volume') && !(e.Type === 'volume' && check('volume', e.Actor.ID))) return false;
  if (filters.has('container')) {
    const want = filters.get('container') ?? [];
    const name = e.Actor.Attributes.name;
    const id = e.Type === 'container' ? e.Actor.ID : e.Actor.Attributes.container;
    if (!want.some((w) => w === id || w === name || (id !== undefined && w.length >= 1 && id.startsWith(w)))) return false;
  }
  if (filters.has('network')) {
    const want = filters.get('network') ?? [];
    const name = e.Actor.Attributes.name;
    if (e.Type !== 'network' || !want.some((w) => w === e.Actor.ID || w === name || (w.length > 0 && e.Actor.ID.startsWith(w)))) return false;
  }
  if (filters.has('image') && !(e.Type === 'image' ? check('image', e.Actor.ID) : check('image', e.Actor.Attributes.image))) return false;
  if (filters.has('label')) {
    for (const l of filters.get('label') ?? []) {
      const [k, v] = l.split('=', 2) as [string, string | undefined];
      if (!Object.hasOwn(e.Actor.Attributes, k) || (v !== undefined && e.Actor.Attributes[k] !== v)) return false;
    }
  }
  return true;
}

function streamEvents(ctx: import('../http.js').RequestContext, bus: Pick<EventBus, 'subscribe'>): void {
  const filters = parseFilters(ctx.query.get('filters'));
  checkFilterKeys(filters, ['type', 'event', 'volume', 'container', 'image', 'label', 'scope', 'daemon', 'network', 'plugin', 'node', 'service', 'secret', 'config']);
  const since = parseTime(ctx.query.get('since'));
  const until = parseTime(ctx.query.get('until'));
  const res = ctx.res;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const send = (e: EngineEvent) => {
    if (since !== undefined && e.timeNano / 1e6 < since) return;
    if (until !== undefined && e.timeNano / 1e6 > until) return;
    if (!eventMatches(e, filters)) return;
    res.write(JSON.stringify(e) + '\n');
  };
  const { past, unsubscribe } = bus.subscribe(send);
  if (since !== undefined) for (const e of past) send(e);
  let timer: NodeJS.Timeout | undefined;
  const finish = () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  if (until !== undefined) timer = setTimeout(finish, Math.max(0, until - Date.now()));
  ctx.req.socket.on('close', finish);
  res.on('close', finish);
}
