// What `docker cp`'s HEAD and GET report of a path in a container (the
// X-Docker-Container-Path-Stat header): Go's os.FileMode bits for
// directories and links, as dockerd sends them. Shared by the archive
// helper and berthd's own answer for running containers.
import type { Stats } from 'node:fs';
import { posix } from 'node:path';

const GO_DIR = 0x80000000;
const GO_SYMLINK = 0x08000000;

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** The path as the container sees it: absolute, with '.' and '..' folded. */
export function cleanContainerPath(p: string): string {
  return posix.normalize(posix.join('/', p));
}

/** Docker follows the last component when the path ends in '/' or '/.'. */
export function followsLast(p: string): boolean {
  return p.endsWith('/') || p.endsWith('/.');
}

/** The stat of `clean` (a cleanContainerPath) from its lstat; `linkTarget` for a symlink. */
export function pathStatOf(clean: string, st: Stats, linkTarget: string): PathStat {
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode = (mode | GO_DIR) >>> 0;
  if (st.isSymbolicLink()) mode = (mode | GO_SYMLINK) >>> 0;
  return { name: posix.basename(clean) || '/', size: st.size, mode, mtime: st.mtime.toISOString(), linkTarget };
}
