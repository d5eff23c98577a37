// The image service: what the rest of berth uses for `import`, `load`,
// `images`, `rmi`, `tag` and container root filesystems. It composes the
// stores under `root` (= <data-root>/image):
//
//   layers/, l/          LayerStore: content-addressed unpacked layers
//   blobs/, distribution/ LayerBlobs: each layer's blobs and the repositories holding them
//   imagedb/             ImageDb: config files, named by their sha256
//   repositories.json    TagStore: tags and LastTagTime
//   rootfs/, empty/      OverlaySnapshotter: container rootfs records
//   tmp/                 unpack and `load` staging; wiped at startup
//
// Why JSON files and not SQLite: configs are immutable, content-addressed
// blobs whose exact bytes define the image ID, so a file per config is the
// natural form; the mutable part is one small document rewritten atomically.
// One daemon owns the store and serialises mutations with one in-process
// mutex shared by the stores, so SQLite's concurrency and transactions would
// add nothing. Everything is readable with `jq`.
//
// Every layer is stored twice: unpacked (the overlay lowerdir) and as a blob
// (what registries and `docker save` need, byte for byte). Layers arrive as
// blobs: pulled ones as the registry sent them, imported, loaded and
// committed ones written by berth (layer-blob-io.ts).
//
// Image events (import, load, pull, push, save, tag, untag, delete) are
// published here with the attributes dockerd gives them: the image's labels
// plus `name`.
import { createReadStream, existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, promises as fsp, type Stats } from 'node:fs';
import { join, relative, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Conflict, InvalidParameter, NotFound } from '../errors.js';
import type { EventSink } from '../events/bus.js';
import { globMatcher } from '../util/pattern.js';
import { MNT_DETACH, umount2 } from '../util/libc.js';
import { mountsUnder } from '../util/mount.js';
import { readDockerSave } from './archive/docker-save-reader.js';
import { applyChanges } from './changes.js';
import { fullContainerConfig, hostArchitecture } from './config-file.js';
import { Mutex, randomSuffix } from './fs-util.js';
import { ImageDb, type StoredImage } from './image-db.js';
import { resolveInLayers, type LowerPath } from './layer-path.js';
import { LayerStore } from './layer-store.js';
import { LayerBlobs, type LayerBlob } from './layer-blobs.js';
import { readLayerBlob, writeLayerBlob, type BlobInfo } from './layer-blob-io.js';
import { familiarName, fullString, normalizeTagRef, parseReference, repositoryOf, splitTagged, tryNormalizeRef, tryParseReference } from './reference.js';
import { dockerSaveArchive, type ImageToSave, type SavedLayer } from './archive/docker-save-writer.js';
import { isUntouchedPlaceholder, RUNTIME_PLACEHOLDERS } from './archive/layer-diff-writer.js';
import { directorySize } from '../util/fs.js';
import { resolveInRootfs } from './rootfs-path.js';
import { OverlaySnapshotter } from './snapshotter.js';
import { TagStore } from './tag-store.js';
import type { DeleteResponseItem, ImageConfigFile, ImageRecord } from './types.js';

export type { LowerPath } from './layer-path.js';

export interface ImageServiceOptions {
  root: string;
  log: Logger;
  events: EventSink;
}

/** A writable layer over an image for a build step that runs no container (COPY, ADD). */
export interface ScratchLayer {
  /** The merged view to write into. */
  rootfs: string;
  /** Its changes (the overlay's upper directory). */
  changes: string;
  /** Unmounts it and deletes its directory. */
  release(): Promise<void>;
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
  /** IDs of the running (or paused) ones among them: force cannot override those. */
  running?: (imageId: string) => string[];
  /** Also delete the parents the image leaves unreferenced (moby's default; `docker rmi --no-prune` turns it off). */
  prune?: boolean;
}

export interface ListOptions {
  /** Only images without tags (true) or only tagged ones (false). */
  dangling?: boolean;
  /** Leave out untagged images that have children (build steps): `docker images` without -a. */
  hideIntermediate?: boolean;
  /** Glob on familiar "name" or "name:tag" (as `docker images -f reference=`); narrows each image's repoTags too. */
  reference?: string;
}

/**
 * moby's isSingleReference: at most one tag, and any digest references in
 * that one repository. Such an image is removed by ID without force.
 */
function isSingleReference(tags: readonly string[], digests: readonly string[]): boolean {
  if (tags.length + digests.length <= 1) return tags.length + digests.length === 1;
  if (tags.length > 1) return false;
  const single = tags[0] ?? digests[0]!;
  const digestRepos = new Set(digests.map(repositoryOf));
  return digestRepos.size === 1 && digestRepos.has(repositoryOf(single));
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Seconds since the epoch of an RFC 3339 time, 0 when unparsable (as Docker's list shows it). */
function createdSeconds(created: string): number {
  const t = Date.parse(created);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

export class ImageService {
  readonly root: string;
  private readonly tmpDir: string;
  private readonly mutex = new Mutex();
  /** Rootfs releases in flight (forgetRootfs). */
  private readonly releasing = new Set<Promise<void>>();
  private readonly layers: LayerStore;
  private readonly blobs: LayerBlobs;
  private readonly images: ImageDb;
  private readonly tags: TagStore;
  private readonly snapshots: OverlaySnapshotter;
  private readonly log: Logger;
  private readonly events: EventSink;

  constructor(opts: ImageServiceOptions) {
    this.root = resolvePath(opts.root);
    this.log = opts.log;
    this.events = opts.events;
    this.tmpDir = join(this.root, 'tmp');
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    // Leftovers of interrupted unpacks, loads and builds; a build's layer may still be mounted.
    for (const m of mountsUnder(this.tmpDir).sort((a, b) => b.mountPoint.length - a.mountPoint.length)) umount2(m.mountPoint, MNT_DETACH);
    for (const name of readdirSync(this.tmpDir)) rmSync(join(this.tmpDir, name), { recursive: true, force: true });
    this.layers = new LayerStore(this.root, this.tmpDir, this.mutex);
    this.images = new ImageDb(this.root, this.layers);
    this.tags = new TagStore(this.root, this.images);
    this.snapshots = new OverlaySnapshotter(this.root, this.layers, (hex) => (this.images.has(hex) ? this.layersTopFirst(this.images.get(hex)!) : undefined));
    this.layers.removeOrphansSync();
    this.blobs = new LayerBlobs(this.root);
    this.blobs.loadSync((hex) => this.layers.has(hex));
  }

  // ---------------------------------------------------------------- lookups

  private record(hex: string): ImageRecord {
    const img = this.images.get(hex)!;
    return {
      id: `sha256:${hex}`,
      repoTags: this.tags.tagsOf(hex),
      repoDigests: this.tags.digestsOf(hex),
      parent: this.images.parentOf(hex) !== undefined ? `sha256:${this.images.parentOf(hex)!}` : '',
      config: structuredClone(img.config),
      layers: img.layers.map((l) => `sha256:${l}`),
      layerDirs: img.layers.map((l) => this.layers.diffDir(l)),
      size: this.imageSize(img),
      created: img.config.created ?? '',
      lastTagTime: this.tags.lastTagged(hex),
    };
  }

  private imageSize(img: StoredImage): number {
    let size = 0;
    for (const l of new Set(img.layers)) size += this.layers.size(l);
    return size;
  }

  /** Resolves `name`, `name:tag`, `docker.io/library/name:tag`, `sha256:<hex>` or a unique ID prefix. */
  resolve(ref: string): ImageRecord {
    return this.record(this.tags.mustResolve(ref));
  }

  /** Like resolve() but returns null when there is no such image. */
  find(ref: string): ImageRecord | null {
    const hex = this.tags.resolve(ref);
    return hex === null ? null : this.record(hex);
  }

  /** Images newest first (GET /images/json order). */
  list(opts: ListOptions = {}): ImageRecord[] {
    // Docker's reference filter is path.Match; a malformed pattern matches nothing.
    const refMatches = opts.reference !== undefined ? (globMatcher(opts.reference) ?? (() => false)) : null;
    const out: ImageRecord[] = [];
    for (const hex of this.images.hexes()) {
      const rec = this.record(hex);
      if (opts.dangling === true && rec.repoTags.length > 0) continue;
      if (opts.dangling === false && rec.repoTags.length === 0) continue;
      const intermediate = rec.repoTags.length === 0 && rec.repoDigests.length === 0 && this.images.children(hex).length > 0;
      // moby lists the images with children only with -a, and never as dangling.
      if (intermediate && (opts.hideIntermediate === true || opts.dangling === true)) continue;
      if (refMatches) {
        rec.repoTags = rec.repoTags.filter((t) => refMatches(t) || refMatches(splitTagged(t).repository));
        rec.repoDigests = rec.repoDigests.filter((r) => refMatches(r) || refMatches(repositoryOf(r)));
        if (rec.repoTags.length === 0 && rec.repoDigests.length === 0) continue;
      }
      out.push(rec);
    }
    return out.sort(
      (a, b) =>
        createdSeconds(b.created) - createdSeconds(a.created) ||
        (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id < b.id ? -1 : 1),
    );
  }

  /**
   * The images built here on `imageId` ("sha256:<hex>"), or on nothing when
   * null: the candidates moby's classic builder looks for a cached step in.
   */
  builtOn(imageId: string | null): ImageRecord[] {
    const hexes = imageId === null ? this.images.locallyBuiltRoots() : this.images.children(imageId.replace(/^sha256:/, '')).filter((hex) => this.images.isBuiltLocally(hex));
    return hexes.map((hex) => this.record(hex));
  }

  /** Number of images referencing a layer (diff_id "sha256:…" or hex). */
  layerRefCount(diffId: string): number {
    return this.layers.refCount(diffId);
  }

  /** Unpacked size in bytes of a layer (0 if the store doesn't have it). */
  layerSize(diffId: string): number {
    return this.layers.size(diffId);
  }

  /** Host directory of an unpacked layer, or null if the store doesn't have it. */
  layerDir(diffId: string): string | null {
    return this.layers.dir(diffId);
  }

  // ---------------------------------------------------------------- events

  private labelsOf(hex: string): Record<string, string> {
    return { ...(this.images.get(hex)?.config.config?.Labels ?? {}) };
  }

  /** Publishes an image event as dockerd does: the image's labels (while it exists) and `name`. */
  private publish(action: string, hex: string, name: string, labels = this.labelsOf(hex)): void {
    this.events.publish('image', action, `sha256:${hex}`, { ...labels, name });
  }

  // ---------------------------------------------------------------- import / load

  /** `docker import`: one tar (plain or gzip) becomes a single-layer image. */
  async importRootfs(source: NodeJS.ReadableStream, opts: ImportOptions = {}): Promise<ImageRecord> {
    const tag = opts.reference !== undefined && opts.reference !== '' ? normalizeTagRef(opts.reference) : null;
    const cfg = applyChanges(opts.changes ?? []);
    const message = opts.message ?? '';
    const layer = await this.ingestArchive(source as AsyncIterable<Buffer>, null, 'import');
    try {
      const created = new Date().toISOString();
      const config: ImageConfigFile = {
        architecture: hostArchitecture(),
        ...(message !== '' ? { comment: message } : {}),
        config: fullContainerConfig(cfg),
        created,
        history: [{ created, comment: message !== '' ? message : 'Imported from -' }],
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [`sha256:${layer}`] },
      };
      const bytes = Buffer.from(JSON.stringify(config));
      const hex = await this.mutex.run(async () => {
        const imageHex = await this.images.commit(bytes, config);
        if (tag !== null) this.tags.set(tag, imageHex);
        await this.tags.save();
        return imageHex;
      });
      this.log.info({ image: `sha256:${hex}`, tag }, 'image imported');
      this.publish('import', hex, `sha256:${hex}`);
      return this.record(hex);
    } finally {
      await this.releaseLayers([layer]);
    }
  }

  /**
   * `docker load`: a `docker save` archive (legacy `<id>/layer.tar` layout or
   * OCI `blobs/sha256` layout, plain or gzip). Returns the "Loaded image: …"
   * lines; `onProgress` also receives them, plus per-layer progress.
   */
  async load(source: NodeJS.ReadableStream, onProgress?: (line: string) => void): Promise<string[]> {
    const progress = onProgress ?? ((): void => {});
    const staging = join(this.tmpDir, `load-${randomSuffix()}`);
    await fsp.mkdir(staging, { mode: 0o700 });
    const pinned: string[] = [];
    try {
      const saved = await readDockerSave(source as AsyncIterable<Buffer>, staging);
      if (saved.length === 0) throw new InvalidParameter('no images found in the archive');

      // Layers (each at most once per store).
      for (const image of saved) {
        const diffIds = image.config.rootfs.diff_ids;
        for (let i = 0; i < diffIds.length; i++) {
          const diffId = diffIds[i]!;
          const hex = diffId.slice('sha256:'.length);
          if (await this.layers.pinIfPresent(hex)) {
            pinned.push(hex);
            continue;
          }
          progress(`Loading layer ${hex.slice(0, 12)}`);
          const got = await this.ingestArchive(createReadStream(image.layerFiles[i]!), diffId, `layer ${JSON.stringify(image.layerNames[i])}`);
          pinned.push(got);
        }
      }

      // Configs and tags, all at once.
      const lines: string[] = [];
      const loaded: string[] = [];
      await this.mutex.run(async () => {
        for (const image of saved) {
          const hex = await this.images.commit(image.configBytes, image.config);
          loaded.push(hex);
          for (const tag of image.tags) {
            const prev = this.tags.set(tag, hex);
            if (prev !== null) {
              progress(`The image ${tag} already exists, renaming the old one with ID sha256:${prev} to empty string`);
            }
            lines.push(`Loaded image: ${tag}`);
          }
          if (image.tags.length === 0) lines.push(`Loaded image ID: sha256:${hex}`);
        }
        await this.tags.save();
      });
      for (const l of lines) progress(l);
      for (const hex of new Set(loaded)) {
        this.log.info({ image: `sha256:${hex}` }, 'image loaded');
        this.publish('load', hex, `sha256:${hex}`);
      }
      return lines;
    } finally {
      await this.releaseLayers(pinned);
      await fsp.rm(staging, { recursive: true, force: true });
    }
  }

  // ---------------------------------------------------------------- layers and blobs

  /** Removes the candidate layers nobody uses or pins, with their blobs. Inside the mutex. */
  private async collectLayers(candidates: Iterable<string>): Promise<string[]> {
    const removed = await this.layers.collect(candidates);
    for (const hex of removed) await this.blobs.forgetLayer(hex);
    return removed;
  }

  /** Unpins layers an operation held, and removes those no image took. */
  releaseLayers(hexes: readonly string[]): Promise<void> {
    return this.mutex.run(async () => {
      for (const hex of hexes) this.layers.unpin(hex);
      await this.collectLayers(hexes);
    });
  }

  /** Pins a layer the store has (so it stays while an image is assembled); false when it has none. */
  pinLayer(hex: string): Promise<boolean> {
    return this.layers.pinIfPresent(hex);
  }

  /** A new private directory under tmp/ (wiped at start): a build's context and scratch files. */
  async makeTempDir(prefix: string): Promise<string> {
    const dir = join(this.tmpDir, `${prefix}-${randomSuffix()}`);
    await fsp.mkdir(dir, { mode: 0o700 });
    return dir;
  }

  /** A private file name for a blob being written or downloaded (under tmp/, wiped at start). */
  tempBlobPath(): string {
    return join(this.tmpDir, `blob-${randomSuffix()}`);
  }

  /**
   * Unpacks a blob file into a layer and keeps the blob with it (the file is
   * moved into the store). With `expected`, the layer's diff_id must match.
   * Returns the layer's hex, pinned; the caller releases it.
   */
  async ingestBlob(file: string, blob: BlobInfo, expected: string | null, what: string, opts: { repository?: string; onRead?: (bytes: number) => void } = {}): Promise<string> {
    try {
      const hex = await this.layers.ingest(readLayerBlob(file, blob.mediaType, opts.onRead), expected, what);
      try {
        await this.mutex.run(() => this.blobs.adopt(hex, file, blob, opts.repository));
      } catch (e) {
        await this.releaseLayers([hex]);
        throw e;
      }
      return hex;
    } finally {
      await fsp.rm(file, { force: true });
    }
  }

  /** A layer archive (plain or compressed) into a layer with its blob: import, load, commit. Pinned; the caller releases it. */
  async ingestArchive(source: AsyncIterable<Buffer>, expected: string | null, what: string): Promise<string> {
    const file = this.tempBlobPath();
    try {
      const blob = await writeLayerBlob(source, file);
      return await this.ingestBlob(file, blob, expected, what);
    } finally {
      await fsp.rm(file, { force: true });
    }
  }

  /** The layer a blob unpacks to (hex), when the store has both. */
  layerOfBlob(digest: string): string | undefined {
    return this.blobs.layerOf(digest);
  }

  /** A layer's blobs, gzip first. */
  blobsOf(layerHex: string): LayerBlob[] {
    return this.blobs.of(layerHex);
  }

  blobPath(digest: string): string {
    return this.blobs.path(digest);
  }

  /** Bytes of a layer's tar, when recorded. */
  layerTarSize(layerHex: string): number | undefined {
    return this.layers.tarSize(layerHex);
  }

  /** Records that a registry repository holds a blob. */
  recordBlobRepository(digest: string, repository: string): Promise<void> {
    return this.mutex.run(() => this.blobs.addRepository(digest, repository));
  }

  /** The exact bytes of an image's config (its ID is their sha256). */
  configBytes(imageId: string): Promise<Buffer> {
    return this.images.bytes(this.tags.mustResolve(imageId));
  }

  /** Whether the store has the image with this config hex. */
  hasImage(hex: string): boolean {
    return this.images.has(hex);
  }

  /** The image a store reference ("name:tag", "name@digest") points at, as a hex. */
  referenceTarget(ref: string): string | undefined {
    return this.tags.target(ref);
  }

  /** Every (reference, image hex) of a repository (familiar name), tags and digests. */
  repositoryReferences(repository: string): Array<[string, string]> {
    return this.tags.inRepository(repository);
  }

  /**
   * Stores an image config whose layers are all in the store (the caller
   * holds pins on them) and points `refs` (store keys: "name:tag",
   * "name@digest") at it, in one step. Returns the image hex and whether any
   * reference moved to it. Events are the caller's (pull, commit, build).
   * `builtOn` marks an image made here (a commit, a build step) and names
   * the image it was made on ("sha256:<hex>"), or null for nothing.
   */
  async createImage(configBytes: Buffer, config: ImageConfigFile, refs: readonly string[], opts: { builtOn?: string | null } = {}): Promise<{ hex: string; moved: boolean }> {
    return this.mutex.run(async () => {
      const hex = await this.images.commit(configBytes, config);
      if (opts.builtOn !== undefined) {
        const parent = opts.builtOn === null ? null : this.tags.mustResolve(opts.builtOn);
        // Never its own parent: a parent chain must end.
        if (parent !== hex) await this.images.setBuiltLocally(hex, parent);
      }
      let moved = false;
      for (const ref of refs) {
        if (this.tags.target(ref) === hex) continue;
        this.tags.set(ref, hex);
        moved = true;
      }
      await this.tags.save();
      return { hex, moved };
    });
  }

  /** Records `parentId` as the parent of an existing image (a build's --cache-from match), as moby's SetParent. */
  async setParent(imageId: string, parentId: string): Promise<void> {
    await this.mutex.run(async () => {
      const hex = this.tags.mustResolve(imageId);
      const parent = this.tags.mustResolve(parentId);
      if (parent !== hex) await this.images.setParent(hex, parent);
    });
  }

  /** Adds references to an existing image (a push records its digest). */
  async addReferences(hex: string, refs: readonly string[]): Promise<void> {
    await this.mutex.run(async () => {
      if (!this.images.has(hex)) return;
      for (const ref of refs) this.tags.set(ref, hex);
      await this.tags.save();
    });
  }

  /**
   * Publishes an image event as dockerd does for pull and push: the actor is
   * the reference (`busybox:latest`), `name` its repository, with the
   * labels of the image it names.
   */
  imageEvent(action: string, reference: string, name: string): void {
    const hex = this.tags.resolve(reference);
    this.events.publish('image', action, reference, { ...(hex !== null ? this.labelsOf(hex) : {}), name });
  }

  // ---------------------------------------------------------------- save

  /** A layer's tar size, counting it from its blob when the store never recorded it. */
  private async layerTar(hex: string): Promise<SavedLayer> {
    const blob = this.blobs.of(hex)[0];
    if (blob === undefined) {
      throw new InvalidParameter(`layer sha256:${hex} has no stored archive (it was stored by a berth older than registry support): remove the image and load or import it again`);
    }
    const open = (): Readable => readLayerBlob(this.blobs.path(blob.digest), blob.mediaType);
    let tarSize = this.layers.tarSize(hex);
    if (tarSize === undefined) {
      tarSize = 0;
      for await (const chunk of open() as AsyncIterable<Buffer>) tarSize += chunk.length;
    }
    return { hex, tarSize, open };
  }

  /**
   * `docker save`: the images `names` name, as a `docker save` archive. A
   * repository name without a tag saves all its tags; an ID or a digest
   * reference saves the image without tags. Unknown names fail before any
   * byte is produced.
   */
  async save(names: readonly string[]): Promise<AsyncIterable<Buffer>> {
    const wanted = new Map<string, Set<string>>();
    const add = (hex: string, tag?: string): void => {
      const tags = wanted.get(hex) ?? new Set<string>();
      if (tag !== undefined) tags.add(tag);
      wanted.set(hex, tags);
    };
    for (const name of names) {
      const ref = /^(sha256:)?[a-f0-9]{64}$/.test(name) ? null : tryParseReference(name);
      if (ref !== null && ref.tag === undefined && ref.digest === undefined) {
        const tagged = this.tags.inRepository(familiarName(ref)).filter(([r]) => !r.includes('@'));
        if (tagged.length > 0) {
          for (const [r, hex] of tagged) add(hex, r);
          continue;
        }
      }
      const hex = this.tags.mustResolve(name);
      const key = tryNormalizeRef(name);
      add(hex, key !== null && !key.includes('@') && this.tags.target(key) === hex ? key : undefined);
    }
    const images: ImageToSave[] = [];
    for (const [hex, tags] of wanted) {
      const img = this.images.get(hex)!;
      const layers: SavedLayer[] = [];
      for (const l of img.layers) layers.push(await this.layerTar(l));
      images.push({
        configBytes: await this.images.bytes(hex),
        created: img.config.created ?? '',
        layers,
        references: [...tags].map((t) => {
          const parsed = parseReference(t);
          return { full: fullString(parsed), familiar: t, repository: familiarName(parsed), tag: parsed.tag ?? 'latest' };
        }),
      });
    }
    for (const hex of wanted.keys()) this.publish('save', hex, `sha256:${hex}`);
    return dockerSaveArchive(images);
  }

  // ---------------------------------------------------------------- tag / rmi

  /** `docker tag`: points `newRef` (tag defaults to latest) at the image `ref` resolves to. */
  async tag(ref: string, newRef: string): Promise<void> {
    const tag = normalizeTagRef(newRef);
    const hex = await this.mutex.run(async () => {
      const target = this.tags.mustResolve(ref);
      this.tags.set(tag, target);
      await this.tags.save();
      return target;
    });
    this.publish('tag', hex, tag);
  }

  private usersOf(hex: string, inUse?: (imageId: string) => string[]): string[] {
    const users = new Set(inUse?.(`sha256:${hex}`) ?? []);
    for (const id of this.snapshots.users(`sha256:${hex}`)) users.add(id);
    return [...users];
  }

  /**
   * `docker rmi` semantics:
   *  - a tag or digest reference untags; removing a repository's last tag
   *    also drops that repository's digest references; the image goes when
   *    its last reference does, unless images were built on it;
   *  - an ID reference deletes the image and all its references (references
   *    in several repositories need force); an image with children cannot
   *    be deleted, force or not;
   *  - an image used by a container refuses (409) unless forced; with force
   *    it is deleted when only stopped containers use it (their rootfs
   *    records keep its layers), and only untagged when a running one does
   *    (by ID, that is a conflict force cannot override);
   *  - with `prune` (the default), the parents a deleted image leaves
   *    without references, children or containers go too.
   */
  async remove(ref: string, opts: RemoveOptions = {}): Promise<DeleteResponseItem[]> {
    const force = opts.force ?? false;
    // A container removed a moment ago may still be releasing its rootfs: it is not a user any more.
    await Promise.allSettled([...this.releasing]);
    const { hex, labels, out, deleted } = await this.mutex.run(async () => {
      const hex = this.tags.mustResolve(ref);
      const labels = this.labelsOf(hex);
      const fullId = `sha256:${hex}`;
      const users = this.usersOf(hex, opts.inUse);
      const running = opts.running?.(fullId) ?? [];
      const tags = this.tags.tagsOf(hex);
      const digests = this.tags.digestsOf(hex);
      const refs = [...tags, ...digests];
      const out: DeleteResponseItem[] = [];
      const deleted = new Set<string>();
      const byId = fullId.startsWith(ref) || fullId.startsWith(`sha256:${ref}`);
      const remaining = (): string[] => [...this.tags.tagsOf(hex), ...this.tags.digestsOf(hex)];
      const hasChildren = this.images.children(hex).length > 0;

      if (!byId) {
        const key = tryNormalizeRef(ref);
        if (key === null || this.tags.target(key) !== hex) throw new NotFound(`No such image: ${ref}`);
        if (!force && isSingleReference(tags, digests) && users.length > 0) {
          throw new Conflict(
            `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0]!)} is using its referenced image ${shortId(hex)}`,
          );
        }
        this.tags.delete(key);
        out.push({ Untagged: key });
        const repository = repositoryOf(key);
        if (!key.includes('@') && !this.tags.tagsOf(hex).some((t) => repositoryOf(t) === repository)) {
          for (const d of this.tags.digestsOf(hex).filter((r) => repositoryOf(r) === repository)) {
            this.tags.delete(d);
            out.push({ Untagged: d });
          }
        }
        // dockerd's quiet delete after an untag: a running user or a child keeps the image, force or not.
        if (remaining().length > 0 || hasChildren || running.length > 0 || (users.length > 0 && !force)) {
          await this.tags.save();
          return { hex, labels, out, deleted };
        }
      } else {
        if (hasChildren) throw new Conflict(`conflict: unable to delete ${shortId(hex)} (cannot be forced) - image has dependent child images`);
        if (running.length > 0) throw new Conflict(`conflict: unable to delete ${shortId(hex)} (cannot be forced) - image is being used by running container ${shortId(running[0]!)}`);
        if (refs.length > 0 && !isSingleReference(tags, digests) && !force) {
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
      }

      // Delete the image (its tags are gone), then, pruning, each parent it leaves dangling and unused.
      let next: string | undefined = hex;
      while (next !== undefined) {
        const target: string = next;
        const parent = this.images.parentOf(target);
        deleted.add(target);
        await this.deleteLocked(target, out);
        next = opts.prune === false || parent === undefined || !this.isDanglingUnused(parent, opts.inUse) ? undefined : parent;
      }
      return { hex, labels, out, deleted };
    });
    // As dockerd: one untag per removed tag (named by the image ID, labels
    // captured before a delete), then delete without labels (the image is gone).
    for (const item of out) if (item.Untagged !== undefined) this.publish('untag', hex, `sha256:${hex}`, labels);
    for (const gone of deleted) {
      this.log.info({ image: `sha256:${gone}` }, 'image deleted');
      this.publish('delete', gone, `sha256:${gone}`, {});
    }
    return out;
  }

  /** No references, no children, no container: what pruning a parent chain may delete. */
  private isDanglingUnused(hex: string, inUse?: (imageId: string) => string[]): boolean {
    return this.tags.tagsOf(hex).length === 0 && this.tags.digestsOf(hex).length === 0 && this.images.children(hex).length === 0 && this.usersOf(hex, inUse).length === 0;
  }

  /** Deletes an image without references: config, then the layers nobody else uses. Inside the mutex. */
  private async deleteLocked(hex: string, out: DeleteResponseItem[]): Promise<void> {
    this.tags.forget(hex);
    await this.tags.save();
    const img = (await this.images.delete(hex))!;
    out.push({ Deleted: `sha256:${hex}` });
    const removed = await this.collectLayers(img.layers);
    for (const l of removed) out.push({ Deleted: `sha256:${l}` });
  }

  // ---------------------------------------------------------------- rootfs

  /** Layer hexes top-most first, each once: a lower copy of a repeated layer adds nothing the top one lacks. */
  private layersTopFirst(img: StoredImage): string[] {
    return [...new Set([...img.layers].reverse())];
  }

  /**
   * Mounts the image's layers (read-only lowerdirs, top first) with
   * `<dir>/upper` and `<dir>/work` at `<dir>/rootfs`. Idempotent. Records the
   * container so the image cannot be deleted while the rootfs exists.
   */
  prepareRootfs(containerId: string, imageId: string, dir: string): Promise<{ rootfs: string }> {
    return this.mutex.run(async () => {
      // A container whose image was deleted since (rmi -f) stands on the layers its record pins.
      const kept = this.snapshots.layersOf(containerId);
      if (kept) return this.snapshots.prepare(containerId, imageId.replace(/^sha256:/, ''), kept, dir);
      const hex = this.tags.mustResolve(imageId);
      return this.snapshots.prepare(containerId, hex, this.layersTopFirst(this.images.get(hex)!), dir);
    });
  }

  /**
   * Records a new container's rootfs (not mounted) and pins its image's
   * layers: from now on the container keeps them, whatever becomes of the
   * image. Idempotent.
   */
  reserveRootfs(containerId: string, imageId: string, dir: string): Promise<void> {
    return this.mutex.run(async () => {
      const hex = this.tags.mustResolve(imageId);
      await this.snapshots.reserve(containerId, hex, this.layersTopFirst(this.images.get(hex)!), dir);
    });
  }

  /**
   * The bytes of a container's writable layer as dockerd's SizeRw counts
   * them (directory.Size), the runtime's placeholders left out (moby keeps
   * them in its init layer); 0 when it has none.
   */
  async containerLayerSize(containerId: string): Promise<number> {
    const upper = this.containerUpperDir(containerId);
    if (upper === null) return 0;
    const placeholder = (path: string, st: Stats): boolean =>
      RUNTIME_PLACEHOLDERS.has(relative(upper, path)) && isUntouchedPlaceholder(st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other', st.size, () => readlinkSync(path), false);
    return directorySize(upper, { leaveOut: placeholder }).catch(() => 0);
  }

  /** A container's writable layer (its overlay upper directory), or null when its rootfs was never prepared. */
  containerUpperDir(containerId: string): string | null {
    const dir = this.snapshots.dirOf(containerId);
    return dir !== undefined && existsSync(join(dir, 'upper')) ? join(dir, 'upper') : null;
  }

  /**
   * A writable layer over the image `imageId` (over nothing when null), in a
   * private directory under tmp/ (so a crash leaves nothing behind after the
   * next start). The image's layers are pinned until release().
   */
  async openScratchLayer(imageId: string | null): Promise<ScratchLayer> {
    const dir = join(this.tmpDir, `scratch-${randomSuffix()}`);
    const layers = await this.mutex.run(async () => {
      const hexes = imageId === null ? [] : this.layersTopFirst(this.images.get(this.tags.mustResolve(imageId))!);
      for (const hex of hexes) this.layers.pin(hex);
      return hexes;
    });
    const release = async (): Promise<void> => {
      await this.snapshots.release(dir);
      await fsp.rm(dir, { recursive: true, force: true });
      await this.releaseLayers(layers);
    };
    try {
      const { rootfs } = await this.snapshots.mount(layers, dir);
      return { rootfs, changes: join(dir, 'upper'), release };
    } catch (e) {
      await release();
      throw e;
    }
  }

  /** Unmounts `<dir>/rootfs` (lazily if busy). The upper layer and the record are kept. */
  releaseRootfs(dir: string): Promise<void> {
    return this.snapshots.release(dir);
  }

  /** Unmounts and deletes `<dir>/rootfs`, `<dir>/upper` and `<dir>/work`; releases the image. */
  async removeRootfs(dir: string): Promise<void> {
    await this.forgetRootfs(dir);
    await this.snapshots.removeDirs(dir);
  }

  /**
   * The first half of removeRootfs(): unmounts the rootfs (on the thread
   * pool) and releases the image (the record and its pinned layers); the
   * directories are the caller's to delete. Image deletions started
   * meanwhile wait for it: the container no longer counts as a user.
   */
  async forgetRootfs(dir: string): Promise<void> {
    const base = resolvePath(dir);
    const released = (async () => {
      await this.snapshots.release(base, { inBackground: true });
      await this.mutex.run(async () => {
        // Layers only this container still held (its image deleted meanwhile) go with it.
        await this.collectLayers(await this.snapshots.forget(base));
      });
    })();
    this.releasing.add(released);
    try {
      await released;
    } finally {
      this.releasing.delete(released);
    }
  }

  /**
   * Host path of `path` inside a mounted container rootfs, with symlinks
   * resolved inside `rootfs` (never escaping it). For copy-up from the
   * mounted rootfs before the container starts; see also lowerPath().
   */
  imagePathInRootfs(rootfs: string, path: string, opts: { followSymlinks?: boolean } = {}): Promise<string> {
    return resolveInRootfs(rootfs, path, opts);
  }

  /**
   * Resolves `path` inside an image without mounting it (see layer-path.ts).
   * Returns null when the path does not exist in the image. For copying a
   * whole directory tree, reading the mounted `<dir>/rootfs` is simpler.
   */
  lowerPath(imageId: string, path: string, opts: { followSymlinks?: boolean } = {}): Promise<LowerPath | null> {
    const img = this.images.get(this.tags.mustResolve(imageId))!;
    const layers = this.layersTopFirst(img).map((hex) => ({
      dir: this.layers.diffDir(hex),
      isOpaque: (rel: string) => this.layers.isOpaque(hex, rel),
    }));
    return resolveInLayers(layers, path, opts);
  }
}
