// The tree a backup is building, in memory: each entry's metadata as last
// read, and for files the blobs of their content with the stat and moment
// that content belongs to. Phase 1 fills it from the live tree, the
// recheck corrects it under the freeze, phase 2 turns it into tree blobs.
import type { BigIntStats } from 'node:fs';
import type { ScannedEntry } from '../../archive/tree-scan.js';
import type { FileStat } from './backup-worker.js';
import type { Extent } from '../../fs/extents.js';
import type { FileChunking, NodeType, TreeNode } from '../repo/tree.js';

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
  stat: FileStat;
  xattrs: Map<string, Buffer>;
  linkTarget?: Buffer;
  major?: number;
  minor?: number;
  /** Files: the content, once read or reused; undefined while it is still to be captured and read. */
  file?: FileContent;
  /**
   * Files: when the content was read (realtime ns). Content read at T from
   * a file whose ctime is at least the racy window before T cannot have
   * changed unseen: a later write moves its ctime.
   */
  readAtNs?: bigint;
  /** Files captured under the freeze: the copy phase 2 reads. */
  capture?: string;
  /** Files: another name of the same inode met earlier in the walk, whose content this one shares. */
  sameAs?: LiveEntry;
  /** Files cut in fixed blocks in the parent snapshot: that block size. */
  parentBlock?: number;
  /** Directories: entries by name, sorted. */
  children?: LiveEntry[];
}

/**
 * Filesystem timestamps come from a coarse clock (a jiffy, 1 to 10 ms; 2 s
 * on FAT): a change within this long of a read may not move them. The
 * default window is far above any Linux tick.
 */
export const DEFAULT_RACY_WINDOW_MS = 1000;

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
export function contentStillValid(was: FileStat, now: BigIntStats, readAtNs: bigint | undefined, racyNs: bigint): boolean {
  return (
    readAtNs !== undefined &&
    now.isFile() &&
    was.ino === now.ino &&
    was.size === now.size &&
    was.mtimeNs === now.mtimeNs &&
    was.ctimeNs === now.ctimeNs &&
    was.ctimeNs < readAtNs - racyNs
  );
}

/** Whether an entry's metadata read at `readAtNs` (stat `was`) is still what `now` describes. */
export function metadataStillValid(was: FileStat, now: BigIntStats, readAtNs: bigint, racyNs: bigint): boolean {
  return was.ino === now.ino && was.mode === now.mode && was.mtimeNs === now.mtimeNs && was.ctimeNs === now.ctimeNs && was.ctimeNs < readAtNs - racyNs;
}

/** The tree node of an entry; a directory's subtree ID is given once its tree is stored. */
export function nodeOf(e: LiveEntry, subtree?: Buffer): TreeNode {
  const st = e.stat;
  const name = e.name;
  const mode = Number(st.mode) & 0o7777;
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  const links = Number(st.nlink);
  const { mtimeNs, ctimeNs, ino: inode } = st;
  const xattrs = e.xattrs;
  switch (e.type) {
    case 'directory':
      return { name, mode, uid, gid, mtimeNs, ctimeNs, inode, links, xattrs, type: 'directory', subtree: subtree! };
    case 'file': {
      const f = e.file!;
      const node: TreeNode = { name, mode, uid, gid, mtimeNs, ctimeNs, inode, links, xattrs, type: 'file', size: Number(st.size), chunking: f.chunking, content: f.content };
      if (f.extents) node.extents = f.extents;
      return node;
    }
    case 'symlink':
      return { name, mode, uid, gid, mtimeNs, ctimeNs, inode, links, xattrs, type: 'symlink', target: e.linkTarget! };
    case 'fifo':
      return { name, mode, uid, gid, mtimeNs, ctimeNs, inode, links, xattrs, type: 'fifo' };
    case 'chardev':
    case 'blockdev':
      return { name, mode, uid, gid, mtimeNs, ctimeNs, inode, links, xattrs, type: e.type, major: e.major ?? 0, minor: e.minor ?? 0 };
  }
}
