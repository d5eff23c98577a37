// Reading snapshot trees from the repository: tree packs are fetched whole
// (they hold only trees, and a snapshot's trees are mostly in a few of
// them) and kept while they are being read, so walking a snapshot costs a
// few reads, not one per directory.
import { openBlob, shortId } from '../repo/blob.js';
import type { Repository } from '../repo/repository.js';
import { decodeTree, type Tree, type TreeNode } from '../repo/tree.js';

/** Tree packs kept in memory at once (each at most the pack size, 16 MiB by default). */
const CACHED_PACKS = 4;

export class TreeReader {
  private readonly packs = new Map<string, Promise<Buffer>>();

  constructor(readonly repo: Repository) {
    repo.requireRead('reading trees');
  }

  private pack(name: string, size: number): Promise<Buffer> {
    let p = this.packs.get(name);
    if (p) {
      // Most recently used last.
      this.packs.delete(name);
      this.packs.set(name, p);
      return p;
    }
    p = this.repo.target.getRange('data', name, 0, size);
    this.packs.set(name, p);
    p.catch(() => this.packs.delete(name));
    if (this.packs.size > CACHED_PACKS) this.packs.delete(this.packs.keys().next().value!);
    return p;
  }

  /** A tree's plaintext, checked against its ID. */
  async blob(id: Uint8Array): Promise<Buffer> {
    const loc = this.repo.locate(id, 'tree');
    const pack = await this.pack(loc.pack.name, loc.pack.size);
    const box = pack.subarray(loc.offset, loc.offset + loc.length);
    return openBlob(this.repo.config.aead, this.repo.packKey(loc.pack), this.repo.secrets.write.blobId, loc, box, `tree ${shortId(id)} in pack ${shortId(loc.pack.name)}`);
  }

  async tree(id: Uint8Array): Promise<Tree> {
    return decodeTree(await this.blob(id), `tree ${shortId(id)}`);
  }
}

export interface WalkedNode {
  /** Path below the snapshot root, bytes ("" for the root). */
  rel: Buffer;
  node: TreeNode;
}

/** `rel/name`; either may be empty (the root, or the directory itself). */
export const childPath = (rel: Buffer, name: Buffer): Buffer => (rel.length === 0 ? name : name.length === 0 ? rel : Buffer.concat([rel, Buffer.from('/'), name]));

/** Every node of a snapshot, depth first, a directory before its entries, entries in name order; the root first. */
export async function* walkSnapshot(reader: TreeReader, rootTree: Uint8Array): AsyncGenerator<WalkedNode> {
  const root = (await reader.tree(rootTree)).nodes[0]!;
  yield { rel: Buffer.alloc(0), node: root };
  if (root.type !== 'directory') return;
  const stack: Array<{ rel: Buffer; nodes: TreeNode[]; next: number }> = [{ rel: Buffer.alloc(0), nodes: (await reader.tree(root.subtree)).nodes, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.nodes.length) {
      stack.pop();
      continue;
    }
    const node = top.nodes[top.next++]!;
    const rel = childPath(top.rel, node.name);
    yield { rel, node };
    if (node.type === 'directory') stack.push({ rel, nodes: (await reader.tree(node.subtree)).nodes, next: 0 });
  }
}
