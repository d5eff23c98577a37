// Resolving paths below a root without letting symlinks or '..' lead out of it.
//
// resolveInside(): for volume-subpath (spec 5.3). Like dockerd's safepath.Join:
// the subpath is cleaned lexically, every symlink is resolved the way the
// kernel would (absolute targets start again at the host '/'), and the result
// must still lie inside the (real) root, or InvalidParameter
// `path concatenation escapes the base directory, base: B, subpath: S`.
//
// resolveInScope(): for paths inside an image root filesystem (copy-up, the
// "volume over an existing file" check). Like dockerd's FollowSymlinkInScope:
// the root acts as '/', so absolute symlink targets and '..' never leave it.
//
// Both return a path string, which a concurrent writer can invalidate by
// swapping a component for a symlink. openInside() closes that gap the way
// dockerd's safepath does: it opens the resolved path as an O_PATH fd with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so whatever is mounted or
// copied through /proc/self/fd/N is exactly what was checked.
// mkdirAllInRoot() creates directories with openat2(RESOLVE_IN_ROOT).
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync } from 'node:fs';
import { lstat, readlink, realpath } from 'node:fs/promises';
import { InvalidParameter, NotFound, SystemError } from '../errors.js';
import { goErrnoText, goPathError } from '../util/go-errno.js';
import * as libc from '../util/libc.js';
import { cleanPath } from '../go/path.js';

const MAX_LINKS = 255;

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function isMissing(e: unknown): boolean {
  const c = code(e);
  return c === 'ENOENT' || c === 'ENOTDIR';
}

function parentOf(p: string): string {
  if (p === '/') return '/';
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function childOf(p: string, name: string): string {
  return p === '/' ? `/${name}` : `${p}/${name}`;
}

function isWithin(base: string, p: string): boolean {
  if (base === '/') return true;
  return p === base || p.startsWith(`${base}/`);
}

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

async function realRoot(root: string): Promise<string> {
  try {
    return await realpath(root);
  } catch (e) {
    if (isMissing(e)) throw new NotFound(`cannot access path ${root}: ${goPathError(e, 'lstat', root)}`, { cause: e });
    throw new SystemError(`error while resolving symlinks in base directory ${JSON.stringify(root)}: ${goPathError(e, 'lstat', root)}`, { cause: e });
  }
}

export interface ResolveInsideOptions {
  /** Fail with NotFound when the path does not exist (default true, as dockerd does for subpaths). */
  mustExist?: boolean;
  /** Same as `mustExist: false`. */
  allowMissing?: boolean;
}

/**
 * Resolves the relative `sub` inside `root` and returns the real path.
 * Throws InvalidParameter when `sub` is absolute or the result (after '..' and
 * symlinks) would lie outside root; NotFound when it does not exist and
 * `mustExist` is not false.
 */
export async function resolveInside(root: string, sub: string, opts: ResolveInsideOptions = {}): Promise<string> {
  const mustExist = opts.allowMissing === true ? false : (opts.mustExist ?? true);
  const base = await realRoot(root);
  const escapes = (): InvalidParameter =>
    new InvalidParameter(`path concatenation escapes the base directory, base: ${base}, subpath: ${sub}`);
  if (sub.startsWith('/')) throw escapes();
  const cleaned = cleanPath(sub);
  if (cleaned === '..' || cleaned.startsWith('../')) throw escapes();

  let resolved = base;
  const pending = components(cleaned);
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      resolved = parentOf(resolved);
      continue;
    }
    const next = childOf(resolved, c);
    let st;
    try {
      st = await lstat(next);
    } catch (e) {
      if (!isMissing(e)) throw new SystemError(`cannot access path ${next}: ${goPathError(e)}`, { cause: e });
      if (mustExist) {
        throw new NotFound(`cannot access path ${cleanPath(`${base}/${cleaned}`)}: ${goPathError(e)}`, { cause: e });
      }
      // The rest does not exist: nothing there can be a symlink.
      resolved = next;
      for (const r of pending) resolved = r === '..' ? parentOf(resolved) : childOf(resolved, r);
      pending.length = 0;
      break;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new InvalidParameter(`too many levels of symbolic links in subpath ${sub}`);
      const target = await readlink(next);
      if (target.startsWith('/')) resolved = '/';
      pending.unshift(...components(target));
      continue;
    }
    resolved = next;
  }
  if (!isWithin(base, resolved)) throw escapes();
  return resolved;
}

/**
 * Resolves `p` (absolute or relative) inside `root` as if root were '/':
 * absolute symlink targets restart at root and '..' stops at root, so the
 * result is always root or below. Missing components are kept lexically.
 */
export async function resolveInScope(root: string, p: string): Promise<string> {
  const base = await realRoot(root);
  const stack: string[] = [];
  const pending = components(p);
  let links = 0;
  const pathOf = (parts: string[]): string => (parts.length === 0 ? base : `${base === '/' ? '' : base}/${parts.join('/')}`);
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      stack.pop();
      continue;
    }
    const next = pathOf([...stack, c]);
    let st;
    try {
      st = await lstat(next);
    } catch (e) {
      if (!isMissing(e)) throw new SystemError(`cannot access path ${next}: ${goPathError(e)}`, { cause: e });
      stack.push(c);
      for (const r of pending) {
        if (r === '..') stack.pop();
        else stack.push(r);
      }
      pending.length = 0;
      break;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new InvalidParameter(`too many levels of symbolic links in ${p}`);
      const target = await readlink(next);
      if (target.startsWith('/')) stack.length = 0;
      pending.unshift(...components(target));
      continue;
    }
    stack.push(c);
  }
  return pathOf(stack);
}

/** A path opened as an O_PATH fd: use `fdPath(fd)` to mount or copy it, then close(). */
export interface OpenedPath {
  fd: number;
  /** The host path it had when it was resolved (for messages only). */
  path: string;
  isDirectory: boolean;
  close(): void;
}

function opened(fd: number, path: string): OpenedPath {
  let closed = false;
  return {
    fd,
    path,
    isDirectory: fstatSync(fd).isDirectory(),
    close: () => {
      if (closed) return;
      closed = true;
      libc.close(fd);
    },
  };
}

/**
 * resolveInside(), then opens the result by fd. The walk from the root's fd
 * refuses any symlink or '..' that leads out, so a component swapped for a
 * link after the check fails the open instead of being followed.
 */
export async function openInside(root: string, sub: string): Promise<OpenedPath> {
  const resolved = await resolveInside(root, sub);
  const base = await realRoot(root);
  const rel = resolved === base ? '.' : resolved.slice(base === '/' ? 1 : base.length + 1);
  let baseFd: number;
  try {
    baseFd = libc.openat2(libc.AT_FDCWD, base, { flags: libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC });
  } catch (e) {
    throw new SystemError(`cannot open ${base}: ${goErrnoText(e)}`, { cause: e });
  }
  try {
    const fd = libc.openat2(baseFd, rel, {
      flags: libc.O_PATH | libc.O_CLOEXEC,
      resolve: libc.RESOLVE_BENEATH | libc.RESOLVE_NO_SYMLINKS | libc.RESOLVE_NO_MAGICLINKS,
    });
    return opened(fd, resolved);
  } catch (e) {
    if (isMissing(e)) throw new NotFound(`cannot access path ${resolved}: ${goErrnoText(e)}`, { cause: e });
    const c = code(e);
    if (c === 'ELOOP' || c === 'EXDEV') {
      throw new InvalidParameter(`subpath ${sub} of ${base} changed while it was being resolved`, { cause: e });
    }
    throw new SystemError(`cannot open ${resolved}: ${goErrnoText(e)}`, { cause: e });
  } finally {
    libc.close(baseFd);
  }
}

/** Opens `p` inside the directory fd `rootFd` as the kernel would if rootFd were '/'. */
export function openInRoot(rootFd: number, p: string, flags = libc.O_PATH): number {
  return libc.openat2(rootFd, p === '' ? '/' : p, {
    flags: flags | libc.O_CLOEXEC,
    resolve: libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS,
  });
}

/**
 * mkdir -p of `p` inside `root`, every component resolved with
 * RESOLVE_IN_ROOT: a symlink planted anywhere on the way (even an absolute
 * one) stays inside root, so nothing is created outside it.
 */
export function mkdirAllInRoot(root: string, p: string, mode = 0o755): void {
  const rootFd = libc.openat2(libc.AT_FDCWD, root, { flags: libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC });
  try {
    mkdirAllAt(rootFd, p, mode);
  } finally {
    libc.close(rootFd);
  }
}

/**
 * mkdirAllInRoot() with the root given as an open directory fd. A link on
 * the way (dangling ones too) is followed inside the root, as runc and
 * dockerd do, so its target gets created there.
 */
export function mkdirAllAt(rootFd: number, p: string, mode = 0o755): void {
  let done: string[] = [];
  const pending = components(p);
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const parentFd = openInRoot(rootFd, done.join('/'), libc.O_PATH | libc.O_DIRECTORY);
    try {
      // Through the parent's fd: only the last component is looked up here.
      const entry = `${libc.fdPath(parentFd)}/${c}`;
      let st;
      try {
        st = lstatSync(entry);
      } catch (e) {
        if (code(e) !== 'ENOENT') throw e;
        try {
          libc.mkdirat(parentFd, c, mode);
        } catch (e2) {
          if (code(e2) !== 'EEXIST') throw e2;
        }
        st = lstatSync(entry);
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new InvalidParameter(`too many levels of symbolic links in ${p}`);
        const target = readlinkSync(entry);
        if (target.startsWith('/')) done = [];
        pending.unshift(...components(target));
        continue;
      }
      if (!st.isDirectory()) throw new InvalidParameter(`cannot create directory ${p}: /${[...done, c].join('/')} is not a directory`);
      done.push(c);
    } finally {
      libc.close(parentFd);
    }
  }
}

/**
 * Bind-mounts what `opened` names onto `target` (created as an empty
 * directory or file to match), by fd: the mount source cannot be swapped.
 * The mount is made private so its unmount stays here. Returns target.
 */
export function bindOpened(opened: OpenedPath, target: string): string {
  unbindOpened(target);
  try {
    if (opened.isDirectory) mkdirSync(target, { mode: 0o700 });
    else closeSync(openSync(target, 'wx', 0o600));
  } catch (e) {
    if (code(e) !== 'EEXIST') throw e;
  }
  try {
    libc.mount(libc.fdPath(opened.fd), target, null, libc.MS_BIND | libc.MS_REC);
    libc.mount(null, target, null, libc.MS_PRIVATE | libc.MS_REC);
  } catch (e) {
    unbindOpened(target);
    throw new SystemError(`cannot mount ${opened.path} on ${target}: ${goErrnoText(e)}`, { cause: e });
  }
  return target;
}

/** Unmounts everything stacked on `target`; false if something stays mounted. */
export function unbindOpened(target: string): boolean {
  for (let i = 0; i < 64; i++) {
    try {
      libc.umount2(target, libc.MNT_DETACH);
    } catch (e) {
      const c = code(e);
      return c === 'EINVAL' || c === 'ENOENT';
    }
  }
  return false;
}
