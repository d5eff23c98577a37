// Capturing a file under the freeze: a reflink (FICLONE) into the capture
// directory where the filesystem shares blocks, so the freeze costs no
// data copy, else a copy of its data extents (holes stay holes). The copy
// is what phase 2 reads once the containers run again.
//
// Small files may go to a memory-backed area instead (a tmpfs the caller
// mounted): making a file there costs a fraction of making one on a
// journalling filesystem, and a container writing many small files keeps
// many of them changing, all to be captured while it is frozen.
import { closeSync, constants, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, unlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { copyRange } from '../../fs/copy-range.js';
import { dataExtents } from '../../fs/extents.js';
import { reflink } from '../../fs/reflink.js';

/** A memory-backed directory that small captures share, up to a budget, across the scans of one freeze. */
export class SmallCaptureArea {
  private used = 0;
  private full = false;

  constructor(
    readonly dir: string,
    /** The largest file captured here, in bytes. */
    readonly fileLimit = 1 << 20,
    /** What all captures here may take together, in bytes (the tmpfs's size or less). */
    readonly budget = 256 << 20,
  ) {}

  /** Claims room for a file of `size` bytes; false when it does not fit (the caller copies it elsewhere). */
  claim(size: number): boolean {
    // tmpfs allocates whole pages, and an inode besides.
    const cost = Math.ceil(size / 4096) * 4096 + 4096;
    if (this.full || size > this.fileLimit || this.used + cost > this.budget) return false;
    this.used += cost;
    return true;
  }

  /** The area ran out of room before its budget said so: no more claims. */
  markFull(): void {
    this.full = true;
  }
}

export class CaptureDirectory {
  private count = 0;
  /** False once a reflink failed: the filesystem cannot, so copies follow without trying. */
  private canReflink = true;
  /** This scan's directory in the small-capture area, made at its first small capture. */
  private smallDir: string | undefined;
  reflinked = 0;
  copied = 0;

  constructor(
    readonly dir: string,
    private readonly small?: SmallCaptureArea,
  ) {}

  /**
   * Copies the file at `abs` into the capture directory; returns the copy's
   * path and the stat of what was copied (the open file's, so a file
   * replaced since it was looked at is captured as it is now).
   */
  capture(abs: Buffer): { path: string; stat: BigIntStats } {
    const src = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const stat = fstatSync(src, { bigint: true });
      const name = String(++this.count);
      if (this.small?.claim(Number(stat.size))) {
        const path = this.copySmall(src, stat, name);
        if (path) return { path, stat };
      }
      const path = join(this.dir, name);
      const dst = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        if (this.canReflink && reflink(dst, src)) {
          this.reflinked++;
        } else {
          this.canReflink = false;
          copyData(src, dst, stat);
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

  /** Removes this scan's small captures. */
  discardSmall(): void {
    if (this.smallDir) rmSync(this.smallDir, { recursive: true, force: true });
  }

  /** A copy in the small-capture area, or undefined when it is full (nothing left behind). */
  private copySmall(src: number, stat: BigIntStats, name: string): string | undefined {
    this.smallDir ??= mkdtempSync(join(this.small!.dir, 'scan-'));
    const path = join(this.smallDir, name);
    const dst = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      copyData(src, dst, stat);
      this.copied++;
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      this.small!.markFull();
      unlinkSync(path);
      return undefined;
    } finally {
      closeSync(dst);
    }
  }
}

/** Copies a file's data extents (holes stay holes) and its size. */
function copyData(src: number, dst: number, stat: BigIntStats): void {
  const size = Number(stat.size);
  const extents = stat.blocks * 512n < stat.size ? dataExtents(src, size) : [{ offset: 0, length: size }];
  for (const x of extents) copyRange(src, x.offset, dst, x.offset, x.length);
  ftruncateSync(dst, size);
}
