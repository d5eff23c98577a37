// COPY and ADD into a build step's writable layer, as moby's copier
// (builder/dockerfile/copy.go) does it: a directory's content is copied into
// the destination (created), a file to the destination or, when that is a
// directory or ends in "/", into it under its own name; ADD unpacks a local
// tar archive (plain, gzip, bzip2, xz or zstd) into the destination
// instead. What is copied is owned by root, by --chown's user and group
// (names looked up in the image's /etc/passwd and /etc/group), or, for
// COPY --from without --chown, by whoever owned it in the source image; a
// destination directory that existed keeps its owner. --chmod sets the mode
// of everything copied, as BuildKit does. Files move as tar streams through
// the archive codec, so nothing is ever written through a symlink.
import { createReadStream, lchownSync, promises as fsp, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { InvalidParameter } from '../errors.js';
import { cleanPath } from '../go/path.js';
import { decompressed } from '../archive/compression.js';
import { exportTree } from '../archive/tree-export.js';
import { extractTree } from '../archive/tree-extract.js';
import { ByteReader, readTar } from '../archive/tar/reader.js';
import { mkdirAllInRoot, resolveInScope } from '../mounts/safe-path.js';
import type { CopySource } from './copy-sources.js';

export interface Identity {
  uid: number;
  gid: number;
}

export interface CopyOptions {
  /** The destination, absolute in the image, a trailing "/" kept. */
  dest: string;
  /** Unpack local tar archives (ADD). */
  decompress: boolean;
  /** The owner of what is copied; null keeps the source's (COPY --from without --chown). */
  owner: Identity | null;
  /** --chmod's mode, or null. */
  mode: number | null;
}

/** COPY/ADD's destination made absolute against the working directory, a trailing "/" kept (moby's normalizeDest). */
export function normalizeDest(workingDir: string, requested: string): string {
  if (requested.startsWith('/')) return requested;
  const dest = cleanPath(`/${workingDir}/${requested}`);
  return requested.endsWith('/') && dest !== '/' ? `${dest}/` : dest;
}

/** --chmod: an octal mode (BuildKit also takes symbolic ones; berth does not yet). */
export function parseChmod(value: string): number | null {
  if (value === '') return null;
  if (!/^[0-7]{1,4}$/.test(value)) throw new InvalidParameter(`invalid chmod parameter: ${value}: berth takes octal modes only`);
  return parseInt(value, 8);
}

/** A user or group name or number from a passwd/group file of the image. */
async function lookupId(file: string, name: string, what: 'user' | 'group'): Promise<number> {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new InvalidParameter(`can't find ${what === 'user' ? 'uid' : 'gid'} for ${what} ${name}: open ${what === 'user' ? '/etc/passwd' : '/etc/group'}: ${(e as Error).message}`);
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2]!)) return Number(fields[2]);
  }
  throw new InvalidParameter(`can't find ${what === 'user' ? 'uid' : 'gid'} for ${what} ${name}: no such ${what}: ${name}`);
}

/** --chown's "user[:group]" as ids, names looked up in the root filesystem `root` (moby's parseChownFlag). */
export async function parseChown(root: string, chown: string): Promise<Identity> {
  const parts = chown.split(':');
  if (parts.length > 2) throw new InvalidParameter(`invalid chown string format: ${chown}`);
  const user = parts[0]!;
  const group = parts[1] ?? parts[0]!;
  try {
    return {
      uid: await lookupId(await resolveInScope(root, '/etc/passwd'), user, 'user'),
      gid: await lookupId(await resolveInScope(root, '/etc/group'), group, 'group'),
    };
  } catch (e) {
    throw new InvalidParameter(`unable to convert uid/gid chown string to host mapping: ${(e as Error).message}`, { cause: e });
  }
}

/** moby's IsArchivePath: the file, decompressed, starts with a tar header. */
async function isTarArchive(path: string): Promise<boolean> {
  const file = createReadStream(path);
  try {
    const { tar } = await decompressed(file as AsyncIterable<Buffer>);
    try {
      for await (const _ of readTar(new ByteReader(tar as AsyncIterable<Buffer>))) return true;
      return false;
    } finally {
      tar.destroy();
    }
  } catch {
    return false;
  } finally {
    file.destroy();
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await fsp.stat(path);
  } catch {
    return null;
  }
}

/** Applies `mode` to what was copied: the entries of `source` mapped onto `dest`, never through a symlink. */
async function chmodCopied(source: string, dest: string, mode: number): Promise<void> {
  const st = await fsp.lstat(dest);
  if (st.isSymbolicLink()) return;
  await fsp.chmod(dest, mode);
  if (!st.isDirectory() || !(await fsp.lstat(source)).isDirectory()) return;
  for (const name of await fsp.readdir(source)) await chmodCopied(`${source}/${name}`, `${dest}/${name}`, mode);
}

/** mkdir -p of `dir` (in the image) with the directories it makes owned by `owner` (moby's MkdirAllAndChownNew); its host path. */
async function makeParents(root: string, dir: string, owner: Identity | null): Promise<string> {
  const missing: string[] = [];
  for (let d = dir; d !== '/' && (await statOrNull(await resolveInScope(root, d))) === null; d = dirname(d)) missing.push(d);
  mkdirAllInRoot(root, dir, 0o755);
  if (owner !== null) for (const d of missing) lchownSync(await resolveInScope(root, d), owner.uid, owner.gid);
  return resolveInScope(root, dir);
}

/** Copies one source into the writable root filesystem `root`. */
async function copyOne(root: string, src: CopySource, opts: CopyOptions): Promise<void> {
  const srcPath = await src.tree.fullPath(src.path);
  const srcStat = srcPath !== undefined ? await statOrNull(srcPath) : null;
  if (srcPath === undefined || srcStat === null) throw new InvalidParameter(`source path not found: stat ${src.path}: no such file or directory`);
  const destPath = await resolveInScope(root, opts.dest);
  const owner = opts.owner !== null ? { owner: opts.owner } : { owner: 'archive' as const };
  if (srcStat.isDirectory()) {
    const before = await statOrNull(destPath);
    if (before !== null && !before.isDirectory()) throw new InvalidParameter(`failed to copy directory: cannot copy a directory over ${opts.dest}: not a directory`);
    mkdirAllInRoot(root, opts.dest, 0o755);
    await extractTree(exportTree(srcPath), destPath, { merge: { owner: owner.owner, overwriteDirNonDir: true } });
    // A destination directory that was there keeps its owner (moby's fixPermissions skips it).
    if (before !== null && opts.owner !== null) lchownSync(destPath, before.uid, before.gid);
    if (opts.mode !== null) await chmodCopied(srcPath, destPath, opts.mode);
    return;
  }
  if (opts.decompress && (await isTarArchive(srcPath))) {
    mkdirAllInRoot(root, opts.dest, 0o755);
    const { tar } = await decompressed(createReadStream(srcPath) as AsyncIterable<Buffer>);
    await extractTree(tar, destPath, { merge: { owner: 'archive', overwriteDirNonDir: true } });
    return;
  }
  const destIsDir = (await statOrNull(destPath))?.isDirectory() === true;
  const target = destIsDir || opts.dest.endsWith('/') ? `${destPath}/${basename(src.path)}` : destPath;
  const parentInImage = target.slice(root.length) === '' ? '/' : dirname(target.slice(root.length));
  const parent = await makeParents(root, parentInImage, opts.owner);
  await extractTree(exportTree(srcPath, { topName: basename(target) }), parent, { merge: { owner: owner.owner, overwriteDirNonDir: true } });
  if (opts.mode !== null) await chmodCopied(srcPath, `${parent}/${basename(target)}`, opts.mode);
}

/** Copies every source into the writable root filesystem `root`. */
export async function copySources(root: string, sources: readonly CopySource[], opts: CopyOptions): Promise<void> {
  for (const src of sources) await copyOne(root, src, opts);
}

