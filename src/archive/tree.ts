// A directory tree <-> a tar stream, and tree cloning: the one entry point
// volumes (export, import, clone) and backups use. Fidelity and refusal
// rules are in docs/volume-archives.md.
import { lstatSync, readdirSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { joinPath } from '../fs/path.js';

export interface TreeProgress {
  /** Bytes of file data. */
  bytes: number;
  /** Entries (members). */
  files: number;
}
export type TreeTotals = TreeProgress;

export { exportTree } from './tree-export.js';
export { extractTree } from './tree-extract.js';
export { cloneTree } from './tree-clone.js';

/** What an export of `root` will carry, for progress and ETA: stat only, no data read. */
export async function measureTree(root: string): Promise<TreeTotals> {
  const totals: TreeTotals = { bytes: 0, files: 0 };
  const seen = new Set<string>();
  const stack: Buffer[] = [Buffer.from(root)];
  let n = 0;
  while (stack.length > 0) {
    const abs = stack.pop()!;
    const st = lstatSync(abs, { bigint: true });
    totals.files++;
    if (st.isDirectory()) {
      for (const name of readdirSync(abs, { encoding: 'buffer' })) stack.push(joinPath(abs, name));
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1n && seen.has(key)) continue;
      if (st.nlink > 1n) seen.add(key);
      totals.bytes += Number(st.size);
    }
    if (++n % 1024 === 0) await yieldToLoop();
  }
  return totals;
}
