// The parent snapshot's trees, for change detection: from the local cache
// when it has them, else from the repository (which needs the read
// secret). A write-only host without the cache has no parent to compare
// with: it reads every file, and still stores only what the repository lacks.
// A parent tree that cannot be read (damaged, pruned away) only costs
// reading that directory's files again: a backup never fails for it.
import { NotFound } from '../../errors.js';
import { idKey } from '../repo/blob-index.js';
import { RepositoryCorrupt } from '../repo/errors.js';
import { shortId } from '../repo/blob.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import { decodeTree, type DirectoryNode, type TreeNode } from '../repo/tree.js';
import type { TreeCache } from './tree-cache.js';

export type ChildMap = Map<string, TreeNode>;

/** A tree that is damaged, missing, or not in the cache of a write-only host. */
const unreadable = (e: unknown): boolean => e instanceof RepositoryCorrupt || e instanceof NotFound || e instanceof TreeNotCached;

class TreeNotCached extends Error {}

export class ParentTrees {
  private constructor(
    private readonly load: (id: Buffer) => Promise<Buffer>,
    readonly snapshot: SnapshotRecord,
    readonly root: DirectoryNode,
  ) {}

  /** The parent's trees, or undefined when this host can get them neither from the cache nor from the repository. */
  static async open(repo: Repository, snapshot: SnapshotRecord, cache: TreeCache | undefined): Promise<ParentTrees | undefined> {
    const cached = cache?.read(snapshot.id, repo.secrets.write.blobId);
    let load: (id: Buffer) => Promise<Buffer>;
    if (cached) {
      load = async (id) => cached.get(idKey(id)) ?? (repo.access === 'full' ? repo.loadBlob(id, 'tree') : Promise.reject(new TreeNotCached(`tree ${shortId(id)} is not in the cache`)));
    } else if (repo.access === 'full') {
      load = (id) => repo.loadBlob(id, 'tree');
    } else {
      return undefined;
    }
    const rootId = Buffer.from(snapshot.tree, 'hex');
    try {
      const rootTree = decodeTree(await load(rootId), `tree ${shortId(rootId)}`);
      return new ParentTrees(load, snapshot, rootTree.nodes[0] as DirectoryNode);
    } catch (e) {
      if (unreadable(e)) return undefined;
      throw e;
    }
  }

  /** A directory's entries by name (latin1 of the name bytes); none when its tree cannot be read. */
  async children(dir: DirectoryNode): Promise<ChildMap> {
    try {
      const tree = decodeTree(await this.load(dir.subtree), `tree ${shortId(dir.subtree)}`);
      return new Map(tree.nodes.map((n) => [n.name.toString('latin1'), n]));
    } catch (e) {
      if (unreadable(e)) return new Map();
      throw e;
    }
  }
}
