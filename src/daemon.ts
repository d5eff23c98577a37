// Wires the services and the API server. The only file that constructs things.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { openDatabase, type DB } from './store/db.js';
import { VolumeRecords } from './store/volume-records.js';
import { LocalDriver } from './volumes/drivers/local.js';
import { VolumeService } from './volumes/service.js';
import { DriverRegistry } from './volumes/driver-registry.js';
import { EventBus } from './events/bus.js';
import { Router } from './api/router.js';
import { ApiServer, type TlsOptions } from './api/server.js';
import { registerVolumeRoutes } from './api/routes/volumes.js';
import { registerVolumeArchiveRoutes } from './api/routes/volume-archives.js';
import { VolumeArchives } from './volumes/archives.js';
import { registerSystemRoutes } from './api/routes/system.js';
import { registerContainerRoutes } from './api/routes/containers.js';
import { registerImageRoutes } from './api/routes/images.js';
import { registerAuthRoutes } from './api/routes/auth.js';
import { registerCommitRoutes } from './api/routes/commit.js';
import { registerBuildRoutes } from './api/routes/build.js';
import { Builder } from './build/builder.js';
import { ContainerCommitter } from './containers/commit.js';
import { RegistryHosts } from './registry/hosts.js';
import { login } from './registry/login.js';
import { ImagePuller } from './images/pull.js';
import { ImagePusher } from './images/push.js';
import { ImagePruner } from './images/prune.js';
import { DEFAULT_REGISTRY_LIMITS, type RegistrySettings } from './images/transfer.js';
import { ENGINE_VERSION } from './api/version.js';
import { toContainerSummary } from './api/views/containers.js';
import { ImageService } from './images/service.js';
import { toImageSummary } from './api/views/images.js';
import { ContainerRecords } from './containers/records.js';
import { ContainerService } from './containers/service.js';
import { ExecService } from './containers/exec.js';
import { registerExecRoutes } from './api/routes/exec.js';
import { ArchiveService } from './containers/archive.js';
import { registerArchiveRoutes } from './api/routes/archive.js';
import { PidLock } from './daemon/lock.js';
import { BackupService } from './backup/service.js';
import { CaptureAreas } from './backup/capture-area.js';
import { BackupPolicies } from './backup/policy-runner.js';
import { PolicyStore } from './backup/policies.js';
import { CredentialStore } from './backup/credentials.js';
import { registerBackupRoutes } from './api/routes/backup.js';
import { listen, parseHost } from './daemon/listen.js';
import { InvalidParameter, errorText } from './errors.js';
import { generateId } from './util/random-id.js';
import { Reaper, becomeSubreaper } from './util/reaper.js';
import { defaultBridgeDevice, firewallTable } from './networks/host-names.js';
import { NetworkRecords } from './networks/records.js';
import { NetworkService } from './networks/service.js';
import { Firewall } from './networks/firewall.js';
import { registerNetworkRoutes } from './api/routes/networks.js';
import { registerSwarmRoutes } from './api/routes/swarm.js';
import { SharedMount } from './util/shared-mount.js';

export const DEFAULT_DATA_ROOT = '/var/lib/berth';
export const DEFAULT_EXEC_ROOT = '/run/berth';
export const DEFAULT_SOCKET = '/run/berth/berth.sock';

export interface DaemonConfig {
  dataRoot: string;
  /** State that must survive a full data root and may go at reboot, as dockerd's --exec-root: containers' monitor files and exit codes. */
  execRoot: string;
  hosts: string[];
  tls?: TlsOptions;
  runtime?: string;
  /** The per-container monitor (conmon) binary. */
  conmon?: string;
  /** Containers' default seccomp profile: "builtin", "unconfined" or a file. */
  seccompProfile?: string;
  logLevel?: string;
  logger?: Logger;
  /** --insecure-registry: HOST[:PORT] or CIDR (loopback always is). */
  insecureRegistries?: string[];
  /** --registry-mirror: Docker Hub mirrors, tried before it for pulls. */
  registryMirrors?: string[];
  /** --registry-certs-dir: CA and client certificates per registry host (default /etc/docker/certs.d). */
  registryCertsDir?: string;
  maxConcurrentDownloads?: number;
  maxConcurrentUploads?: number;
  maxDownloadAttempts?: number;
  /** --bridge: the default bridge network's Linux bridge ("none": no default bridge network). Default: berth0 on the default data root, bth-<hash of the data root> on any other (so daemons on different data roots never share one). */
  bridge?: string;
  /** --bip: the default bridge's gateway address and subnet ("172.17.0.1/16"); default: the first free default pool. */
  bip?: string;
  /** --iptables=false: no nftables rules (no isolation between networks, no masquerading). */
  iptables?: boolean;
  /** The host-wide lock file held while a subnet is chosen (tests share the default). */
  addressLock?: string;
}

export class Daemon {
  readonly log: Logger;
  readonly events = new EventBus();
  volumes!: VolumeService;
  images!: ImageService;
  containers!: ContainerService;
  networks!: NetworkService;
  private archives?: ArchiveService;
  private policies?: BackupPolicies;
  private db?: DB;
  private lock?: PidLock;
  private sharedRoot?: SharedMount;
  private servers: Server[] = [];
  private readonly reaper = new Reaper();

  constructor(readonly config: DaemonConfig) {
    this.log = config.logger ?? pino({ level: config.logLevel ?? 'info', base: { pid: process.pid } });
  }

  async start(): Promise<void> {
    const { dataRoot, execRoot } = this.config;
    mkdirSync(dataRoot, { recursive: true, mode: 0o711 });
    mkdirSync(execRoot, { recursive: true, mode: 0o711 });
    // Refused before anything is made (bridges, firewall rules, the database).
    for (const host of this.config.hosts) {
      if (parseHost(host).proto === 'tcp' && !this.config.tls) {
        throw new InvalidParameter(`refusing to listen on ${host} without TLS client verification (--tlsverify with --tlscacert, --tlscert, --tlskey)`);
      }
    }
    // Container monitors double-fork away from berthd: as their subreaper it is their parent, and reaps them.
    becomeSubreaper();
    this.lock = new PidLock(join(dataRoot, 'berthd.pid'));
    this.lock.acquire();
    try {
      try {
        this.sharedRoot = SharedMount.share(dataRoot);
      } catch (e) {
        // docker cp then starts a fresh helper whenever a mount it needs is newer than the spare ones.
        this.log.warn({ err: errorText(e) }, `cannot make ${dataRoot} a shared mount`);
      }
      this.db = openDatabase(join(dataRoot, 'berth.db'));
      const records = new VolumeRecords(this.db);
      const drivers = new DriverRegistry([new LocalDriver(join(dataRoot, 'volumes'), this.log.child({ driver: 'local' }))]);
      this.volumes = new VolumeService(records, drivers, this.events, this.log.child({ service: 'volumes' }));
      await this.volumes.restore();
      this.images = new ImageService({ root: join(dataRoot, 'image'), events: this.events, log: this.log.child({ service: 'images' }) });
      const registry = this.registrySettings();
      this.networks = new NetworkService({
        records: new NetworkRecords(this.db),
        events: this.events,
        log: this.log.child({ service: 'networks' }),
        firewall: new Firewall({ enabled: this.config.iptables ?? true, table: firewallTable(dataRoot), log: this.log.child({ component: 'firewall' }) }),
        defaultBridge: this.config.bridge ?? defaultBridgeDevice(dataRoot),
        defaultBridgeCidr: this.config.bip,
        addressLock: this.config.addressLock,
        namespaceDir: join(dataRoot, 'netns'),
      });
      this.containers = new ContainerService({
        dataRoot,
        execRoot,
        reaper: this.reaper,
        records: new ContainerRecords(this.db),
        volumes: this.volumes,
        images: this.images,
        networks: this.networks,
        events: this.events,
        log: this.log.child({ service: 'containers' }),
        runtimeBinary: this.config.runtime,
        conmonBinary: this.config.conmon,
        seccompProfile: this.config.seccompProfile,
      });
      await this.containers.restore();

      const router = new Router();
      registerSystemRoutes(router, {
        id: this.engineId(),
        dataRoot,
        volumes: this.volumes,
        events: this.events,
        containerCounts: () => this.containers.counts(),
        securityOptions: [`name=seccomp,profile=${this.config.seccompProfile ?? 'builtin'}`],
        imageCount: () => this.images.list().length,
        registryConfig: () => registry.hosts.view(),
        diskUsageExtras: async () => {
          const images = this.images.list().map((rec) => toImageSummary(rec, { containers: this.containers.usingImage(rec.id).length }));
          const containers = await Promise.all(
            this.containers.list().map(async (c) => {
              const { rw, rootFs } = await this.containers.sizes(c.id);
              return { ...toContainerSummary(c), SizeRw: rw, SizeRootFs: rootFs };
            }),
          );
          // Layers are shared between images: count each once.
          const layers = new Set(this.images.list().flatMap((rec) => rec.layers));
          let layersSize = 0;
          for (const l of layers) layersSize += this.images.layerSize(l);
          return { LayersSize: layersSize, Images: images, Containers: containers };
        },
      });
      const volumeArchives = new VolumeArchives({
        volumes: this.volumes,
        events: this.events,
        log: this.log.child({ service: 'volume-archives' }),
        runningUsers: (volume) => this.containers.runningUsersOf(volume),
      });
      // Before the volume routes: /volumes/{name:.*} would match these paths.
      registerVolumeArchiveRoutes(router, volumeArchives);
      registerVolumeRoutes(router, this.volumes);
      registerContainerRoutes(router, this.containers);
      registerNetworkRoutes(router, { networks: this.networks, containers: this.containers });
      registerSwarmRoutes(router);
      const execs = new ExecService(this.containers, this.events, this.reaper);
      registerExecRoutes(router, execs);
      const captureAreas = new CaptureAreas(join(execRoot, 'backup-captures'), this.log.child({ service: 'backup' }));
      await captureAreas.recover();
      const backups = new BackupService({
        dataRoot,
        volumes: this.volumes,
        containers: this.containers,
        hooks: {
          container: (id) => {
            const c = this.containers.resolve(id);
            return { id: c.id, name: c.name, labels: c.config.Labels ?? {} };
          },
          exec: (id, argv, opts) => execs.runCaptured(id, argv, opts),
        },
        events: this.events,
        log: this.log.child({ service: 'backup' }),
        captureAreas,
      });
      this.policies = new BackupPolicies({
        store: new PolicyStore(this.db, new CredentialStore(join(dataRoot, 'backup', 'credentials'))),
        backups,
        log: this.log.child({ service: 'backup-policies' }),
      });
      registerBackupRoutes(router, backups, this.policies);
      this.archives = new ArchiveService(this.containers);
      registerArchiveRoutes(router, this.archives);
      const puller = new ImagePuller(this.images, registry, this.log.child({ service: 'pull' }));
      const pusher = new ImagePusher(this.images, registry, this.log.child({ service: 'push' }));
      const inUse = (imageId: string): string[] => this.containers.usingImage(imageId);
      registerImageRoutes(router, {
        images: this.images,
        inUse,
        running: (imageId: string): string[] => this.containers.runningFromImage(imageId),
        registry: { pull: (req, progress) => puller.pull(req, progress), push: (req, progress) => pusher.push(req, progress) },
        pruner: new ImagePruner(this.images, inUse, this.events, this.log.child({ service: 'image-prune' })),
      });
      registerCommitRoutes(router, new ContainerCommitter(this.containers, this.images, this.events));
      const builder = new Builder({ images: this.images, containers: this.containers, pull: (req, progress) => puller.pull(req, progress) });
      registerBuildRoutes(router, builder, this.events);
      registerAuthRoutes(router, { login: (auth) => login(registry.hosts, auth, registry.userAgent, this.log.child({ service: 'login' })) });
      const api = new ApiServer(router, this.log.child({ component: 'api' }));

      for (const host of this.config.hosts) {
        const addr = parseHost(host);
        const server = api.create(addr.proto === 'tcp' ? this.config.tls : undefined);
        await listen(server, addr);
        this.servers.push(server);
        this.log.info({ host }, 'API listening');
      }
      // Scheduled backups start once the API answers (a catch-up run may start at once).
      this.policies.start();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections?.();
          }),
      ),
    );
    this.servers = [];
    this.policies?.stop();
    this.containers?.close();
    this.networks?.close();
    this.archives?.close();
    this.reaper.close();
    this.db?.close();
    this.db = undefined;
    this.lock?.release();
    // After the lock: its open file keeps the bind busy.
    this.sharedRoot?.release();
    this.sharedRoot = undefined;
  }

  /** Registry access as the daemon's flags set it (dockerd's defaults otherwise). */
  private registrySettings(): RegistrySettings {
    const c = this.config;
    return {
      hosts: new RegistryHosts({ insecure: c.insecureRegistries, mirrors: c.registryMirrors, certsDir: c.registryCertsDir }),
      maxConcurrentDownloads: c.maxConcurrentDownloads ?? DEFAULT_REGISTRY_LIMITS.maxConcurrentDownloads,
      maxConcurrentUploads: c.maxConcurrentUploads ?? DEFAULT_REGISTRY_LIMITS.maxConcurrentUploads,
      maxDownloadAttempts: c.maxDownloadAttempts ?? DEFAULT_REGISTRY_LIMITS.maxDownloadAttempts,
      userAgent: `berth/${ENGINE_VERSION} (linux)`,
    };
  }

  /** A stable engine ID, kept in the data root. */
  private engineId(): string {
    const path = join(this.config.dataRoot, 'engine-id');
    if (existsSync(path)) return readFileSync(path, 'utf8').trim();
    const id = generateId().toUpperCase().slice(0, 36);
    writeFileSync(path, id + '\n');
    return id;
  }
}
