// A layer tar from a directory of changes: an overlay upper directory (a
// container's writes, for commit; a build step's, later) becomes a layer the
// way moby's overlay2 driver diffs one. Names are relative ("etc/passwd",
// directories with a trailing "/"), in the walk order of Go's archive
// (children sorted by name), mtimes in whole seconds. Overlay whiteouts
// (character devices 0/0) become ".wh.<name>" files and opaque directories
// (trusted.overlay.opaque=y) get a ".wh..wh..opq" member; overlay's own
// trusted.overlay.* xattrs are dropped, other xattrs kept.
import { open } from 'node:fs/promises';
import { scanTree, type ScannedEntry } from '../../archive/tree-scan.js';
import { encodeMember, END_OF_ARCHIVE, paddingFor, type TarMember } from '../../archive/tar/writer.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const OVERLAY_XATTR = 'trusted.overlay.';
const READ_CHUNK = 1 << 20;

/** What the runtime puts in a container's writable layer and moby keeps in its init layer instead: never committed when empty. */
export const RUNTIME_PLACEHOLDERS: ReadonlySet<string> = new Set([
  '.dockerenv',
  'etc/hosts',
  'etc/hostname',
  'etc/resolv.conf',
  'etc/mtab',
  'dev',
  'dev/console',
  'dev/pts',
  'dev/shm',
  'dev/mqueue',
  'proc',
  'sys',
]);

/**
 * Whether an entry at a placeholder path is as the runtime made it: an
 * empty file, an empty directory, or a symlink to /proc/mounts (/etc/mtab,
 * as moby's init layer has it).
 */
export function isUntouchedPlaceholder(type: string, size: number, linkTarget: () => string | undefined, hasChildren: boolean): boolean {
  return (type === 'file' && size === 0) || (type === 'directory' && !hasChildren) || (type === 'symlink' && linkTarget() === '/proc/mounts');
}

export interface DiffOptions {
  /**
   * Paths (relative, no leading "/") to leave out when they are empty
   * placeholders the runtime made: files of size 0, empty directories
   * (mountpoints of /etc/hosts, /proc, ...) and symlinks to /proc/mounts (/etc/mtab). A directory left holding only
   * such placeholders is left out too when the image already had it.
   */
  placeholders?: ReadonlySet<string>;
}

/** A directory overlay marked opaque: what the layers below had in it is hidden. */
export function isOpaqueDirectory(e: ScannedEntry): boolean {
  return e.type === 'directory' && e.xattrs.get(`${OVERLAY_XATTR}opaque`)?.toString() === 'y';
}

/** An overlay whiteout: a character device 0/0 standing for a deleted name. */
export function isWhiteout(e: ScannedEntry): boolean {
  return e.type === 'chardev' && e.devmajor === 0 && e.devminor === 0;
}

function seconds(ns: bigint): bigint {
  return (ns / 1_000_000_000n) * 1_000_000_000n;
}

function dirName(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** The entries of `root` to archive (or to list as changes), placeholders and directories kept only for them left out. */
export function selectEntries(root: string, placeholders: ReadonlySet<string>): ScannedEntry[] {
  const entries = [...scanTree(root)].filter((e) => e.rel.length > 0);
  const rels = entries.map((e) => e.rel.toString());
  const children = new Map<string, string[]>();
  for (const rel of rels) {
    const list = children.get(dirName(rel));
    if (list === undefined) children.set(dirName(rel), [rel]);
    else list.push(rel);
  }
  const dropped = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const rel = rels[i]!;
    if (placeholders.has(rel) && isUntouchedPlaceholder(e.type, e.size, () => e.linkTarget?.toString(), children.has(rel))) dropped.add(rel);
  }
  // A copied-up directory (it has overlay's origin mark) that held only dropped placeholders goes too.
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    const rel = rels[i]!;
    if (e.type !== 'directory' || dropped.has(rel) || !e.xattrs.has(`${OVERLAY_XATTR}origin`) || isOpaqueDirectory(e)) continue;
    const kids = children.get(rel) ?? [];
    if (kids.length > 0 && kids.every((k) => dropped.has(k))) dropped.add(rel);
  }
  return entries.filter((_, i) => !dropped.has(rels[i]!));
}

function member(e: ScannedEntry, name: string, over: Partial<TarMember> = {}): TarMember {
  const xattrs = new Map([...e.xattrs].filter(([k]) => !k.startsWith(OVERLAY_XATTR)));
  return {
    path: Buffer.from(name),
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.type === 'file' ? e.size : 0,
    mtimeNs: seconds(e.mtimeNs),
    ...(e.linkTarget !== undefined ? { linkpath: e.linkTarget } : {}),
    ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor } : {}),
    ...(xattrs.size > 0 ? { xattrs } : {}),
    ...over,
  };
}

/** A whiteout or opaque marker: an empty regular file owned like what it stands for. */
function marker(e: ScannedEntry, name: string): Buffer {
  return encodeMember({ path: Buffer.from(name), type: 'file', mode: 0o600, uid: e.uid, gid: e.gid, size: 0, mtimeNs: seconds(e.mtimeNs) });
}

export interface LayerDiff {
  /** Whether the diff has any member (an empty diff makes no layer). */
  empty: boolean;
  /** The tar. */
  chunks: AsyncIterable<Buffer>;
}

/** The layer tar of the changes in `root`. */
export function layerDiff(root: string, opts: DiffOptions = {}): LayerDiff {
  const entries = selectEntries(root, opts.placeholders ?? new Set());
  return { empty: entries.length === 0, chunks: diffChunks(entries) };
}

async function* diffChunks(entries: ScannedEntry[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const rel = e.rel.toString();
    if (isWhiteout(e)) {
      const dir = dirName(rel);
      yield marker(e, `${dir === '' ? '' : `${dir}/`}${WHITEOUT_PREFIX}${baseName(rel)}`);
      continue;
    }
    if (e.hardlinkTo !== undefined) {
      yield encodeMember(member(e, rel, { type: 'hardlink', size: 0, linkpath: e.hardlinkTo }));
      continue;
    }
    yield encodeMember(member(e, rel));
    if (isOpaqueDirectory(e)) {
      yield marker(e, `${rel}/${OPAQUE_MARKER}`);
    }
    if (e.type === 'file' && e.size > 0) {
      const fh = await open(e.abs);
      try {
        let done = 0;
        while (done < e.size) {
          const { bytesRead, buffer } = await fh.read(Buffer.allocUnsafe(Math.min(READ_CHUNK, e.size - done)), 0, Math.min(READ_CHUNK, e.size - done), done);
          if (bytesRead === 0) throw new Error(`file ${rel} shrank while it was committed`);
          done += bytesRead;
          yield buffer.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
      yield Buffer.alloc(paddingFor(e.size));
    }
  }
  yield END_OF_ARCHIVE;
}
