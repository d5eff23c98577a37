// Where a file's data is, from SEEK_DATA/SEEK_HOLE: holes are recorded in
// archives (PAX sparse 1.0) and kept as holes on restore and clone.
import { check, libcFunction } from '../util/libc.js';

const SEEK_CUR = 1;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

type LseekFn = (fd: number, offset: number, whence: number) => number | bigint;
let lseekFn: LseekFn | undefined;

function lseekBinding(): LseekFn {
  return libcFunction<LseekFn>('int64_t lseek(int fd, int64_t offset, int whence)');
}

/** Declares this module's libc functions now (see src/fs/native.ts). */
export function loadExtentBindings(): void {
  lseekFn ??= lseekBinding();
}

export interface Extent {
  offset: number;
  length: number;
}

/**
 * The data extents of the open file `fd` of `size` bytes, in order. A file
 * system without SEEK_DATA support reports one extent over the whole file.
 */
export function dataExtents(fd: number, size: number): Extent[] {
  lseekFn ??= lseekBinding();
  const out: Extent[] = [];
  let pos = 0;
  while (pos < size) {
    const start = Number(lseekFn(fd, pos, SEEK_DATA));
    if (start < 0) {
      try {
        check(start, 'lseek');
      } catch (e) {
        if ((e as { code?: string }).code === 'ENXIO') break; // only a hole is left
        if ((e as { code?: string }).code === 'EINVAL' && pos === 0) return [{ offset: 0, length: size }];
        throw e;
      }
    }
    if (start >= size) break;
    const end = Math.min(check(lseekFn(fd, start, SEEK_HOLE), 'lseek'), size);
    out.push({ offset: start, length: end - start });
    pos = end;
  }
  return out;
}

/** The current file offset of `fd` (where a descriptor someone else opened has got to). */
export function fileOffset(fd: number): number {
  lseekFn ??= lseekBinding();
  return check(lseekFn(fd, 0, SEEK_CUR), 'lseek');
}
