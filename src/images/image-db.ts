// imagedb/<hex>.json under <image root>: image config bytes exactly as
// imported or loaded; the image ID is the sha256 of these bytes, so configs
// are immutable, content-addressed files. Every stored image holds a
// reference on each of its layers in the layer store.
import { mkdirSync, readdirSync, readFileSync, promises as fsp } from 'node:fs';
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

export class ImageDb {
  private readonly dir: string;
  private readonly images = new Map<string, StoredImage>();

  constructor(
    root: string,
    private readonly layers: LayerStore,
  ) {
    this.dir = join(root, 'imagedb');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir)) {
      const m = /^([a-f0-9]{64})\.json$/.exec(name);
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

  /** Deletes the config and drops its layer references (the caller collects the layers). Inside the mutex. */
  async delete(hex: string): Promise<StoredImage | undefined> {
    const img = this.images.get(hex);
    if (img === undefined) return undefined;
    await fsp.rm(join(this.dir, `${hex}.json`), { force: true });
    this.images.delete(hex);
    this.layers.releaseRefs(img.layers);
    return img;
  }
}
