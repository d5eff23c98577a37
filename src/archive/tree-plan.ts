// One stat-only walk of a tree: what an export or clone of it will carry
// (for progress and ETA), and a split of its top-level entries into shares
// of about equal work that a parallel clone can copy independently. Entries
// joined by a hard link always land in one share, so each share keeps its
// link groups whole.
import { lstatSync, readdirSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { joinPath } from '../fs/path.js';
import type { TreeTotals } from './tree.js';

export interface TreePlan {
  totals: TreeTotals;
  /** Top-level names per share; every top-level entry is in exactly one. */
  shares: Buffer[][];
}

/** A file's cost for the split: its creation dominates; data adds per MiB (copied data much more than reflinked). */
const BYTES_PER_FILE_COST = 1 << 20;

interface TopLevel {
  name: Buffer;
  weight: number;
  linkKeys: string[];
}

export async function planTree(root: string, ways: number): Promise<TreePlan> {
  const totals: TreeTotals = { bytes: 0, files: 1 };
  const seen = new Set<string>();
  const tops: TopLevel[] = [];
  let n = 0;
  for (const name of readdirSync(root, { encoding: 'buffer' })) {
    const top: TopLevel = { name, weight: 0, linkKeys: [] };
    const stack: Buffer[] = [joinPath(root, name)];
    while (stack.length > 0) {
      const abs = stack.pop()!;
      // The totals only estimate (progress, shares): an entry that vanishes under a live tree's walk is left out.
      const st = orNothing(() => lstatSync(abs, { bigint: true }));
      if (st === undefined || st.isSocket()) continue;
      totals.files++;
      top.weight++;
      if (st.isDirectory()) {
        for (const child of orNothing(() => readdirSync(abs, { encoding: 'buffer' })) ?? []) stack.push(joinPath(abs, child));
      } else if (st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        top.linkKeys.push(key);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      if (st.isFile()) {
        totals.bytes += Number(st.size);
        top.weight += Number(st.size) / BYTES_PER_FILE_COST;
      }
      if (++n % 1024 === 0) await yieldToLoop();
    }
    tops.push(top);
  }
  return { totals, shares: split(tops, Math.max(1, ways)) };
}

/** `read()`, or undefined when what it reads has vanished (ENOENT, ENOTDIR). */
function orNothing<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Groups top-level entries that share an inode, then deals the groups out, heaviest first, to the lightest share. */
function split(tops: TopLevel[], ways: number): Buffer[][] {
  const parent = tops.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const owner = new Map<string, number>();
  tops.forEach((t, i) => {
    for (const key of t.linkKeys) {
      const j = owner.get(key);
      if (j === undefined) owner.set(key, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, { names: Buffer[]; weight: number }>();
  tops.forEach((t, i) => {
    const g = groups.get(find(i)) ?? { names: [], weight: 0 };
    g.names.push(t.name);
    g.weight += t.weight;
    groups.set(find(i), g);
  });
  const shares = Array.from({ length: Math.min(ways, Math.max(1, groups.size)) }, () => ({ names: [] as Buffer[], weight: 0 }));
  for (const g of [...groups.values()].sort((a, b) => b.weight - a.weight)) {
    const lightest = shares.reduce((a, b) => (b.weight < a.weight ? b : a));
    lightest.names.push(...g.names);
    lightest.weight += g.weight;
  }
  return shares.map((s) => s.names);
}
