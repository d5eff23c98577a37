// A sandbox's network namespace, made by berthd before its container (as
// dockerd's libnetwork makes one per sandbox) and kept as a bind mount of
// the namespace on a file: runc joins it by that path, and berthd plumbs the
// container's interfaces into it while runc is still creating the container,
// instead of after. The files live in the data root, which berthd keeps a
// shared mount: the docker cp helpers (its slaves) see the unmount at the
// container's end too, so no copy of the mount keeps an ended namespace alive.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MNT_DETACH, MS_BIND, mount, umount2 } from '../util/libc.js';
import { withNetlink } from './netlink.js';
import { inNewNetworkNamespace, netlinkIn } from './netns.js';

/**
 * A new network namespace, bind-mounted on `path`. berthd's thread enters
 * it to make it and comes straight back, with no JavaScript in between.
 */
export function createNamespace(path: string): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(path, '', { mode: 0o444 });
  try {
    inNewNetworkNamespace(() => mount('/proc/thread-self/ns/net', path, null, MS_BIND));
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  }
}

/** Brings up the loopback of the namespace at `path` (runc does it only in a namespace it makes itself). */
export function loopbackUp(path: string): void {
  withNetlink(
    () => netlinkIn(path),
    (nl) => nl.setUp('lo'),
  );
}

/** Unmounts and deletes a namespace file (nothing to do when it is gone); the kernel frees the namespace once nothing uses it. */
export function removeNamespace(path: string): void {
  try {
    umount2(path, MNT_DETACH);
  } catch {
    // not mounted (any more)
  }
  rmSync(path, { force: true });
}

/** The namespace files in `dir` whose container is not in `keep` (left by a crash or a reboot). */
export function strayNamespaces(dir: string, keep: ReadonlySet<string>): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => !keep.has(n)).map((n) => join(dir, n));
}
