// Resolving a path inside a container rootfs the way a chroot would: ".."
// stops at the root and symlinks (absolute or relative) are interpreted
// relative to the rootfs, so the result never points outside it.
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidParameter } from '../errors.js';
import { isErrno } from './fs-util.js';

/**
 * Returns the host path for `path` inside `rootfs`. Missing components are
 * appended as-is (the caller may be about to create them). The final
 * component is followed only with `followSymlinks` (default: true).
 * The rootfs must not be changing underneath (e.g. the container is not running).
 */
export async function resolveInRootfs(rootfs: string, path: string, opts: { followSymlinks?: boolean } = {}): Promise<string> {
  const root = resolve(rootfs);
  const follow = opts.followSymlinks ?? true;
  let parts: string[] = [];
  let queue = path.split('/');
  let hops = 0;
  let missing = false;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      parts.pop();
      continue;
    }
    if (missing) {
      parts.push(c);
      continue;
    }
    const candidate = join(root, ...parts, c);
    let isLink = false;
    try {
      isLink = (await fsp.lstat(candidate)).isSymbolicLink();
    } catch (e) {
      if (!isErrno(e, 'ENOENT', 'ENOTDIR')) throw e;
      missing = true;
    }
    const last = queue.every((q) => q === '' || q === '.');
    if (isLink && (!last || follow)) {
      if (++hops > 40) throw new InvalidParameter(`too many levels of symbolic links resolving ${path}`);
      const target = await fsp.readlink(candidate);
      if (target.startsWith('/')) parts = [];
      queue = [...target.split('/'), ...queue];
      continue;
    }
    parts.push(c);
  }
  return join(root, ...parts);
}
