// File names in a volume are bytes, not text: a name that is not UTF-8 must
// survive export and import unchanged, so the fs layer takes Buffers as well
// as strings, and hands libc a NUL-terminated copy.
export type FsPath = string | Buffer;

const NUL = Buffer.alloc(1);

/** The argument to pass for a `const char *` path. */
export function cPath(p: FsPath): string | Buffer {
  return typeof p === 'string' ? p : Buffer.concat([p, NUL]);
}

/** Joins a directory and one name, byte-exact. */
export function joinPath(dir: FsPath, name: FsPath): Buffer {
  const d = typeof dir === 'string' ? Buffer.from(dir) : dir;
  const n = typeof name === 'string' ? Buffer.from(name) : name;
  if (d.length > 0 && d[d.length - 1] === 0x2f) return Buffer.concat([d, n]);
  return Buffer.concat([d, Buffer.from('/'), n]);
}
