// The build context `docker build` sends, made as the docker CLI makes it:
// a directory's tree as a tar (names relative to it, owner 0:0, hard links
// kept) without what .dockerignore excludes (the Dockerfile and
// .dockerignore themselves always go, the daemon drops them when they
// match); a Dockerfile from stdin or from outside the context added under a
// random name that .dockerignore then names; or stdin as it is, when it is
// an archive, or a Dockerfile alone.
import { randomBytes } from 'node:crypto';
import { lstatSync, openSync, readSync, closeSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { relative, resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import { encodeMember, END_OF_ARCHIVE, paddingFor, type TarMember } from '../archive/tar/writer.js';
import { detectCompression, LONGEST_MAGIC } from '../archive/compression.js';
import { IgnorePatterns, readIgnoreFile } from '../build/ignore-patterns.js';
import { CliError } from './errors.js';

const READ_CHUNK = 1 << 20;

/** A context ready to send: the tar stream and the Dockerfile's name inside it. */
export interface PreparedContext {
  body: Readable;
  dockerfile: string;
}

/** A file to put in the archive from memory (a Dockerfile from stdin). */
interface ExtraFile {
  name: string;
  data: Buffer;
}

function member(name: string, st: Stats, type: TarMember['type'], size: number, link?: string): TarMember {
  return {
    path: Buffer.from(name),
    type,
    mode: st.mode & 0o7777,
    uid: 0,
    gid: 0,
    size,
    // Whole seconds, as the docker CLI's archive writes them.
    mtimeNs: BigInt(Math.floor(st.mtimeMs / 1000)) * 1_000_000_000n,
    ...(link !== undefined ? { linkpath: Buffer.from(link) } : {}),
  };
}

function fileMember(name: string, data: Buffer): Buffer[] {
  const m: TarMember = { path: Buffer.from(name), type: 'file', mode: 0o600, uid: 0, gid: 0, size: data.length, mtimeNs: BigInt(Math.floor(Date.now() / 1000)) * 1_000_000_000n };
  return [encodeMember(m), data, Buffer.alloc(paddingFor(data.length))];
}

/** The tar of `dir` without what `patterns` excludes, in the CLI's walk order; `extra` files replace or join members at the end. */
async function* tarDirectory(dir: string, patterns: IgnorePatterns, extra: ExtraFile[]): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  const replaced = new Set(extra.map((f) => f.name));
  const exceptions = patterns.exclusionPatterns();
  async function* walk(abs: string, rel: string): AsyncGenerator<Buffer> {
    const names = readdirSync(abs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const childAbs = `${abs}/${name}`;
      const st = lstatSync(childAbs);
      if (patterns.matchesOrParentMatches(childRel)) {
        // An excluded directory is walked only when an exception could bring back something below it.
        if (st.isDirectory() && exceptions.some((p) => `${p}/`.startsWith(`${childRel}/`))) yield* walk(childAbs, childRel);
        continue;
      }
      if (replaced.has(childRel)) continue;
      if (st.isDirectory()) {
        yield encodeMember(member(childRel, st, 'directory', 0));
        yield* walk(childAbs, childRel);
      } else if (st.isSymbolicLink()) {
        yield encodeMember(member(childRel, st, 'symlink', 0, readlinkSync(childAbs)));
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) {
          yield encodeMember(member(childRel, st, 'hardlink', 0, first));
          continue;
        }
        if (st.nlink > 1) links.set(key, childRel);
        yield encodeMember(member(childRel, st, 'file', st.size));
        yield* fileData(childAbs, st.size);
      } else if (st.isFIFO()) {
        yield encodeMember(member(childRel, st, 'fifo', 0));
      }
      // Sockets and devices are not sent, as in the docker CLI's archive.
    }
  }
  yield* walk(dir, '');
  for (const f of extra) yield* fileMember(f.name, f.data);
  yield END_OF_ARCHIVE;
}

async function* fileData(path: string, size: number): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < size) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - done));
      const n = readSync(fd, buf, 0, buf.length, done);
      if (n === 0) throw new CliError(`${path}: file shrank while the build context was read`);
      done += n;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
  yield Buffer.alloc(paddingFor(size));
}

/** .dockerignore's patterns in `dir`, or none. */
function readDockerignore(dir: string): string[] {
  try {
    return readIgnoreFile(readFileSync(`${dir}/.dockerignore`, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CliError(`failed to read .dockerignore: ${(e as Error).message}`);
  }
}

/**
 * The context of a local directory. `dockerfile` is -f as given (relative to
 * the working directory, or "-" for stdin's content `stdinDockerfile`).
 */
export function directoryContext(dir: string, dockerfile: string, stdinDockerfile: Buffer | null): PreparedContext {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    throw new CliError(`unable to prepare context: path ${JSON.stringify(dir)} not found`);
  }
  if (!st.isDirectory()) throw new CliError(`unable to prepare context: context must be a directory: ${resolvePath(dir)}`);
  const root = resolvePath(dir);
  let excludes = readDockerignore(root);
  const extra: ExtraFile[] = [];
  let inside = 'Dockerfile';
  let outside: Buffer | null = stdinDockerfile;
  if (dockerfile !== '' && dockerfile !== '-') {
    const abs = resolvePath(dockerfile);
    const rel = relative(root, abs);
    if (rel.startsWith('..')) {
      try {
        outside = readFileSync(abs);
      } catch (e) {
        throw new CliError(`unable to open Dockerfile: ${(e as Error).message}`);
      }
    } else {
      inside = rel;
    }
  }
  if (outside !== null) {
    // The daemon finds it under a random name, and drops it and .dockerignore from the context.
    inside = `.dockerfile.${randomBytes(10).toString('hex')}`;
    let ignore: Buffer;
    try {
      ignore = readFileSync(`${root}/.dockerignore`);
    } catch {
      ignore = Buffer.alloc(0);
    }
    extra.push({ name: inside, data: outside }, { name: '.dockerignore', data: Buffer.concat([ignore, Buffer.from(`\n${inside}\n.dockerignore\n`)]) });
  } else {
    try {
      lstatSync(`${root}/${inside}`);
    } catch {
      if (inside === 'Dockerfile' && dockerfile === '') {
        try {
          lstatSync(`${root}/dockerfile`);
          inside = 'dockerfile';
        } catch {
          throw new CliError(`unable to prepare context: Cannot locate specified Dockerfile: ${inside}`);
        }
      } else {
        throw new CliError(`unable to prepare context: Cannot locate specified Dockerfile: ${dockerfile === '' ? inside : dockerfile}`);
      }
    }
  }
  // The Dockerfile and .dockerignore always go; the daemon drops them when they are excluded.
  const keep = new IgnorePatterns(excludes);
  if (keep.matchesOrParentMatches('.dockerignore')) excludes = [...excludes, '!.dockerignore'];
  if (outside === null && keep.matchesOrParentMatches(inside)) excludes = [...excludes, `!${inside}`];
  return { body: Readable.from(tarDirectory(root, new IgnorePatterns(excludes), extra)), dockerfile: inside };
}

/** The context from stdin: an archive as it is, or a Dockerfile alone. */
export async function stdinContext(input: AsyncIterable<Buffer>, dockerfile: string): Promise<PreparedContext> {
  const chunks: Buffer[] = [];
  const it = input[Symbol.asyncIterator]();
  let size = 0;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    chunks.push(r.value);
    size += r.value.length;
    if (size >= 512) break;
  }
  const head = Buffer.concat(chunks);
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  };
  const isTar = head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  if (isTar || detectCompression(head.subarray(0, LONGEST_MAGIC)) !== 'none') return { body: Readable.from(rest()), dockerfile: dockerfile || 'Dockerfile' };
  const parts: Buffer[] = [];
  for await (const c of rest()) parts.push(c);
  const text = Buffer.concat(parts);
  return { body: Readable.from([...fileMember('Dockerfile', text), END_OF_ARCHIVE]), dockerfile: 'Dockerfile' };
}
