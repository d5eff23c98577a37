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
import { BackupPolicies } from './backup/policy-runner.js';
import { PolicyStore } from './backup/policies.js';
import { CredentialStore } from './backup/credentials.js';
import { registerBackupRoutes } from './api/routes/backup.js';
import { listen, parseHost } from './daemon/listen.js';
import { InvalidParameter } from './errors.js';
import { generateId } from './util/random-id.js';

export const DEFAULT_DATA_ROOT = '/var/lib/berth';
export const DEFAULT_SOCKET = '/run/berth/berth.sock';

export interface DaemonConfig {
  dataRoot: string;
  hosts: string[];
  tls?: TlsOptions;
  runtime?: string;
  /** Containers' default seccomp profile: "builtin", "unconfined" or a file. */
  seccompProfile?: string;
  logLevel?: string;
  logger?: Logger;
}

export class Daemon {
  readonly log: Logger;
  readonly events = new EventBus();
  volumes!: VolumeService;
  images!: ImageService;
  containers!: ContainerService;
  private archives?: ArchiveService;
  private policies?: BackupPolicies;
  private db?: DB;
  private lock?: PidLock;
  private servers: Server[] = [];

  constructor(readonly config: DaemonConfig) {
    this.log = config.logger ?? pino({ level: config.logLevel ?? 'info', base: { pid: process.pid } });
  }

  async start(): Promise<void> {
    const { dataRoot } = this.config;
    mkdirSync(dataRoot, { recursive: true, mode: 0o711 });
    this.lock = new PidLock(join(dataRoot, 'berthd.pid'));
    this.lock.acquire();
    try {
      this.db = openDatabase(join(dataRoot, 'berth.db'));
      const records = new VolumeRecords(this.db);
      const drivers = new DriverRegistry([new LocalDriver(join(dataRoot, 'volumes'), this.log.child({ driver: 'local' }))]);
      this.volumes = new VolumeService(records, drivers, this.events, this.log.child({ service: 'volumes' }));
      await this.volumes.restore();
      this.images = new ImageService({ root: join(dataRoot, 'image'), events: this.events, log: this.log.child({ service: 'images' }) });
      this.containers = new ContainerService({
        dataRoot,
        records: new ContainerRecords(this.db),
        volumes: this.volumes,
        images: this.images,
        events: this.events,
        log: this.log.child({ service: 'containers' }),
        runtimeBinary: this.config.runtime,
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
        diskUsageExtras: async () => {
          const images = this.images.list().map((rec) => toImageSummary(rec, { containers: this.containers.usingImage(rec.id).length }));
          const containers = this.containers.list().map((c) => ({ ...toContainerSummary(c), SizeRw: 0, SizeRootFs: 0 }));
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
      const execs = new ExecService(this.containers, this.events);
      registerExecRoutes(router, execs);
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
      });
      this.policies = new BackupPolicies({
        store: new PolicyStore(this.db, new CredentialStore(join(dataRoot, 'backup', 'credentials'))),
        backups,
        log: this.log.child({ service: 'backup-policies' }),
      });
      registerBackupRoutes(router, backups, this.policies);
      this.archives = new ArchiveService(this.containers);
      registerArchiveRoutes(router, this.archives);
      registerImageRoutes(router, this.images, (imageId) => this.containers.usingImage(imageId));
      const api = new ApiServer(router, this.log.child({ component: 'api' }));

      for (const host of this.config.hosts) {
        const addr = parseHost(host);
        if (addr.proto === 'tcp' && !this.config.tls) {
          throw new InvalidParameter(`refusing to listen on ${host} without TLS client verification (--tlsverify with --tlscacert, --tlscert, --tlskey)`);
        }
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
    this.archives?.close();
    this.db?.close();
    this.db = undefined;
    this.lock?.release();
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
