// The image store behind `berth import/load/images/rmi/tag/image inspect`.
//
// On-disk layout under `root` (= <data-root>/image):
//
//   repositories.json          SchemaVersion, tags and LastTagTime (the only
//                              mutable metadata; replaced atomically: temp +
//                              fsync + rename; migrations in src/store/migrations/repositories/)
//   imagedb/<hex>.json         image config bytes exactly as imported/loaded;
//                              the image ID is sha256 of these bytes
//   layers/<hex>/diff/         an unpacked layer (hex = its diff_id), ready to
//                              be an overlay lowerdir; whiteouts are overlay
//                              whiteouts (char 0/0), opaque dirs carry
//                              trusted.overlay.opaque=y
//   layers/<hex>/layer.json    {diffId, size, opaque[]} — written inside the
//                              temp dir before the rename, so a layer directory
//                              exists only if it is complete
//   l/<20 hex>                 short symlink -> ../layers/<hex>/diff (keeps
//                              overlay mount options well under one page)
//   rootfs/<container>.json    {containerId, imageId, dir}: images whose layers
//                              back a container rootfs (never garbage collected)
//   empty/                     lowerdir for an image without layers
//   tmp/                       unpack and `load` staging; wiped at startup
//
// Why JSON files and not SQLite: configs are immutable, content-addressed
// blobs whose exact bytes define the image ID, so a file per config is the
// natural form; the mutable part is one small document rewritten atomically.
// One daemon owns the store and serialises mutations with an in-process
// mutex, so SQLite's concurrency and transactions would add a native
// dependency without buying anything. Everything is readable with `jq`.
//
// Layer reference counts are derived, not stored: the number of images whose
// rootfs.diff_ids name a layer (computed at startup from imagedb/, then kept in
// memory), plus in-flight pins held by imports/loads. A crash therefore can't
// leave a counter out of step; orphan layers are collected at startup.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, lstatSync, promises as fsp, type Stats } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { Conflict, InvalidParameter, NotFound, SystemError, isBerthError } from '../errors.js';
import { applyChanges } from './changes.js';
import { REPOSITORIES_SCHEMA_VERSION, upgradeRepositories } from '../store/migrations/repositories/index.js';
import { Mutex, isErrno, randomSuffix, writeFileAtomic, writeFileAtomicSync } from './fs-util.js';
import { unpackLayer, safeComponents } from './layer-unpack.js';
import { isMountPoint, mountOverlay, unmount } from './overlay.js';
import { resolveInRootfs } from './rootfs-path.js';
import { normalizeTagRef, tryNormalizeTagRef, splitTagged } from './reference.js';
import { openMaybeCompressed, readTar } from './tar-reader.js';
import { dictSchema } from '../util/dict.js';
import { globMatcher } from '../util/pattern.js';
import type {
  ContainerConfig,
  DeleteResponseItem,
  ImageConfigFile,
  ImageInspect,
  ImageRecord,
  ImageSummary,
  InspectConfig,
} from './types.js';

export interface ImageStoreOptions {
  root: string;
}

export interface ImportOptions {
  /** `repo:tag` (tag defaults to latest); none → dangling image. */
  reference?: string;
  /** Dockerfile instructions (CMD, ENTRYPOINT, ENV, WORKDIR, VOLUME, USER, EXPOSE, LABEL, STOPSIGNAL, ONBUILD, HEALTHCHECK). */
  changes?: string[];
  /** Commit message; Docker's default is "Imported from -". */
  message?: string;
}

export interface RemoveOptions {
  force?: boolean;
  /** IDs of containers using the image (any state). */
  inUse?: (imageId: string) => string[];
}

export interface ListOptions {
  /** Only images without tags (true) or only tagged ones (false). */
  dangling?: boolean;
  /** Glob on familiar "name" or "name:tag" (as `docker images -f reference=`). */
  reference?: string;
  /**
   * API < 1.43 shape: dangling images get RepoTags ["<none>:<none>"] and
   * RepoDigests ["<none>@<none>"]. Default: empty arrays.
   */
  legacyNone?: boolean;
}

export interface LowerPath {
  type: 'file' | 'directory' | 'symlink' | 'other';
  /**
   * Host paths inside the layer directories, top-most first. One element for
   * anything but a directory; for a directory, every layer contributing to the
   * merged view (a reader merging them must skip overlay whiteouts — char
   * devices 0/0 — and already-seen names).
   */
  paths: string[];
}

interface StoredImage {
  hex: string;
  config: ImageConfigFile;
  /** diff_id hexes, bottom to top. */
  layers: string[];
}

interface LayerMeta {
  diffId: string;
  size: number;
  /** Directories (relative, "" = layer root) marked opaque. */
  opaque: string[];
  created: string;
}

interface RootfsRecord {
  containerId: string;
  imageId: string;
  dir: string;
}

interface StateFile {
  SchemaVersion: number;
  Repositories: Record<string, Record<string, string>>;
  LastTagTime?: Record<string, string>;
}

const HEX64 = /^[a-f0-9]{64}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const ZERO_TIME = '0001-01-01T00:00:00Z';
const MAX_JSON = 64 * 1024 * 1024;
const SHORT_LINK = 20;

const stringArray = z.array(z.string()).nullish();
const ConfigSchema = z.looseObject({
  architecture: z.string().optional(),
  os: z.string().optional(),
  created: z.string().optional(),
  author: z.string().optional(),
  comment: z.string().optional(),
  config: z
    .looseObject({
      Env: stringArray,
      Cmd: stringArray,
      Entrypoint: stringArray,
      WorkingDir: z.string().optional(),
      User: z.string().optional(),
      Volumes: dictSchema(z.unknown()).nullish(),
      Labels: dictSchema(z.string()).nullish(),
      ExposedPorts: dictSchema(z.unknown()).nullish(),
    })
    .nullish(),
  rootfs: z.looseObject({
    type: z.literal('layers'),
    diff_ids: z.array(z.string().regex(DIGEST, 'diff_id must be sha256:<64 hex>')),
  }),
  history: z.array(z.looseObject({})).optional(),
});

const ManifestSchema = z.array(
  z.looseObject({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);

const DescriptorSchema = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string().regex(DIGEST, 'digest must be sha256:<64 hex>'),
  annotations: dictSchema(z.string()).optional(),
  platform: z.looseObject({ architecture: z.string(), os: z.string() }).optional(),
});
const IndexSchema = z.looseObject({ manifests: z.array(DescriptorSchema) });
const OciManifestSchema = z.looseObject({ config: DescriptorSchema, layers: z.array(DescriptorSchema) });

function parseJson<T>(schema: z.ZodType<T>, bytes: Buffer, what: string): T {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InvalidParameter(`${what}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  const r = schema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidParameter(`${what}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  return r.data;
}

function sha256Hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

function goArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'ppc64':
      return 'ppc64le';
    default:
      return process.arch;
  }
}

/** Docker's full container.Config shape, in Docker's key order, without unset optional keys. */
function fullConfig(c: ContainerConfig | null | undefined): InspectConfig {
  const cfg = c ?? {};
  const out: InspectConfig = {
    Hostname: cfg.Hostname ?? '',
    Domainname: cfg.Domainname ?? '',
    User: cfg.User ?? '',
    AttachStdin: cfg.AttachStdin ?? false,
    AttachStdout: cfg.AttachStdout ?? false,
    AttachStderr: cfg.AttachStderr ?? false,
  } as InspectConfig;
  if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length > 0) out.ExposedPorts = cfg.ExposedPorts;
  out.Tty = cfg.Tty ?? false;
  out.OpenStdin = cfg.OpenStdin ?? false;
  out.StdinOnce = cfg.StdinOnce ?? false;
  out.Env = cfg.Env ?? null;
  out.Cmd = cfg.Cmd ?? null;
  if (cfg.Healthcheck) out.Healthcheck = cfg.Healthcheck;
  if (cfg.ArgsEscaped) out.ArgsEscaped = cfg.ArgsEscaped;
  out.Image = cfg.Image ?? '';
  out.Volumes = cfg.Volumes ?? null;
  out.WorkingDir = cfg.WorkingDir ?? '';
  out.Entrypoint = cfg.Entrypoint ?? null;
  out.OnBuild = cfg.OnBuild ?? null;
  out.Labels = cfg.Labels ?? null;
  if (cfg.StopSignal) out.StopSignal = cfg.StopSignal;
  if (cfg.StopTimeout !== undefined) out.StopTimeout = cfg.StopTimeout;
  if (cfg.Shell) out.Shell = cfg.Shell;
  return out;
}


/** A node of a `docker save` archive staged on disk. */
type ArchiveNode =
  | { kind: 'file'; file: string; size: number }
  | { kind: 'symlink'; target: string }
  | { kind: 'hardlink'; target: string }
  | { kind: 'dir' };

interface PlannedImage {
  configBytes: Buffer;
  config: ImageConfigFile;
  hex: string;
  /** Staged file for each layer, bottom to top. */
  layerFiles: string[];
  layerNames: string[];
  tags: string[];
}

export class ImageStore {
  readonly root: string;
  private readonly dirs: { imagedb: string; layers: string; links: string; rootfs: string; tmp: string; empty: string };
  private readonly stateFile: string;
  private readonly mutex = new Mutex();

  private readonly images = new Map<string, StoredImage>();
  /** familiar "name:tag" → image hex. */
  private readonly tags = new Map<string, string>();
  private readonly lastTagTime = new Map<string, string>();
  private readonly layers = new Map<string, LayerMeta>();
  /** layer hex → number of images referencing it. */
  private readonly layerRefs = new Map<string, number>();
  /** layer hex → in-flight imports/loads holding it. */
  private readonly pins = new Map<string, number>();
  /** containerId → rootfs record. */
  private readonly rootfsRecords = new Map<string, RootfsRecord>();

  constructor(opts: ImageStoreOptions) {
    this.root = resolvePath(opts.root);
    this.dirs = {
      imagedb: join(this.root, 'imagedb'),
      layers: join(this.root, 'layers'),
      links: join(this.root, 'l'),
      rootfs: join(this.root, 'rootfs'),
      tmp: join(this.root, 'tmp'),
      empty: join(this.root, 'empty'),
    };
    this.stateFile = join(this.root, 'repositories.json');
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const d of Object.values(this.dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
    // Leftovers of interrupted unpacks and loads.
    for (const name of readdirSync(this.dirs.tmp)) rmSync(join(this.dirs.tmp, name), { recursive: true, force: true });
    this.loadFromDisk();
  }

  // ---------------------------------------------------------------- startup

  private loadFromDisk(): void {
    for (const hex of readdirSync(this.dirs.layers)) {
      const dir = join(this.dirs.layers, hex);
      try {
        if (!HEX64.test(hex)) throw new Error('bad name');
        const meta = JSON.parse(readFileSync(join(dir, 'layer.json'), 'utf8')) as LayerMeta;
        if (meta.diffId !== `sha256:${hex}` || !existsSync(join(dir, 'diff'))) throw new Error('bad layer');
        meta.opaque ??= [];
        this.layers.set(hex, meta);
      } catch {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    for (const name of readdirSync(this.dirs.imagedb)) {
      const m = /^([a-f0-9]{64})\.json$/.exec(name);
      if (!m) continue;
      const hex = m[1]!;
      try {
        const bytes = readFileSync(join(this.dirs.imagedb, name));
        if (sha256Hex(bytes) !== hex) continue;
        const config = parseJson(ConfigSchema, bytes, name) as ImageConfigFile;
        const layers = config.rootfs.diff_ids.map((d) => d.slice('sha256:'.length));
        if (!layers.every((l) => this.layers.has(l))) continue; // broken image: ignored
        this.addImage({ hex, config, layers });
      } catch {
        /* unreadable config: ignored */
      }
    }
    let stateUpgraded = false;
    if (existsSync(this.stateFile)) {
      try {
        const { doc, upgraded } = upgradeRepositories(JSON.parse(readFileSync(this.stateFile, 'utf8')));
        stateUpgraded = upgraded;
        const state = doc as unknown as StateFile;
        for (const repo of Object.values(state.Repositories ?? {})) {
          for (const [tag, id] of Object.entries(repo)) {
            const hex = id.replace(/^sha256:/, '');
            if (this.images.has(hex)) this.tags.set(tag, hex);
          }
        }
        for (const [id, t] of Object.entries(state.LastTagTime ?? {})) {
          const hex = id.replace(/^sha256:/, '');
          if (this.images.has(hex)) this.lastTagTime.set(hex, t);
        }
      } catch (e) {
        throw new SystemError(`image store: cannot read ${this.stateFile}: ${(e as Error).message}`, { cause: e });
      }
    }
    for (const name of readdirSync(this.dirs.rootfs)) {
      if (!name.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(readFileSync(join(this.dirs.rootfs, name), 'utf8')) as RootfsRecord;
        if (this.images.has(rec.imageId.replace(/^sha256:/, ''))) this.rootfsRecords.set(rec.containerId, rec);
      } catch {
        /* ignore */
      }
    }
    // Orphan layers (a crash between unpack and image commit, or during rmi).
    for (const hex of [...this.layers.keys()]) {
      if ((this.layerRefs.get(hex) ?? 0) === 0) {
        rmSync(join(this.dirs.layers, hex), { recursive: true, force: true });
        this.layers.delete(hex);
      }
    }
    // Short links: drop stale ones, (re)create missing ones.
    const wanted = new Map([...this.layers.keys()].map((hex) => [hex.slice(0, SHORT_LINK), hex]));
    for (const name of readdirSync(this.dirs.links)) {
      if (!wanted.has(name)) rmSync(join(this.dirs.links, name), { force: true });
    }
    for (const [short, hex] of wanted) {
      const link = join(this.dirs.links, short);
      try {
        lstatSync(link);
      } catch {
        symlinkSync(`../layers/${hex}/diff`, link);
      }
    }
    if (stateUpgraded || !existsSync(this.stateFile)) writeFileAtomicSync(this.stateFile, this.stateJson());
  }

  private addImage(img: StoredImage): void {
    this.images.set(img.hex, img);
    for (const l of new Set(img.layers)) this.layerRefs.set(l, (this.layerRefs.get(l) ?? 0) + 1);
  }

  private stateJson(): string {
    const repos: StateFile['Repositories'] = {};
    for (const [tag, hex] of [...this.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const { repository } = splitTagged(tag);
      (repos[repository] ??= {})[tag] = `sha256:${hex}`;
    }
    const ltt: Record<string, string> = {};
    for (const [hex, t] of this.lastTagTime) ltt[`sha256:${hex}`] = t;
    return JSON.stringify({ SchemaVersion: REPOSITORIES_SCHEMA_VERSION, Repositories: repos, LastTagTime: ltt } satisfies StateFile, null, 2) + '\n';
  }

  private async saveState(): Promise<void> {
    await writeFileAtomic(this.stateFile, this.stateJson());
  }

  // ---------------------------------------------------------------- lookups

  private tagsOf(hex: string): string[] {
    return [...this.tags].filter(([, h]) => h === hex).map(([t]) => t).sort();
  }

  private resolveHex(ref: string): string | null {
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(ref);
    if (full) return this.images.has(full[1]!) ? full[1]! : null;
    const tagged = tryNormalizeTagRef(ref);
    if (tagged !== null) {
      const hex = this.tags.get(tagged);
      if (hex !== undefined) return hex;
    }
    const prefix = /^(?:sha256:)?([a-f0-9]{1,63})$/.exec(ref);
    if (prefix) {
      const matches = [...this.images.keys()].filter((h) => h.startsWith(prefix[1]!));
      if (matches.length === 1) return matches[0]!;
    }
    return null;
  }

  private mustResolve(ref: string): string {
    const hex = this.resolveHex(ref);
    if (hex === null) throw new NotFound(`No such image: ${ref}`);
    return hex;
  }

  private imageSize(img: StoredImage): number {
    let size = 0;
    for (const l of new Set(img.layers)) size += this.layers.get(l)?.size ?? 0;
    return size;
  }

  private record(hex: string): ImageRecord {
    const img = this.images.get(hex)!;
    return {
      id: `sha256:${hex}`,
      repoTags: this.tagsOf(hex),
      config: structuredClone(img.config),
      layers: img.layers.map((l) => `sha256:${l}`),
      size: this.imageSize(img),
      created: img.config.created ?? '',
      lastTagTime: this.lastTagTime.get(hex) ?? null,
    };
  }

  /** Resolves `name`, `name:tag`, `docker.io/library/name:tag`, `sha256:<hex>` or a unique ID prefix. */
  resolve(ref: string): ImageRecord {
    return this.record(this.mustResolve(ref));
  }

  /** Like resolve() but returns null when there is no such image. */
  find(ref: string): ImageRecord | null {
    const hex = this.resolveHex(ref);
    return hex === null ? null : this.record(hex);
  }

  /** GET /images/json, newest first. */
  list(opts: ListOptions = {}): ImageSummary[] {
    // Docker's reference filter is path.Match; a malformed pattern matches nothing.
    const refMatches = opts.reference !== undefined ? (globMatcher(opts.reference) ?? (() => false)) : null;
    const out: Array<ImageSummary & { sortKey: string }> = [];
    for (const [hex, img] of this.images) {
      let tags = this.tagsOf(hex);
      if (opts.dangling === true && tags.length > 0) continue;
      if (opts.dangling === false && tags.length === 0) continue;
      if (refMatches) {
        tags = tags.filter((t) => refMatches(t) || refMatches(splitTagged(t).repository));
        if (tags.length === 0) continue;
      }
      const dangling = tags.length === 0;
      const created = Date.parse(img.config.created ?? '');
      const labels = img.config.config?.Labels;
      out.push({
        Id: `sha256:${hex}`,
        ParentId: '',
        RepoTags: dangling && opts.legacyNone ? ['<none>:<none>'] : tags,
        RepoDigests: dangling && opts.legacyNone ? ['<none>@<none>'] : [],
        Created: Number.isNaN(created) ? 0 : Math.floor(created / 1000),
        Size: this.imageSize(img),
        SharedSize: -1,
        Labels: labels && Object.keys(labels).length > 0 ? { ...labels } : null,
        Containers: -1,
        sortKey: img.config.created ?? '',
      });
    }
    out.sort((a, b) => b.Created - a.Created || (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : a.Id < b.Id ? -1 : 1));
    return out.map(({ sortKey: _s, ...s }) => s);
  }

  /** Alias of list(): the GET /images/json view. */
  summaries(opts: ListOptions = {}): ImageSummary[] {
    return this.list(opts);
  }

  /**
   * Host path of `path` inside a mounted container rootfs, with symlinks
   * resolved inside `rootfs` (never escaping it). For copy-up from the
   * mounted rootfs before the container starts; see also lowerPath().
   */
  imagePathInRootfs(rootfs: string, path: string, opts: { followSymlinks?: boolean } = {}): Promise<string> {
    return resolveInRootfs(rootfs, path, opts);
  }

  /** GET /images/{name}/json. */
  inspect(ref: string): ImageInspect {
    const hex = this.mustResolve(ref);
    const img = this.images.get(hex)!;
    const c = img.config;
    const top = img.layers[img.layers.length - 1];
    const lowerTopFirst = [...new Set([...img.layers].reverse())];
    const data: Record<string, string> | null =
      top === undefined
        ? null
        : {
            ...(lowerTopFirst.length > 1
              ? { LowerDir: lowerTopFirst.slice(1).map((l) => join(this.dirs.layers, l, 'diff')).join(':') }
              : {}),
            UpperDir: join(this.dirs.layers, top, 'diff'),
          };
    const out: ImageInspect = {
      Id: `sha256:${hex}`,
      RepoTags: this.tagsOf(hex),
      RepoDigests: [],
      Parent: '',
      Comment: c.comment ?? '',
      Created: c.created ?? '',
      DockerVersion: c.docker_version ?? '',
      Author: c.author ?? '',
      Config: fullConfig(c.config),
      Architecture: c.architecture ?? '',
      Os: c.os ?? '',
      Size: this.imageSize(img),
      GraphDriver: { Name: 'overlay2', Data: data },
      RootFS: { Type: 'layers', Layers: img.layers.map((l) => `sha256:${l}`) },
      Metadata: { LastTagTime: this.lastTagTime.get(hex) ?? ZERO_TIME },
    };
    if (c.variant) out.Variant = c.variant;
    return out;
  }

  /** Number of images referencing a layer (diff_id "sha256:…" or hex). */
  layerRefCount(diffId: string): number {
    return this.layerRefs.get(diffId.replace(/^sha256:/, '')) ?? 0;
  }

  /** Unpacked size in bytes of a layer (0 if the store doesn't have it). */
  layerSize(diffId: string): number {
    return this.layers.get(diffId.replace(/^sha256:/, ''))?.size ?? 0;
  }

  /** Host directory of an unpacked layer, or null if the store doesn't have it. */
  layerDir(diffId: string): string | null {
    const hex = diffId.replace(/^sha256:/, '');
    return this.layers.has(hex) ? join(this.dirs.layers, hex, 'diff') : null;
  }

  // ---------------------------------------------------------------- layers

  private pin(hex: string): void {
    this.pins.set(hex, (this.pins.get(hex) ?? 0) + 1);
  }

  private unpin(hex: string): void {
    const n = (this.pins.get(hex) ?? 0) - 1;
    if (n <= 0) this.pins.delete(hex);
    else this.pins.set(hex, n);
  }

  /** Pins `hex` if the store has it; returns whether it did. */
  private pinIfPresent(hex: string): Promise<boolean> {
    return this.mutex.run(async () => {
      if (!this.layers.has(hex)) return false;
      this.pin(hex);
      return true;
    });
  }

  /**
   * Unpacks a layer stream into the store (once per diff_id) and pins it.
   * With `expected`, the stream's sha256 must match or nothing is kept.
   */
  private async ingestLayer(source: AsyncIterable<Buffer | string | Uint8Array>, expected: string | null, what: string): Promise<string> {
    const tmp = join(this.dirs.tmp, `layer-${randomSuffix()}`);
    await fsp.mkdir(join(tmp, 'diff'), { recursive: true, mode: 0o755 });
    await fsp.chmod(join(tmp, 'diff'), 0o755);
    let committed = false;
    try {
      const opened = await openMaybeCompressed(source);
      const result = await unpackLayer(opened.reader, join(tmp, 'diff'));
      await opened.reader.drain();
      const diffId = opened.digest();
      if (expected !== null && diffId !== expected) {
        throw new InvalidParameter(`${what}: layer digest mismatch: expected ${expected}, got ${diffId}`);
      }
      const hex = diffId.slice('sha256:'.length);
      const meta: LayerMeta = { diffId, size: result.size, opaque: result.opaque, created: new Date().toISOString() };
      await writeFileAtomic(join(tmp, 'layer.json'), JSON.stringify(meta) + '\n');
      await this.mutex.run(async () => {
        if (!this.layers.has(hex)) {
          const dest = join(this.dirs.layers, hex);
          try {
            await fsp.rename(tmp, dest);
            committed = true;
          } catch (e) {
            // Another process got there first: its copy is complete (renamed whole).
            if (!isErrno(e, 'ENOTEMPTY', 'EEXIST')) throw e;
          }
          const link = join(this.dirs.links, hex.slice(0, SHORT_LINK));
          await fsp.rm(link, { force: true });
          await fsp.symlink(`../layers/${hex}/diff`, link);
          this.layers.set(hex, meta);
        }
        this.pin(hex);
      });
      return hex;
    } catch (e) {
      if (isBerthError(e)) throw e;
      throw new SystemError(`${what}: ${(e as Error).message}`, { cause: e });
    } finally {
      if (!committed) await fsp.rm(tmp, { recursive: true, force: true });
    }
  }

  /** Deletes layers nobody references or pins. Call inside the mutex. */
  private async collectLayers(candidates: Iterable<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const hex of new Set(candidates)) {
      if (!this.layers.has(hex)) continue;
      if ((this.layerRefs.get(hex) ?? 0) > 0 || (this.pins.get(hex) ?? 0) > 0) continue;
      const trash = join(this.dirs.tmp, `rm-${hex}-${randomSuffix()}`);
      await fsp.rename(join(this.dirs.layers, hex), trash);
      this.layers.delete(hex);
      await fsp.rm(join(this.dirs.links, hex.slice(0, SHORT_LINK)), { force: true });
      await fsp.rm(trash, { recursive: true, force: true });
      removed.push(hex);
    }
    return removed;
  }

  // ---------------------------------------------------------------- import

  /** `docker import`: one tar (plain or gzip) becomes a single-layer image. */
  async importRootfs(source: NodeJS.ReadableStream, opts: ImportOptions = {}): Promise<ImageRecord> {
    const tag = opts.reference !== undefined && opts.reference !== '' ? normalizeTagRef(opts.reference) : null;
    const cfg = applyChanges(opts.changes ?? []);
    const message = opts.message ?? '';
    const hex = await this.ingestLayer(source as AsyncIterable<Buffer>, null, 'import');
    try {
      const created = new Date().toISOString();
      const config: ImageConfigFile = {
        architecture: goArch(),
        ...(message !== '' ? { comment: message } : {}),
        config: fullConfig(cfg) as ContainerConfig,
        created,
        history: [{ created, comment: message !== '' ? message : 'Imported from -' }],
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [`sha256:${hex}`] },
      };
      const bytes = Buffer.from(JSON.stringify(config));
      const id = await this.mutex.run(async () => {
        const imageHex = await this.commitImage(bytes, config);
        if (tag !== null) this.setTag(tag, imageHex);
        await this.saveState();
        return imageHex;
      });
      return this.record(id);
    } finally {
      await this.mutex.run(async () => {
        this.unpin(hex);
        await this.collectLayers([hex]);
      });
    }
  }

  /** Stores a config (inside the mutex); returns the image hex. */
  private async commitImage(bytes: Buffer, config: ImageConfigFile): Promise<string> {
    const hex = sha256Hex(bytes);
    if (this.images.has(hex)) return hex;
    const layers = config.rootfs.diff_ids.map((d) => d.slice('sha256:'.length));
    for (const l of layers) if (!this.layers.has(l)) throw new SystemError(`layer sha256:${l} vanished before commit`);
    await writeFileAtomic(join(this.dirs.imagedb, `${hex}.json`), bytes);
    this.addImage({ hex, config, layers });
    return hex;
  }

  /** Points `tag` at `hex` (inside the mutex); returns the image it moved away from, if any. */
  private setTag(tag: string, hex: string): string | null {
    const prev = this.tags.get(tag);
    this.tags.set(tag, hex);
    this.lastTagTime.set(hex, new Date().toISOString());
    return prev !== undefined && prev !== hex ? prev : null;
  }

  // ---------------------------------------------------------------- load

  /**
   * `docker load`: a `docker save` archive (legacy `<id>/layer.tar` layout or
   * OCI `blobs/sha256` layout, plain or gzip). Returns the "Loaded image: …"
   * lines; `onProgress` also receives them, plus per-layer progress.
   */
  async load(source: NodeJS.ReadableStream, onProgress?: (line: string) => void): Promise<string[]> {
    const progress = onProgress ?? ((): void => {});
    const staging = join(this.dirs.tmp, `load-${randomSuffix()}`);
    await fsp.mkdir(staging, { mode: 0o700 });
    const pinned: string[] = [];
    try {
      const nodes = await this.stageArchive(source as AsyncIterable<Buffer>, staging);
      const plans = await this.planLoad(nodes);
      if (plans.length === 0) throw new InvalidParameter('no images found in the archive');

      // Layers (each at most once per store).
      for (const plan of plans) {
        const diffIds = plan.config.rootfs.diff_ids;
        for (let i = 0; i < diffIds.length; i++) {
          const diffId = diffIds[i]!;
          const hex = diffId.slice('sha256:'.length);
          if (await this.pinIfPresent(hex)) {
            pinned.push(hex);
            continue;
          }
          progress(`Loading layer ${hex.slice(0, 12)}`);
          const got = await this.ingestLayer(createReadStream(plan.layerFiles[i]!), diffId, `layer ${JSON.stringify(plan.layerNames[i])}`);
          pinned.push(got);
        }
      }

      // Configs and tags, all at once.
      const lines: string[] = [];
      await this.mutex.run(async () => {
        for (const plan of plans) {
          const hex = await this.commitImage(plan.configBytes, plan.config);
          for (const tag of plan.tags) {
            const prev = this.setTag(tag, hex);
            if (prev !== null) {
              progress(`The image ${tag} already exists, renaming the old one with ID sha256:${prev} to empty string`);
            }
            lines.push(`Loaded image: ${tag}`);
          }
          if (plan.tags.length === 0) lines.push(`Loaded image ID: sha256:${hex}`);
        }
        await this.saveState();
      });
      for (const l of lines) progress(l);
      return lines;
    } finally {
      await this.mutex.run(async () => {
        for (const hex of pinned) this.unpin(hex);
        await this.collectLayers(pinned);
      });
      await fsp.rm(staging, { recursive: true, force: true });
    }
  }

  /** Streams the outer archive into `staging` as numbered files; returns the archive's namespace. */
  private async stageArchive(source: AsyncIterable<Buffer>, staging: string): Promise<Map<string, ArchiveNode>> {
    const nodes = new Map<string, ArchiveNode>();
    let n = 0;
    try {
      const opened = await openMaybeCompressed(source);
      for await (const entry of readTar(opened.reader)) {
        const h = entry.header;
        const parts = safeComponents(h.path, 'archive entry');
        const rel = parts.join('/');
        if (rel === '') continue;
        switch (h.type) {
          case 'file': {
            const file = join(staging, String(n++));
            const fh = await fsp.open(file, 'wx', 0o600);
            try {
              for await (const chunk of entry.body()) {
                let off = 0;
                while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
              }
            } finally {
              await fh.close();
            }
            nodes.set(rel, { kind: 'file', file, size: h.size });
            break;
          }
          case 'symlink':
            nodes.set(rel, { kind: 'symlink', target: h.linkpath });
            break;
          case 'hardlink':
            nodes.set(rel, { kind: 'hardlink', target: safeComponents(h.linkpath, `hardlink ${JSON.stringify(h.path)} ->`).join('/') });
            break;
          case 'directory':
            nodes.set(rel, { kind: 'dir' });
            break;
          default:
            break; // devices and fifos have no meaning in a save archive
        }
      }
      await opened.reader.drain();
    } catch (e) {
      if (isBerthError(e)) throw e;
      throw new SystemError(`load: ${(e as Error).message}`, { cause: e });
    }
    return nodes;
  }

  /** Resolves a path named by manifest.json/index.json to a staged regular file, never leaving the archive. */
  private archiveFile(nodes: Map<string, ArchiveNode>, name: string, what: string): { file: string; size: number } {
    const outside = (): InvalidParameter =>
      new InvalidParameter(`${what} ${JSON.stringify(name)} points outside the archive`);
    if (name.startsWith('/') || name.includes('\0')) throw outside();
    let stack: string[] = [];
    let pending = name.split('/');
    let hops = 0;
    while (pending.length > 0) {
      const c = pending.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length === 0) throw outside();
        stack.pop();
        continue;
      }
      stack.push(c);
      const node = nodes.get(stack.join('/'));
      if (node?.kind === 'symlink' || node?.kind === 'hardlink') {
        if (++hops > 40) throw new InvalidParameter(`${what} ${JSON.stringify(name)}: too many levels of links`);
        if (node.kind === 'hardlink') {
          stack = node.target.split('/');
          continue;
        }
        stack.pop();
        if (node.target.startsWith('/')) throw outside();
        pending = [...node.target.split('/'), ...pending];
      }
    }
    const node = nodes.get(stack.join('/'));
    if (node === undefined) throw new InvalidParameter(`${what} ${JSON.stringify(name)} not found in the archive`);
    if (node.kind !== 'file') throw new InvalidParameter(`${what} ${JSON.stringify(name)} is not a regular file`);
    return node;
  }

  private async readArchiveJson(nodes: Map<string, ArchiveNode>, name: string, what: string): Promise<Buffer> {
    const f = this.archiveFile(nodes, name, what);
    if (f.size > MAX_JSON) throw new InvalidParameter(`${what} ${JSON.stringify(name)} is too large`);
    return fsp.readFile(f.file);
  }

  private async planLoad(nodes: Map<string, ArchiveNode>): Promise<PlannedImage[]> {
    type Entry = { config: string; configDigest?: string; layers: string[]; tags: string[] };
    let entries: Entry[];
    if (nodes.get('manifest.json')?.kind === 'file') {
      const manifest = parseJson(ManifestSchema, await this.readArchiveJson(nodes, 'manifest.json', 'manifest'), 'manifest.json');
      entries = manifest.map((m) => ({ config: m.Config, layers: m.Layers, tags: m.RepoTags ?? [] }));
    } else if (nodes.get('index.json')?.kind === 'file') {
      entries = await this.planOci(nodes);
    } else {
      throw new InvalidParameter('invalid archive: no manifest.json or index.json (is this a `docker save` archive?)');
    }
    const plans: PlannedImage[] = [];
    for (const e of entries) {
      const configBytes = await this.readArchiveJson(nodes, e.config, 'manifest Config');
      const hex = sha256Hex(configBytes);
      const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(e.config)?.[1] ?? e.configDigest;
      if (named !== undefined && named !== hex) {
        throw new InvalidParameter(`config ${JSON.stringify(e.config)}: digest mismatch (content is sha256:${hex})`);
      }
      const config = parseJson(ConfigSchema, configBytes, `config ${e.config}`) as ImageConfigFile;
      if (config.rootfs.diff_ids.length !== e.layers.length) {
        throw new InvalidParameter(
          `config ${e.config}: ${config.rootfs.diff_ids.length} diff_ids but the manifest lists ${e.layers.length} layers`,
        );
      }
      const layerFiles = e.layers.map((l) => this.archiveFile(nodes, l, 'manifest layer').file);
      const tags = [...new Set(e.tags.map((t) => normalizeTagRef(t)))];
      plans.push({ configBytes, config, hex, layerFiles, layerNames: e.layers, tags });
    }
    return plans;
  }

  /** OCI image layout: index.json → (nested indexes) → manifests. */
  private async planOci(nodes: Map<string, ArchiveNode>): Promise<Array<{ config: string; configDigest: string; layers: string[]; tags: string[] }>> {
    const blob = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;
    const verified = async (digest: string, what: string): Promise<Buffer> => {
      const bytes = await this.readArchiveJson(nodes, blob(digest), what);
      if (`sha256:${sha256Hex(bytes)}` !== digest) throw new InvalidParameter(`${what} ${digest}: digest mismatch`);
      return bytes;
    };
    const index = parseJson(IndexSchema, await this.readArchiveJson(nodes, 'index.json', 'index'), 'index.json');
    const out: Array<{ config: string; configDigest: string; layers: string[]; tags: string[] }> = [];
    const visit = async (descs: z.infer<typeof DescriptorSchema>[], inheritedTags: string[], depth: number): Promise<void> => {
      if (depth > 4) throw new InvalidParameter('index.json: indexes nested too deeply');
      for (const d of descs) {
        const ann = d.annotations ?? {};
        const tags = [...inheritedTags];
        const full = ann['io.containerd.image.name'];
        const refName = ann['org.opencontainers.image.ref.name'];
        if (full !== undefined) tags.push(full);
        else if (refName !== undefined && /[:/]/.test(refName) && tryNormalizeTagRef(refName) !== null) tags.push(refName);
        const mt = d.mediaType ?? '';
        if (mt.includes('image.index') || mt.includes('manifest.list')) {
          const sub = parseJson(IndexSchema, await verified(d.digest, 'index'), `index ${d.digest}`);
          const host = sub.manifests.filter((m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === goArch()));
          await visit(host.slice(0, 1), tags, depth + 1);
          continue;
        }
        const m = parseJson(OciManifestSchema, await verified(d.digest, 'manifest'), `manifest ${d.digest}`);
        out.push({
          config: blob(m.config.digest),
          configDigest: m.config.digest.slice('sha256:'.length),
          layers: m.layers.map((l) => blob(l.digest)),
          tags,
        });
      }
    };
    await visit(index.manifests, [], 0);
    return out;
  }

  // ---------------------------------------------------------------- tag / rmi

  /** `docker tag`: points `newRef` (tag defaults to latest) at the image `ref` resolves to. */
  async tag(ref: string, newRef: string): Promise<void> {
    const tag = normalizeTagRef(newRef);
    await this.mutex.run(async () => {
      const hex = this.mustResolve(ref);
      this.setTag(tag, hex);
      await this.saveState();
    });
  }

  private usersOf(hex: string, inUse?: (imageId: string) => string[]): string[] {
    const users = new Set(inUse?.(`sha256:${hex}`) ?? []);
    for (const rec of this.rootfsRecords.values()) {
      if (rec.imageId === `sha256:${hex}`) users.add(rec.containerId);
    }
    return [...users];
  }

  /**
   * `docker rmi` semantics:
   *  - a tag reference untags; the image goes when its last tag does;
   *  - an ID reference deletes the image and all its tags (several tags need force);
   *  - an image used by a container refuses (409) unless forced, and with force
   *    is only untagged (its layers back the container's rootfs).
   */
  async remove(ref: string, opts: RemoveOptions = {}): Promise<DeleteResponseItem[]> {
    const force = opts.force ?? false;
    return this.mutex.run(async () => {
      const hex = this.mustResolve(ref);
      const fullId = `sha256:${hex}`;
      const users = this.usersOf(hex, opts.inUse);
      const refs = this.tagsOf(hex);
      const out: DeleteResponseItem[] = [];
      const byId = fullId.startsWith(ref) || fullId.startsWith(`sha256:${ref}`);

      if (!byId) {
        const tag = tryNormalizeTagRef(ref);
        if (tag === null || this.tags.get(tag) !== hex) throw new NotFound(`No such image: ${ref}`);
        if (!force && refs.length === 1 && users.length > 0) {
          throw new Conflict(
            `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0]!)} is using its referenced image ${shortId(hex)}`,
          );
        }
        this.tags.delete(tag);
        out.push({ Untagged: tag });
        if (this.tagsOf(hex).length > 0 || users.length > 0) {
          await this.saveState();
          return out;
        }
      } else {
        if (refs.length > 1 && !force) {
          throw new Conflict(`conflict: unable to delete ${shortId(hex)} (must be forced) - image is referenced in multiple repositories`);
        }
        if (users.length > 0 && !force) {
          throw new Conflict(
            `conflict: unable to delete ${shortId(hex)} (must be forced) - image is being used by stopped container ${shortId(users[0]!)}`,
          );
        }
        for (const t of refs) {
          this.tags.delete(t);
          out.push({ Untagged: t });
        }
        if (users.length > 0) {
          await this.saveState();
          return out;
        }
      }

      // Delete the image: tags are gone; config file; then unreferenced layers.
      const img = this.images.get(hex)!;
      this.lastTagTime.delete(hex);
      await this.saveState();
      await fsp.rm(join(this.dirs.imagedb, `${hex}.json`), { force: true });
      this.images.delete(hex);
      for (const l of new Set(img.layers)) {
        const n = (this.layerRefs.get(l) ?? 0) - 1;
        if (n <= 0) this.layerRefs.delete(l);
        else this.layerRefs.set(l, n);
      }
      out.push({ Deleted: fullId });
      const removed = await this.collectLayers(img.layers);
      for (const l of removed) out.push({ Deleted: `sha256:${l}` });
      return out;
    });
  }

  // ---------------------------------------------------------------- rootfs

  private lowerHexesTopFirst(img: StoredImage): string[] {
    // A layer listed twice only needs its top-most occurrence: everything the
    // lower copy contributes is already present (or whited out) above it.
    return [...new Set([...img.layers].reverse())];
  }

  /**
   * Mounts the image's layers (read-only lowerdirs, top first) with
   * `<dir>/upper` and `<dir>/work` at `<dir>/rootfs`. Idempotent. Records the
   * container so the image cannot be deleted while the rootfs exists.
   */
  async prepareRootfs(containerId: string, imageId: string, dir: string): Promise<{ rootfs: string }> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(containerId)) {
      throw new InvalidParameter(`invalid container id ${JSON.stringify(containerId)}`);
    }
    const base = resolvePath(dir);
    const rootfs = join(base, 'rootfs');
    return this.mutex.run(async () => {
      const hex = this.mustResolve(imageId);
      const img = this.images.get(hex)!;
      const rec: RootfsRecord = { containerId, imageId: `sha256:${hex}`, dir: base };
      const recordFile = join(this.dirs.rootfs, `${containerId}.json`);
      const previous = this.rootfsRecords.get(containerId);
      await writeFileAtomic(recordFile, JSON.stringify(rec) + '\n');
      this.rootfsRecords.set(containerId, rec);
      try {
        for (const d of ['rootfs', 'upper', 'work']) await fsp.mkdir(join(base, d), { recursive: true, mode: 0o755 });
        if (isMountPoint(rootfs)) return { rootfs };
        const lower = this.lowerHexesTopFirst(img).map((h) => h.slice(0, SHORT_LINK));
        await mountOverlay({
          lower: lower.length > 0 ? lower : [this.dirs.empty],
          upper: join(base, 'upper'),
          work: join(base, 'work'),
          target: rootfs,
          cwd: this.dirs.links,
        });
      } catch (e) {
        // Don't pin the image for a rootfs that never came to be.
        if (previous === undefined) {
          this.rootfsRecords.delete(containerId);
          await fsp.rm(recordFile, { force: true });
        }
        throw e;
      }
      return { rootfs };
    });
  }

  /** Unmounts `<dir>/rootfs` (lazily if busy). The upper layer and the record are kept. */
  async releaseRootfs(dir: string): Promise<void> {
    await unmount(join(resolvePath(dir), 'rootfs'));
  }

  /** Unmounts and deletes `<dir>/rootfs`, `<dir>/upper` and `<dir>/work`; releases the image. */
  async removeRootfs(dir: string): Promise<void> {
    const base = resolvePath(dir);
    await this.releaseRootfs(base);
    if (isMountPoint(join(base, 'rootfs'))) throw new SystemError(`${join(base, 'rootfs')} is still mounted`);
    for (const d of ['rootfs', 'upper', 'work']) await fsp.rm(join(base, d), { recursive: true, force: true });
    await this.mutex.run(async () => {
      for (const [id, rec] of this.rootfsRecords) {
        if (rec.dir !== base) continue;
        this.rootfsRecords.delete(id);
        await fsp.rm(join(this.dirs.rootfs, `${id}.json`), { force: true });
      }
    });
  }

  /**
   * Resolves `path` inside an image without mounting it: overlay semantics
   * (whiteouts, opaque directories) across the layers, symlinks in
   * intermediate components resolved inside the image root (as a chroot
   * would). The final component is followed only with `followSymlinks`.
   * Returns null when the path does not exist in the image. For copying a
   * whole directory tree, reading the mounted `<dir>/rootfs` is simpler.
   */
  async lowerPath(imageId: string, path: string, opts: { followSymlinks?: boolean } = {}): Promise<LowerPath | null> {
    const hex = this.mustResolve(imageId);
    const img = this.images.get(hex)!;
    const layerHexes = this.lowerHexesTopFirst(img);
    const layerRoot = (i: number): string => join(this.dirs.layers, layerHexes[i]!, 'diff');
    const hostPath = (i: number, parts: string[]): string => (parts.length ? join(layerRoot(i), ...parts) : layerRoot(i));
    const isOpaque = (i: number, rel: string): boolean => this.layers.get(layerHexes[i]!)?.opaque.includes(rel) ?? false;
    const lstatOrNull = async (p: string): Promise<Stats | null> => {
      try {
        return await fsp.lstat(p);
      } catch (e) {
        if (isErrno(e, 'ENOENT', 'ENOTDIR')) return null;
        throw e;
      }
    };
    const rootContrib = (): number[] => {
      const out: number[] = [];
      for (let i = 0; i < layerHexes.length; i++) {
        out.push(i);
        if (isOpaque(i, '')) break;
      }
      return out;
    };
    type Step = { kind: 'dir'; contrib: number[] } | { kind: 'other'; layer: number; st: Stats } | null;
    const step = async (contrib: number[], dirParts: string[], name: string): Promise<Step> => {
      const parts = [...dirParts, name];
      const rel = parts.join('/');
      const found: number[] = [];
      for (const i of contrib) {
        const st = await lstatOrNull(hostPath(i, parts));
        if (st === null) continue;
        if (st.isCharacterDevice() && st.rdev === 0) {
          if (found.length === 0) return null;
          break;
        }
        if (st.isDirectory()) {
          found.push(i);
          if (isOpaque(i, rel)) break;
          continue;
        }
        if (found.length === 0) return { kind: 'other', layer: i, st };
        break;
      }
      return found.length > 0 ? { kind: 'dir', contrib: found } : null;
    };
    const walkDirs = async (parts: string[]): Promise<number[] | null> => {
      let contrib = rootContrib();
      for (let k = 0; k < parts.length; k++) {
        const r = await step(contrib, parts.slice(0, k), parts[k]!);
        if (r === null || r.kind !== 'dir') return null;
        contrib = r.contrib;
      }
      return contrib;
    };

    let queue = path.split('/');
    let dirParts: string[] = [];
    let contrib = rootContrib();
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        dirParts.pop();
        contrib = (await walkDirs(dirParts)) ?? rootContrib();
        continue;
      }
      const r = await step(contrib, dirParts, c);
      if (r === null) return null;
      if (r.kind === 'dir') {
        dirParts = [...dirParts, c];
        contrib = r.contrib;
        continue;
      }
      const last = queue.every((q) => q === '' || q === '.');
      if (r.st.isSymbolicLink() && (!last || opts.followSymlinks)) {
        if (++hops > 40) throw new InvalidParameter(`too many levels of symbolic links resolving ${path}`);
        const target = await fsp.readlink(hostPath(r.layer, [...dirParts, c]));
        if (target.startsWith('/')) {
          dirParts = [];
          contrib = rootContrib();
        }
        queue = [...target.split('/'), ...queue];
        continue;
      }
      if (!last) return null;
      const st = r.st;
      return {
        type: st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
        paths: [hostPath(r.layer, [...dirParts, c])],
      };
    }
    return { type: 'directory', paths: contrib.map((i) => hostPath(i, dirParts)) };
  }
}
