// Where a repository file lives below a target's root, the same for every
// target (docs/backups.md, "Target"): `<kind>/<name>`, data files fanned out
// as `data/<first two chars>/<name>` so no directory (or listing page) holds
// them all.
import { InvalidParameter } from '../../errors.js';
import { FILE_KINDS, type FileKind } from './target.js';

// Names are IDs and fixed words; nothing that could climb out of a directory,
// hide (a leading dot) or look like a local target's temporary file.
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const RESERVED = '.tmp-';

function isFileName(kind: FileKind, name: string): boolean {
  return FILE_NAME.test(name) && !name.includes(RESERVED) && (kind !== 'data' || name.length >= 2);
}

/** Refuses a kind outside FILE_KINDS (callers in plain JavaScript, or names from the API). */
export function checkKind(kind: FileKind): void {
  if (!FILE_KINDS.includes(kind)) throw new InvalidParameter(`unknown repository file kind "${String(kind)}"`);
}

/** Refuses a kind outside FILE_KINDS and a name that is not a plain file name. */
export function checkFile(kind: FileKind, name: string): void {
  checkKind(kind);
  if (!isFileName(kind, name)) {
    const rule = kind === 'data' ? 'at least two of ' : '';
    throw new InvalidParameter(`invalid ${kind} file name "${name}": ${rule}letters, digits, ".", "_" and "-", not starting with "."`);
  }
}

/** The file's path below the root, '/'-separated. */
export function filePath(kind: FileKind, name: string): string {
  checkFile(kind, name);
  return kind === 'data' ? `data/${name.slice(0, 2)}/${name}` : `${kind}/${name}`;
}

/**
 * The name of the file at `path` (below the root, '/'-separated) when it is
 * one of `kind`'s files as filePath lays them out; undefined for anything
 * else found there (temporary files, foreign files, misplaced data files).
 */
export function fileNameAt(kind: FileKind, path: string): string | undefined {
  const parts = path.split('/');
  const name = parts[parts.length - 1] ?? '';
  if (!isFileName(kind, name)) return undefined;
  return path === filePath(kind, name) ? name : undefined;
}

/** True when `name` is a local target's temporary file for a put in progress or crashed. */
export function isTempName(name: string): boolean {
  return name.includes(RESERVED);
}

/** The temporary name a put of `name` writes before renaming it into place. */
export function tempName(name: string, random: string): string {
  return `${name}${RESERVED}${random}`;
}
