// A repository in a local directory (docs/backups.md, "Target"). A put writes
// a temporary file next to its final name, fsyncs it, renames it into place
// and fsyncs the directory, so a file is either absent or whole, also after a
// crash or power loss. A crashed put leaves only its temporary file, which
// listings skip and remove once it is clearly abandoned.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { BerthError, InvalidParameter, NotFound, SystemError, withContext } from '../../errors.js';
import { fsyncDir } from '../../util/fs.js';
import { BodyFailure, GuardedBody } from './bodies.js';
import { checkKind, fileNameAt, filePath, isTempName, tempName } from './layout.js';
import { checkRange, shortRead } from './ranges.js';
import type { FileKind, Target, TargetFile } from './target.js';

export interface LocalTargetOptions {
  /**
   * A temporary file this much older than now belongs to a put that died;
   * a listing that finds one removes it. An hour: far longer than any put
   * goes without writing (each write moves the file's mtime).
   */
  staleTempAgeMs?: number;
}

const HOUR_MS = 60 * 60 * 1000;

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export class LocalTarget implements Target {
  readonly location: string;
  readonly root: string;
  private readonly staleTempAgeMs: number;

  constructor(root: string, options: LocalTargetOptions = {}) {
    if (!isAbsolute(root)) throw new InvalidParameter(`local repository path "${root}" is not absolute`);
    this.root = resolve(root);
    this.location = `local:${this.root}`;
    this.staleTempAgeMs = options.staleTempAgeMs ?? HOUR_MS;
  }

  /** A directory holds no connections. */
  close(): void {}

  async get(kind: FileKind, name: string): Promise<Buffer> {
    const rel = filePath(kind, name);
    try {
      return await readFile(join(this.root, rel));
    } catch (e) {
      throw this.failure(e, 'read', rel);
    }
  }

  async getRange(kind: FileKind, name: string, offset: number, length: number): Promise<Buffer> {
    const rel = filePath(kind, name);
    checkRange(offset, length);
    try {
      const fh = await open(join(this.root, rel), 'r');
      try {
        const buf = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        // Zero bytes read nothing, yet the file must still reach the offset.
        const short = length === 0 ? (await fh.stat()).size < offset : got < length;
        if (short) throw shortRead(this.location, rel, offset, length, got);
        return buf;
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw this.failure(e, 'read', rel);
    }
  }

  async put(kind: FileKind, name: string, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    const rel = filePath(kind, name);
    const path = join(this.root, rel);
    const dir = dirname(path);
    try {
      const firstCreated = await mkdir(dir, { recursive: true });
      const tmp = join(dir, tempName(name, randomBytes(6).toString('hex')));
      await this.writeSynced(tmp, body);
      try {
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      await fsyncDir(dir);
      if (firstCreated !== undefined) await this.syncNewDirectories(dir, firstCreated);
    } catch (e) {
      throw this.failure(e, 'write', rel);
    }
  }

  async delete(kind: FileKind, name: string): Promise<void> {
    const rel = filePath(kind, name);
    const path = join(this.root, rel);
    try {
      await unlink(path);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return;
      throw this.failure(e, 'delete', rel);
    }
    await fsyncDir(dirname(path));
  }

  async *list(kind: FileKind): AsyncIterable<TargetFile> {
    checkKind(kind);
    const dirs = kind === 'data' ? (await this.entries('data')).filter((e) => e.isDirectory()).map((e) => `data/${e.name}`) : [kind];
    for (const dir of dirs) {
      for (const entry of await this.entries(dir)) {
        const rel = `${dir}/${entry.name}`;
        if (isTempName(entry.name)) {
          await this.removeIfStale(rel);
          continue;
        }
        const name = fileNameAt(kind, rel);
        if (name === undefined || !entry.isFile()) continue;
        const file = await this.stat(kind, name);
        // Gone between readdir and stat: deleted meanwhile, so not listed.
        if (file) yield file;
      }
    }
  }

  async stat(kind: FileKind, name: string): Promise<TargetFile | undefined> {
    const rel = filePath(kind, name);
    try {
      const st = await stat(join(this.root, rel));
      return st.isFile() ? { name, size: st.size } : undefined;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
      throw this.failure(e, 'stat', rel);
    }
  }

  /** Writes `body` to the new file `tmp` and fsyncs it; on any failure `tmp` is gone. */
  private async writeSynced(tmp: string, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      for await (const chunk of new GuardedBody(body)) {
        for (let written = 0; written < chunk.length; ) written += (await fh.write(chunk, written, chunk.length - written)).bytesWritten;
      }
      await fh.sync();
      await fh.close();
    } catch (e) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /** Makes the entries of directories mkdir just created durable: each one's parent fsynced, up to the first created. */
  private async syncNewDirectories(dir: string, firstCreated: string): Promise<void> {
    for (let d = dir; ; d = dirname(d)) {
      await fsyncDir(dirname(d));
      if (d === firstCreated || dirname(d) === d) return;
    }
  }

  /** A directory's entries by name ('/'-separated path below the root); none when it does not exist. */
  private async entries(rel: string) {
    try {
      const entries = await readdir(join(this.root, rel), { withFileTypes: true });
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return [];
      throw this.failure(e, 'list', rel);
    }
  }

  private async removeIfStale(rel: string): Promise<void> {
    const path = join(this.root, rel);
    try {
      const st = await lstat(path);
      if (Date.now() - st.mtimeMs > this.staleTempAgeMs) await rm(path, { force: true });
    } catch {
      // Gone already, or a read-only repository: the next listing tries again.
    }
  }

  private failure(e: unknown, action: 'read' | 'write' | 'delete' | 'list' | 'stat', rel: string): unknown {
    if (e instanceof BodyFailure) return e.error;
    if (e instanceof BerthError) return e;
    const code = errnoCode(e);
    if (code === 'ENOENT' && action === 'read') return new NotFound(`${this.location}: ${rel} does not exist`, { cause: e });
    if (code === 'ENOSPC') return new SystemError(`${this.location}: ${action} ${rel}: no space left on device (ENOSPC)`, { cause: e });
    return withContext(e, `${this.location}: ${action} ${rel}`);
  }
}
