// A directory tree <-> a tar stream, and tree cloning: the one entry point
// volumes (export, import, clone), backups and docker cp use. Fidelity and refusal
// rules are in docs/volume-archives.md.
import { planTree } from './tree-plan.js';

export interface TreeProgress {
  /** Bytes of file data. */
  bytes: number;
  /** Entries (members). */
  files: number;
}
export type TreeTotals = TreeProgress;

export { exportTree, exportTreeToFd } from './tree-export.js';
export { extractTree, type ArchiveFile, type ExtractProgress, type MergeOptions } from './tree-extract.js';
export { cloneTree } from './tree-clone.js';

/** What an export of `root` will carry, for progress and ETA: stat only, no data read. */
export async function measureTree(root: string): Promise<TreeTotals> {
  return (await planTree(root, 1)).totals;
}
