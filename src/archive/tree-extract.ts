// A tar stream unpacked into a directory, refusing anything hostile. Two
// modes. Into an empty staging directory (volume import): it is private to
// berthd, so what the archive has made so far is all there is. Merging into
// a directory that has content (docker cp), as Docker's Unpack does: a
// member replaces what is at its name, a directory member onto a directory
// keeps it, names are resolved as docker cp resolves them. In both, every
// member is first admitted by ArchiveMembers (archive-members.ts): nothing
// that leaves the root, nothing beneath a symlink or file the archive made,
// hard links only to earlier members. Merging, a parent the archive did not
// make must already be a real directory (a symlink there is refused, never
// followed), and what a member replaces is removed, not written into.
// Final components are created with O_EXCL/O_NOFOLLOW or their *at
// equivalents, so nothing is ever followed.
import { closeSync, constants, linkSync, lstatSync, mkdirSync, openSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Conflict, InvalidArchive, InvalidParameter } from '../errors.js';
import { syncFilesystemInBackground } from '../fs/exchange.js';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../fs/nodes.js';
import { joinPath } from '../fs/path.js';
import { ByteReader, FileByteReader, readTar, type TarHeader } from './tar/reader.js';
import { ArchiveMembers, joinParts, keyOf, type AdmittedMember } from './archive-members.js';
import { ExtractedFile, type FileJob } from './extracted-file.js';
import { ExtractWriters } from './extract-writers.js';
import { applyPathMeta, PendingDirectories, type EntryMeta } from './tree-write.js';
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

/** How an extraction into a directory that already has content (docker cp) treats it. */
export interface MergeOptions {
  /**
   * Who owns what is extracted: the archive's ids (`docker cp -a`), these
   * ids, or whoever runs the extraction (no chown, as the docker CLI
   * extracts on the client).
   */
  owner: 'archive' | 'process' | { uid: number; gid: number };
  /**
   * Replace an existing directory with a non-directory member and an
   * existing non-directory with a directory member (the Engine API's
   * noOverwriteDirNonDir=false); else both are refused, as the docker CLI asks.
   */
  overwriteDirNonDir: boolean;
}

export interface ExtractOptions {
  onProgress?: (p: ExtractProgress) => void;
  signal?: AbortSignal;
  /** Writer threads for regular files once the archive proves large (default: one per core beside this thread's, at least 1, at most 4; 0: none). */
  writers?: number;
  /** Merge into `dir`, which may have content (default: `dir` is an empty staging directory). */
  merge?: MergeOptions;
  /** Renames each member and hard-link target before anything looks at it (docker cp's RebaseArchiveEntries). */
  rename?: (name: Buffer) => Buffer;
  /**
   * The caller syncs the filesystem when the extraction is done (a volume
   * import): writeback is started along the way (syncfs on the thread pool
   * every so many MiB), so that final sync has little left to wait for.
   */
  writeback?: boolean;
}

const S_ISGID = 0o2000;

/** File data extracted before the next background sync starts (one runs at a time, so in practice they follow each other). */
const WRITEBACK_STEP = 16 << 20;

/** Regular files written on the extractor's own thread before writer threads are started: small archives never pay for them. */
const FILES_BEFORE_WRITERS = 256;

function renamed(h: TarHeader, rename: (name: Buffer) => Buffer): TarHeader {
  const pathBytes = rename(h.pathBytes);
  const linkpathBytes = h.type === 'hardlink' ? rename(h.linkpathBytes) : h.linkpathBytes;
  return { ...h, pathBytes, path: pathBytes.toString(), linkpathBytes, linkpath: linkpathBytes.toString() };
}

/**
 * Background syncs of the filesystem an extraction writes, one at a time,
 * each once WRITEBACK_STEP more data has been written: writeback keeps
 * pace with the extraction without a log force and device flush for every
 * few files.
 */
class WritebackPump {
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private failure: Error | undefined;
  private since = 0;
  private stopped = false;

  constructor(private readonly dir: Buffer) {}

  /** Counts file data written (not merely queued). */
  wrote(bytes: number): void {
    this.since += bytes;
    if (this.since >= WRITEBACK_STEP && !this.running && !this.stopped) this.start();
  }

  private start(): void {
    this.since = 0;
    this.fd ??= openSync(this.dir, constants.O_RDONLY | constants.O_DIRECTORY);
    this.running = syncFilesystemInBackground(this.fd)
      .catch((e: Error) => void (this.failure ??= e))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped && !this.failure && this.since >= WRITEBACK_STEP) this.start();
      });
  }

  /** Stops, waiting for the sync under way; throws what a sync reported. */
  async finish(): Promise<void> {
    this.stopped = true;
    await this.running;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.running;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

class Extractor {
  private readonly members: ArchiveMembers;
  private readonly dirs = new PendingDirectories();
  readonly progress: TreeProgress = { bytes: 0, files: 0 };
  private regularFiles = 0;
  private writers: ExtractWriters | undefined;
  private readonly pump: WritebackPump | undefined;

  constructor(
    private readonly root: Buffer,
    private readonly writerCount: number,
    private readonly merge: MergeOptions | undefined,
    writeback: boolean,
  ) {
    this.members = new ArchiveMembers(merge ? 'lexical' : 'refuse');
    if (writeback) this.pump = new WritebackPump(root);
    // Into a staging directory without setgid, every directory above a file is the archive's,
    // made here without setgid: a new file gets this process's ids.
    if (!merge && (lstatSync(root).mode & S_ISGID) === 0) this.creator = { uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 };
  }

  /** Who owns a file this extraction creates, when that is known (see ownerAsCreated). */
  private readonly creator: { uid: number; gid: number } | undefined;

  private metaOf(h: TarHeader): EntryMeta {
    const owner = this.merge?.owner ?? 'archive';
    // -1 is chown(2)'s "leave as it is": the creating process stays the owner.
    const [uid, gid] = owner === 'archive' ? [h.uid, h.gid] : owner === 'process' ? [-1, -1] : [owner.uid, owner.gid];
    return { type: h.type, mode: h.mode, uid, gid, mtimeNs: h.mtimeNs, xattrs: h.xattrs, ...(h.acls ? { acls: h.acls } : {}) };
  }

  /** Makes the parents no earlier member made; returns the member's absolute path. */
  private parentsOf(m: AdmittedMember, h: TarHeader): Buffer {
    let abs = this.root;
    for (let i = 0; i < m.parts.length - 1; i++) {
      abs = joinPath(abs, m.parts[i]!);
      if (i >= m.firstNewParent) this.makeParent(abs, h);
    }
    return joinPath(abs, m.parts[m.parts.length - 1]!);
  }

  private makeParent(abs: Buffer, h: TarHeader): void {
    try {
      mkdirSync(abs, { mode: 0o755 });
    } catch (e) {
      // Merging, a directory already there takes the member; anything else, a symlink above all, does not.
      if (!this.merge || (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = lstatSync(abs);
      if (!st.isDirectory()) {
        throw new Conflict(`cannot extract ${h.path}: ${abs.toString()} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`);
      }
    }
  }

  /**
   * Clears the member's path of what an earlier member or (merging) the
   * directory had there; true when a directory stays for a directory member.
   */
  private async clear(abs: Buffer, m: AdmittedMember, h: TarHeader): Promise<boolean> {
    if (m.previous === 'other') {
      // A later member replaces an earlier one, as tar does; a writer thread may still be writing it.
      await this.writers?.idle();
      unlinkSync(abs);
      return false;
    }
    // A directory the archive made: admit() let only a directory member onto it.
    if (m.previous !== undefined) return true;
    if (!this.merge) return false;
    let st;
    try {
      st = lstatSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    const wantsDirectory = h.type === 'directory';
    if (st.isDirectory() && wantsDirectory) return true;
    if (st.isDirectory() !== wantsDirectory && !this.merge.overwriteDirNonDir) {
      throw new Conflict(
        st.isDirectory()
          ? `cannot overwrite directory "${abs.toString()}" with non-directory "${this.root.toString()}"`
          : `cannot overwrite non-directory "${abs.toString()}" with directory "${this.root.toString()}"`,
      );
    }
    if (st.isDirectory()) rmSync(abs, { recursive: true });
    else unlinkSync(abs);
    return false;
  }

  async entry(h: TarHeader, body: () => AsyncGenerator<Buffer>, dataAt?: FileJob['source']): Promise<void> {
    const m = this.members.admit(h);
    const meta = this.metaOf(h);
    this.progress.files++;
    if (m.parts.length === 0) {
      // Merging, the target directory keeps its own metadata, as docker cp leaves it.
      if (!this.merge) this.dirs.set(this.root, meta);
      return;
    }
    const abs = this.parentsOf(m, h);
    const directoryThere = await this.clear(abs, m, h);
    switch (h.type) {
      case 'directory':
        if (!directoryThere) mkdirSync(abs, { mode: 0o700 });
        this.dirs.set(abs, meta);
        return;
      case 'file': {
        const job: FileJob = { abs, extents: h.sparse ?? [{ offset: 0, length: h.size }], size: h.size, sparse: h.sparse !== undefined, meta };
        if (this.creator && meta.uid === this.creator.uid && meta.gid === this.creator.gid) job.ownerAsCreated = true;
        const writers = this.writersFor();
        let bytes = 0;
        if (dataAt) {
          // The archive is a file: the data is copied from it where it lies, and the reader skips it.
          job.source = dataAt;
          bytes = job.extents.reduce((n, x) => n + x.length, 0);
        }
        if (writers && dataAt) {
          await writers.add(keyOf(m.parts.slice(0, -1)), job, bytes);
        } else if (writers) {
          writers.open(keyOf(m.parts.slice(0, -1)), job);
          for await (const chunk of body()) {
            await writers.data(chunk);
            bytes += chunk.length;
          }
          writers.close();
        } else {
          const file = new ExtractedFile(job);
          try {
            if (dataAt) file.copyIn();
            else {
              for await (const chunk of body()) {
                file.write(chunk);
                bytes += chunk.length;
              }
            }
            file.finish();
          } catch (e) {
            file.abandon();
            throw e;
          }
        }
        this.progress.bytes += bytes;
        // What writer threads write is counted as they report it.
        if (!writers) this.pump?.wrote(bytes);
        return;
      }
      case 'symlink':
        symlinkSync(h.linkpathBytes, abs);
        applyPathMeta(abs, meta);
        return;
      case 'hardlink':
        // Its target may still be in a writer thread's hands.
        await this.writers?.idle();
        linkSync(joinPath(this.root, joinParts(m.linkTarget!)), abs);
        return;
      case 'fifo':
      case 'chardev':
      case 'blockdev': {
        const kind = h.type === 'fifo' ? S_IFIFO : h.type === 'chardev' ? S_IFCHR : S_IFBLK;
        mknod(abs, kind, 0o600, h.devmajor, h.devminor);
        applyPathMeta(abs, meta);
        return;
      }
    }
  }

  /** The writer threads, started once the archive has shown it is large; undefined while files are written here. */
  private writersFor(): ExtractWriters | undefined {
    if (this.writers || this.writerCount === 0) return this.writers;
    if (++this.regularFiles <= FILES_BEFORE_WRITERS) return undefined;
    this.writers = new ExtractWriters(this.writerCount, (bytes) => this.pump?.wrote(bytes));
    return this.writers;
  }

  async finish(): Promise<void> {
    await this.writers?.idle();
    this.dirs.applyAll();
    await this.pump?.finish();
  }

  async close(): Promise<void> {
    await this.writers?.terminate();
    await this.pump?.close();
  }
}

/**
 * Unpacks the plain tar `tar` into `dir`: an existing, empty directory the
 * caller owns, or with `merge` any existing directory. Rejects with
 * InvalidArchive for malformed, truncated or hostile input, and merging with
 * Conflict for a member the directory's content refuses; whatever was
 * written then stays inside `dir` (for the caller to remove, when staging).
 */
export async function extractTree(tar: Readable | AsyncIterable<Buffer> | ArchiveFile, dir: string, opts: ExtractOptions = {}): Promise<TreeProgress> {
  // The extractor's own thread is busy parsing: one writer per other core (measured: on 2 cores, 1 writer beats 2).
  const writers = Math.max(0, Math.min(opts.writers ?? Math.max(1, availableParallelism() - 1), 4));
  const x = new Extractor(Buffer.from(dir), writers, opts.merge, opts.writeback ?? false);
  const reader = Symbol.asyncIterator in tar ? new ByteReader(tar) : new FileByteReader(tar.fd, tar.offset ?? 0);
  let last = 0;
  try {
    for await (const e of readTar(reader, { requireEnd: true })) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('import aborted');
      await x.entry(opts.rename ? renamed(e.header, opts.rename) : e.header, e.body, e.dataAt);
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
