// Checking a repository (docs/backups.md, `backup check`): its structure
// (keys, index files, every indexed pack present with its size, snapshots
// readable, every tree and blob a snapshot refers to indexed and its tree
// readable) and, with readData, the content of a share of the packs (the
// pack's hash, its header against the index, every blob against its ID).
// Problems are named, and so are the snapshots and paths they touch.
import { NotFound } from '../../errors.js';
import { idKey } from '../repo/blob-index.js';
import { openBlob, shortId } from '../repo/blob.js';
import { RepositoryCorrupt } from '../repo/errors.js';
import type { IndexedPack } from '../repo/index-file.js';
import { readKeyFiles } from '../repo/keys.js';
import { openPackHeader, packKeyForReader, packName, parseTrailer, TRAILER_BYTES } from '../repo/pack.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import type { TreeNode } from '../repo/tree.js';
import { childPath, TreeReader } from './tree-reader.js';

export type ProblemKind =
  | 'key-damaged'
  | 'index-damaged'
  | 'pack-missing'
  | 'pack-size'
  | 'pack-damaged'
  | 'pack-unreferenced'
  | 'snapshot-damaged'
  | 'tree-missing'
  | 'tree-damaged'
  | 'blob-missing'
  | 'blob-damaged';

export interface CheckProblem {
  kind: ProblemKind;
  /** 'warning': nothing is lost (unreferenced packs, left by an interrupted backup; prune removes them). */
  severity: 'error' | 'warning';
  message: string;
}

export interface AffectedSnapshot {
  snapshot: string;
  volume: string;
  /** Paths below the snapshot root whose data or listing is lost or damaged, with why. */
  paths: Array<{ path: string; problem: string }>;
}

export interface CheckReport {
  /** No errors (warnings allowed). */
  ok: boolean;
  problems: CheckProblem[];
  affected: AffectedSnapshot[];
  snapshots: number;
  packs: number;
  blobs: number;
  packsRead: number;
  /** False when the key is write-only: trees could not be read, so snapshots were not walked. */
  treesChecked: boolean;
}

export interface CheckOptions {
  /** Read and verify this percentage of the packs (0 to 100); 0 or undefined: structure only. */
  readData?: number;
  onProgress?: (p: { phase: 'index' | 'packs' | 'data' | 'trees'; done: number; total: number }) => void;
}

/** The name a pack's bytes give it (its header box and trailer hashed), or '' when it has no trailer. */
function packNameOf(bytes: Buffer): string {
  if (bytes.length < TRAILER_BYTES) return '';
  const headerLength = bytes.readUInt32LE(bytes.length - TRAILER_BYTES + 32);
  if (headerLength > bytes.length - TRAILER_BYTES) return '';
  return packName(bytes.subarray(bytes.length - TRAILER_BYTES - headerLength));
}

/** Why a blob cannot be read: missing (not indexed, or its pack is gone) or damaged. */
type BlobState = { kind: 'missing' | 'damaged'; problem: string };

export async function checkRepository(repo: Repository, opts: CheckOptions = {}): Promise<CheckReport> {
  const lock = await repo.lock('shared', 'check');
  try {
    return await new Checker(repo, opts).run();
  } finally {
    await lock.release();
  }
}

class Checker {
  private readonly problems: CheckProblem[] = [];
  /** Packs by name, as the index files list them. */
  private readonly packs = new Map<string, IndexedPack>();
  /** Blob ID -> the packs holding it. */
  private readonly blobPacks = new Map<string, string[]>();
  /** Blobs that cannot be read, and why. */
  private readonly bad = new Map<string, BlobState>();

  constructor(
    private readonly repo: Repository,
    private readonly opts: CheckOptions,
  ) {}

  private problem(kind: ProblemKind, message: string, severity: CheckProblem['severity'] = 'error'): void {
    this.problems.push({ kind, severity, message });
  }

  async run(): Promise<CheckReport> {
    await readKeyFiles(this.repo.target, (name, e) => this.problem('key-damaged', `key ${shortId(name)}: ${e.message}`));
    const indexFiles = await this.repo.readIndexFiles((name, e) => this.problem('index-damaged', `index file ${shortId(name)}: ${e.message}`));
    for (const f of indexFiles) {
      for (const p of f.packs) {
        this.packs.set(p.name, p);
        for (const b of p.blobs) {
          const key = idKey(b.id);
          const holders = this.blobPacks.get(key) ?? [];
          if (!holders.includes(p.name)) holders.push(p.name);
          this.blobPacks.set(key, holders);
        }
      }
    }
    await this.checkPackFiles();
    const packsRead = await this.readData();
    const snapshots = await this.repo.listSnapshots((id, e) => this.problem('snapshot-damaged', `snapshot ${shortId(id)}: ${e.message}`));
    const treesChecked = this.repo.access === 'full';
    const affected = treesChecked ? await this.walkSnapshots(snapshots) : [];
    return {
      ok: !this.problems.some((p) => p.severity === 'error'),
      problems: this.problems,
      affected,
      snapshots: snapshots.length,
      packs: this.packs.size,
      blobs: this.blobPacks.size,
      packsRead,
      treesChecked,
    };
  }

  /** Marks a pack's blobs unreadable where no other pack holds them. */
  private lose(pack: IndexedPack, why: (blobId: Buffer) => BlobState | undefined): void {
    for (const b of pack.blobs) {
      const state = why(b.id);
      if (state === undefined) continue;
      const key = idKey(b.id);
      const others = (this.blobPacks.get(key) ?? []).filter((n) => n !== pack.name);
      this.blobPacks.set(key, others);
      if (others.length === 0) this.bad.set(key, state);
    }
  }

  private async checkPackFiles(): Promise<void> {
    const present = new Map<string, number>();
    for await (const f of this.repo.target.list('data')) present.set(f.name, f.size);
    for (const p of this.packs.values()) {
      const size = present.get(p.name);
      if (size === undefined) {
        this.problem('pack-missing', `pack ${shortId(p.name)} is missing (${p.blobs.length} blobs)`);
        this.lose(p, () => ({ kind: 'missing', problem: `pack ${shortId(p.name)} is missing` }));
      } else if (size !== p.size) {
        this.problem('pack-size', `pack ${shortId(p.name)} is ${size} bytes, the index says ${p.size}`);
        this.lose(p, () => ({ kind: 'damaged', problem: `pack ${shortId(p.name)} has the wrong size` }));
      }
    }
    for (const name of present.keys()) {
      if (!this.packs.has(name)) this.problem('pack-unreferenced', `pack ${shortId(name)} is in no index (left by an interrupted backup; prune removes it)`, 'warning');
    }
  }

  /** Reads the chosen share of the packs and checks everything in them; returns how many were read. */
  private async readData(): Promise<number> {
    const percent = Math.max(0, Math.min(100, this.opts.readData ?? 0));
    if (percent === 0) return 0;
    const candidates = [...this.packs.values()].filter((p) => !this.blobsAllBad(p));
    // A random share each run, so repeated partial checks cover everything in time.
    const count = Math.min(candidates.length, Math.ceil((candidates.length * percent) / 100));
    const chosen = candidates
      .map((p) => ({ p, r: Math.random() }))
      .sort((a, b) => a.r - b.r)
      .slice(0, count)
      .map((x) => x.p);
    let done = 0;
    for (const p of chosen) {
      await this.readPack(p);
      this.opts.onProgress?.({ phase: 'data', done: ++done, total: chosen.length });
    }
    return chosen.length;
  }

  private blobsAllBad(p: IndexedPack): boolean {
    return p.blobs.every((b) => this.bad.has(idKey(b.id)));
  }

  private async readPack(p: IndexedPack): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await this.repo.target.get('data', p.name);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      return; // reported by checkPackFiles
    }
    const hashOk = packNameOf(bytes) === p.name;
    if (this.repo.access !== 'full') {
      if (!hashOk) {
        this.problem('pack-damaged', `pack ${shortId(p.name)}: its header does not match its name`);
        this.lose(p, () => ({ kind: 'damaged', problem: `pack ${shortId(p.name)} is damaged` }));
      }
      return;
    }
    const what = `pack ${shortId(p.name)}`;
    const key = packKeyForReader(this.repo.requireRead('check --read-data'), this.repo.secrets.write.publicKey, p.ephemeral);
    const damaged: string[] = [];
    try {
      const { ephemeral, headerLength } = parseTrailer(bytes.subarray(bytes.length - TRAILER_BYTES), what);
      if (!ephemeral.equals(p.ephemeral)) throw new RepositoryCorrupt(`${what}: its trailer names another key than its index entry`);
      const headerBox = bytes.subarray(bytes.length - TRAILER_BYTES - headerLength, bytes.length - TRAILER_BYTES);
      const header = openPackHeader(this.repo.config.aead, key, ephemeral, headerBox, bytes.length, what);
      const listed = new Set(header.map((b) => `${idKey(b.id)}@${b.offset}`));
      for (const b of p.blobs) if (!listed.has(`${idKey(b.id)}@${b.offset}`)) damaged.push(`blob ${shortId(b.id)} is in the index but not in the pack's header`);
    } catch (e) {
      if (!(e instanceof RepositoryCorrupt)) throw e;
      damaged.push(`header: ${e.message}`);
    }
    const bad = new Set<string>();
    for (const b of p.blobs) {
      try {
        openBlob(this.repo.config.aead, key, this.repo.secrets.write.blobId, b, bytes.subarray(b.offset, b.offset + b.length), `${b.type} blob ${shortId(b.id)} in ${what}`);
      } catch (e) {
        if (!(e instanceof RepositoryCorrupt)) throw e;
        damaged.push(e.message);
        bad.add(idKey(b.id));
      }
    }
    if (!hashOk || damaged.length > 0) {
      this.problem('pack-damaged', `${what} is damaged${hashOk ? '' : ' (its header does not match its name)'}${damaged.length > 0 ? `: ${damaged.join('; ')}` : ''}`);
      this.lose(p, (id) => (bad.has(idKey(id)) ? { kind: 'damaged', problem: `blob ${shortId(id)} in ${what} is damaged` } : undefined));
    }
  }

  /** Why a blob a snapshot needs cannot be read, or undefined when it can. */
  private blobProblem(id: Buffer): BlobState | undefined {
    const key = idKey(id);
    const bad = this.bad.get(key);
    if (bad) return bad;
    if ((this.blobPacks.get(key) ?? []).length === 0) return { kind: 'missing', problem: `blob ${shortId(id)} is not in the index` };
    return undefined;
  }

  private async walkSnapshots(snapshots: SnapshotRecord[]): Promise<AffectedSnapshot[]> {
    const reader = new TreeReader(this.repo);
    /** Tree ID -> the damaged paths below it (relative to it); shared subtrees are walked once. */
    const memo = new Map<string, DamagedPath[]>();
    const walk = async (treeId: Buffer): Promise<DamagedPath[]> => {
      const key = idKey(treeId);
      const known = memo.get(key);
      if (known) return known;
      const out: DamagedPath[] = [];
      memo.set(key, out);
      let nodes: TreeNode[];
      try {
        const state = this.blobProblem(treeId);
        if (state) {
          out.push({ path: Buffer.alloc(0), kind: state.kind, problem: `its listing is lost: ${state.problem}` });
          return out;
        }
        nodes = (await reader.tree(treeId)).nodes;
      } catch (e) {
        if (!(e instanceof RepositoryCorrupt || e instanceof NotFound)) throw e;
        out.push({ path: Buffer.alloc(0), kind: e instanceof NotFound ? 'missing' : 'damaged', problem: `its listing is lost: ${e.message}` });
        return out;
      }
      for (const n of nodes) {
        if (n.type === 'directory') {
          for (const below of await walk(n.subtree)) out.push({ ...below, path: childPath(n.name, below.path) });
        } else if (n.type === 'file') {
          const states = n.content.map((id) => this.blobProblem(id)).filter((p): p is BlobState => p !== undefined);
          if (states.length > 0) out.push({ path: n.name, kind: states.some((x) => x.kind === 'damaged') ? 'damaged' : 'missing', problem: states.map((x) => x.problem).join('; ') });
        }
      }
      return out;
    };
    const affected: AffectedSnapshot[] = [];
    let done = 0;
    for (const s of snapshots) {
      const paths = await walk(Buffer.from(s.tree, 'hex'));
      for (const p of paths) this.problem(p.kind === 'missing' ? 'blob-missing' : 'blob-damaged', `snapshot ${shortId(s.id)} (${s.volume.name}): ${pathText(p.path)}: ${p.problem}`);
      if (paths.length > 0) affected.push({ snapshot: s.id, volume: s.volume.name, paths: paths.map((p) => ({ path: pathText(p.path), problem: p.problem })) });
      this.opts.onProgress?.({ phase: 'trees', done: ++done, total: snapshots.length });
    }
    return affected;
  }
}

interface DamagedPath {
  path: Buffer;
  kind: BlobState['kind'];
  problem: string;
}

/** A path below a snapshot root as text ("." for the root itself); bytes that are not UTF-8 as \xNN. */
function pathText(p: Buffer): string {
  if (p.length === 0) return '.';
  const text = p.toString('utf8');
  return Buffer.from(text, 'utf8').equals(p) ? text : [...p].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}
