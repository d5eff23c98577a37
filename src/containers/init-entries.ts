// What moby's init layer gives every container beyond the mountpoints the
// runtime makes: an empty /.dockerenv, which programs look for to know they
// run in a Docker container, and /etc/mtab as a symlink to /proc/mounts.
// berth has no init layer: they are made in the mounted rootfs at start
// where the image lacks them (an image's own /etc/mtab is kept), so they
// land in the writable layer, where commit, diff and export treat them as
// runtime placeholders (images/archive/layer-diff-writer.ts).
import { constants, closeSync, lstatSync, openSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openInside } from '../mounts/safe-path.js';
import { fdPath } from '../util/libc.js';

export const DOCKERENV = '.dockerenv';
export const MTAB_TARGET = '/proc/mounts';

function missing(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Makes /.dockerenv and /etc/mtab in the mounted `rootfs` where they do not exist; an image without /etc gets no mtab. */
export async function ensureInitEntries(rootfs: string): Promise<void> {
  const dockerenv = join(rootfs, DOCKERENV);
  if (missing(dockerenv)) {
    // O_EXCL|O_NOFOLLOW: the name is made here or left alone, never followed.
    try {
      closeSync(openSync(dockerenv, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o755));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  // Already there (every start after the first): no need to resolve /etc safely. (A plain lstat only reads.)
  if (!missing(join(rootfs, 'etc', 'mtab'))) return;
  let etc;
  try {
    // /etc resolved inside the rootfs: an image whose /etc is a symlink cannot point this outside it.
    etc = await openInside(rootfs, 'etc');
  } catch {
    // No /etc, or one that leads out of the rootfs: no mtab, as a start must not fail for it.
    return;
  }
  try {
    if (!etc.isDirectory) return;
    const mtab = join(fdPath(etc.fd), 'mtab');
    if (!missing(mtab)) return;
    try {
      symlinkSync(MTAB_TARGET, mtab);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  } finally {
    etc.close();
  }
}
