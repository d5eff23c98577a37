// imagedb/<hex>.json under <image root>: image config bytes exactly as
// imported or loaded; the image ID is the sha256 of these bytes, so configs
// are immutable, content-addressed files. Every stored image holds a
// reference on each of its layers in the layer store.
//
// metadata/<hex>.json: what moby keeps beside an image's config: its parent
// image, for one made here (a build step, a commit) or matched by a build's
// --cache-from, and whether it was built here (only such images serve as
// the build cache): {"parent"?: "sha256:<hex>", "builtLocally"?: true}.
// Removed with the image.
import { mkdirSync, readdirSync, readFileSync, rmSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { SystemError } from '../errors.js';
import { layerHexes, parseImageConfig, sha256Hex } from './config-file.js';
import { writeFileAtomic } from './fs-util.js';
import type { LayerStore } from './layer-store.js';
import type { ImageConfigFile } from './types.js';

export interface StoredImage {
  hex: string;
  config: ImageConfigFile;
  /** diff_id hexes, bottom to top. */
  layers: string[];
}

/** What is known of an image beyond its config. */
interface LocalMetadata {
  /** The parent image's hex; undefined for none (built on nothing: FROM scratch; or pulled). */
  parent?: string;
  builtLocally: boolean;
}

const HEX_JSON = /^([a-f0-9]{64})\.json$/;

export class ImageDb {
  private readonly dir: string;
  private readonly metadataDir: string;
  private readonly images = new Map<string, StoredImage>();
  /** Images with metadata, by hex. */
  private readonly local = new Map<string, LocalMetadata>();

  constructor(
    root: string,
    private readonly layers: LayerStore,
  ) {
    this.dir = join(root, 'imagedb');
    this.metadataDir = join(root, 'metadata');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    mkdirSync(this.metadataDir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir)) {
      const m = HEX_JSON.exec(name);
      if (!m) continue;
      const hex = m[1]!;
      try {
        const bytes = readFileSync(join(this.dir, name));
        if (sha256Hex(bytes) !== hex) continue;
        const config = parseImageConfig(bytes, name);
        const hexes = layerHexes(config);
        if (!hexes.every((l) => this.layers.has(l))) continue; // broken image: ignored
        this.add({ hex, config, layers: hexes });
      } catch {
        /* unreadable config: ignored */
      }
    }
    this.loadMetadataSync();
  }

  /** Metadata of the images that exist; that of images gone (a crash during a removal) is removed. */
  private loadMetadataSync(): void {
    for (const name of readdirSync(this.metadataDir)) {
      const m = HEX_JSON.exec(name);
      const file = join(this.metadataDir, name);
      try {
        if (!m || !this.images.has(m[1]!)) throw new Error('no such image');
        const doc = JSON.parse(readFileSync(file, 'utf8')) as { parent?: unknown; builtLocally?: unknown };
        const parent = typeof doc.parent === 'string' ? doc.parent.replace(/^sha256:/, '') : undefined;
        this.local.set(m[1]!, { ...(parent !== undefined && this.images.has(parent) ? { parent } : {}), builtLocally: doc.builtLocally === true });
      } catch {
        rmSync(file, { force: true });
      }
    }
  }

  private add(img: StoredImage): void {
    this.images.set(img.hex, img);
    this.layers.retain(img.layers);
  }

  get(hex: string): StoredImage | undefined {
    return this.images.get(hex);
  }

  has(hex: string): boolean {
    return this.images.has(hex);
  }

  hexes(): string[] {
    return [...this.images.keys()];
  }

  all(): StoredImage[] {
    return [...this.images.values()];
  }

  /** The config file's exact bytes. */
  bytes(hex: string): Promise<Buffer> {
    return fsp.readFile(join(this.dir, `${hex}.json`));
  }

  /** Stores a config whose layers are all in the layer store; returns the image hex. Inside the mutex. */
  async commit(bytes: Buffer, config: ImageConfigFile): Promise<string> {
    const hex = sha256Hex(bytes);
    if (this.images.has(hex)) return hex;
    const hexes = layerHexes(config);
    for (const l of hexes) if (!this.layers.has(l)) throw new SystemError(`layer sha256:${l} vanished before commit`);
    await writeFileAtomic(join(this.dir, `${hex}.json`), bytes);
    this.add({ hex, config, layers: hexes });
    return hex;
  }

  private async writeMetadata(hex: string, meta: LocalMetadata): Promise<void> {
    const doc = { ...(meta.parent !== undefined ? { parent: `sha256:${meta.parent}` } : {}), ...(meta.builtLocally ? { builtLocally: true } : {}) };
    await writeFileAtomic(join(this.metadataDir, `${hex}.json`), JSON.stringify(doc) + '\n');
    this.local.set(hex, meta);
  }

  /** Records that the image was built here, on `parent` (a hex) or on nothing. Inside the mutex. */
  setBuiltLocally(hex: string, parent: string | null): Promise<void> {
    return this.writeMetadata(hex, { ...(parent !== null ? { parent } : {}), builtLocally: true });
  }

  /** Records the image's parent (moby's SetParent), leaving whether it was built here as it was. Inside the mutex. */
  setParent(hex: string, parent: string): Promise<void> {
    return this.writeMetadata(hex, { parent, builtLocally: this.local.get(hex)?.builtLocally ?? false });
  }

  isBuiltLocally(hex: string): boolean {
    return this.local.get(hex)?.builtLocally === true;
  }

  /** The parent image's hex, when the image was built here on one. */
  parentOf(hex: string): string | undefined {
    return this.local.get(hex)?.parent;
  }

  /** The images built on `hex`. */
  children(hex: string): string[] {
    return [...this.local].filter(([, meta]) => meta.parent === hex).map(([child]) => child);
  }

  /** Images built here on nothing (FROM scratch). */
  locallyBuiltRoots(): string[] {
    return [...this.local].filter(([, meta]) => meta.builtLocally && meta.parent === undefined).map(([hex]) => hex);
  }

  /** Deletes the config and drops its layer references (the caller collects the layers). Inside the mutex. */
  async delete(hex: string): Promise<StoredImage | undefined> {
    const img = this.images.get(hex);
    if (img === undefined) return undefined;
    // Metadata first: a crash between the two leaves a config without it, never metadata of nothing.
    await fsp.rm(join(this.metadataDir, `${hex}.json`), { force: true });
    this.local.delete(hex);
    await fsp.rm(join(this.dir, `${hex}.json`), { force: true });
    this.images.delete(hex);
    this.layers.releaseRefs(img.layers);
    return img;
  }
}
