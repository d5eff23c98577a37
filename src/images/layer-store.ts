// Content-addressed layer directories under <image root>:
//
//   layers/<hex>/diff/       an unpacked layer (hex = its diff_id), ready to
//                            be an overlay lowerdir; whiteouts are overlay
//                            whiteouts (char 0/0), opaque dirs carry
//                            trusted.overlay.opaque=y
//   layers/<hex>/layer.json  {diffId, size, opaque[]}: written inside the
//                            temp dir before the rename, so a layer directory
//                            exists only if it is complete
//   l/<20 hex>               short symlink -> ../layers/<hex>/diff (keeps
//                            overlay mount options well under one page)
//
// Reference counts are derived, not stored: the images whose diff_ids name a
// layer (counted by the image db through retain/releaseRefs), plus in-flight
// pins held by imports and loads. A crash therefore cannot leave a counter out
// of step; the service collects orphans at startup.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { InvalidParameter, SystemError, isBerthError } from '../errors.js';
import { readLayerTar } from './archive/layer-tar-reader.js';
import { isErrno, randomSuffix, writeFileAtomic, type Mutex } from './fs-util.js';

const HEX64 = /^[a-f0-9]{64}$/;
/** Length of the short link names in l/. */
export const SHORT_LINK = 20;

interface LayerMeta {
  diffId: string;
  size: number;
  /** Bytes of the layer's tar (absent for layers stored before berth recorded it). */
  tarSize?: number;
  /** Directories (relative, "" = layer root) marked opaque. */
  opaque: string[];
  created: string;
}

/** Accepts "sha256:<hex>" or a bare hex. */
function hexOf(diffId: string): string {
  return diffId.replace(/^sha256:/, '');
}

export class LayerStore {
  readonly layersDir: string;
  /** Directory of the short links, the cwd for overlay mounts. */
  readonly linksDir: string;
  private readonly layers = new Map<string, LayerMeta>();
  /** layer hex → number of images referencing it. */
  private readonly refs = new Map<string, number>();
  /** layer hex → in-flight imports/loads holding it. */
  private readonly pins = new Map<string, number>();

  /**
   * @param tmpDir staging for unpacks and trash (wiped by the owner at startup)
   * @param mutex the image store's mutex: layer commits and collection run inside it
   */
  constructor(
    root: string,
    private readonly tmpDir: string,
    private readonly mutex: Mutex,
  ) {
    this.layersDir = join(root, 'layers');
    this.linksDir = join(root, 'l');
    for (const d of [this.layersDir, this.linksDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const hex of readdirSync(this.layersDir)) {
      const dir = join(this.layersDir, hex);
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
  }

  /**
   * Startup, once the image db has counted its references: deletes layers no
   * image names (a crash between unpack and image commit, or during rmi) and
   * makes l/ hold exactly one short link per layer.
   */
  removeOrphansSync(): void {
    for (const hex of [...this.layers.keys()]) {
      // Pinned: a container's rootfs stands on it (its image may be gone, as after docker rmi -f).
      if ((this.refs.get(hex) ?? 0) === 0 && (this.pins.get(hex) ?? 0) === 0) {
        rmSync(join(this.layersDir, hex), { recursive: true, force: true });
        this.layers.delete(hex);
      }
    }
    const wanted = new Map([...this.layers.keys()].map((hex) => [hex.slice(0, SHORT_LINK), hex]));
    for (const name of readdirSync(this.linksDir)) {
      if (!wanted.has(name)) rmSync(join(this.linksDir, name), { force: true });
    }
    for (const [short, hex] of wanted) {
      const link = join(this.linksDir, short);
      try {
        lstatSync(link);
      } catch {
        symlinkSync(`../layers/${hex}/diff`, link);
      }
    }
  }

  has(diffId: string): boolean {
    return this.layers.has(hexOf(diffId));
  }

  /** Unpacked size in bytes of a layer (0 if the store doesn't have it). */
  size(diffId: string): number {
    return this.layers.get(hexOf(diffId))?.size ?? 0;
  }

  /** Bytes of the layer's tar, when known. */
  tarSize(diffId: string): number | undefined {
    return this.layers.get(hexOf(diffId))?.tarSize;
  }

  /** Host directory of an unpacked layer, or null if the store doesn't have it. */
  dir(diffId: string): string | null {
    const hex = hexOf(diffId);
    return this.layers.has(hex) ? this.diffDir(hex) : null;
  }

  /** Host directory a layer has (or would have) in the store. */
  diffDir(hex: string): string {
    return join(this.layersDir, hex, 'diff');
  }

  /** Whether directory `rel` ("" = root) is opaque in the layer. */
  isOpaque(hex: string, rel: string): boolean {
    return this.layers.get(hex)?.opaque.includes(rel) ?? false;
  }

  /** Number of images referencing a layer. */
  refCount(diffId: string): number {
    return this.refs.get(hexOf(diffId)) ?? 0;
  }

  /** An image naming these layers was added. */
  retain(hexes: Iterable<string>): void {
    for (const l of new Set(hexes)) this.refs.set(l, (this.refs.get(l) ?? 0) + 1);
  }

  /** An image naming these layers was deleted. */
  releaseRefs(hexes: Iterable<string>): void {
    for (const l of new Set(hexes)) {
      const n = (this.refs.get(l) ?? 0) - 1;
      if (n <= 0) this.refs.delete(l);
      else this.refs.set(l, n);
    }
  }

  /** Inside the mutex. */
  pin(hex: string): void {
    this.pins.set(hex, (this.pins.get(hex) ?? 0) + 1);
  }

  /** Inside the mutex. */
  unpin(hex: string): void {
    const n = (this.pins.get(hex) ?? 0) - 1;
    if (n <= 0) this.pins.delete(hex);
    else this.pins.set(hex, n);
  }

  /** Pins `hex` if the store has it; returns whether it did. */
  pinIfPresent(hex: string): Promise<boolean> {
    return this.mutex.run(async () => {
      if (!this.layers.has(hex)) return false;
      this.pin(hex);
      return true;
    });
  }

  /**
   * Unpacks a layer's plain tar into the store (once per diff_id) and pins it.
   * With `expected`, the stream's diff_id must match or nothing is kept.
   */
  async ingest(source: AsyncIterable<Buffer | string | Uint8Array>, expected: string | null, what: string): Promise<string> {
    let tarSize = 0;
    const counted = (async function* () {
      for await (const chunk of source) {
        tarSize += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        yield chunk;
      }
    })();
    const tmp = join(this.tmpDir, `layer-${randomSuffix()}`);
    await fsp.mkdir(join(tmp, 'diff'), { recursive: true, mode: 0o755 });
    await fsp.chmod(join(tmp, 'diff'), 0o755);
    let committed = false;
    try {
      const result = await readLayerTar(counted, join(tmp, 'diff'));
      const diffId = result.diffId;
      if (expected !== null && diffId !== expected) {
        throw new InvalidParameter(`${what}: layer digest mismatch: expected ${expected}, got ${diffId}`);
      }
      const hex = diffId.slice('sha256:'.length);
      const meta: LayerMeta = { diffId, size: result.size, tarSize, opaque: result.opaque, created: new Date().toISOString() };
      await writeFileAtomic(join(tmp, 'layer.json'), JSON.stringify(meta) + '\n');
      await this.mutex.run(async () => {
        if (!this.layers.has(hex)) {
          const dest = join(this.layersDir, hex);
          try {
            await fsp.rename(tmp, dest);
            committed = true;
          } catch (e) {
            // Another process got there first: its copy is complete (renamed whole).
            if (!isErrno(e, 'ENOTEMPTY', 'EEXIST')) throw e;
          }
          const link = join(this.linksDir, hex.slice(0, SHORT_LINK));
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

  /** Deletes the candidates nobody references or pins; returns their hexes. Inside the mutex. */
  async collect(candidates: Iterable<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const hex of new Set(candidates)) {
      if (!this.layers.has(hex)) continue;
      if ((this.refs.get(hex) ?? 0) > 0 || (this.pins.get(hex) ?? 0) > 0) continue;
      const trash = join(this.tmpDir, `rm-${hex}-${randomSuffix()}`);
      await fsp.rename(join(this.layersDir, hex), trash);
      this.layers.delete(hex);
      await fsp.rm(join(this.linksDir, hex.slice(0, SHORT_LINK)), { force: true });
      await fsp.rm(trash, { recursive: true, force: true });
      removed.push(hex);
    }
    return removed;
  }
}
