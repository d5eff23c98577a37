// Layer blobs: each layer's archive as registries know it, and where it came
// from (Docker's distribution metadata). Under <image root>:
//
//   blobs/sha256/<hex>              a layer blob, content-addressed: as pulled
//                                   (gzip, zstd or plain tar), or the gzip berth
//                                   wrote for an imported, loaded or committed layer
//   distribution/<layer hex>.json   {"diffId", "blobs": [{"digest", "mediaType",
//                                   "size", "repositories": [...]}]}: the blobs
//                                   that unpack to the layer, and the registry
//                                   repositories known to hold each one
//
// Push sends a layer's blob as is (so a pushed image keeps the digests it was
// pulled with) and skips or mounts what a repository already has; save
// decompresses a blob into the layer's tar. A blob lives and dies with its
// layer: the image service forgets a layer's blobs when it removes the layer,
// and blobs or records of missing layers are removed at start.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, fsyncDir } from './fs-util.js';

export interface LayerBlob {
  /** "sha256:<hex>" of the blob's bytes. */
  digest: string;
  mediaType: string;
  size: number;
  /** Repositories known to hold the blob: "127.0.0.1:5000/busybox", "docker.io/library/busybox". */
  repositories: string[];
}

interface DistributionFile {
  diffId: string;
  blobs: LayerBlob[];
}

const HEX64 = /^[a-f0-9]{64}$/;

export class LayerBlobs {
  private readonly blobsDir: string;
  private readonly metaDir: string;
  /** layer hex → its blobs. */
  private readonly byLayer = new Map<string, LayerBlob[]>();
  /** blob digest → layer hex. */
  private readonly layerByDigest = new Map<string, string>();

  constructor(root: string) {
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.metaDir = join(root, 'distribution');
    for (const d of [this.blobsDir, this.metaDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  /** Start: reads the records of layers that exist; removes the rest, blob files nobody names, and records of missing files. */
  loadSync(layerExists: (hex: string) => boolean): void {
    for (const name of readdirSync(this.metaDir)) {
      const hex = /^([a-f0-9]{64})\.json$/.exec(name)?.[1];
      const file = join(this.metaDir, name);
      if (hex === undefined || !layerExists(hex)) {
        rmSync(file, { force: true });
        continue;
      }
      try {
        const doc = JSON.parse(readFileSync(file, 'utf8')) as DistributionFile;
        const blobs = doc.blobs.filter((b) => existsSync(this.path(b.digest)));
        this.byLayer.set(hex, blobs);
        for (const b of blobs) this.layerByDigest.set(b.digest, hex);
      } catch {
        rmSync(file, { force: true });
      }
    }
    for (const name of readdirSync(this.blobsDir)) {
      if (!HEX64.test(name) || !this.layerByDigest.has(`sha256:${name}`)) rmSync(join(this.blobsDir, name), { force: true });
    }
  }

  /** The blobs of a layer, preferred first (gzip: what every registry and client takes). */
  of(layerHex: string): LayerBlob[] {
    const blobs = this.byLayer.get(layerHex) ?? [];
    return [...blobs].sort((a, b) => Number(b.mediaType.endsWith('gzip')) - Number(a.mediaType.endsWith('gzip')));
  }

  /** The layer a blob unpacks to. */
  layerOf(digest: string): string | undefined {
    return this.layerByDigest.get(digest);
  }

  path(digest: string): string {
    return join(this.blobsDir, digest.slice('sha256:'.length));
  }

  private async save(layerHex: string): Promise<void> {
    const doc: DistributionFile = { diffId: `sha256:${layerHex}`, blobs: this.byLayer.get(layerHex) ?? [] };
    await writeFileAtomic(join(this.metaDir, `${layerHex}.json`), JSON.stringify(doc) + '\n');
  }

  /**
   * Takes a verified blob file (moved into the store) as a blob of the
   * layer, with the repository it came from. Inside the image store's mutex;
   * the layer must exist.
   */
  async adopt(layerHex: string, file: string, blob: Omit<LayerBlob, 'repositories'>, repository?: string): Promise<void> {
    if (this.layerByDigest.has(blob.digest)) {
      await fsp.rm(file, { force: true });
    } else {
      await fsp.chmod(file, 0o600);
      await fsp.rename(file, this.path(blob.digest));
      await fsyncDir(this.blobsDir);
      const list = this.byLayer.get(layerHex) ?? [];
      list.push({ ...blob, repositories: [] });
      this.byLayer.set(layerHex, list);
      this.layerByDigest.set(blob.digest, layerHex);
    }
    if (repository !== undefined) await this.addRepository(blob.digest, repository);
    else await this.save(layerHex);
  }

  /** Records that `repository` holds the blob (after a pull, push, mount or an existence check). Inside the mutex. */
  async addRepository(digest: string, repository: string): Promise<void> {
    const layerHex = this.layerByDigest.get(digest);
    if (layerHex === undefined) return;
    const blob = this.byLayer.get(layerHex)!.find((b) => b.digest === digest)!;
    if (blob.repositories.includes(repository)) return;
    blob.repositories.push(repository);
    await this.save(layerHex);
  }

  /** Removes a layer's blobs and record (the layer is being removed). Inside the mutex. */
  async forgetLayer(layerHex: string): Promise<void> {
    for (const b of this.byLayer.get(layerHex) ?? []) {
      this.layerByDigest.delete(b.digest);
      await fsp.rm(this.path(b.digest), { force: true });
    }
    this.byLayer.delete(layerHex);
    await fsp.rm(join(this.metaDir, `${layerHex}.json`), { force: true });
  }
}
