// A backup session (docs/backups.md, "Engine"): phase 1 reads the live tree
// and stores its content, the recheck under the caller's freeze finds what
// changed meanwhile and captures it, phase 2 stores the captures and writes
// trees, index and snapshot, in the format's write order.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, type BigIntStats } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ENGINE_VERSION } from '../../api/version.js';
import { planTree } from '../../archive/tree-plan.js';
import { readEntry, scanTree, type ScannedEntry } from '../../archive/tree-scan.js';
import { InvalidParameter } from '../../errors.js';
import { joinPath } from '../../fs/path.js';
import type { StoreLedger } from '../repo/blob-store.js';
import { chunkingFor, type Chunking } from '../repo/chunker.js';
import type { RepositoryLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { ConsistencyMode, SnapshotRecord } from '../repo/snapshot.js';
import { encodeTree, type FileNode, type TreeNode } from '../repo/tree.js';
import { CaptureDirectory, type SmallCaptureArea } from './capture.js';
import type { FileOutcome, FileStat } from './backup-worker.js';
import { FileReaders } from './file-readers.js';
import { contentStillValid, DEFAULT_RACY_WINDOW_MS, entryOf, metadataStillValid, nodeOf, type FileContent, type LiveEntry } from './live-entry.js';
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
  /**
   * How much older than its read a file's ctime must be for what was read
   * to be trusted without a look under the freeze (default 1000 ms; larger
   * for filesystems with coarse timestamps). 0 trusts any ctime before the
   * read: only for trees nothing writes to during the backup.
   */
  racyWindowMs?: number;
}

export interface ScanOptions {
  /**
   * Where captures go under the freeze: a directory path that does not
   * exist yet, on the tree's filesystem so they are reflinks (default: a
   * new directory in the temp dir, where they are copies). Removed when
   * the session ends.
   */
  captureDir?: string;
  /** A memory-backed area for captures of small files, shared by the scans of one freeze (see capture.ts). */
  smallCaptures?: SmallCaptureArea;
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

/** The realtime clock in ns (file timestamps are taken from it; ms precision is plenty next to the racy window). */
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const PROGRESS_INTERVAL_MS = 100;
/** A large file in fixed blocks is read in parts of about this size, by all the threads. */
const PART_BYTES = 32 << 20;
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

/** The chunking a file node records for how its data was cut. */
function nodeChunking(c: Chunking): FileContent['chunking'] {
  return c.kind === 'fixed' ? { kind: 'fixed', block: c.block } : { kind: 'cdc' };
}

/** The parent's node for a file when its blobs can be reused without reading the file. */
function reusable(repo: Repository, prev: TreeNode | undefined, st: BigIntStats, parentTimeNs: bigint, racyNs: bigint): FileNode | undefined {
  const same =
    prev?.type === 'file' &&
    prev.inode === st.ino &&
    BigInt(prev.size) === st.size &&
    prev.mtimeNs === st.mtimeNs &&
    prev.ctimeNs === st.ctimeNs &&
    prev.ctimeNs < parentTimeNs - racyNs &&
    prev.content.every((id) => repo.index.has(id));
  return same ? (prev as FileNode) : undefined;
}

export class BackupSession {
  private readonly ledger: StoreLedger = { blobsAdded: 0, bytesAdded: 0 };
  private readers: FileReaders | undefined;
  /** Outcomes of files handed to the readers and not yet applied to their entries. */
  private outcomes: Array<Promise<void>> = [];
  /** Bytes of file data the readers have read. */
  private bytesRead = 0;
  /** Files phase 2 found being written to as it read them (nothing rechecked them: consistency none). */
  private changedWhileRead: Buffer[] = [];
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
  ) {}

  private fileReaders(): FileReaders {
    this.readers ??= new FileReaders(this.repo, this.ledger);
    return this.readers;
  }

  /**
   * Hands a file to the readers; its entry gets its content (and the stat
   * of what was read) when the outcome comes. Gone or shrinking files get
   * none: the recheck, or phase 2, decides about them. A large file
   * without holes that is cut in fixed blocks is read in parts by all the
   * threads at once (fixed blocks cut the same wherever a part starts).
   */
  private async queueRead(e: LiveEntry, path: Buffer | string, keepStat: boolean): Promise<void> {
    const readers = this.fileReaders();
    const size = Number(e.stat.size);
    const p = this.repo.config.chunker;
    const chunking = size >= p.fixedFrom && e.stat.blocks * 512n >= e.stat.size ? chunkingFor(size, p, e.parentBlock) : undefined;
    const outcomes: Array<Promise<FileOutcome>> = [];
    if (chunking?.kind === 'fixed') {
      const partBytes = Math.max(chunking.block, Math.floor(PART_BYTES / chunking.block) * chunking.block);
      for (let start = 0; start < size; start += partBytes) {
        const part = { start, length: Math.min(partBytes, size - start), size, block: chunking.block };
        outcomes.push((await readers.read(Buffer.from(path), part.length, e.parentBlock, part)).outcome);
      }
    } else {
      outcomes.push((await readers.read(Buffer.from(path), size, e.parentBlock)).outcome);
    }
    this.outcomes.push(Promise.all(outcomes).then((parts) => this.applyRead(e, parts, keepStat)));
  }

  /** Gives an entry the content its read (one outcome, or one a part) found. */
  private applyRead(e: LiveEntry, parts: FileOutcome[], keepStat: boolean): void {
    if (parts.some((o) => 'shrank' in o) && this.progress.phase === 'store') this.changedWhileRead.push(e.rel);
    const reads = parts.map((o) => ('read' in o ? o.read : undefined));
    if (reads.some((r) => r === undefined)) return;
    const [first, ...rest] = reads as Array<NonNullable<(typeof reads)[number]>>;
    const same = (a: FileStat, b: FileStat): boolean => a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
    if (!first || rest.some((r) => !same(r.stat, first.stat))) {
      // The parts saw different files: changed while read.
      if (this.progress.phase === 'store') this.changedWhileRead.push(e.rel);
      return;
    }
    this.bytesRead += first.extents ? first.extents.reduce((n, x) => n + x.length, 0) : Number(first.stat.size);
    if (!keepStat) e.stat = first.stat;
    // The earliest read is the one the racy rule must judge.
    e.readAtNs = reads.reduce((min, r) => (r!.readAtNs < min ? r!.readAtNs : min), first.readAtNs);
    const content = reads.flatMap((r) => r!.ids.map((id) => Buffer.from(id.buffer, id.byteOffset, id.byteLength)));
    e.file = { content, chunking: nodeChunking(first.chunking), ...(first.extents ? { extents: first.extents } : {}) };
  }

  /** Waits for every queued file's outcome. */
  private async settleReads(): Promise<void> {
    await this.readers?.drain();
    const all = this.outcomes;
    this.outcomes = [];
    await Promise.all(all);
  }

  /** Reports progress (at most every 100 ms unless `force`) and lets the event loop run (uploads, packing threads). */
  async tick(force = false): Promise<void> {
    if (this.opts.signal?.aborted) throw this.opts.signal.reason ?? new Error('backup aborted');
    const now = performance.now();
    if (this.opts.onProgress && (force || now - this.lastProgress >= PROGRESS_INTERVAL_MS)) {
      this.lastProgress = now;
      this.opts.onProgress({ ...this.progress, bytes: this.bytesRead + this.reusedBytes, bytesAdded: this.ledger.bytesAdded });
    }
    if (now - this.lastYield >= YIELD_INTERVAL_MS) {
      await yieldToLoop();
      this.lastYield = performance.now();
    }
  }

  /** The racy window (see BackupOptions.racyWindowMs) in ns. */
  get racyNs(): bigint {
    return BigInt(this.opts.racyWindowMs ?? DEFAULT_RACY_WINDOW_MS) * 1_000_000n;
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
    // The threads start while the tree is walked: most of their start-up is hidden behind it.
    this.fileReaders();
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
    // Phase 1 reads a live tree: what vanishes under the walk is left out here, and the recheck decides.
    for (const s of scanTree(root, () => skipped++, undefined, { vanished: () => undefined })) {
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
    await this.settleReads();
    resolveSameAs(rootEntry!);
    await this.tick(true);
    this.scanned = new LiveScan(this, root, rootEntry!, captureDir, scanStartNs, skipped, opts.smallCaptures);
    return this.scanned;
  }

  /** A file in phase 1: another name of an earlier inode, reused from the parent, or read now. */
  private async readLiveFile(e: LiveEntry, s: ScannedEntry, previous: TreeNode | undefined, links: Map<string, LiveEntry>, parentTimeNs: bigint): Promise<void> {
    if (s.stat.nlink > 1n) {
      const key = `${s.stat.dev}:${s.stat.ino}`;
      const first = links.get(key);
      if (first) {
        e.sameAs = first;
        return;
      }
      links.set(key, e);
    }
    const reused = reusable(this.repo, previous, s.stat, parentTimeNs, this.racyNs);
    if (reused) {
      e.file = { content: reused.content, chunking: reused.chunking, ...(reused.extents ? { extents: reused.extents } : {}) };
      e.readAtNs = parentTimeNs;
      this.reusedBytes += reused.size;
      return;
    }
    if (previous?.type === 'file' && previous.chunking.kind === 'fixed') e.parentBlock = previous.chunking.block;
    await this.queueRead(e, s.abs, false);
  }

  /** Phase 2: stores the captures, then trees, index and snapshot, in that order. */
  async finish(scan: LiveScan | FrozenScan, meta: SnapshotMeta): Promise<SnapshotRecord> {
    const live = scan instanceof LiveScan ? scan : scan.live;
    if (live !== this.scanned || this.ended) throw new InvalidParameter('finish takes the scan of this session, once');
    let cacheWriter: TreeCacheWriter | undefined;
    try {
      this.setPhase('store');
      await this.storeUnread(live.root, Buffer.from(live.rootPath));
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
  private async storeUnread(root: LiveEntry, rootAbs: Buffer): Promise<void> {
    const queued = new Map<string, LiveEntry>();
    const visit = async (d: LiveEntry, dAbs: Buffer): Promise<void> => {
      for (const e of d.children!) {
        const eAbs = joinPath(dAbs, e.name);
        if (e.type === 'directory') await visit(e, eAbs);
        if (e.type !== 'file' || e.file || e.sameAs) continue;
        const source = e.capture ?? eAbs.toString('latin1');
        const first = queued.get(source);
        if (first) {
          e.sameAs = first;
          continue;
        }
        queued.set(source, e);
        // A capture's own stat is the copy's: the node keeps the original's.
        await this.queueRead(e, e.capture ?? eAbs, e.capture !== undefined);
        await this.tick();
      }
    };
    await visit(root, rootAbs);
    await this.settleReads();
    if (this.changedWhileRead.length > 0) {
      const names = this.changedWhileRead.slice(0, 5).map((r) => `./${r.toString()}`);
      throw new Error(`${names.join(', ')}${this.changedWhileRead.length > 5 ? ' and more' : ''} kept changing while they were read; back up with the freeze or with the users stopped`);
    }
    resolveSameAs(root);
    dropUnread(root);
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
        if (c.type === 'file') counts.size += Number(c.stat.size);
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
    await this.readers?.close();
    if (this.scanned) {
      rmSync(this.scanned.captureDir, { recursive: true, force: true });
      this.scanned.discardSmallCaptures();
    }
    if (this.ownedTemp) rmSync(this.ownedTemp, { recursive: true, force: true });
    await this.lock.release();
  }
}

function shareContent(e: LiveEntry, first: LiveEntry): void {
  e.stat = first.stat;
  e.file = first.file;
  e.readAtNs = first.readAtNs;
  delete e.sameAs;
}

/** Gives every later name of an inode the content its first name got. */
function resolveSameAs(dir: LiveEntry): void {
  for (const c of dir.children ?? []) {
    if (c.sameAs) shareContent(c, c.sameAs);
    resolveSameAs(c);
  }
}

/** Drops the files phase 2 could not read either (gone since): the snapshot has what exists. */
function dropUnread(dir: LiveEntry): void {
  if (!dir.children) return;
  dir.children = dir.children.filter((c) => c.type !== 'file' || c.file !== undefined);
  for (const c of dir.children) dropUnread(c);
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
    private readonly smallCaptures?: SmallCaptureArea,
  ) {}

  /** The recheck's captures, once it ran. */
  private capture: CaptureDirectory | undefined;

  discardSmallCaptures(): void {
    this.capture?.discardSmall();
  }

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
    const capture = (this.capture = new CaptureDirectory(this.captureDir, this.smallCaptures));
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
    if (metadataStillValid(e.stat, st, this.scanStartNs, this.session.racyNs)) return;
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
      const previous = i < old.length && old[i]!.name.equals(name) ? old[i++] : undefined;
      let st: BigIntStats;
      try {
        st = lstatSync(childAbs, { bigint: true });
      } catch (e) {
        // Gone between the listing and the stat: something the freeze does not hold (a host process) removed it.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
        if (previous) frozen.gone++;
        continue;
      }
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
      // Another name of a file already seen under the freeze: the same content, whatever was decided for it.
      e.stat = first.stat;
      e.xattrs = first.xattrs;
      e.file = first.file;
      e.readAtNs = first.readAtNs;
      e.capture = first.capture;
      return;
    }
    if (st.nlink > 1n) links.set(key, e);
    if (e.file && contentStillValid(e.stat, st, e.readAtNs, this.session.racyNs)) return;
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
 * Runs `inside` while the writers are frozen; `frozenMs` is how long they
 * were, from the first pause to the last thaw (the snapshots record it;
 * without it, the time `inside` took).
 */
export type FreezeRunner = <T>(inside: () => Promise<T>) => Promise<{ result: T; frozenMs?: number }>;

/**
 * Backs up several trees with one freeze (a compose project): phase 1 for
 * each, one `freeze` around all the rechecks, phase 2 for each; their
 * snapshots share one group ID and the freeze's duration.
 */
export async function backupGroup(
  repo: Repository,
  items: Array<{ root: string; parent?: string; meta: Omit<SnapshotMeta, 'group' | 'consistency'>; captureDir?: string }>,
  freeze: FreezeRunner,
  opts: Omit<BackupOptions, 'parent'> & { smallCaptures?: SmallCaptureArea } = {},
): Promise<SnapshotRecord[]> {
  const group = randomBytes(16).toString('hex');
  const sessions: BackupSession[] = [];
  try {
    const scans: LiveScan[] = [];
    for (const item of items) {
      const session = await startBackup(repo, { ...opts, ...(item.parent ? { parent: item.parent } : {}) });
      sessions.push(session);
      scans.push(await session.scan(item.root, { ...(item.captureDir ? { captureDir: item.captureDir } : {}), ...(opts.smallCaptures ? { smallCaptures: opts.smallCaptures } : {}) }));
    }
    let recheckMs = 0;
    const { result: frozen, frozenMs } = await freeze(async () => {
      const t0 = performance.now();
      const out: FrozenScan[] = [];
      for (const s of scans) out.push(await s.recheck());
      recheckMs = performance.now() - t0;
      return out;
    });
    // The containers' whole freeze, pauses and thaws included, when the runner measured it.
    const freezeMs = Math.round(frozenMs ?? recheckMs);
    const snapshots: SnapshotRecord[] = [];
    for (const [i, session] of sessions.entries()) {
      snapshots.push(await session.finish(frozen[i]!, { ...items[i]!.meta, group, consistency: { mode: 'freeze', freezeMs } }));
    }
    return snapshots;
  } finally {
    for (const s of sessions) await s.abort();
  }
}
