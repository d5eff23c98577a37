// The build context as dockerd's classic builder takes it (remotecontext's
// archive context): the request body, a tar (plain, gzip, bzip2, xz or
// zstd), unpacked into a private directory, every member's TarSum (version
// 1: its header fields but the mtime, and its content) kept as the cache
// key of what COPY and ADD take from it; then the Dockerfile read from it,
// and the Dockerfile and .dockerignore dropped from it when .dockerignore
// names them.
import { createHash } from 'node:crypto';
import { createWriteStream, openSync, closeSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidParameter } from '../errors.js';
import { cleanPath } from '../go/path.js';
import { decompressed } from '../archive/compression.js';
import { extractTree } from '../archive/tree-extract.js';
import { FileByteReader, readTar, type TarHeader } from '../archive/tar/reader.js';
import { END_OF_ARCHIVE } from '../archive/tar/writer.js';
import { resolveInScope } from '../mounts/safe-path.js';
import { IgnorePatterns, readIgnoreFile } from './ignore-patterns.js';

/** TarSum version 1's header part: every selected field but mtime, then the xattrs by name. */
export function tarsumHeader(h: Pick<TarHeader, 'path' | 'mode' | 'uid' | 'gid' | 'size' | 'typeflag' | 'linkpath' | 'devmajor' | 'devminor' | 'xattrs'>): Buffer {
  const fields: Array<[string, string]> = [
    ['name', h.path],
    ['mode', String(h.mode)],
    ['uid', String(h.uid)],
    ['gid', String(h.gid)],
    ['size', String(h.size)],
    ['typeflag', h.typeflag],
    ['linkname', h.linkpath],
    // TarSum ignores the user and group names, for Go < 1.10 compatibility.
    ['uname', ''],
    ['gname', ''],
    ['devmajor', String(h.devmajor)],
    ['devminor', String(h.devminor)],
  ];
  const parts: Buffer[] = fields.map(([k, v]) => Buffer.from(k + v));
  for (const [name, value] of [...h.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) parts.push(Buffer.from(name), value);
  return Buffer.concat(parts);
}

/** The context's relative name of a member (tarsum's path.Join(".", path.Join("/", name))). */
function memberKey(name: string): string {
  const abs = cleanPath(`/${name}`);
  return abs === '/' ? '.' : abs.slice(1);
}

export class BuildContext {
  private constructor(
    /** The unpacked context. */
    readonly root: string,
    private readonly sums: Map<string, string>,
  ) {}

  /** Unpacks the request body into `dir` (empty, private), keeping each member's TarSum. */
  static async open(body: AsyncIterable<Buffer>, dir: string): Promise<BuildContext> {
    const tarFile = join(dir, 'context.tar');
    const root = join(dir, 'context');
    await fsp.mkdir(root, { mode: 0o755 });
    const { tar } = await decompressed(body);
    await pipeline(tar, createWriteStream(tarFile, { mode: 0o600 }));
    // Go's tar reader takes an archive without its end-of-archive blocks, so dockerd does: supply them.
    await fsp.appendFile(tarFile, END_OF_ARCHIVE);
    const sums = new Map<string, string>();
    const fd = openSync(tarFile, 'r');
    try {
      if ((await fsp.stat(tarFile)).size > END_OF_ARCHIVE.length) {
        for await (const entry of readTar(new FileByteReader(fd, 0))) {
          const hash = createHash('sha256').update(tarsumHeader(entry.header));
          for await (const chunk of entry.body()) hash.update(chunk);
          sums.set(memberKey(entry.header.path), hash.digest('hex'));
        }
        await extractTree({ fd }, root);
      }
    } catch (e) {
      throw new InvalidParameter(`failed to read the build context: ${(e as Error).message}`, { cause: e });
    } finally {
      closeSync(fd);
      await fsp.rm(tarFile, { force: true });
    }
    return new BuildContext(root, sums);
  }

  /**
   * `rel` resolved inside the context, symlinks included; undefined when it
   * lies outside (a path with `..` leading out).
   */
  async fullPath(rel: string): Promise<string | undefined> {
    const joined = cleanPath(`${this.root}/${rel}`);
    if (joined !== this.root && !joined.startsWith(`${this.root}/`)) return undefined;
    return resolveInScope(this.root, joined.slice(this.root.length));
  }

  /** The cache key of a path: the TarSum of what it resolves to, or the path itself for what the archive did not hold. */
  async hash(rel: string): Promise<string> {
    const full = await this.fullPath(rel);
    const key = full === undefined || full === this.root ? '.' : full.slice(this.root.length + 1);
    return this.sums.get(key) ?? rel;
  }

  /** Reads the Dockerfile (`name`, or `dockerfile` for a missing default `Dockerfile`), then drops what .dockerignore names of it and itself. */
  async takeDockerfile(name: string): Promise<string> {
    let text: Buffer | undefined;
    let used = name;
    for (const candidate of name === 'Dockerfile' ? ['Dockerfile', 'dockerfile'] : [name]) {
      const full = await this.fullPath(candidate);
      if (full === undefined) throw new InvalidParameter(`forbidden path outside the build context: ${candidate} ()`);
      try {
        text = await fsp.readFile(full);
        used = candidate;
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      }
    }
    if (text === undefined) throw new InvalidParameter(`Cannot locate specified Dockerfile: ${name}`);
    if (text.length === 0) throw new InvalidParameter(`the Dockerfile (${used}) cannot be empty`);
    await this.dropIgnored(['.dockerignore', used]);
    return text.toString('utf8');
  }

  /** moby's removeDockerfile: of `names`, what .dockerignore matches leaves the context. */
  private async dropIgnored(names: string[]): Promise<void> {
    let patterns: IgnorePatterns;
    try {
      patterns = new IgnorePatterns(readIgnoreFile(await fsp.readFile(join(this.root, '.dockerignore'), 'utf8')));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new InvalidParameter(`error reading .dockerignore: ${(e as Error).message}`, { cause: e });
    }
    for (const name of names) {
      if (!patterns.matchesOrParentMatches(cleanPath(name))) continue;
      const full = await this.fullPath(name);
      if (full !== undefined && full !== this.root) await fsp.rm(full, { recursive: true, force: true });
    }
  }
}
