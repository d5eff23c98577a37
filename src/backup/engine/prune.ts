// Pruning (docs/backup-format.md, "forget and prune"), under the exclusive
// lock: the blobs every snapshot still uses are found by walking all their
// trees; packs that hold none are deleted, packs whose unused share is above
// the threshold have their used blobs copied into new packs (re-sealed,
// not recompressed). Packs no index lists (left by interrupted backups, or
// listed only by a damaged index file) are read by their headers, and
// deleted or kept like the others; one whose header cannot be read is left
// alone. The new index is written before the old
// index files go, and the packs go last: a crash at any point loses nothing.
import { Conflict, NotFound } from '../../errors.js';
import { idKey } from '../repo/blob-index.js';
import { openBlobStored, shortId, type BlobType } from '../repo/blob.js';
import { RepositoryCorrupt } from '../repo/errors.js';
import { encodeIndexFile, type IndexedPack } from '../repo/index-file.js';
import { openPackHeader, packKeyForReader, PackWriter, parseTrailer, TRAILER_BYTES } from '../repo/pack.js';
import type { Repository } from '../repo/repository.js';
import { TreeReader } from './tree-reader.js';

export interface PruneOptions {
  /** Rewrite a pack when more than this percentage of its bytes is unused (default 10). */
  maxUnusedPercent?: number;
  /** Plan only: report what would be done. */
  dryRun?: boolean;
  onProgress?: (p: { phase: 'trees' | 'repack' | 'delete'; done: number; total: number }) => void;
}

export interface PruneReport {
  snapshots: number;
  usedBlobs: number;
  packsDeleted: number;
  packsRewritten: number;
  packsWritten: number;
  packsKept: number;
  /** Packs no index listed, read by their headers. */
  packsRecovered: number;
  /** Packs no index listed whose header cannot be read either: left alone (check names them). */
  packsUnreadable: number;
  /** Blobs snapshots use that no pack holds (check names the files). */
  blobsMissing: number;
  blobsRemoved: number;
  bytesFreed: number;
  bytesRepacked: number;
  indexFilesReplaced: number;
}

/** Packs per new index file. */
const PACKS_PER_INDEX_FILE = 4096;

export async function pruneRepository(repo: Repository, opts: PruneOptions = {}): Promise<PruneReport> {
  repo.requireRead('prune');
  const threshold = (opts.maxUnusedPercent ?? 10) / 100;
  const lock = await repo.lock('exclusive', 'prune');
  try {
    const indexFiles = await repo.readIndexFiles(() => undefined);
    const oldIndexNames = new Set<string>();
    for await (const f of repo.target.list('index')) oldIndexNames.add(f.name);
    const packs = new Map<string, IndexedPack>();
    for (const f of indexFiles) for (const p of f.packs) if (!packs.has(p.name)) packs.set(p.name, p);
    const present = new Map<string, number>();
    for await (const f of repo.target.list('data')) present.set(f.name, f.size);
    // Indexed packs that are gone cannot be kept; unindexed ones are read by their headers.
    for (const name of [...packs.keys()]) if (!present.has(name)) packs.delete(name);
    let packsRecovered = 0;
    let packsUnreadable = 0;
    for (const [name, size] of present) {
      if (packs.has(name)) continue;
      const recovered = await readPackHeader(repo, name, size);
      if (recovered) {
        packs.set(name, recovered);
        packsRecovered++;
      } else packsUnreadable++;
    }
    // The blobs to keep: every tree and data blob of every snapshot.
    const where = new Map<string, string>();
    for (const p of packs.values()) for (const b of p.blobs) if (!where.has(idKey(b.id))) where.set(idKey(b.id), p.name);
    const used = await usedBlobs(repo, packs, opts);
    // Each used blob has one home pack: the first that holds it; other copies are unused.
    const report: PruneReport = {
      snapshots: used.snapshots,
      usedBlobs: used.blobs.size,
      packsDeleted: 0,
      packsRewritten: 0,
      packsWritten: 0,
      packsKept: 0,
      packsRecovered,
      packsUnreadable,
      blobsMissing: [...used.blobs].filter((k) => !where.has(k)).length,
      blobsRemoved: 0,
      bytesFreed: 0,
      bytesRepacked: 0,
      indexFilesReplaced: oldIndexNames.size,
    };
    const keep: IndexedPack[] = [];
    const rewrite: IndexedPack[] = [];
    const remove: string[] = [];
    for (const p of packs.values()) {
      const usedBytes = p.blobs.reduce((n, b) => n + (used.blobs.has(idKey(b.id)) && where.get(idKey(b.id)) === p.name ? b.length : 0), 0);
      const boxBytes = p.blobs.reduce((n, b) => n + b.length, 0);
      const unused = boxBytes - usedBytes;
      if (usedBytes === 0) {
        remove.push(p.name);
        report.blobsRemoved += p.blobs.length;
        report.bytesFreed += p.size;
      } else if (unused > threshold * boxBytes) {
        rewrite.push(p);
        report.bytesRepacked += usedBytes;
        report.bytesFreed += p.size - usedBytes;
        report.blobsRemoved += p.blobs.filter((b) => !(used.blobs.has(idKey(b.id)) && where.get(idKey(b.id)) === p.name)).length;
      } else keep.push(p);
    }
    report.packsDeleted = remove.length;
    report.packsRewritten = rewrite.length;
    report.packsKept = keep.length;
    if (opts.dryRun) return report;

    const written = await repack(repo, rewrite, (b, p) => used.blobs.has(idKey(b)) && where.get(idKey(b)) === p, opts);
    report.packsWritten = written.length;
    // The new index (every pack that stays) before anything is deleted.
    const stays = [...keep, ...written];
    for (let i = 0; i < stays.length || i === 0; i += PACKS_PER_INDEX_FILE) {
      const name = await repo.saveMetadata('index', encodeIndexFile(stays.slice(i, i + PACKS_PER_INDEX_FILE)));
      oldIndexNames.delete(name);
    }
    for (const name of oldIndexNames) await repo.target.delete('index', name);
    let done = 0;
    const gone = [...remove, ...rewrite.map((p) => p.name)];
    for (const name of gone) {
      await repo.target.delete('data', name);
      opts.onProgress?.({ phase: 'delete', done: ++done, total: gone.length });
    }
    return report;
  } finally {
    await lock.release();
  }
}

/** The blobs of a pack no index lists, from its header; undefined when it cannot be read (it is then deleted). */
async function readPackHeader(repo: Repository, name: string, size: number): Promise<IndexedPack | undefined> {
  if (size < TRAILER_BYTES) return undefined;
  try {
    const what = `pack ${shortId(name)}`;
    const { ephemeral, headerLength } = parseTrailer(await repo.target.getRange('data', name, size - TRAILER_BYTES, TRAILER_BYTES), what);
    if (headerLength > size - TRAILER_BYTES) return undefined;
    const headerBox = await repo.target.getRange('data', name, size - TRAILER_BYTES - headerLength, headerLength);
    const key = packKeyForReader(repo.requireRead('prune'), repo.secrets.write.publicKey, ephemeral);
    return { name, ephemeral, size, blobs: openPackHeader(repo.config.aead, key, ephemeral, headerBox, size, what) };
  } catch (e) {
    if (e instanceof RepositoryCorrupt) return undefined;
    throw e;
  }
}

/** Every blob the snapshots use; refuses (Conflict) when a tree cannot be read, since then what is used is unknown. */
async function usedBlobs(repo: Repository, packs: Map<string, IndexedPack>, opts: PruneOptions): Promise<{ blobs: Set<string>; snapshots: number }> {
  // Trees are read through the packs this prune found (recovered ones included).
  for (const p of packs.values()) repo.index.addPack(p);
  const reader = new TreeReader(repo);
  const snapshots = await repo.listSnapshots();
  const blobs = new Set<string>();
  let done = 0;
  for (const s of snapshots) {
    const stack: Buffer[] = [Buffer.from(s.tree, 'hex')];
    while (stack.length > 0) {
      const id = stack.pop()!;
      const key = idKey(id);
      if (blobs.has(key)) continue;
      blobs.add(key);
      let tree;
      try {
        tree = await reader.tree(id);
      } catch (e) {
        if (!(e instanceof RepositoryCorrupt || e instanceof NotFound)) throw e;
        throw new Conflict(`prune cannot tell what snapshot ${shortId(s.id)} uses (${e.message}); nothing was deleted: run backup check`);
      }
      for (const n of tree.nodes) {
        if (n.type === 'directory') stack.push(n.subtree);
        else if (n.type === 'file') for (const c of n.content) blobs.add(idKey(c));
      }
    }
    opts.onProgress?.({ phase: 'trees', done: ++done, total: snapshots.length });
  }
  return { blobs, snapshots: snapshots.length };
}

/** Copies the blobs `wanted` says to keep from `packs` into new packs (one per blob type), uploads them, returns them. */
async function repack(repo: Repository, packs: IndexedPack[], wanted: (id: Buffer, pack: string) => boolean, opts: PruneOptions): Promise<IndexedPack[]> {
  const written: IndexedPack[] = [];
  const writers = new Map<BlobType, PackWriter>();
  const seal = async (type: BlobType): Promise<void> => {
    const w = writers.get(type);
    if (!w || w.count === 0) return;
    writers.delete(type);
    const sealed = w.seal();
    await repo.target.put('data', sealed.name, sealed.bytes);
    written.push({ name: sealed.name, ephemeral: sealed.ephemeral, size: sealed.size, blobs: sealed.blobs });
  };
  let done = 0;
  for (const p of packs) {
    const bytes = await repo.target.get('data', p.name);
    const key = repo.packKey(p);
    for (const b of p.blobs) {
      if (!wanted(b.id, p.name)) continue;
      const what = `${b.type} blob ${shortId(b.id)} in pack ${shortId(p.name)}`;
      // Checked before it is copied: prune never spreads a damaged blob.
      const { stored } = openBlobStored(repo.config.aead, key, repo.secrets.write.blobId, b, bytes.subarray(b.offset, b.offset + b.length), what);
      let w = writers.get(b.type);
      if (!w) writers.set(b.type, (w = new PackWriter(repo.config.aead, repo.secrets.write.publicKey, repo.config.compression.level, repo.config.packSize)));
      w.addStored(b.type, b.id, stored, b.compressed, b.rawLength);
      if (w.size >= repo.config.packSize) await seal(b.type);
    }
    opts.onProgress?.({ phase: 'repack', done: ++done, total: packs.length });
  }
  await seal('data');
  await seal('tree');
  return written;
}
