// Overlay root filesystems for containers. A container's rootfs is
// `<dir>/rootfs`, an overlay of the image's layer directories (read-only,
// top first, through the layer store's short links) with `<dir>/upper` and
// `<dir>/work`. Each prepared rootfs is recorded in
// <image root>/rootfs/<container>.json ({containerId, imageId, dir}) so the
// image it stands on is never deleted while the rootfs exists.
import { mkdirSync, readdirSync, readFileSync, promises as fsp } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { InvalidParameter, SystemError } from '../errors.js';
import { isMountPoint } from '../util/mount.js';
import { writeFileAtomic } from './fs-util.js';
import { SHORT_LINK, type LayerStore } from './layer-store.js';
import { mountOverlay, unmount } from './overlay.js';

interface RootfsRecord {
  containerId: string;
  /** "sha256:<hex>" */
  imageId: string;
  dir: string;
}

export class OverlaySnapshotter {
  private readonly recordsDir: string;
  /** lowerdir for an image without layers. */
  private readonly emptyDir: string;
  /** containerId → rootfs record. */
  private readonly records = new Map<string, RootfsRecord>();

  /** `imageExists` filters out records of images that are gone. */
  constructor(
    root: string,
    private readonly layers: LayerStore,
    imageExists: (hex: string) => boolean,
  ) {
    this.recordsDir = join(root, 'rootfs');
    this.emptyDir = join(root, 'empty');
    for (const d of [this.recordsDir, this.emptyDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.recordsDir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(readFileSync(join(this.recordsDir, name), 'utf8')) as RootfsRecord;
        if (imageExists(rec.imageId.replace(/^sha256:/, ''))) this.records.set(rec.containerId, rec);
      } catch {
        /* ignore */
      }
    }
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
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(containerId)) {
      throw new InvalidParameter(`invalid container id ${JSON.stringify(containerId)}`);
    }
    const base = resolvePath(dir);
    const rootfs = join(base, 'rootfs');
    const rec: RootfsRecord = { containerId, imageId: `sha256:${imageHex}`, dir: base };
    const recordFile = join(this.recordsDir, `${containerId}.json`);
    const previous = this.records.get(containerId);
    await writeFileAtomic(recordFile, JSON.stringify(rec) + '\n');
    this.records.set(containerId, rec);
    try {
      await this.mount(layersTopFirst, base);
    } catch (e) {
      // Don't pin the image for a rootfs that never came to be.
      if (previous === undefined) {
        this.records.delete(containerId);
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
    for (const d of ['rootfs', 'upper', 'work']) await fsp.mkdir(join(base, d), { recursive: true, mode: 0o755 });
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
  async release(dir: string): Promise<void> {
    await unmount(join(resolvePath(dir), 'rootfs'));
  }

  /** Unmounts and deletes `<dir>/rootfs`, `<dir>/upper` and `<dir>/work`. */
  async removeDirs(dir: string): Promise<string> {
    const base = resolvePath(dir);
    await this.release(base);
    if (isMountPoint(join(base, 'rootfs'))) throw new SystemError(`${join(base, 'rootfs')} is still mounted`);
    for (const d of ['rootfs', 'upper', 'work']) await fsp.rm(join(base, d), { recursive: true, force: true });
    return base;
  }

  /** Drops the records of the rootfs at `base` (resolved). Inside the image store's mutex. */
  async forget(base: string): Promise<void> {
    for (const [id, rec] of this.records) {
      if (rec.dir !== base) continue;
      this.records.delete(id);
      await fsp.rm(join(this.recordsDir, `${id}.json`), { force: true });
    }
  }
}
