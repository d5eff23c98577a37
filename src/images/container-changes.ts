// docker diff: what a container changed in its root filesystem, read from
// its overlay upper directory against its image, as moby's layer changes
// report it. Kind 0 is changed, 1 added, 2 deleted. A whiteout is a
// deletion, and so is what an opaque directory hides. A name the image
// lacks is an addition, and so is everything under it. A name the image
// has counts as changed when its stat differs (type, mode, owner, device;
// for non-directories also size and mtime). Every directory above a change
// is reported changed too, before it. The runtime's empty placeholders
// (/etc/hosts, /proc...), which moby keeps in its init layer, are left out,
// as commit leaves them out.
import { lstat, readdir } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { isOpaqueDirectory, isWhiteout, RUNTIME_PLACEHOLDERS, selectEntries } from './archive/layer-diff-writer.js';
import type { ImageService } from './service.js';

export const CHANGE_MODIFY = 0;
export const CHANGE_ADD = 1;
export const CHANGE_DELETE = 2;

export interface Change {
  Path: string;
  Kind: typeof CHANGE_MODIFY | typeof CHANGE_ADD | typeof CHANGE_DELETE;
}

const NS = 1_000_000_000n;

/** Go's sameFsTime: equal, or the same second where one side has no nanoseconds (a filesystem that keeps none). */
function sameTime(a: bigint, b: bigint): boolean {
  return a === b || (a / NS === b / NS && (a % NS === 0n || b % NS === 0n));
}

/** moby's statDifferent: size and mtime say nothing about a directory. */
function statDifferent(a: BigIntStats, b: BigIntStats): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return true;
  if (a.isDirectory()) return false;
  return a.size !== b.size || !sameTime(a.mtimeNs, b.mtimeNs);
}

/** The names a directory has in the image: its layers' listings merged top-most first, whiteouts hiding what is below. */
async function imageNames(layerDirs: readonly string[]): Promise<string[]> {
  const seen = new Map<string, boolean>();
  for (const dir of layerDirs) {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      if (seen.has(d.name)) continue;
      let deleted = false;
      if (d.isCharacterDevice()) {
        const st = await lstat(join(dir, d.name), { bigint: true });
        deleted = st.rdev === 0n;
      }
      seen.set(d.name, !deleted);
    }
  }
  return [...seen].filter(([, present]) => present).map(([name]) => name).sort();
}

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

/** The changes of container `containerId` (its upper directory) over image `imageId`; empty when it has no writable layer yet. */
export async function containerChanges(images: Pick<ImageService, 'containerUpperDir' | 'lowerPath'>, containerId: string, imageId: string): Promise<Change[]> {
  const upper = images.containerUpperDir(containerId);
  if (upper === null) return [];
  const own: Change[] = [];
  const addedDirs = new Set<string>();
  for (const e of selectEntries(upper, RUNTIME_PLACEHOLDERS)) {
    const path = `/${e.rel.toString()}`;
    if (isWhiteout(e)) {
      own.push({ Path: path, Kind: CHANGE_DELETE });
      continue;
    }
    const lower = addedDirs.has(parentOf(path)) ? null : await images.lowerPath(imageId, path);
    if (lower === null) {
      own.push({ Path: path, Kind: CHANGE_ADD });
      if (e.type === 'directory') addedDirs.add(path);
      continue;
    }
    if (statDifferent(e.stat, await lstat(lower.paths[0]!, { bigint: true }))) own.push({ Path: path, Kind: CHANGE_MODIFY });
    if (isOpaqueDirectory(e) && lower.type === 'directory') {
      const kept = new Set(await readdir(e.abs.toString()));
      for (const name of await imageNames(lower.paths)) if (!kept.has(name)) own.push({ Path: `${path}/${name}`, Kind: CHANGE_DELETE });
    }
  }
  // Parents first: every directory above a change, unless it is a change itself.
  const out: Change[] = [];
  const listed = new Set<string>();
  for (const c of own) {
    const parts = c.Path.split('/').slice(1, -1);
    let dir = '';
    for (const part of parts) {
      dir += `/${part}`;
      if (listed.has(dir)) continue;
      listed.add(dir);
      out.push({ Path: dir, Kind: CHANGE_MODIFY });
    }
    listed.add(c.Path);
    out.push(c);
  }
  return out;
}
