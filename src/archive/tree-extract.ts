// A tar stream unpacked into an empty staging directory, refusing anything
// hostile. The directory is private to berthd and starts empty, so what the
// archive has made so far (kept in `made`) is all there is: a member is
// refused when its path leaves the root, when a parent is something other
// than a directory the archive (or this extractor) made — a symlink above
// all — and a hard link must name an earlier member. Final components are
// created with O_EXCL/O_NOFOLLOW or their *at equivalents, so nothing is
// ever followed.
import { linkSync, mkdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { InvalidArchive, InvalidParameter } from '../errors.js';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../fs/nodes.js';
import { joinPath } from '../fs/path.js';
import { ByteReader, FileByteReader, readTar, type TarHeader } from './tar/reader.js';
import { ExtractedFile, type FileJob } from './extracted-file.js';
import { ExtractWriters } from './extract-writers.js';
import { applyPathMeta, PendingDirectories } from './tree-write.js';
import type { TreeProgress } from './tree.js';

/** A plain (uncompressed) tar in a regular file, read by position from `offset` (default 0). */
export interface ArchiveFile {
  fd: number;
  offset?: number;
}

export interface ExtractProgress extends TreeProgress {
  /** Bytes of the archive read so far. */
  archiveBytes: number;
}

export interface ExtractOptions {
  onProgress?: (p: ExtractProgress) => void;
  signal?: AbortSignal;
  /** Writer threads for regular files once the archive proves large (default: one per core beside this thread's, at least 1, at most 4; 0: none). */
  writers?: number;
}

/** Regular files written on the extractor's own thread before writer threads are started: small archives never pay for them. */
const FILES_BEFORE_WRITERS = 256;

type Made = 'directory' | 'implicit-directory' | 'other';

/** The member's path as components below the root; [] for the root itself. */
function components(h: TarHeader): Buffer[] {
  const p = h.pathBytes;
  if (p.length > 0 && p[0] === 0x2f) throw new InvalidArchive(`archive member has an absolute name: ${h.path}`);
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i === p.length || p[i] === 0x2f) {
      const part = p.subarray(start, i);
      start = i + 1;
      if (part.length === 0 || (part.length === 1 && part[0] === 0x2e)) continue;
      if (part.length === 2 && part[0] === 0x2e && part[1] === 0x2e) throw new InvalidArchive(`archive member name contains "..": ${h.path}`);
      parts.push(part);
    }
  }
  return parts;
}

function keyOf(parts: Buffer[]): string {
  return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('/'), p]))).toString('latin1');
}

class Extractor {
  private readonly made = new Map<string, Made>();
  private readonly dirs = new PendingDirectories();
  readonly progress: TreeProgress = { bytes: 0, files: 0 };
  private regularFiles = 0;
  private writers: ExtractWriters | undefined;

  constructor(
    private readonly root: Buffer,
    private readonly writerCount: number,
  ) {}

  /** Makes sure every parent of `parts` is a directory this extraction made; returns the absolute path. */
  private async prepare(parts: Buffer[], h: TarHeader): Promise<Buffer> {
    let abs = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      abs = joinPath(abs, parts[i]!);
      const key = keyOf(parts.slice(0, i + 1));
      const kind = this.made.get(key);
      if (kind === undefined) {
        mkdirSync(abs, { mode: 0o755 });
        this.made.set(key, 'implicit-directory');
      } else if (kind === 'other') {
        throw new InvalidArchive(`archive member ${h.path} is beneath ${key}, which is not a directory (a symlink or file in the archive)`);
      }
    }
    const abspath = joinPath(abs, parts[parts.length - 1]!);
    const key = keyOf(parts);
    const existing = this.made.get(key);
    if (existing === 'other') {
      // A later member replaces an earlier one, as tar does; a writer thread may still be writing it.
      await this.writers?.idle();
      unlinkSync(abspath);
    } else if (existing !== undefined && h.type !== 'directory') {
      throw new InvalidArchive(`archive member ${h.path} would replace a directory`);
    }
    return abspath;
  }

  async entry(h: TarHeader, body: () => AsyncGenerator<Buffer>, dataAt?: FileJob['source']): Promise<void> {
    const parts = components(h);
    const meta = { type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs, xattrs: h.xattrs, ...(h.acls ? { acls: h.acls } : {}) };
    this.progress.files++;
    if (parts.length === 0) {
      if (h.type !== 'directory') throw new InvalidArchive(`archive member ${h.path} names the root but is not a directory`);
      this.dirs.set(this.root, meta);
      return;
    }
    const abs = await this.prepare(parts, h);
    const key = keyOf(parts);
    switch (h.type) {
      case 'directory':
        if (this.made.get(key) === undefined) mkdirSync(abs, { mode: 0o700 });
        this.made.set(key, 'directory');
        this.dirs.set(abs, meta);
        return;
      case 'file': {
        this.made.set(key, 'other');
        const job: FileJob = { abs, extents: h.sparse ?? [{ offset: 0, length: h.size }], size: h.size, sparse: h.sparse !== undefined, meta };
        const writers = this.writersFor();
        let bytes = 0;
        if (dataAt) {
          // The archive is a file: the data is copied from it where it lies, and the reader skips it.
          job.source = dataAt;
          bytes = job.extents.reduce((n, x) => n + x.length, 0);
          if (writers) {
            writers.open(keyOf(parts.slice(0, -1)), job);
            writers.close();
          } else {
            const file = new ExtractedFile(job);
            try {
              file.copyIn();
              file.finish();
            } catch (e) {
              file.abandon();
              throw e;
            }
          }
        } else if (writers) {
          writers.open(keyOf(parts.slice(0, -1)), job);
          for await (const chunk of body()) {
            await writers.data(chunk);
            bytes += chunk.length;
          }
          writers.close();
        } else {
          const file = new ExtractedFile(job);
          try {
            for await (const chunk of body()) {
              file.write(chunk);
              bytes += chunk.length;
            }
            file.finish();
          } catch (e) {
            file.abandon();
            throw e;
          }
        }
        this.progress.bytes += bytes;
        return;
      }
      case 'symlink':
        symlinkSync(h.linkpathBytes, abs);
        this.made.set(key, 'other');
        applyPathMeta(abs, meta);
        return;
      case 'hardlink': {
        const target = components({ ...h, pathBytes: h.linkpathBytes, path: h.linkpath });
        if (target.length === 0 || this.made.get(keyOf(target)) !== 'other') {
          throw new InvalidArchive(`archive member ${h.path} is a hard link to ${h.linkpath}, which is not an earlier file in the archive`);
        }
        // Its target may still be in a writer thread's hands.
        await this.writers?.idle();
        linkSync(joinPath(this.root, Buffer.from(keyOf(target), 'latin1')), abs);
        this.made.set(key, 'other');
        return;
      }
      case 'fifo':
      case 'chardev':
      case 'blockdev': {
        const kind = h.type === 'fifo' ? S_IFIFO : h.type === 'chardev' ? S_IFCHR : S_IFBLK;
        mknod(abs, kind, 0o600, h.devmajor, h.devminor);
        this.made.set(key, 'other');
        applyPathMeta(abs, meta);
        return;
      }
    }
  }

  /** The writer threads, started once the archive has shown it is large; undefined while files are written here. */
  private writersFor(): ExtractWriters | undefined {
    if (this.writers || this.writerCount === 0) return this.writers;
    if (++this.regularFiles <= FILES_BEFORE_WRITERS) return undefined;
    this.writers = new ExtractWriters(this.writerCount);
    return this.writers;
  }

  async finish(): Promise<void> {
    await this.writers?.idle();
    this.dirs.applyAll();
  }

  async close(): Promise<void> {
    await this.writers?.terminate();
  }
}

/**
 * Unpacks the plain tar `tar` into `dir` (an existing, empty directory the
 * caller owns). Rejects with InvalidArchive for malformed, truncated or
 * hostile input; whatever was written then stays inside `dir` for the
 * caller to remove.
 */
export async function extractTree(tar: Readable | AsyncIterable<Buffer> | ArchiveFile, dir: string, opts: ExtractOptions = {}): Promise<TreeProgress> {
  // The extractor's own thread is busy parsing: one writer per other core (measured: on 2 cores, 1 writer beats 2).
  const x = new Extractor(Buffer.from(dir), Math.max(0, Math.min(opts.writers ?? Math.max(1, availableParallelism() - 1), 4)));
  const reader = Symbol.asyncIterator in tar ? new ByteReader(tar) : new FileByteReader(tar.fd, tar.offset ?? 0);
  let last = 0;
  try {
    for await (const e of readTar(reader, { requireEnd: true })) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('import aborted');
      await x.entry(e.header, e.body, e.dataAt);
      if (opts.onProgress && x.progress.files - last >= 64) {
        last = x.progress.files;
        opts.onProgress({ ...x.progress, archiveBytes: reader.consumed });
      }
    }
    await reader.drain();
    await x.finish();
  } catch (e) {
    if (e instanceof InvalidParameter && !(e instanceof InvalidArchive)) throw new InvalidArchive(`invalid archive: ${e.message}`, { cause: e });
    throw e;
  } finally {
    await x.close();
  }
  opts.onProgress?.({ ...x.progress, archiveBytes: reader.consumed });
  return { ...x.progress };
}

/** Removes a staging directory left by a failed extraction. */
export function removeStaging(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
