// Reads one directory tree for export and clone: a pre-order walk (a
// directory before its children, children in byte order of their names),
// every entry's metadata with nanosecond times, xattrs, link targets as
// bytes, and hard-link groups by (device, inode). Never follows symlinks.
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { ACL_ACCESS_XATTR, ACL_DEFAULT_XATTR, aclXattrToText } from './acl.js';
import type { TarEntryType } from './tar/reader.js';
import { devMajor, devMinor } from '../fs/nodes.js';
import { joinPath } from '../fs/path.js';
import { readXattrs } from '../fs/xattrs.js';

export interface ScannedEntry {
  /** Path below the root as bytes ("" for the root itself). */
  rel: Buffer;
  /** Absolute path as bytes. */
  abs: Buffer;
  type: TarEntryType;
  stat: BigIntStats;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  xattrs: Map<string, Buffer>;
  acls?: { access?: string; default?: string };
  linkTarget?: Buffer;
  /** For the second and later members of a hard-link group: the first member's rel path. */
  hardlinkTo?: Buffer;
  devmajor?: number;
  devminor?: number;
}

/** The archive entry type of a file; undefined for a socket. */
export function typeOf(st: Pick<BigIntStats, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice'>): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  return undefined; // sockets: not archivable, as GNU tar ("socket ignored")
}

/**
 * One entry's metadata, `st` being its lstat: xattrs (ACLs also in text
 * form), link target, device numbers; undefined for a socket. Hard links
 * are the walk's business (scanTree), not the entry's.
 */
export function readEntry(rel: Buffer, abs: Buffer, st: BigIntStats): ScannedEntry | undefined {
  const type = typeOf(st);
  if (type === undefined) return undefined;
  const xattrs = readXattrs(abs);
  const entry: ScannedEntry = {
    rel,
    abs,
    type,
    stat: st,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === 'file' ? Number(st.size) : 0,
    mtimeNs: st.mtimeNs,
    xattrs,
  };
  const access = xattrs.get(ACL_ACCESS_XATTR);
  const dflt = xattrs.get(ACL_DEFAULT_XATTR);
  if (access || dflt) {
    entry.acls = {};
    if (access) entry.acls.access = aclXattrToText(access);
    if (dflt) entry.acls.default = aclXattrToText(dflt);
  }
  if (type === 'symlink') entry.linkTarget = readlinkSync(abs, { encoding: 'buffer' });
  if (type === 'chardev' || type === 'blockdev') {
    entry.devmajor = devMajor(st.rdev);
    entry.devminor = devMinor(st.rdev);
  }
  return entry;
}

/**
 * Walks `root` in archive order; `skipped` hears about sockets. With
 * `topLevel`, only those top-level entries and what is below them are
 * walked, and the root itself is not yielded (a share of a parallel clone).
 */
/** What a walk does with an entry that vanishes between its directory's listing and its stat. */
export interface ScanOptions {
  /** Called for each vanished entry, which is then left out; without it the walk throws (an export must not miss a file). */
  vanished?: (rel: Buffer) => void;
}

const VANISHED = new Set(['ENOENT', 'ENOTDIR']);

export function* scanTree(root: string, skipped?: (rel: Buffer) => void, topLevel?: Buffer[], opts: ScanOptions = {}): Generator<ScannedEntry> {
  const links = new Map<string, Buffer>();
  const stack: Array<{ rel: Buffer; abs: Buffer }> = topLevel
    ? [...topLevel].sort(Buffer.compare).reverse().map((name) => ({ rel: name, abs: joinPath(root, name) }))
    : [{ rel: Buffer.alloc(0), abs: Buffer.from(root) }];
  while (stack.length > 0) {
    const { rel, abs } = stack.pop()!;
    let st: BigIntStats;
    let entry: ScannedEntry | undefined;
    try {
      st = lstatSync(abs, { bigint: true });
      entry = readEntry(rel, abs, st);
    } catch (e) {
      // A live tree changes under the walk: a file renamed or deleted since its directory was listed.
      if (!opts.vanished || !VANISHED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      opts.vanished(rel);
      continue;
    }
    if (entry === undefined) {
      skipped?.(rel);
      continue;
    }
    const type = entry.type;
    if (type !== 'directory' && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) entry.hardlinkTo = first;
      else links.set(key, rel);
    }
    yield entry;
    if (type === 'directory') {
      let names: Buffer[];
      try {
        names = readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare);
      } catch (e) {
        if (!opts.vanished || !VANISHED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
        opts.vanished(rel);
        continue;
      }
      for (let i = names.length - 1; i >= 0; i--) {
        const name = names[i]!;
        stack.push({ rel: rel.length === 0 ? name : joinPath(rel, name), abs: joinPath(abs, name) });
      }
    }
  }
}

/**
 * The archive member name for a rel path below a root whose own member is
 * `top`: "top/rel", the root itself "top". The default top "." names the
 * root "./" and the rest "./rel", as GNU tar -C root . does; an empty top
 * gives bare "rel" names (docker export's; the root then has no member).
 */
export function memberName(rel: Buffer, top: Buffer = CURRENT_DIRECTORY): Buffer {
  if (top.length === 0) return rel;
  if (rel.length === 0) return top.equals(CURRENT_DIRECTORY) ? Buffer.from('./') : top;
  return Buffer.concat([top, Buffer.from('/'), rel]);
}

const CURRENT_DIRECTORY = Buffer.from('.');
