// Extended attributes through l*xattr(2): never following symlinks, values
// as raw bytes (binary and empty values are common: security.capability,
// system.posix_acl_*), every namespace the caller may touch.
import { check, libcFunction } from '../util/libc.js';
import { cPath, type FsPath } from './path.js';

type ListFn = (path: string | Buffer, list: Buffer | null, size: number) => number;
type GetFn = (path: string | Buffer, name: string, value: Buffer | null, size: number) => number;
type SetFn = (path: string | Buffer, name: string, value: Buffer, size: number, flags: number) => number;

let fns: { list: ListFn; get: GetFn; set: SetFn } | undefined;

/** Declares this module's libc functions now (see src/fs/native.ts). */
export function loadXattrBindings(): void {
  libc();
}

function libc(): NonNullable<typeof fns> {
  fns ??= {
    list: libcFunction<ListFn>('long llistxattr(const char *path, _Out_ uint8_t *list, size_t size)'),
    get: libcFunction<GetFn>('long lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)'),
    set: libcFunction<SetFn>('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)'),
  };
  return fns;
}

const UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP']);

function isCode(e: unknown, codes: Set<string> | string): boolean {
  const code = (e as { code?: string }).code ?? '';
  return typeof codes === 'string' ? code === codes : codes.has(code);
}

/** Names of the attributes on `path` (the link itself for a symlink); [] where the filesystem has none. */
export function listXattrs(path: FsPath): string[] {
  const p = cPath(path);
  for (;;) {
    let size: number;
    try {
      size = check(libc().list(p, null, 0), 'llistxattr', path);
    } catch (e) {
      if (isCode(e, UNSUPPORTED)) return [];
      throw e;
    }
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    try {
      const n = check(libc().list(p, buf, size), 'llistxattr', path);
      return buf.subarray(0, n).toString('latin1').split('\0').filter((s) => s !== '').map((s) => Buffer.from(s, 'latin1').toString());
    } catch (e) {
      if (isCode(e, 'ERANGE')) continue; // grew between the two calls
      throw e;
    }
  }
}

/** One attribute's value, or undefined when it went away meanwhile. */
export function getXattr(path: FsPath, name: string): Buffer | undefined {
  const p = cPath(path);
  for (;;) {
    try {
      const size = check(libc().get(p, name, null, 0), 'lgetxattr', path);
      const buf = Buffer.alloc(size);
      if (size === 0) return buf;
      const n = check(libc().get(p, name, buf, size), 'lgetxattr', path);
      return buf.subarray(0, n);
    } catch (e) {
      if (isCode(e, 'ENODATA')) return undefined;
      if (isCode(e, 'ERANGE')) continue;
      throw e;
    }
  }
}

/** Every attribute of `path`, sorted by name so archives are reproducible. */
export function readXattrs(path: FsPath): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of listXattrs(path).sort()) {
    const v = getXattr(path, name);
    if (v !== undefined) out.set(name, v);
  }
  return out;
}

export function setXattr(path: FsPath, name: string, value: Buffer): void {
  check(libc().set(cPath(path), name, value, value.length, 0), 'lsetxattr', path);
}
