// Range reads (Target.getRange), checked and reported alike by every target.
import { InvalidParameter, SystemError } from '../../errors.js';

export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new InvalidParameter(`invalid range: offset ${offset}, length ${length}: both must be whole numbers, not negative`);
  }
}

/** A file that ends before the range asked of it: the repository is damaged, or the reader's index is wrong. */
export function shortRead(location: string, path: string, offset: number, length: number, got: number): SystemError {
  return new SystemError(`${location}: ${path}: short read: wanted ${length} bytes at offset ${offset}, got ${got}`);
}
