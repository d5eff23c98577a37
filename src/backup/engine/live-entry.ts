// The tree a backup is building, in memory: each entry's metadata as last
// read, and for files the blobs of their content with the stat and moment
// that content belongs to. Phase 1 fills it from the live tree, the
// recheck corrects it under the freeze, phase 2 turns it into tree blobs.
import type { BigIntStats } from 'node:fs';
import type { ScannedEntry } from '../../archive/tree-scan.js';
import type { Extent } from '../../fs/extents.js';
import type { FileChunking, NodeBase, NodeType, TreeNode } from '../repo/tree.js';

/** A file's stored content. */
export interface FileContent {
  content: Buffer[];
  /** Data extents when the file has holes. */
  extents?: Extent[];
  chunking: FileChunking;
}

export interface LiveEntry {
  name: Buffer;
  /** Path below the root, bytes ("" for the root). */
  rel: Buffer;
  type: NodeType;
  /** The stat the entry's metadata (and a file's content) belongs to. */
  stat: BigIntStats;
  xattrs: Map<string, Buffer>;
  linkTarget?: Buffer;
  major?: number;
  minor?: number;
  /** Files: the content, once read or reused; undefined while it is still to be captured and read. */
  file?: FileContent;
  /**
   * Files: when the content was read (realtime ns). Content read at T from
   * a file whose ctime is at least RACY_NS before T cannot have changed
   * unseen: a later write moves its ctime.
   */
  readAtNs?: bigint;
  /** Files captured under the freeze: the copy phase 2 reads. */
  capture?: string;
  /** Files cut in fixed blocks in the parent snapshot: that block size. */
  parentBlock?: number;
  /** Directories: entries by name, sorted. */
  children?: LiveEntry[];
}

/** Filesystem timestamps come from a coarse clock: a change within this long of a read may not move them. */
export const RACY_NS = 1_000_000_000n;

export function entryOf(s: ScannedEntry, name: Buffer): LiveEntry {
  // A walk reports what is on disk; 'hardlink' is a tar member type only.
  if (s.type === 'hardlink') throw new Error('a scanned entry cannot be a hard link member');
  const e: LiveEntry = { name, rel: s.rel, type: s.type, stat: s.stat, xattrs: s.xattrs };
  if (s.linkTarget) e.linkTarget = s.linkTarget;
  if (s.devmajor !== undefined) {
    e.major = s.devmajor;
    e.minor = s.devminor ?? 0;
  }
  if (s.type === 'directory') e.children = [];
  return e;
}

/** Whether a file's content, read at `readAtNs` when its stat was `was`, is still what `now` describes. */
export function contentStillValid(was: BigIntStats, now: BigIntStats, readAtNs: bigint | undefined): boolean {
  return (
    readAtNs !== undefined &&
    now.isFile() &&
    was.ino === now.ino &&
    was.size === now.size &&
    was.mtimeNs === now.mtimeNs &&
    was.ctimeNs === now.ctimeNs &&
    was.ctimeNs < readAtNs - RACY_NS
  );
}

/** Whether an entry's metadata read at `readAtNs` (stat `was`) is still what `now` describes. */
export function metadataStillValid(was: BigIntStats, now: BigIntStats, readAtNs: bigint): boolean {
  return was.ino === now.ino && was.mode === now.mode && was.mtimeNs === now.mtimeNs && was.ctimeNs === now.ctimeNs && was.ctimeNs < readAtNs - RACY_NS;
}

/** The tree node of an entry; a directory's subtree ID is given once its tree is stored. */
export function nodeOf(e: LiveEntry, subtree?: Buffer): TreeNode {
  const st = e.stat;
  const base: NodeBase = {
    name: e.name,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    inode: st.ino,
    links: Number(st.nlink),
    xattrs: e.xattrs,
  };
  switch (e.type) {
    case 'directory':
      return { ...base, type: 'directory', subtree: subtree! };
    case 'file': {
      const f = e.file!;
      return { ...base, type: 'file', size: Number(st.size), chunking: f.chunking, ...(f.extents ? { extents: f.extents } : {}), content: f.content };
    }
    case 'symlink':
      return { ...base, type: 'symlink', target: e.linkTarget! };
    case 'fifo':
      return { ...base, type: 'fifo' };
    case 'chardev':
    case 'blockdev':
      return { ...base, type: e.type, major: e.major ?? 0, minor: e.minor ?? 0 };
  }
}
