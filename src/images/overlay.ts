// overlayfs mounts for container root filesystems, and the stacked unmount
// that undoes them.
import { resolve } from 'node:path';
import { InvalidParameter, SystemError } from '../errors.js';
import { isMountPoint } from '../util/mount.js';
import { run } from './fs-util.js';

export interface OverlaySpec {
  /** Lower directories, top-most first. Relative entries are resolved against `cwd`. */
  lower: string[];
  upper: string;
  work: string;
  target: string;
  /** Working directory for mount(8), so lowerdir entries can be short relative paths. */
  cwd?: string;
}

function checkOptionPath(p: string): void {
  if (/[,:\\\n]/.test(p)) throw new InvalidParameter(`path ${JSON.stringify(p)} cannot be used in overlay mount options (contains ',', ':' or '\\')`);
}

export async function mountOverlay(spec: OverlaySpec): Promise<void> {
  if (spec.lower.length === 0) throw new SystemError('overlay mount needs at least one lower directory');
  for (const p of [...spec.lower, spec.upper, spec.work]) checkOptionPath(p);
  const base = `lowerdir=${spec.lower.join(':')},upperdir=${spec.upper},workdir=${spec.work}`;
  if (base.length > 4000) throw new SystemError(`overlay mount options too long (${spec.lower.length} layers)`);
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `${base},index=off`, spec.target], { cwd: spec.cwd });
  } catch (e) {
    // Kernels without the index feature reject the option; retry plain.
    if (isMountPoint(resolve(spec.target))) return;
    try {
      await run('mount', ['-t', 'overlay', 'overlay', '-o', base, spec.target], { cwd: spec.cwd });
    } catch (e2) {
      throw new SystemError(`mount overlay at ${spec.target}: ${(e2 as Error).message}`, { cause: e });
    }
  }
}

/** Unmounts every mount stacked on `target`; falls back to a lazy unmount when busy. No-op when not mounted. */
export async function unmount(target: string): Promise<void> {
  const p = resolve(target);
  for (let i = 0; i < 16 && isMountPoint(p); i++) {
    try {
      await run('umount', [p]);
    } catch (e) {
      if (!isMountPoint(p)) break;
      try {
        await run('umount', ['-l', p]);
      } catch (e2) {
        if (isMountPoint(p)) throw new SystemError(`unmount ${p}: ${(e2 as Error).message}`, { cause: e });
      }
    }
  }
  if (isMountPoint(p)) throw new SystemError(`unmount ${p}: still mounted`);
}
