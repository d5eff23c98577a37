// The classic builder's cache (moby's image/cache): a step is cached when an
// image built here on the current image (or, right after FROM scratch, on
// nothing) has this step's container config, the newest such image winning;
// the config holds the instruction ("#(nop) COPY file:<sum> in /app", the
// RUN command with its build args), so a changed file or argument is a miss.
// With --cache-from, images named there also serve, matched step by step
// through their history, and the steps found are recreated here as images
// with parents. After the first miss of a stage nothing is looked up.
import type { ImageRecord, ImageConfigFile } from '../images/types.js';
import type { Platform } from '../registry/manifest.js';
import { sameRunConfig, type RunConfig } from './run-config.js';

export interface CacheImageStore {
  find(ref: string): ImageRecord | null;
  /** Images built here on `imageId`, or on nothing when null. */
  builtOn(imageId: string | null): ImageRecord[];
  /** Records `parentId` as the parent of an existing image. */
  setParent(imageId: string, parentId: string): Promise<void>;
  /** Stores a config whose layers the store has, built on `parentId`; returns its ID. */
  storeImage(config: ImageConfigFile, parentId: string | null): Promise<string>;
}

function samePlatform(want: Platform, img: ImageConfigFile): boolean {
  if ((img.os ?? '') === '' && (img.architecture ?? '') === '') return false;
  return img.os === want.os && img.architecture === want.architecture && (want.variant === undefined || img.variant === undefined || img.variant === want.variant);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class BuildCache {
  private busted = false;
  private sources: ImageRecord[];

  constructor(
    private readonly images: CacheImageStore,
    private readonly enabled: boolean,
    cacheFrom: readonly string[],
  ) {
    this.sources = cacheFrom.map((ref) => images.find(ref)).filter((r): r is ImageRecord => r !== null);
  }

  /** A new stage looks up again. */
  reset(): void {
    this.busted = false;
  }

  /** The cached image for this step on `parentId` ("" for nothing), or undefined (and no more lookups this stage). */
  async probe(parentId: string, config: RunConfig, platform: Platform): Promise<string | undefined> {
    if (!this.enabled || this.busted) return undefined;
    const hit = this.local(parentId, config, platform) ?? (this.sources.length > 0 ? await this.fromSources(parentId, config) : undefined);
    if (hit === undefined) this.busted = true;
    return hit;
  }

  /** moby's getLocalCachedImage: the newest child with this container config. */
  private local(parentId: string, config: RunConfig, platform: Platform): string | undefined {
    let match: ImageRecord | undefined;
    for (const img of this.images.builtOn(parentId === '' ? null : parentId)) {
      if (!samePlatform(platform, img.config)) continue;
      if (!sameRunConfig(img.config.container_config ?? {}, config)) continue;
      if (match === undefined || Date.parse(match.created) < Date.parse(img.created)) match = img;
    }
    if (match === undefined || this.sources.length === 0) return match?.id;
    // With --cache-from, a local hit counts only when a source descends from it.
    return this.sources.some((s) => this.descendsFrom(s.id, match.id)) ? match.id : undefined;
  }

  private descendsFrom(imageId: string, ancestor: string): boolean {
    for (let p = this.images.find(imageId)?.parent ?? ''; p !== ''; p = this.images.find(p)?.parent ?? '') if (p === ancestor) return true;
    return false;
  }

  /** moby's ImageCache.GetCache over the --cache-from images' histories. */
  private async fromSources(parentId: string, config: RunConfig): Promise<string | undefined> {
    const parent = parentId === '' ? null : this.images.find(parentId);
    const depth = parent?.config.history?.length ?? 0;
    const command = (config.Cmd ?? []).join(' ');
    for (const target of this.sources) {
      const history = target.config.history ?? [];
      if (!this.validParent(target, parent) || history[depth]?.created_by !== command) continue;
      if (history.length - 1 === depth) {
        if (parent !== null) await this.images.setParent(target.id, parent.id);
        return target.id;
      }
      const id = await this.restore(parent, target, config, depth);
      this.sources = [target];
      return id;
    }
    return undefined;
  }

  /** isValidParent: the target's history and layers start with the parent's. */
  private validParent(target: ImageRecord, parent: ImageRecord | null): boolean {
    const history = target.config.history ?? [];
    if (history.length === 0) return false;
    if (parent === null) return true;
    const parentHistory = parent.config.history ?? [];
    if (parentHistory.length === 0 && parent.layers.length === 0) return true;
    if (parentHistory.length >= history.length || parent.layers.length > target.layers.length) return false;
    return parentHistory.every((h, i) => sameJson(h, history[i])) && parent.layers.every((l, i) => l === target.layers[i]);
  }

  /** restoreCachedImage: the target's step `depth` as an image on `parent`. */
  private async restore(parent: ImageRecord | null, target: ImageRecord, config: RunConfig, depth: number): Promise<string> {
    const history = [...(parent?.config.history ?? []), target.config.history![depth]!];
    const layers = [...(parent?.layers ?? [])];
    if (target.config.history![depth]!.empty_layer !== true) {
      const index = target.config.history!.slice(0, depth).filter((h) => h.empty_layer !== true).length;
      layers.push(target.layers[index]!);
    }
    const doc: ImageConfigFile = {
      ...(target.config.architecture ? { architecture: target.config.architecture } : {}),
      ...(target.config.author ? { author: target.config.author } : {}),
      config: config,
      created: history[history.length - 1]!.created ?? new Date().toISOString(),
      history,
      ...(target.config.os ? { os: target.config.os } : {}),
      rootfs: { type: 'layers', diff_ids: layers },
    };
    return this.images.storeImage(doc, parent?.id ?? null);
  }
}
