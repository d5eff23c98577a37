// Creating tree entries with their full metadata, shared by extract and
// clone. The order matters: owner before mode (chown clears setuid/setgid),
// xattrs after data and owner (both clear security.capability), times last;
// a directory's metadata waits until its children exist (a default ACL
// would be inherited by them, a read-only mode would stop them, and their
// creation would move its mtime).
import { fchmodSync, fchownSync, lchownSync, chmodSync } from 'node:fs';
import { ACL_ACCESS_XATTR, ACL_DEFAULT_XATTR, aclTextToXattr } from './acl.js';
import { setTimes, setTimesFd } from '../fs/nodes.js';
import { setXattr } from '../fs/xattrs.js';
import type { TarEntryType } from './tar/reader.js';

export interface EntryMeta {
  type: TarEntryType;
  mode: number;
  /** -1: left as created (chown(2)'s "no change"), for an extraction that does not set owners. */
  uid: number;
  gid: number;
  mtimeNs: bigint;
  xattrs: Map<string, Buffer>;
  acls?: { access?: string; default?: string };
}

/** The xattrs to set: the archive's, plus ACLs that only came in text form. */
function xattrsWithAcls(meta: EntryMeta): Map<string, Buffer> {
  if (!meta.acls) return meta.xattrs;
  const out = new Map(meta.xattrs);
  const fill = (name: string, text: string | undefined): void => {
    if (text === undefined || out.has(name)) return;
    const v = aclTextToXattr(text);
    if (v) out.set(name, v);
  };
  fill(ACL_ACCESS_XATTR, meta.acls.access);
  if (meta.type === 'directory') fill(ACL_DEFAULT_XATTR, meta.acls.default);
  return out;
}

function applyXattrs(path: Buffer, meta: EntryMeta): void {
  for (const [name, value] of xattrsWithAcls(meta)) setXattr(path, name, value);
}

/**
 * Metadata of a regular file still open as `fd` (its data already written).
 * `ownerAsCreated`: the file was created with meta's owner already (this
 * process's ids, no setgid directory above it), so the chown, a
 * transaction of its own on most filesystems, is left out.
 */
export function applyFileMeta(fd: number, path: Buffer, meta: EntryMeta, ownerAsCreated = false): void {
  if (!ownerAsCreated) fchownSync(fd, meta.uid, meta.gid);
  fchmodSync(fd, meta.mode);
  applyXattrs(path, meta);
  setTimesFd(fd, meta.mtimeNs);
}

/** Metadata of anything else, by path, never following a symlink. */
export function applyPathMeta(path: Buffer, meta: EntryMeta): void {
  lchownSync(path, meta.uid, meta.gid);
  if (meta.type !== 'symlink') chmodSync(path, meta.mode);
  applyXattrs(path, meta);
  setTimes(path, meta.mtimeNs);
}

/** Directories whose metadata is applied once everything beneath them exists (deepest first). */
export class PendingDirectories {
  private readonly dirs = new Map<string, { path: Buffer; meta: EntryMeta }>();

  set(path: Buffer, meta: EntryMeta): void {
    this.dirs.set(path.toString('latin1'), { path, meta });
  }

  applyAll(): void {
    // Insertion order is pre-order (a parent before its children), so reverse puts children first.
    const all = [...this.dirs.values()].reverse();
    for (const { path, meta } of all) applyPathMeta(path, meta);
    this.dirs.clear();
  }
}
