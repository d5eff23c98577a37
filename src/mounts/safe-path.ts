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
// Both return a path string. A component swapped for a symlink after the call
// is not detected (dockerd keeps an O_PATH fd for that); callers that mount
// the result should do it promptly and only in trees they control.
import { lstat, readlink, realpath } from 'node:fs/promises';
import { InvalidParameter, NotFound, SystemError, errorText } from '../errors.js';
import { goClean } from './util.js';

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
    if (isMissing(e)) throw new NotFound(`cannot access path ${root}: ${errorText(e)}`, { cause: e });
    throw new SystemError(`error while resolving symlinks in base directory ${JSON.stringify(root)}: ${errorText(e)}`, { cause: e });
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
  const cleaned = goClean(sub);
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
      if (!isMissing(e)) throw new SystemError(`cannot access path ${next}: ${errorText(e)}`, { cause: e });
      if (mustExist) {
        throw new NotFound(`cannot access path ${goClean(`${base}/${cleaned}`)}: ${errorText(e)}`, { cause: e });
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
      if (!isMissing(e)) throw new SystemError(`cannot access path ${next}: ${errorText(e)}`, { cause: e });
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
