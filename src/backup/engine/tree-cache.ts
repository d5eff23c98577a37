// The local cache of snapshot trees (docs/backup-format.md, "Change
// detection and the local cache"): the plaintext tree blobs of the last
// snapshots this host made, so the next backup finds its parent's trees
// without reading (or being able to read) them from the repository. A
// cache file that fails its check is ignored, never trusted.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { idKey } from '../repo/blob-index.js';
import { blobId, ID_BYTES } from '../repo/blob.js';

export class TreeCache {
  private readonly dir: string;

  constructor(cacheDir: string, repositoryId: string) {
    this.dir = join(cacheDir, repositoryId, 'trees');
  }

  /** The trees of a snapshot by blob ID, or undefined when the cache has none or its file does not check out. */
  read(snapshotId: string, blobIdKey: Buffer): Map<string, Buffer> | undefined {
    let file: Buffer;
    try {
      file = readFileSync(join(this.dir, snapshotId));
    } catch {
      return undefined;
    }
    if (file.length < 4) return undefined;
    const count = file.readUInt32LE(0);
    const trees = new Map<string, Buffer>();
    let pos = 4;
    for (let i = 0; i < count; i++) {
      if (pos + ID_BYTES + 4 > file.length) return undefined;
      const id = file.subarray(pos, pos + ID_BYTES);
      const length = file.readUInt32LE(pos + ID_BYTES);
      pos += ID_BYTES + 4;
      if (pos + length > file.length) return undefined;
      const blob = file.subarray(pos, pos + length);
      pos += length;
      if (!blobId(blobIdKey, blob).equals(id)) return undefined;
      trees.set(idKey(id), blob);
    }
    return pos === file.length ? trees : undefined;
  }

  /** A writer for the trees of a snapshot being made; commit() names it once the snapshot is saved. */
  writer(): TreeCacheWriter {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return new TreeCacheWriter(this.dir);
  }

  /** Drops a snapshot's cache file (the next backup of the volume has a newer parent). */
  remove(snapshotId: string): void {
    rmSync(join(this.dir, snapshotId), { force: true });
  }
}

export class TreeCacheWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly seen = new Set<string>();
  private count = 0;
  private pos = 4;

  constructor(private readonly dir: string) {
    this.tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    this.fd = openSync(this.tmp, 'wx', 0o600);
  }

  private write(b: Buffer): void {
    for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off, this.pos + off);
    this.pos += b.length;
  }

  add(id: Buffer, blob: Buffer): void {
    const key = idKey(id);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const head = Buffer.allocUnsafe(ID_BYTES + 4);
    id.copy(head, 0);
    head.writeUInt32LE(blob.length, ID_BYTES);
    this.write(head);
    this.write(blob);
    this.count++;
  }

  commit(snapshotId: string): void {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(this.count, 0);
    writeSync(this.fd, head, 0, 4, 0);
    closeSync(this.fd);
    renameSync(this.tmp, join(this.dir, snapshotId));
  }

  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.tmp, { force: true });
  }
}
