// overlayfs mounts for container root filesystems, and the stacked unmount
// that undoes them, through mount(2)/umount2(2): no process is started.
// Lower directories are named through descriptors (/proc/self/fd/N), which
// keeps the option string short whatever the data root's path, where
// Docker's overlay2 driver has to chdir in a child process instead.
import { closeSync, openSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidParameter, SystemError } from '../errors.js';
import * as libc from '../util/libc.js';

export interface OverlaySpec {
  /** Lower directories, top-most first. Relative entries are resolved against `cwd`. */
  lower: string[];
  upper: string;
  work: string;
  target: string;
  /** Directory the relative lower entries are in. */
  cwd?: string;
}

/** The page mount(2) copies its data string into. */
const MAX_OPTIONS = 4095;

function checkOptionPath(p: string): void {
  if (/[,:\\\n]/.test(p)) throw new InvalidParameter(`path ${JSON.stringify(p)} cannot be used in overlay mount options (contains ',', ':' or '\\')`);
}

export async function mountOverlay(spec: OverlaySpec): Promise<void> {
  if (spec.lower.length === 0) throw new SystemError('overlay mount needs at least one lower directory');
  for (const p of [spec.upper, spec.work]) checkOptionPath(p);
  const fds: number[] = [];
  try {
    for (const l of spec.lower) fds.push(openSync(resolve(spec.cwd ?? '.', l), libc.O_PATH | constants.O_DIRECTORY));
    const base = `lowerdir=${fds.map(libc.fdPath).join(':')},upperdir=${resolve(spec.upper)},workdir=${resolve(spec.work)}`;
    if (base.length + ',index=off'.length > MAX_OPTIONS) throw new SystemError(`overlay mount options too long (${spec.lower.length} layers)`);
    try {
      libc.mount('overlay', spec.target, 'overlay', 0, `${base},index=off`);
    } catch (e) {
      // Kernels without the index feature reject the option; retry plain.
      if ((e as { code?: string }).code !== 'EINVAL') throw e;
      libc.mount('overlay', spec.target, 'overlay', 0, base);
    }
  } catch (e) {
    if (e instanceof SystemError) throw e;
    throw new SystemError(`mount overlay at ${spec.target}: ${(e as Error).message}`, { cause: e });
  } finally {
    // The mount holds the directories itself; the descriptors only named them.
    for (const fd of fds) closeSync(fd);
  }
}

/** umount2(2): do not follow a symlink at the target. */
const UMOUNT_NOFOLLOW = 0x8;

/**
 * Unmounts every mount stacked on `target`; falls back to a lazy unmount
 * when busy. No-op when not mounted. umount2 itself says when nothing is
 * left (EINVAL: not a mount point), without reading the mount table.
 * `inBackground`: the first unmount runs on the thread pool.
 */
export async function unmount(target: string, opts: { inBackground?: boolean } = {}): Promise<void> {
  const p = resolve(target);
  // The first (slow) unmount off the event loop; what is left, and why a failure failed, synchronously.
  if (opts.inBackground) await libc.umount2InBackground(p, UMOUNT_NOFOLLOW);
  const gone = (e: unknown) => ['EINVAL', 'ENOENT'].includes((e as { code?: string }).code ?? '');
  for (let i = 0; i < 16; i++) {
    try {
      libc.umount2(p, UMOUNT_NOFOLLOW);
    } catch (e) {
      if (gone(e)) return;
      if ((e as { code?: string }).code !== 'EBUSY') throw new SystemError(`unmount ${p}: ${(e as Error).message}`, { cause: e });
      try {
        libc.umount2(p, libc.MNT_DETACH | UMOUNT_NOFOLLOW);
      } catch (e2) {
        if (gone(e2)) return;
        throw new SystemError(`unmount ${p}: ${(e2 as Error).message}`, { cause: e2 });
      }
    }
  }
  throw new SystemError(`unmount ${p}: still mounted`);
}
