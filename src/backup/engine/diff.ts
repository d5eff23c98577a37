// The difference between two snapshots (`backup diff`): paths added,
// removed, and changed with what changed. Subtrees with equal IDs are equal
// and skipped without being read, so a diff costs what changed.
import type { Repository } from '../repo/repository.js';
import type { NodeType, Tree, TreeNode } from '../repo/tree.js';
import { childPath, TreeReader } from './tree-reader.js';

export type ChangedField = 'type' | 'content' | 'size' | 'mode' | 'owner' | 'mtime' | 'xattrs' | 'target' | 'device' | 'links';

export interface DiffEntry {
  /** Path below the snapshot root, bytes. */
  path: Buffer;
  change: 'added' | 'removed' | 'changed';
  /** The entry's type (in the newer snapshot, unless removed). */
  type: NodeType;
  /** For 'changed': what differs. */
  fields?: ChangedField[];
}

export interface DiffResult {
  from: string;
  to: string;
  entries: DiffEntry[];
  added: number;
  removed: number;
  changed: number;
}

function sameBuffers(a: Buffer[], b: Buffer[]): boolean {
  return a.length === b.length && a.every((x, i) => x.equals(b[i]!));
}

function sameXattrs(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.get(k)?.equals(v)) return false;
  return true;
}

/** What differs between two nodes of one path (inode and ctime do not count: they change with any restore). */
export function changedFields(a: TreeNode, b: TreeNode): ChangedField[] {
  if (a.type !== b.type) return ['type'];
  const out: ChangedField[] = [];
  if (a.type === 'file' && b.type === 'file') {
    if (!sameBuffers(a.content, b.content) || JSON.stringify(a.extents) !== JSON.stringify(b.extents)) out.push('content');
    if (a.size !== b.size) out.push('size');
  }
  if (a.mode !== b.mode) out.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) out.push('owner');
  if (a.mtimeNs !== b.mtimeNs) out.push('mtime');
  if (!sameXattrs(a.xattrs, b.xattrs)) out.push('xattrs');
  if (a.type === 'symlink' && b.type === 'symlink' && !a.target.equals(b.target)) out.push('target');
  if ((a.type === 'chardev' || a.type === 'blockdev') && (b.type === 'chardev' || b.type === 'blockdev') && (a.major !== b.major || a.minor !== b.minor)) out.push('device');
  if (a.type === 'file' && (a.links > 1) !== (b.links > 1)) out.push('links');
  return out;
}

/** Snapshot `to` against snapshot `from` (IDs or unique prefixes). */
export async function diffSnapshots(repo: Repository, from: string, to: string): Promise<DiffResult> {
  repo.requireRead('diff');
  const lock = await repo.lock('shared', 'diff');
  try {
    const a = await repo.loadSnapshot(from);
    const b = await repo.loadSnapshot(to);
    const reader = new TreeReader(repo);
    const entries: DiffEntry[] = [];
    const all = async (change: 'added' | 'removed', rel: Buffer, node: TreeNode): Promise<void> => {
      entries.push({ path: rel, change, type: node.type });
      if (node.type !== 'directory') return;
      for await (const w of walkBelow(reader, node.subtree, rel)) entries.push({ path: w.rel, change, type: w.node.type });
    };
    const compare = async (ta: Tree, tb: Tree, rel: Buffer): Promise<void> => {
      const byName = new Map(ta.nodes.map((n) => [n.name.toString('latin1'), n]));
      const seen = new Set<string>();
      for (const nb of tb.nodes) {
        const key = nb.name.toString('latin1');
        seen.add(key);
        const na = byName.get(key);
        const path = childPath(rel, nb.name);
        if (!na) {
          await all('added', path, nb);
          continue;
        }
        const fields = changedFields(na, nb);
        if (fields.includes('type')) {
          await all('removed', path, na);
          await all('added', path, nb);
          continue;
        }
        if (fields.length > 0) entries.push({ path, change: 'changed', type: nb.type, fields });
        if (na.type === 'directory' && nb.type === 'directory' && !na.subtree.equals(nb.subtree)) {
          await compare(await reader.tree(na.subtree), await reader.tree(nb.subtree), path);
        }
      }
      for (const na of ta.nodes) if (!seen.has(na.name.toString('latin1'))) await all('removed', childPath(rel, na.name), na);
    };
    const rootA = await reader.tree(Buffer.from(a.tree, 'hex'));
    const rootB = await reader.tree(Buffer.from(b.tree, 'hex'));
    const ra = rootA.nodes[0]!;
    const rb = rootB.nodes[0]!;
    const rootFields = changedFields(ra, rb);
    if (rootFields.length > 0) entries.push({ path: Buffer.alloc(0), change: 'changed', type: 'directory', fields: rootFields });
    if (ra.type === 'directory' && rb.type === 'directory' && !ra.subtree.equals(rb.subtree)) {
      await compare(await reader.tree(ra.subtree), await reader.tree(rb.subtree), Buffer.alloc(0));
    }
    entries.sort((x, y) => Buffer.compare(x.path, y.path) || (x.change === 'removed' ? -1 : y.change === 'removed' ? 1 : 0));
    return {
      from: a.id,
      to: b.id,
      entries,
      added: entries.filter((e) => e.change === 'added').length,
      removed: entries.filter((e) => e.change === 'removed').length,
      changed: entries.filter((e) => e.change === 'changed').length,
    };
  } finally {
    await lock.release();
  }
}

/** Every node below a directory tree, with paths under `rel`. */
async function* walkBelow(reader: TreeReader, subtree: Buffer, rel: Buffer): AsyncGenerator<{ rel: Buffer; node: TreeNode }> {
  const tree = await reader.tree(subtree);
  for (const n of tree.nodes) {
    const path = childPath(rel, n.name);
    yield { rel: path, node: n };
    if (n.type === 'directory') yield* walkBelow(reader, n.subtree, path);
  }
}
