// Overlay root filesystems for containers. A container's rootfs is
// `<dir>/rootfs`, an overlay of the image's layer directories (read-only,
// top first, through the layer store's short links) with `<dir>/upper` and
// `<dir>/work`. Each prepared rootfs is recorded in
// <image root>/rootfs/<container>.json ({containerId, imageId, dir, layers})
// from the container's creation, and its layers are pinned: the container
// keeps them when its image is deleted (docker rmi -f of an image only
// stopped containers use), as a Docker container keeps its image's layers.
import { mkdirSync, readdirSync, readFileSync, promises as fsp } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { InvalidParameter } from '../errors.js';
import { isMountPoint } from '../util/mount.js';
import { writeFileAtomicSync } from './fs-util.js';
import { SHORT_LINK, type LayerStore } from './layer-store.js';
import { mountOverlay, unmount } from './overlay.js';

interface RootfsRecord {
  containerId: string;
  /** "sha256:<hex>" */
  imageId: string;
  dir: string;
  /** The image's layers (hexes, top-most first) when the record was made; absent in records of older berths. */
  layers?: string[];
}

export class OverlaySnapshotter {
  private readonly recordsDir: string;
  /** lowerdir for an image without layers. */
  private readonly emptyDir: string;
  /** containerId → rootfs record. */
  private readonly records = new Map<string, RootfsRecord>();

  /**
   * `layersOfImage` gives an existing image's layers (top-most first), or
   * undefined when the image is gone: a record without layers of its own
   * takes them from its image, and one with neither is dropped. The
   * records' layers are pinned before the layer store removes orphans.
   */
  constructor(
    root: string,
    private readonly layers: LayerStore,
    layersOfImage: (hex: string) => string[] | undefined,
  ) {
    this.recordsDir = join(root, 'rootfs');
    this.emptyDir = join(root, 'empty');
    for (const d of [this.recordsDir, this.emptyDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.recordsDir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(readFileSync(join(this.recordsDir, name), 'utf8')) as RootfsRecord;
        rec.layers ??= layersOfImage(rec.imageId.replace(/^sha256:/, ''));
        if (!rec.layers) continue;
        this.records.set(rec.containerId, rec);
        for (const hex of rec.layers) layers.pin(hex);
      } catch {
        /* ignore */
      }
    }
  }

  /** The layers a container's rootfs stands on (top-most first), when it has a record. */
  layersOf(containerId: string): string[] | undefined {
    return this.records.get(containerId)?.layers;
  }

  /**
   * Records the container's rootfs without mounting it (at the container's
   * creation) and pins its layers. Idempotent. Inside the image store's mutex.
   */
  async reserve(containerId: string, imageHex: string, layersTopFirst: string[], dir: string): Promise<void> {
    if (this.records.has(containerId)) return;
    checkContainerId(containerId);
    this.addRecord(containerId, imageHex, layersTopFirst, resolvePath(dir));
  }

  /** Writes a container's record and pins its layers. */
  private addRecord(containerId: string, imageHex: string, layersTopFirst: string[], base: string): void {
    const rec: RootfsRecord = { containerId, imageId: `sha256:${imageHex}`, dir: base, layers: [...layersTopFirst] };
    // As durable as the container's own record (SQLite, synchronous=NORMAL), without two fsyncs on every create.
    writeFileAtomicSync(join(this.recordsDir, `${containerId}.json`), JSON.stringify(rec) + '\n', 0o600, false);
    this.records.set(containerId, rec);
    for (const hex of layersTopFirst) this.layers.pin(hex);
  }

  /** The directory of a container's rootfs (holding rootfs/, upper/, work/), when one was prepared. */
  dirOf(containerId: string): string | undefined {
    return this.records.get(containerId)?.dir;
  }

  /** Containers whose rootfs stands on the image. */
  users(imageId: string): string[] {
    return [...this.records.values()].filter((r) => r.imageId === imageId).map((r) => r.containerId);
  }

  /**
   * Records the container, then mounts the layers (hexes, top-most first) at
   * `<dir>/rootfs`. Idempotent. Inside the image store's mutex.
   */
  async prepare(containerId: string, imageHex: string, layersTopFirst: string[], dir: string): Promise<{ rootfs: string }> {
    checkContainerId(containerId);
    const base = resolvePath(dir);
    const rootfs = join(base, 'rootfs');
    const previous = this.records.get(containerId);
    const recordFile = join(this.recordsDir, `${containerId}.json`);
    if (previous === undefined) this.addRecord(containerId, imageHex, layersTopFirst, base);
    try {
      await this.mount(previous?.layers ?? layersTopFirst, base);
    } catch (e) {
      // Don't pin the image for a rootfs that never came to be.
      if (previous === undefined) {
        this.records.delete(containerId);
        for (const hex of layersTopFirst) this.layers.unpin(hex);
        await fsp.rm(recordFile, { force: true });
      }
      throw e;
    }
    return { rootfs };
  }

  /**
   * Mounts the layers (hexes, top-most first) at `<dir>/rootfs` over
   * `<dir>/upper`, without a record: the caller keeps the layers pinned
   * while it is mounted. Idempotent.
   */
  async mount(layersTopFirst: string[], dir: string): Promise<{ rootfs: string }> {
    const base = resolvePath(dir);
    const rootfs = join(base, 'rootfs');
    // Synchronous: three tiny calls cost less than three trips to the thread pool.
    for (const d of ['rootfs', 'upper', 'work']) mkdirSync(join(base, d), { recursive: true, mode: 0o755 });
    if (isMountPoint(rootfs)) return { rootfs };
    const lower = layersTopFirst.map((h) => h.slice(0, SHORT_LINK));
    await mountOverlay({
      lower: lower.length > 0 ? lower : [this.emptyDir],
      upper: join(base, 'upper'),
      work: join(base, 'work'),
      target: rootfs,
      cwd: this.layers.linksDir,
    });
    return { rootfs };
  }

  /** Unmounts `<dir>/rootfs` (lazily if busy). The upper layer and the record are kept. */
  async release(dir: string, opts: { inBackground?: boolean } = {}): Promise<void> {
    await unmount(join(resolvePath(dir), 'rootfs'), opts);
  }

  /** Unmounts and deletes `<dir>/rootfs`, `<dir>/upper` and `<dir>/work`. */
  async removeDirs(dir: string): Promise<void> {
    const base = resolvePath(dir);
    // Throws unless nothing is mounted there any more: the directories below are only ever deleted unmounted.
    await this.release(base);
    for (const d of ['rootfs', 'upper', 'work']) await fsp.rm(join(base, d), { recursive: true, force: true });
  }

  /** Drops the records of the rootfs at `base` and unpins their layers; returns those layers (to collect). Inside the mutex. */
  async forget(base: string): Promise<string[]> {
    const unpinned: string[] = [];
    for (const [id, rec] of this.records) {
      if (rec.dir !== base) continue;
      this.records.delete(id);
      for (const hex of rec.layers ?? []) this.layers.unpin(hex);
      unpinned.push(...(rec.layers ?? []));
      await fsp.rm(join(this.recordsDir, `${id}.json`), { force: true });
    }
    return unpinned;
  }
}

function checkContainerId(containerId: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(containerId)) {
    throw new InvalidParameter(`invalid container id ${JSON.stringify(containerId)}`);
  }
}
