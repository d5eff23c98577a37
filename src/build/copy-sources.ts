// Where COPY and ADD take files from, and the cache key of what they take,
// as moby's copier computes it: each source path (globs expanded in walk
// order) resolved inside its tree, symlinks included; a file's key is
// "file:<TarSum>", a directory's "dir:<sha256 of its entries' sums>", several
// sources' "multi:<sha256 of their keys>". The build context has its sums
// from the archive (context.ts); an image's root filesystem (COPY --from)
// is summed as files are asked for, from their metadata and content.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp, type Stats } from 'node:fs';
import { InvalidParameter } from '../errors.js';
import { cleanPath } from '../go/path.js';
import { globMatcher } from '../util/pattern.js';
import { resolveInScope } from '../mounts/safe-path.js';
import { getXattr } from '../fs/xattrs.js';
import { tarsumHeader } from './context.js';
import { typeOf } from '../archive/tree-scan.js';
import type { TarEntryType } from '../archive/tar/reader.js';

/** A tree COPY and ADD read from. */
export interface SourceTree {
  readonly root: string;
  /** `rel` resolved inside the tree; undefined when it leads out of it. */
  fullPath(rel: string): Promise<string | undefined>;
  /** The TarSum of what `rel` resolves to (or `rel` itself for what was never summed). */
  hash(rel: string): Promise<string>;
}

/** One source of a COPY or ADD: its path in its tree (as given, cleaned) and its cache key. */
export interface CopySource {
  tree: SourceTree;
  path: string;
  hash: string;
}

const TYPE_FLAGS: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', directory: '5', fifo: '6' };

/** Go 1.8's file type bits in a tar mode, as moby's FileInfoHeader sets them. */
const TYPE_BITS: Record<TarEntryType, number> = { file: 0o100000, hardlink: 0o100000, symlink: 0o120000, chardev: 0o020000, blockdev: 0o060000, directory: 0o040000, fifo: 0o010000 };

/** An image's root filesystem as a source tree (moby's lazy source): files summed when first asked for. */
export class RootfsSourceTree implements SourceTree {
  private readonly sums = new Map<string, string>();

  constructor(readonly root: string) {}

  async fullPath(rel: string): Promise<string | undefined> {
    return resolveInScope(this.root, rel);
  }

  async hash(rel: string): Promise<string> {
    const full = await resolveInScope(this.root, rel);
    const relPath = full === this.root ? '.' : full.slice(this.root.length + 1);
    const known = this.sums.get(relPath);
    if (known !== undefined) return known;
    let st: Stats;
    try {
      st = await fsp.lstat(full);
    } catch {
      return relPath;
    }
    const type = typeOf(st) ?? 'file';
    const link = type === 'symlink' ? await fsp.readlink(full) : '';
    const capability = getXattr(full, 'security.capability');
    const hash = createHash('sha256').update(
      tarsumHeader({
        path: type === 'directory' ? `${relPath}/` : relPath,
        mode: (st.mode & 0o7777) | TYPE_BITS[type],
        uid: st.uid,
        gid: st.gid,
        size: type === 'file' ? st.size : 0,
        typeflag: TYPE_FLAGS[type],
        linkpath: link,
        devmajor: 0,
        devminor: 0,
        xattrs: capability !== undefined ? new Map([['security.capability', capability]]) : new Map(),
      }),
    );
    if (type === 'file' && st.size > 0) for await (const chunk of createReadStream(full) as AsyncIterable<Buffer>) hash.update(chunk);
    const sum = hash.digest('hex');
    this.sums.set(relPath, sum);
    return sum;
  }
}

/** Whether a source path has glob characters (an escaped one does not count). */
function hasWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** Every path below `dir` (relative to `root`), in filepath.WalkDir's order: lexical, parents first. */
async function walk(root: string, dir: string, out: string[]): Promise<void> {
  const names = (await fsp.readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const abs = `${dir}/${name}`;
    out.push(abs.slice(root.length + 1));
    if ((await fsp.lstat(abs)).isDirectory()) await walk(root, abs, out);
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A "dir:" key: the sums of a directory and everything below it, sorted. */
async function directoryHash(tree: SourceTree, full: string): Promise<string> {
  const rels = [full === tree.root ? '.' : full.slice(tree.root.length + 1)];
  const below: string[] = [];
  await walk(tree.root, full, below);
  const sums: string[] = [];
  for (const rel of full === tree.root ? below : [...rels, ...below]) sums.push(await tree.hash(rel));
  return `dir:${sha256(sums.sort().join(','))}`;
}

/**
 * The sources one COPY/ADD argument names in `tree`: a path, or a glob
 * matched against every path of the tree. `fromContext` words a missing
 * file as Docker does for the build context.
 */
export async function resolveSources(tree: SourceTree, orig: string, fromContext: boolean): Promise<CopySource[]> {
  let path = orig.replace(/^\//, '').replace(/^\.\//, '');
  if (hasWildcards(path)) {
    const match = globMatcher(path);
    const all: string[] = [];
    await walk(tree.root, tree.root, all);
    const out: CopySource[] = [];
    for (const rel of all) if (match?.(rel) === true) out.push(...(await single(tree, rel, fromContext)));
    return out;
  }
  path = path === '' ? '.' : path;
  return single(tree, path, fromContext);
}

async function single(tree: SourceTree, path: string, fromContext: boolean): Promise<CopySource[]> {
  const full = await tree.fullPath(path);
  if (full === undefined) throw new InvalidParameter(`forbidden path outside the build context: ${path} ()`);
  let st: Stats;
  try {
    st = await fsp.stat(full);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    const notFound = `stat ${path}: file does not exist`;
    throw new InvalidParameter(fromContext ? `file not found in build context or excluded by .dockerignore: ${notFound}` : notFound);
  }
  const hash = st.isDirectory() ? await directoryHash(tree, full) : `file:${await tree.hash(path)}`;
  return [{ tree, path: cleanPath(path), hash }];
}

/** The cache key of all of a COPY/ADD's sources. */
export function sourcesHash(sources: readonly CopySource[]): string {
  if (sources.length === 1) return sources[0]!.hash;
  return `multi:${sha256(sources.map((s) => s.hash).join(','))}`;
}
