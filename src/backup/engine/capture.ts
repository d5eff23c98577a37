// Capturing a file under the freeze: a reflink (FICLONE) into the capture
// directory where the filesystem shares blocks, so the freeze costs no
// data copy, else a copy of its data extents (holes stay holes). The copy
// is what phase 2 reads once the containers run again.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { copyRange } from '../../fs/copy-range.js';
import { dataExtents } from '../../fs/extents.js';
import { reflink } from '../../fs/reflink.js';

export class CaptureDirectory {
  private count = 0;
  /** False once a reflink failed: the filesystem cannot, so copies follow without trying. */
  private canReflink = true;
  reflinked = 0;
  copied = 0;

  constructor(readonly dir: string) {}

  /**
   * Copies the file at `abs` into the capture directory; returns the copy's
   * path and the stat of what was copied (the open file's, so a file
   * replaced since it was looked at is captured as it is now).
   */
  capture(abs: Buffer): { path: string; stat: BigIntStats } {
    const src = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const stat = fstatSync(src, { bigint: true });
      const path = join(this.dir, String(++this.count));
      const dst = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        if (this.canReflink && reflink(dst, src)) {
          this.reflinked++;
        } else {
          this.canReflink = false;
          const size = Number(stat.size);
          const extents = stat.blocks * 512n < stat.size ? dataExtents(src, size) : [{ offset: 0, length: size }];
          for (const x of extents) copyRange(src, x.offset, dst, x.offset, x.length);
          ftruncateSync(dst, size);
          this.copied++;
        }
      } finally {
        closeSync(dst);
      }
      return { path, stat };
    } finally {
      closeSync(src);
    }
  }
}
