// `berth cp`: files between a container and the local filesystem through
// GET/HEAD/PUT /containers/{id}/archive, with docker's copy rules
// (go-archive CopyInfoSourcePath / CopyInfoDestinationPath /
// PrepareArchiveCopy / CopyTo): where the archive is extracted and how its
// top-level entry is renamed. Archives are berth's own tar codec: packed by
// the tree exporter, extracted by merging into the local directory.
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, basename, isAbsolute, join, resolve, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { exportTree, extractTree } from '../../archive/tree.js';
import { DaemonError, type ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { errorText } from '../../errors.js';
import { humanSizeWithPrecision } from '../../go/units.js';
import { defineCommand } from '../command.js';
import type { PathStat } from '../../api/types/index.js';
import { goPathError } from '../../util/go-errno.js';

const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/** docker cp's splitCpArg: "ctr:path" vs a local path (absolute, or ./x:y). */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0) return { container: '', path: arg };
  const ctr = arg.slice(0, colon);
  if (ctr.startsWith('.')) return { container: '', path: arg };
  return { container: ctr, path: arg.slice(colon + 1) };
}

function specifiesCurrentDir(p: string): boolean {
  return posix.basename(p) === '.' || p === '.' || p.endsWith('/.');
}

function hasTrailingSeparator(p: string): boolean {
  return p.length > 0 && p.endsWith('/');
}

/** archive.SplitPathDirEntry. */
export function splitPathDirEntry(p: string): { dir: string; base: string } {
  let cleaned = posix.normalize(p);
  if (cleaned.length > 1 && cleaned.endsWith('/')) cleaned = cleaned.slice(0, -1);
  if (specifiesCurrentDir(p)) cleaned = `${cleaned === '/' ? '' : cleaned}/.`;
  // Go's filepath.Base("/") is "/".
  return { dir: posix.dirname(cleaned), base: cleaned === '/' ? '/' : posix.basename(cleaned) };
}

/** archive.PreserveTrailingDotOrSeparator. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  if (!specifiesCurrentDir(cleaned) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(cleaned)) cleaned += '/';
    cleaned += '.';
  }
  if (!hasTrailingSeparator(cleaned) && hasTrailingSeparator(original)) cleaned += '/';
  return cleaned;
}

function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(resolve(p), p);
}

function errnoText(e: unknown, op: string, p: string): Error {
  return new CliError(goPathError(e, op, p));
}

/** archive.CopyInfoSourcePath for a local source. */
export function copyInfoSourcePath(p: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    try {
      resolved = realpathSync(p);
    } catch (e) {
      throw errnoText(e, 'lstat', p);
    }
    if (basename(resolved) !== basename(p.replace(/\/+$/, ''))) rebaseName = basename(p.replace(/\/+$/, ''));
    resolved = preserveTrailingDotOrSeparator(resolved, p);
  } else if (specifiesCurrentDir(p)) {
    const dir = p.replace(/\/?\.$/, '') || '/';
    let realDir: string;
    try {
      realDir = realpathSync(dir);
    } catch (e) {
      throw errnoText(e, 'lstat', dir);
    }
    resolved = `${realDir === '/' ? '' : realDir}/.`;
  } else {
    let realDir: string;
    try {
      realDir = realpathSync(dirname(p));
    } catch (e) {
      throw errnoText(e, 'lstat', p.replace(/\/+$/, ''));
    }
    resolved = join(realDir, basename(p)) + (hasTrailingSeparator(p) ? '/' : '');
  }
  let st;
  try {
    st = lstatSync(resolved);
  } catch (e) {
    throw errnoText(e, 'lstat', resolved.replace(/\/$/, ''));
  }
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** archive.CopyInfoDestinationPath for a local destination. */
export function copyInfoDestinationPath(p: string): CopyInfo {
  let path = p;
  let st;
  try {
    st = lstatSync(path);
  } catch {
    st = undefined;
  }
  for (let n = 0; st && st.isSymbolicLink(); n++) {
    if (n > 10) throw new CliError(`too many symlinks in ${p}`);
    let target = readlinkSync(path);
    if (!isAbsolute(target)) target = join(splitPathDirEntry(path).dir, target);
    path = target;
    try {
      st = lstatSync(path);
    } catch {
      st = undefined;
    }
  }
  if (!st) {
    const parent = splitPathDirEntry(path).dir;
    let ps;
    try {
      ps = statSync(parent);
    } catch (e) {
      throw errnoText(e, 'stat', parent);
    }
    if (!ps.isDirectory()) throw new CliError('not a directory');
    return { path, exists: false, isDir: false, rebaseName: '' };
  }
  return { path, exists: true, isDir: st.isDirectory(), rebaseName: '' };
}

export interface CopyPlan {
  /** Directory the archive is extracted into. */
  dstDir: string;
  /** Rename the archive's top-level entry from → to (none when undefined). */
  rebase?: { from: string; to: string };
}

/** archive.PrepareArchiveCopy: where to extract and what to rename. */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): CopyPlan {
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst.path);
  let { base: srcBase } = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CliError('cannot copy directory');
  if (dst.exists || src.isDir) {
    if (src.rebaseName) srcBase = src.rebaseName;
    return { dstDir, rebase: { from: srcBase, to: dstBase } };
  }
  if (hasTrailingSeparator(dst.path)) throw new CliError('no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dstDir, rebase: { from: srcBase, to: dstBase } };
}

/** Renames an archive path whose first component is `from` (RebaseArchiveEntries). */
export function rebasePath(name: string, from: string, to: string): string {
  if (from === to) return name;
  if (from === '.') {
    if (name === '.' || name === './') return to + (name.endsWith('/') ? '/' : '');
    if (name.startsWith('./')) return `${to}/${name.slice(2)}`;
    return `${to}/${name}`;
  }
  if (name === from || name === `${from}/`) return to + name.slice(from.length);
  if (name.startsWith(`${from}/`)) return to + name.slice(from.length);
  return name;
}

function decodeStat(header: string | string[] | undefined): PathStat | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  try {
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat;
  } catch {
    return undefined;
  }
}

async function statContainerPath(api: ApiClient, container: string, path: string): Promise<PathStat> {
  const res = await api.request('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  if (!stat) throw new CliError('unable to decode container path stat header');
  return stat;
}

function summary(size: number, dest: string): void {
  process.stderr.write(`Successfully copied ${humanSizeWithPrecision(size, 3)} to ${dest}\n`);
}

async function copyFromContainer(api: ApiClient, container: string, srcPath: string, dest: string, followLink: boolean, quiet: boolean): Promise<void> {
  let dstPath = dest;
  if (dstPath !== '-') {
    dstPath = resolveLocalPath(dstPath);
    const parent = dirname(posix.normalize(dstPath));
    try {
      statSync(parent);
    } catch {
      throw new CliError(`invalid output path: directory "${parent}" does not exist`);
    }
  }
  let src = srcPath;
  let rebaseName = '';
  if (followLink) {
    try {
      const st = await statContainerPath(api, container, src);
      if (st.mode & GO_MODE_SYMLINK) {
        let target = st.linkTarget;
        if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(src).dir, target);
        rebaseName = splitPathDirEntry(src).base;
        src = target;
      }
    } catch {
      // docker ignores the stat error here
    }
  }
  const { res } = await api.stream('GET', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: src } });
  if (dstPath === '-') {
    await new Promise<void>((resolvePromise, reject) => {
      res.on('data', (c: Buffer) => process.stdout.write(c));
      res.on('end', () => resolvePromise());
      res.on('error', reject);
    });
    return;
  }
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  const srcInfo: CopyInfo = { path: src, exists: true, isDir: !!stat && (stat.mode & GO_MODE_DIR) !== 0, rebaseName };
  const dstInfo = copyInfoDestinationPath(dstPath);
  let plan: CopyPlan;
  try {
    plan = prepareArchiveCopy(srcInfo, dstInfo);
  } catch (e) {
    res.destroy();
    throw e;
  }
  const actualBase = splitPathDirEntry(src).base;
  const finalName = plan.rebase ? plan.rebase.to : rebaseName || actualBase;
  let copied = 0;
  const counted = async function* (): AsyncGenerator<Buffer> {
    for await (const c of res as AsyncIterable<Buffer>) {
      copied += c.length;
      yield c;
    }
  };
  await extractArchive(counted(), { dstDir: plan.dstDir, rebase: finalName !== actualBase ? { from: actualBase, to: finalName } : undefined });
  if (!quiet) summary(copied, dstPath);
}

/** `rebasePath` on names as bytes (latin1 keeps every byte; the names given are taken as UTF-8). */
function rebaseName(from: string, to: string): (name: Buffer) => Buffer {
  const fromBytes = Buffer.from(from).toString('latin1');
  const toBytes = Buffer.from(to).toString('latin1');
  return (name) => Buffer.from(rebasePath(name.toString('latin1'), fromBytes, toBytes), 'latin1');
}

/**
 * Untars into plan.dstDir (merging with what is there, as the docker CLI's
 * CopyTo: no chown, exact modes, no directory replaced by a file or the
 * reverse), renaming the top-level entry.
 */
export async function extractArchive(stream: AsyncIterable<Buffer>, plan: CopyPlan): Promise<void> {
  try {
    await extractTree(stream, plan.dstDir, {
      merge: { owner: 'process', overwriteDirNonDir: false },
      ...(plan.rebase ? { rename: rebaseName(plan.rebase.from, plan.rebase.to) } : {}),
    });
  } catch (e) {
    throw new CliError(errorText(e));
  }
}

/** A tar of a local source as TarResource(srcInfo) makes it, its top entry renamed to plan's name. */
export function packSource(src: CopyInfo, rebase?: { from: string; to: string }): Readable {
  const { dir, base } = splitPathDirEntry(src.path);
  const to = rebase?.to ?? (src.rebaseName || base);
  // The root as a source: its contents, as "/." would give.
  return exportTree(posix.join(dir, base), { topName: to === '/' ? '.' : to });
}

async function copyToContainer(api: ApiClient, container: string, srcPath: string, dstPath: string, opts: { followLink: boolean; archive: boolean; quiet: boolean }): Promise<void> {
  const src = srcPath === '-' ? '-' : resolveLocalPath(srcPath);
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  try {
    let st = await statContainerPath(api, container, dstPath);
    if (st.mode & GO_MODE_SYMLINK) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(dstPath).dir, target);
      dstInfo.path = target;
      st = await statContainerPath(api, container, target);
    }
    const isDir = (st.mode & GO_MODE_DIR) !== 0;
    const special = st.mode & (2 ** 26 | 2 ** 25 | 2 ** 24 | 2 ** 21); // device, pipe, socket, char device
    if (special) throw new CliError(`destination "${container}:${dstPath}" must be a directory or a regular file`);
    dstInfo.exists = true;
    dstInfo.isDir = isDir;
  } catch (e) {
    if (e instanceof CliError) throw e;
    // Stat errors are ignored: the parent may still exist.
  }

  let body: Readable;
  let resolvedDst: string;
  if (src === '-') {
    if (!dstInfo.isDir) throw new CliError(`destination "${container}:${dstPath}" must be a directory`);
    body = process.stdin;
    resolvedDst = dstInfo.path;
  } else {
    const srcInfo = copyInfoSourcePath(src, opts.followLink);
    const plan = prepareArchiveCopy(srcInfo, dstInfo);
    body = packSource(srcInfo, plan.rebase);
    resolvedDst = plan.dstDir;
  }
  let copied = 0;
  body.on('data', (c: Buffer) => {
    copied += c.length;
  });
  const query: Record<string, string> = {};
  if (opts.archive) query.copyUIDGID = 'true';
  query.noOverwriteDirNonDir = 'true';
  query.path = resolvedDst;
  await api.request('PUT', `/containers/${encodeURIComponent(container)}/archive`, {
    query,
    raw: body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  if (!opts.quiet) summary(copied, `${container}:${dstInfo.path}`);
}

export function registerCpCommand(parent: Command, client: () => ApiClient): void {
  defineCommand<{ followLink?: boolean; archive?: boolean; quiet?: boolean }>(
    parent,
    {
      name: 'cp',
      use: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-',
      extraUse: ['cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH'],
      description: 'Copy files/folders between a container and the local filesystem',
      arity: { exact: 2 },
    },
    (cmd) =>
      cmd
        .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
        .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
        .option('-q, --quiet', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached'),
    async (args, opts) => {
      const [source, destination] = args as [string, string];
      if (source === '') throw new CliError('source can not be empty');
      if (destination === '') throw new CliError('destination can not be empty');
      const quiet = opts.quiet ?? !process.stdout.isTTY;
      const s = splitCpArg(source);
      const d = splitCpArg(destination);
      const api = client();
      if (s.container && d.container) throw new CliError('copying between containers is not supported');
      if (!s.container && !d.container) throw new CliError('must specify at least one container source');
      try {
        if (s.container) await copyFromContainer(api, s.container, s.path, d.path, !!opts.followLink, quiet);
        else await copyToContainer(api, d.container, s.path, d.path, { followLink: !!opts.followLink, archive: !!opts.archive, quiet });
      } catch (e) {
        if (e instanceof DaemonError || e instanceof CliError) throw e;
        throw new CliError((e as Error).message);
      }
    },
  );
}
