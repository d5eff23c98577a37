// Unpacks one layer tar into a directory that overlayfs can use as a lowerdir.
//
// Safety rules (the destination is always a fresh private temp directory):
//  * Entry paths are split on "/" with empty and "." components dropped, so a
//    leading "/" is stripped (Docker treats "/etc/x" as "etc/x"). Any ".."
//    component is refused, as is a NUL byte.
//  * Every parent component is lstat()ed before a write: a missing parent is
//    created as a directory; a symlink or any other non-directory parent makes
//    the whole layer invalid. We therefore never resolve a path through a
//    symlink the archive created (e.g. "a -> /etc" then "a/passwd").
//  * The final component is unlinked (or rm -r'ed) before it is created, files
//    are opened O_CREAT|O_EXCL|O_NOFOLLOW, ownership and times of symlinks use
//    lchown/lutimes, so a pre-existing symlink at the final name is replaced,
//    never followed.
//  * Symlink targets are stored verbatim (a rootfs legitimately has absolute
//    links such as /bin/sh -> busybox); they are only interpreted later inside
//    the container's mount namespace.
//  * Hardlink targets are normalised like entry paths and must already exist
//    in this layer as a non-directory reached without symlinks.
//  * Whiteouts: ".wh.<name>" becomes an overlay whiteout (char device 0/0) and
//    ".wh..wh..opq" marks the parent directory opaque (trusted.overlay.opaque=y).
//    Other ".wh..wh." names (AUFS bookkeeping) are skipped. Archive xattrs in
//    the trusted.overlay.* namespace are ignored so a layer cannot forge
//    overlay redirects or metacopy state.
import { constants, promises as fsp, type Stats } from 'node:fs';
import { InvalidParameter, SystemError, isBerthError } from '../errors.js';
import { run, isErrno } from './fs-util.js';
import { readTar, type ByteReader, type TarHeader } from '../archive/tar/reader.js';

export interface UnpackResult {
  /** Bytes of regular files plus symlink targets (hardlinks counted once). */
  size: number;
  entries: number;
  /** Directories marked opaque (relative; "" is the layer root). */
  opaque: string[];
}

export interface UnpackOptions {
  /** Create device nodes (requires root). Skipped silently when false. */
  devices?: boolean;
}

/** Splits an archive path into safe components; refuses "..", NUL and empty names. */
export function safeComponents(p: string, what: string): string[] {
  if (p.includes('\0')) throw new InvalidParameter(`refusing ${what} ${JSON.stringify(p)}: path contains a NUL byte`);
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw new InvalidParameter(`refusing ${what} ${JSON.stringify(p)}: path contains '..'`);
  return parts;
}

const WH_PREFIX = '.wh.';
const WH_META_PREFIX = '.wh..wh.';
const WH_OPAQUE = '.wh..wh..opq';

export async function unpackLayer(reader: ByteReader, dest: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const devices = opts.devices ?? process.getuid?.() === 0;
  const abs = (rel: string): string => (rel === '' ? dest : `${dest}/${rel}`);
  /** Relative paths known to be real directories in `dest` (not symlinks). */
  const dirs = new Set<string>(['']);
  /** Directory mtimes to apply once all entries are written. */
  const dirTimes = new Map<string, Date>();
  const opaque = new Set<string>();
  let size = 0;
  let entries = 0;

  const forgetSubtree = (rel: string): void => {
    const prefix = rel + '/';
    for (const set of [dirs, opaque]) for (const k of [...set]) if (k === rel || k.startsWith(prefix)) set.delete(k);
    for (const k of [...dirTimes.keys()]) if (k === rel || k.startsWith(prefix)) dirTimes.delete(k);
  };

  const lstatOrNull = async (p: string): Promise<Stats | null> => {
    try {
      return await fsp.lstat(p);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return null;
      throw e;
    }
  };

  /** Makes sure every component of `parts` is a real directory, creating missing ones. */
  const ensureDirs = async (parts: string[], entryPath: string): Promise<void> => {
    let rel = '';
    for (const c of parts) {
      rel = rel === '' ? c : `${rel}/${c}`;
      if (dirs.has(rel)) continue;
      const st = await lstatOrNull(abs(rel));
      if (st === null) {
        await fsp.mkdir(abs(rel), 0o755);
        await fsp.chmod(abs(rel), 0o755);
      } else if (st.isSymbolicLink()) {
        throw new InvalidParameter(
          `refusing layer entry ${JSON.stringify(entryPath)}: parent ${JSON.stringify(rel)} is a symlink (extraction never follows symlinks)`,
        );
      } else if (!st.isDirectory()) {
        throw new InvalidParameter(`refusing layer entry ${JSON.stringify(entryPath)}: parent ${JSON.stringify(rel)} is not a directory`);
      }
      dirs.add(rel);
    }
  };

  /** Checks (without creating) that `parts` names an existing path reached through real directories. */
  const existingThroughDirs = async (parts: string[]): Promise<Stats | null> => {
    let rel = '';
    for (let i = 0; i < parts.length; i++) {
      rel = rel === '' ? parts[i]! : `${rel}/${parts[i]!}`;
      const last = i === parts.length - 1;
      if (!last && dirs.has(rel)) continue;
      const st = await lstatOrNull(abs(rel));
      if (st === null) return null;
      if (last) return st;
      if (!st.isDirectory()) return null;
    }
    return null;
  };

  /** Clears the final name for a new entry. Returns true when an existing directory should be merged. */
  const clearTarget = async (rel: string, wantDir: boolean): Promise<boolean> => {
    const st = await lstatOrNull(abs(rel));
    if (st === null) return false;
    if (st.isDirectory()) {
      if (wantDir) return true;
      await fsp.rm(abs(rel), { recursive: true, force: true });
      forgetSubtree(rel);
      return false;
    }
    await fsp.unlink(abs(rel));
    return false;
  };

  const mknod = async (p: string, kind: 'c' | 'b' | 'p', mode: number, major: number, minor: number): Promise<void> => {
    const args = ['-m', (mode & 0o7777).toString(8), '--', p, kind];
    if (kind !== 'p') args.push(String(major), String(minor));
    await run('mknod', args);
  };

  const applyXattrs = async (p: string, h: TarHeader): Promise<void> => {
    for (const [name, value] of h.xattrs) {
      if (name.startsWith('trusted.overlay.')) continue;
      // Best effort (the filesystem may not support the namespace). -h: never follow.
      await run('setfattr', ['-h', '-n', name, '-v', '0s' + value.toString('base64'), '--', p]).catch(() => {});
    }
  };

  const handle = async (h: TarHeader, body: () => AsyncGenerator<Buffer>): Promise<void> => {
    const parts = safeComponents(h.path, 'layer entry');
    const base = parts[parts.length - 1];

    // Whiteouts.
    if (base !== undefined && base.startsWith(WH_PREFIX)) {
      const parent = parts.slice(0, -1);
      if (base === WH_OPAQUE) {
        await ensureDirs(parent, h.path);
        opaque.add(parent.join('/'));
        return;
      }
      if (base.startsWith(WH_META_PREFIX)) return; // AUFS metadata (.wh..wh.plnk, .wh..wh.aufs)
      const name = base.slice(WH_PREFIX.length);
      if (name === '' || name === '.' || name === '..') {
        throw new InvalidParameter(`refusing layer entry ${JSON.stringify(h.path)}: invalid whiteout name`);
      }
      await ensureDirs(parent, h.path);
      const rel = [...parent, name].join('/');
      await clearTarget(rel, false);
      await mknod(abs(rel), 'c', 0o600, 0, 0);
      await fsp.lchown(abs(rel), h.uid, h.gid);
      return;
    }

    if (parts.length === 0) {
      if (h.type !== 'directory') throw new InvalidParameter(`refusing layer entry ${JSON.stringify(h.path)}: not a directory`);
      await fsp.chown(dest, h.uid, h.gid);
      await fsp.chmod(dest, h.mode);
      dirTimes.set('', h.mtime);
      return;
    }
    const rel = parts.join('/');
    const p = abs(rel);
    await ensureDirs(parts.slice(0, -1), h.path);

    switch (h.type) {
      case 'directory': {
        const merge = await clearTarget(rel, true);
        if (!merge) await fsp.mkdir(p, 0o700);
        await fsp.chown(p, h.uid, h.gid);
        await fsp.chmod(p, h.mode);
        await applyXattrs(p, h);
        dirs.add(rel);
        dirTimes.set(rel, h.mtime);
        return;
      }
      case 'file': {
        await clearTarget(rel, false);
        const fh = await fsp.open(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body()) {
            let off = 0;
            while (off < chunk.length) {
              const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
              off += bytesWritten;
            }
          }
          await fh.chown(h.uid, h.gid);
          await fh.chmod(h.mode);
          await fh.utimes(h.mtime, h.mtime);
        } finally {
          await fh.close();
        }
        await applyXattrs(p, h);
        size += h.size;
        return;
      }
      case 'symlink': {
        if (h.linkpath === '' || h.linkpath.includes('\0')) {
          throw new InvalidParameter(`refusing symlink ${JSON.stringify(h.path)}: empty or invalid target`);
        }
        await clearTarget(rel, false);
        await fsp.symlink(h.linkpath, p);
        await fsp.lchown(p, h.uid, h.gid);
        await fsp.lutimes(p, h.mtime, h.mtime);
        await applyXattrs(p, h);
        size += Buffer.byteLength(h.linkpath);
        return;
      }
      case 'hardlink': {
        const target = safeComponents(h.linkpath, `hardlink ${JSON.stringify(h.path)} ->`);
        if (target.length === 0) throw new InvalidParameter(`refusing hardlink ${JSON.stringify(h.path)}: empty target`);
        const targetRel = target.join('/');
        if (targetRel === rel) return; // a link to itself: nothing to do
        const st = await existingThroughDirs(target);
        if (st === null) {
          throw new InvalidParameter(
            `refusing hardlink ${JSON.stringify(h.path)} -> ${JSON.stringify(h.linkpath)}: target is not in the layer`,
          );
        }
        if (st.isDirectory()) {
          throw new InvalidParameter(`refusing hardlink ${JSON.stringify(h.path)} -> ${JSON.stringify(h.linkpath)}: target is a directory`);
        }
        await clearTarget(rel, false);
        await fsp.link(abs(targetRel), p);
        return;
      }
      case 'chardev':
      case 'blockdev':
      case 'fifo': {
        if (h.type !== 'fifo' && !devices) return;
        await clearTarget(rel, false);
        await mknod(p, h.type === 'fifo' ? 'p' : h.type === 'chardev' ? 'c' : 'b', h.mode, h.devmajor, h.devminor);
        await fsp.lchown(p, h.uid, h.gid);
        await fsp.chmod(p, h.mode);
        await fsp.lutimes(p, h.mtime, h.mtime);
        await applyXattrs(p, h);
        return;
      }
    }
  };

  for await (const entry of readTar(reader)) {
    entries++;
    try {
      await handle(entry.header, entry.body);
    } catch (e) {
      if (isBerthError(e)) throw e;
      if (isErrno(e, 'ENAMETOOLONG', 'EINVAL', 'ERR_INVALID_ARG_VALUE', 'ELOOP', 'ENOTDIR', 'EEXIST')) {
        throw new InvalidParameter(`cannot extract layer entry ${JSON.stringify(entry.header.path)}: ${(e as Error).message}`, { cause: e });
      }
      throw new SystemError(`cannot extract layer entry ${JSON.stringify(entry.header.path)}: ${(e as Error).message}`, { cause: e });
    }
  }

  // Deferred directory metadata. Re-check each path is still a real directory
  // reached without symlinks: a later entry may have replaced an ancestor.
  const stillDir = async (rel: string): Promise<boolean> => {
    if (rel === '') return true;
    const st = await existingThroughDirs(rel.split('/'));
    return st !== null && st.isDirectory();
  };
  const opaqueDone: string[] = [];
  for (const rel of opaque) {
    if (!(await stillDir(rel))) continue;
    await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', '--', abs(rel)]);
    opaqueDone.push(rel);
  }
  const times = [...dirTimes].sort((a, b) => b[0].length - a[0].length);
  for (const [rel, t] of times) {
    if (!(await stillDir(rel))) continue;
    await fsp.lutimes(abs(rel), t, t);
  }
  return { size, entries, opaque: opaqueDone.sort() };
}
