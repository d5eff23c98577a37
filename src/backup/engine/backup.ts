// A backup session (docs/backups.md, "Engine"): phase 1 reads the live tree
// and stores its content, the recheck under the caller's freeze finds what
// changed meanwhile and captures it, phase 2 stores the captures and writes
// trees, index and snapshot, in the format's write order.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, type BigIntStats } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ENGINE_VERSION } from '../../api/version.js';
import { planTree } from '../../archive/tree-plan.js';
import { readEntry, scanTree, type ScannedEntry } from '../../archive/tree-scan.js';
import { InvalidParameter } from '../../errors.js';
import { dataExtents, type Extent } from '../../fs/extents.js';
import { joinPath } from '../../fs/path.js';
import type { StoreLedger } from '../repo/blob-store.js';
import { chunkingFor } from '../repo/chunker.js';
import type { RepositoryLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { ConsistencyMode, SnapshotRecord } from '../repo/snapshot.js';
import { encodeTree, type FileNode, type TreeNode } from '../repo/tree.js';
import { CaptureDirectory } from './capture.js';
import { FileShrank, FileStorer } from './file-storer.js';
import { contentStillValid, entryOf, metadataStillValid, nodeOf, RACY_NS, type FileContent, type LiveEntry } from './live-entry.js';
import { ParentTrees, type ChildMap } from './parent-trees.js';
import { TreeCache, type TreeCacheWriter } from './tree-cache.js';

export interface BackupProgress {
  phase: 'scan' | 'recheck' | 'store';
  /** Entries done. */
  files: number;
  /** Bytes of file data done (read, or reused from the parent). */
  bytes: number;
  /** What the tree holds (0 until measured). */
  totalFiles: number;
  totalBytes: number;
  /** Bytes added to the repository so far (pack bytes of new blobs). */
  bytesAdded: number;
}

export interface BackupOptions {
  /** The snapshot to compare with (see findParent); undefined: none, every file is read. */
  parent?: string;
  /** A directory for this host's cache of snapshot trees (docs/backup-format.md); none: no cache. */
  cacheDir?: string;
  onProgress?: (p: BackupProgress) => void;
  signal?: AbortSignal;
}

export interface ScanOptions {
  /**
   * Where captures go under the freeze: a directory path that does not
   * exist yet, on the tree's filesystem so they are reflinks (default: a
   * new directory in the temp dir, where they are copies). Removed when
   * the session ends.
   */
  captureDir?: string;
}

export interface SnapshotMeta {
  volume: { name: string; driver?: string; labels?: Record<string, string>; options?: Record<string, string> };
  tags?: string[];
  /** Shared by the snapshots of one freeze. */
  group?: string;
  consistency: { mode: ConsistencyMode; freezeMs: number };
}

/** What the recheck under the freeze found and captured. */
export interface FrozenScan {
  readonly live: LiveScan;
  /** Files captured (changed, racy or new). */
  captured: number;
  /** Captures that were reflinks (the rest were copies). */
  reflinked: number;
  /** Entries whose metadata was read again. */
  metadataRead: number;
  added: number;
  gone: number;
}

/** The realtime clock in ns (file timestamps are taken from it; ms precision is plenty next to RACY_NS). */
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const PROGRESS_INTERVAL_MS = 100;
const YIELD_INTERVAL_MS = 10;

/** The newest snapshot of `volume`, the natural parent of its next backup. */
export async function findParent(repo: Repository, volume: string): Promise<string | undefined> {
  return (await repo.listSnapshots()).filter((s) => s.volume.name === volume).at(-1)?.id;
}

/** Starts a backup session: takes a shared lock and loads the parent's trees. */
export async function startBackup(repo: Repository, opts: BackupOptions = {}): Promise<BackupSession> {
  const lock = await repo.lock('shared', 'backup');
  try {
    await repo.loadIndex();
    const cache = opts.cacheDir ? new TreeCache(opts.cacheDir, repo.id) : undefined;
    let parent: ParentTrees | undefined;
    if (opts.parent) parent = await ParentTrees.open(repo, await repo.loadSnapshot(opts.parent), cache);
    return new BackupSession(repo, lock, cache, parent, opts);
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/** The chunking byte a file node records for how its data was cut. */
function nodeChunking(c: ReturnType<typeof chunkingFor>): FileContent['chunking'] {
  return c.kind === 'fixed' ? { kind: 'fixed', block: c.block } : { kind: 'cdc' };
}

/** The parent's node for a file when its blobs can be reused without reading the file. */
function reusable(repo: Repository, prev: TreeNode | undefined, st: BigIntStats, parentTimeNs: bigint): FileNode | undefined {
  const same =
    prev?.type === 'file' &&
    prev.inode === st.ino &&
    BigInt(prev.size) === st.size &&
    prev.mtimeNs === st.mtimeNs &&
    prev.ctimeNs === st.ctimeNs &&
    prev.ctimeNs < parentTimeNs - RACY_NS &&
    prev.content.every((id) => repo.index.has(id));
  return same ? (prev as FileNode) : undefined;
}

const openFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NOCTTY | constants.O_NONBLOCK;

/** Opens a file to read it without moving its atime (O_NOATIME, where allowed). */
function openForReading(abs: Buffer | string): number {
  try {
    return openSync(abs, openFlags | constants.O_NOATIME);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    return openSync(abs, openFlags);
  }
}

/** A file's data extents: its holes left out when it has any. */
function extentsOf(fd: number, st: BigIntStats): { extents: Extent[]; sparse: boolean } {
  const size = Number(st.size);
  if (size === 0) return { extents: [], sparse: false };
  if (st.blocks * 512n >= st.size) return { extents: [{ offset: 0, length: size }], sparse: false };
  const extents = dataExtents(fd, size);
  const data = extents.reduce((n, x) => n + x.length, 0);
  return data < size ? { extents, sparse: true } : { extents: [{ offset: 0, length: size }], sparse: false };
}

export class BackupSession {
  private readonly ledger: StoreLedger = { blobsAdded: 0, bytesAdded: 0 };
  private readonly storer: FileStorer;
  private readonly startNs = nowNs();
  private readonly progress: BackupProgress = { phase: 'scan', files: 0, bytes: 0, totalFiles: 0, totalBytes: 0, bytesAdded: 0 };
  private lastProgress = 0;
  /** Bytes of files whose blobs the parent supplied (progress counts them as done). */
  private reusedBytes = 0;
  private lastYield = performance.now();
  private scanned: LiveScan | undefined;
  /** The temp directory holding a default capture directory. */
  private ownedTemp: string | undefined;
  private ended = false;

  constructor(
    readonly repo: Repository,
    private readonly lock: RepositoryLock,
    private readonly cache: TreeCache | undefined,
    readonly parent: ParentTrees | undefined,
    private readonly opts: BackupOptions,
  ) {
    this.storer = new FileStorer(repo, this.ledger);
  }

  /** Reports progress (at most every 100 ms unless `force`) and lets the event loop run (uploads, packing threads). */
  async tick(force = false): Promise<void> {
    if (this.opts.signal?.aborted) throw this.opts.signal.reason ?? new Error('backup aborted');
    const now = performance.now();
    if (this.opts.onProgress && (force || now - this.lastProgress >= PROGRESS_INTERVAL_MS)) {
      this.lastProgress = now;
      this.opts.onProgress({ ...this.progress, bytes: this.storer.bytesRead + this.reusedBytes, bytesAdded: this.ledger.bytesAdded });
    }
    if (now - this.lastYield >= YIELD_INTERVAL_MS) {
      await yieldToLoop();
      this.lastYield = performance.now();
    }
  }

  /** A new phase: its entries are counted from 0, bytes go on adding up. */
  setPhase(phase: BackupProgress['phase']): void {
    this.progress.phase = phase;
    this.progress.files = 0;
  }

  countEntry(): void {
    this.progress.files++;
  }

  /** Phase 1: walks `root` (containers may be running), storing the content of every file the parent does not vouch for. */
  async scan(root: string, opts: ScanOptions = {}): Promise<LiveScan> {
    if (this.scanned) throw new InvalidParameter('a backup session scans one tree');
    const scanStartNs = nowNs();
    if (this.opts.onProgress) {
      const plan = await planTree(root, 1);
      this.progress.totalFiles = plan.totals.files;
      this.progress.totalBytes = plan.totals.bytes;
    }
    // A default capture directory is made inside a temp directory of its own, removed with it.
    const captureDir = opts.captureDir ?? join(mkdtempSync(join(tmpdir(), 'berth-backup-')), 'capture');
    if (!opts.captureDir) this.ownedTemp = join(captureDir, '..');
    const links = new Map<string, LiveEntry>();
    const dirs = new Map<string, { entry: LiveEntry; previous: ChildMap | undefined }>();
    let rootEntry: LiveEntry | undefined;
    let skipped = 0;
    const parentTimeNs = this.parent?.snapshot.timeNs ?? 0n;
    for (const s of scanTree(root, () => skipped++)) {
      this.countEntry();
      if (s.rel.length === 0) {
        if (s.type !== 'directory') throw new InvalidParameter(`${root} is not a directory`);
        rootEntry = entryOf(s, Buffer.alloc(0));
        dirs.set('', { entry: rootEntry, previous: this.parent ? await this.parent.children(this.parent.root) : undefined });
        continue;
      }
      const slash = s.rel.lastIndexOf(0x2f);
      const name = Buffer.from(slash < 0 ? s.rel : s.rel.subarray(slash + 1));
      const dir = dirs.get(slash < 0 ? '' : s.rel.subarray(0, slash).toString('latin1'))!;
      const previous = dir.previous?.get(name.toString('latin1'));
      const e = entryOf(s, name);
      dir.entry.children!.push(e);
      if (e.type === 'directory') {
        dirs.set(s.rel.toString('latin1'), { entry: e, previous: previous?.type === 'directory' ? await this.parent!.children(previous) : undefined });
      } else if (e.type === 'file') {
        await this.readLiveFile(e, s, previous, links, parentTimeNs);
      }
      await this.tick();
    }
    await this.storer.flush();
    await this.tick(true);
    this.scanned = new LiveScan(this, root, rootEntry!, captureDir, scanStartNs, skipped);
    return this.scanned;
  }

  /** A file in phase 1: the same inode as an earlier link, reused from the parent, or read now. */
  private async readLiveFile(e: LiveEntry, s: ScannedEntry, previous: TreeNode | undefined, links: Map<string, LiveEntry>, parentTimeNs: bigint): Promise<void> {
    if (s.stat.nlink > 1n) {
      const key = `${s.stat.dev}:${s.stat.ino}`;
      const first = links.get(key);
      if (first) {
        shareContent(e, first);
        return;
      }
      links.set(key, e);
    }
    const reused = reusable(this.repo, previous, s.stat, parentTimeNs);
    if (reused) {
      e.file = { content: reused.content, chunking: reused.chunking, ...(reused.extents ? { extents: reused.extents } : {}) };
      e.readAtNs = parentTimeNs;
      this.reusedBytes += reused.size;
      return;
    }
    if (previous?.type === 'file' && previous.chunking.kind === 'fixed') e.parentBlock = previous.chunking.block;
    const readAtNs = nowNs();
    let fd: number;
    try {
      fd = openForReading(s.abs);
    } catch (e2) {
      // Gone or replaced by a symlink since the walk saw it: the recheck decides what it is.
      if (['ENOENT', 'ELOOP', 'ENXIO'].includes((e2 as NodeJS.ErrnoException).code ?? '')) return;
      throw e2;
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      if (!st.isFile()) return;
      await this.storeOpenFile(e, fd, st, `file ./${s.rel.toString()}`);
      e.readAtNs = readAtNs;
    } catch (err) {
      // Written to while it was read: the recheck sees its stat moved and captures it.
      if (!(err instanceof FileShrank)) throw err;
      e.file = undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** Reads and stores an open file; `st` (its fstat) becomes the entry's stat. */
  async storeOpenFile(e: LiveEntry, fd: number, st: BigIntStats, what: string): Promise<void> {
    const { extents, sparse } = extentsOf(fd, st);
    const dataLength = extents.reduce((n, x) => n + x.length, 0);
    const chunking = chunkingFor(dataLength, this.repo.config.chunker, e.parentBlock);
    const content = await this.storer.storeFile(fd, extents, chunking, what);
    e.stat = st;
    e.file = { content, chunking: nodeChunking(chunking), ...(sparse ? { extents } : {}) };
  }

  /** Phase 2: stores the captures, then trees, index and snapshot, in that order. */
  async finish(scan: LiveScan | FrozenScan, meta: SnapshotMeta): Promise<SnapshotRecord> {
    const live = scan instanceof LiveScan ? scan : scan.live;
    if (live !== this.scanned || this.ended) throw new InvalidParameter('finish takes the scan of this session, once');
    let cacheWriter: TreeCacheWriter | undefined;
    try {
      this.setPhase('store');
      await this.storeUnread(live.root, Buffer.from(live.rootPath));
      await this.storer.flush();
      cacheWriter = this.cache?.writer();
      const counts = { files: 0, dirs: 0, size: 0 };
      const rootDir = await this.storeDirectory(live.root, cacheWriter, counts);
      const rootBlob = encodeTree({ kind: 'root', nodes: [nodeOf(live.root, rootDir)] });
      const rootId = await this.repo.blobs.storeTree(rootBlob, this.ledger);
      cacheWriter?.add(rootId, rootBlob);
      // Packs, then the index that lists them, then the snapshot that refers to them.
      await this.repo.blobs.flush();
      const snapshot = await this.repo.saveSnapshot({
        version: 1,
        timeNs: live.scanStartNs,
        tree: rootId.toString('hex'),
        parent: this.parent?.snapshot.id ?? null,
        host: hostname(),
        volume: { name: meta.volume.name, driver: meta.volume.driver ?? 'local', labels: meta.volume.labels ?? {}, options: meta.volume.options ?? {} },
        tags: meta.tags ?? [],
        group: meta.group ?? null,
        consistency: meta.consistency,
        summary: {
          ...counts,
          bytesAdded: this.ledger.bytesAdded,
          blobsAdded: this.ledger.blobsAdded,
          skipped: live.skipped,
          durationMs: Math.round(Number(nowNs() - this.startNs) / 1e6),
        },
        program: `berth ${ENGINE_VERSION}`,
      });
      cacheWriter?.commit(snapshot.id);
      cacheWriter = undefined;
      if (this.parent) this.cache?.remove(this.parent.snapshot.id);
      this.progress.bytesAdded = this.ledger.bytesAdded;
      await this.tick(true);
      return snapshot;
    } finally {
      cacheWriter?.abandon();
      await this.end();
    }
  }

  /**
   * Reads the files whose content phase 1 did not get: the captures (a
   * hard-link group's once), and, when nothing was rechecked (consistency
   * stop or none), files that changed under phase 1's read, read live
   * again; those gone meanwhile are dropped.
   */
  private async storeUnread(dir: LiveEntry, abs: Buffer): Promise<void> {
    const stored = new Map<string, LiveEntry>();
    const visit = async (d: LiveEntry, dAbs: Buffer): Promise<void> => {
      const kept: LiveEntry[] = [];
      for (const e of d.children!) {
        const eAbs = joinPath(dAbs, e.name);
        if (e.type === 'directory') await visit(e, eAbs);
        if (e.type !== 'file' || e.file) {
          kept.push(e);
          continue;
        }
        const source = e.capture ?? eAbs;
        const done = stored.get(source.toString());
        if (done) {
          shareContent(e, done);
          kept.push(e);
          continue;
        }
        let fd: number;
        try {
          fd = e.capture ? openSync(e.capture, constants.O_RDONLY | constants.O_NOFOLLOW) : openForReading(eAbs);
        } catch (err) {
          if (!e.capture && ['ENOENT', 'ELOOP', 'ENXIO'].includes((err as NodeJS.ErrnoException).code ?? '')) continue;
          throw err;
        }
        try {
          const st = fstatSync(fd, { bigint: true });
          if (!st.isFile()) continue;
          const frozenStat = e.stat;
          await this.storeOpenFile(e, fd, st, `file ./${e.rel.toString()}`);
          // A capture's own stat is the copy's: the node keeps the original's.
          if (e.capture) e.stat = frozenStat;
        } finally {
          closeSync(fd);
        }
        stored.set(source.toString(), e);
        kept.push(e);
        await this.tick();
      }
      d.children = kept;
    };
    await visit(dir, abs);
  }

  /** Stores a directory's tree (its subdirectories' first); returns its ID. */
  private async storeDirectory(dir: LiveEntry, cache: TreeCacheWriter | undefined, counts: { files: number; dirs: number; size: number }): Promise<Buffer> {
    const nodes: TreeNode[] = [];
    for (const c of dir.children!) {
      counts.files++;
      if (c.type === 'directory') {
        counts.dirs++;
        nodes.push(nodeOf(c, await this.storeDirectory(c, cache, counts)));
      } else {
        if (c.type === 'file') {
          if (!c.file) throw new Error(`file ./${c.rel.toString()} has no content: it was neither read nor captured`);
          counts.size += Number(c.stat.size);
        }
        nodes.push(nodeOf(c));
      }
    }
    const blob = encodeTree({ kind: 'directory', nodes });
    const id = await this.repo.blobs.storeTree(blob, this.ledger);
    cache?.add(id, blob);
    return id;
  }

  /** Ends a session that will not finish: nothing it stored is referred to (prune removes it). */
  async abort(): Promise<void> {
    await this.end();
  }

  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.scanned) rmSync(this.scanned.captureDir, { recursive: true, force: true });
    if (this.ownedTemp) rmSync(this.ownedTemp, { recursive: true, force: true });
    await this.lock.release();
  }
}

function shareContent(e: LiveEntry, first: LiveEntry): void {
  e.stat = first.stat;
  if (first.file) e.file = first.file;
  if (first.readAtNs !== undefined) e.readAtNs = first.readAtNs;
}

/** The result of phase 1: the tree as read, to be rechecked under a freeze (or finished as it is). */
export class LiveScan {
  constructor(
    private readonly session: BackupSession,
    readonly rootPath: string,
    readonly root: LiveEntry,
    readonly captureDir: string,
    readonly scanStartNs: bigint,
    readonly skipped: number,
  ) {}

  /**
   * Under the freeze: re-stats every entry. A file whose inode, size,
   * mtime or ctime moved, or whose ctime is not safely older than when it
   * was read, or that is new, is captured (reflink, else copy); other
   * entries whose stat moved have their metadata read again; gone entries
   * are dropped. Reads no file data it does not copy.
   */
  async recheck(): Promise<FrozenScan> {
    this.session.setPhase('recheck');
    mkdirSync(this.captureDir, { recursive: true, mode: 0o700 });
    const capture = new CaptureDirectory(this.captureDir);
    const frozen: FrozenScan = { live: this, captured: 0, reflinked: 0, metadataRead: 0, added: 0, gone: 0 };
    const links = new Map<string, LiveEntry>();
    const rootStat = lstatSync(this.rootPath, { bigint: true });
    if (!rootStat.isDirectory()) throw new InvalidParameter(`${this.rootPath} is no longer a directory`);
    this.refreshMetadata(this.root, Buffer.from(this.rootPath), rootStat, frozen);
    await this.recheckDirectory(this.root, Buffer.from(this.rootPath), capture, links, frozen);
    frozen.reflinked = capture.reflinked;
    return frozen;
  }

  private refreshMetadata(e: LiveEntry, abs: Buffer, st: BigIntStats, frozen: FrozenScan): void {
    if (metadataStillValid(e.stat, st, this.scanStartNs)) return;
    const fresh = readEntry(e.rel, abs, st)!;
    const children = e.children;
    Object.assign(e, entryOf(fresh, e.name));
    if (children) e.children = children;
    frozen.metadataRead++;
  }

  private async recheckDirectory(dir: LiveEntry, abs: Buffer, capture: CaptureDirectory, links: Map<string, LiveEntry>, frozen: FrozenScan): Promise<void> {
    const names = readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare);
    const old = dir.children!;
    const kept: LiveEntry[] = [];
    let i = 0;
    for (const name of names) {
      while (i < old.length && Buffer.compare(old[i]!.name, name) < 0) {
        frozen.gone++;
        i++;
      }
      const childAbs = joinPath(abs, name);
      const childRel = dir.rel.length === 0 ? Buffer.from(name) : joinPath(dir.rel, name);
      const st = lstatSync(childAbs, { bigint: true });
      const previous = i < old.length && old[i]!.name.equals(name) ? old[i++] : undefined;
      const entry = previous && sameType(previous, st) ? previous : this.newEntry(childRel, childAbs, st, name);
      if (!entry) continue; // a socket
      if (entry !== previous) frozen.added++;
      kept.push(entry);
      if (entry.type === 'file') this.recheckFile(entry, childAbs, st, capture, links, frozen);
      else this.refreshMetadata(entry, childAbs, st, frozen);
      if (entry.type === 'directory') await this.recheckDirectory(entry, childAbs, capture, links, frozen);
      this.session.countEntry();
      await this.session.tick();
    }
    frozen.gone += old.length - i;
    dir.children = kept;
  }

  private newEntry(rel: Buffer, abs: Buffer, st: BigIntStats, name: Buffer): LiveEntry | undefined {
    const s = readEntry(rel, abs, st);
    return s ? entryOf(s, Buffer.from(name)) : undefined;
  }

  private recheckFile(e: LiveEntry, abs: Buffer, st: BigIntStats, capture: CaptureDirectory, links: Map<string, LiveEntry>, frozen: FrozenScan): void {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1n ? links.get(key) : undefined;
    if (first) {
      // Another link of a file already seen under the freeze: the same content, whatever was decided for it.
      e.stat = first.stat;
      e.xattrs = first.xattrs;
      e.file = first.file;
      e.capture = first.capture;
      return;
    }
    if (st.nlink > 1n) links.set(key, e);
    if (e.file && contentStillValid(e.stat, st, e.readAtNs)) return;
    const fresh = readEntry(e.rel, abs, st)!;
    const copy = capture.capture(abs);
    Object.assign(e, entryOf(fresh, e.name), { stat: copy.stat, capture: copy.path, file: undefined, readAtNs: undefined });
    frozen.captured++;
    frozen.metadataRead++;
  }
}

function sameType(e: LiveEntry, st: BigIntStats): boolean {
  switch (e.type) {
    case 'directory':
      return st.isDirectory();
    case 'file':
      return st.isFile();
    case 'symlink':
      return st.isSymbolicLink();
    case 'fifo':
      return st.isFIFO();
    case 'chardev':
      return st.isCharacterDevice();
    case 'blockdev':
      return st.isBlockDevice();
  }
}

/**
 * Backs up several trees with one freeze (a compose project): phase 1 for
 * each, one `freeze` around all the rechecks, phase 2 for each; their
 * snapshots share one group ID and the freeze's duration.
 */
export async function backupGroup(
  repo: Repository,
  items: Array<{ root: string; parent?: string; meta: Omit<SnapshotMeta, 'group' | 'consistency'>; captureDir?: string }>,
  freeze: <T>(inside: () => Promise<T>) => Promise<T>,
  opts: Omit<BackupOptions, 'parent'> = {},
): Promise<SnapshotRecord[]> {
  const group = randomBytes(16).toString('hex');
  const sessions: BackupSession[] = [];
  try {
    const scans: LiveScan[] = [];
    for (const item of items) {
      const session = await startBackup(repo, { ...opts, ...(item.parent ? { parent: item.parent } : {}) });
      sessions.push(session);
      scans.push(await session.scan(item.root, item.captureDir ? { captureDir: item.captureDir } : {}));
    }
    let freezeMs = 0;
    const frozen = await freeze(async () => {
      const t0 = performance.now();
      const out: FrozenScan[] = [];
      for (const s of scans) out.push(await s.recheck());
      freezeMs = Math.round(performance.now() - t0);
      return out;
    });
    const snapshots: SnapshotRecord[] = [];
    for (const [i, session] of sessions.entries()) {
      snapshots.push(await session.finish(frozen[i]!, { ...items[i]!.meta, group, consistency: { mode: 'freeze', freezeMs } }));
    }
    return snapshots;
  } finally {
    for (const s of sessions) await s.abort();
  }
}
