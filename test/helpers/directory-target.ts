// A small Target over a local directory (docs/backups.md: <root>/<kind>/<name>,
// data fanned out by the first two hex digits; a file written under a
// temporary name, fsynced and renamed, so it is never seen half-written),
// for tests and benchmarks that need the repository on disk or shared with
// another process. The real one is src/backup/targets/local.ts.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFound } from '../../src/errors.js';
import type { FileKind, Target, TargetFile } from '../../src/backup/targets/target.js';

const notFound = (e: unknown, kind: FileKind, name: string): unknown =>
  (e as NodeJS.ErrnoException).code === 'ENOENT' ? new NotFound(`${kind}/${name} does not exist`) : e;

export class DirectoryTarget implements Target {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = `local:${root}`;
    mkdirSync(root, { recursive: true });
  }

  path(kind: FileKind, name: string): string {
    if (kind === 'config') return join(this.root, 'config');
    return kind === 'data' ? join(this.root, kind, name.slice(0, 2), name) : join(this.root, kind, name);
  }

  /** Nothing to release (the Target interface has close() for S3's connections). */
  close(): void {}

  async get(kind: FileKind, name: string): Promise<Buffer> {
    return readFile(this.path(kind, name)).catch((e: unknown) => Promise.reject(notFound(e, kind, name)));
  }

  async getRange(kind: FileKind, name: string, offset: number, length: number): Promise<Buffer> {
    const fh = await open(this.path(kind, name), 'r').catch((e: unknown) => Promise.reject(notFound(e, kind, name)));
    try {
      const buf = Buffer.allocUnsafeSlow(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`${kind}/${name} is shorter than ${offset + length} bytes`);
        done += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  async put(kind: FileKind, name: string, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    const path = this.path(kind, name);
    const dir = join(path, '..');
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      if (Buffer.isBuffer(body)) await fh.writeFile(body);
      else for await (const b of body) await fh.write(b);
      await fh.sync();
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    await rename(tmp, path);
  }

  async delete(kind: FileKind, name: string): Promise<void> {
    await rm(this.path(kind, name), { force: true });
  }

  async *list(kind: FileKind): AsyncIterable<TargetFile> {
    if (kind === 'config') {
      const st = await this.stat('config', 'config');
      if (st) yield st;
      return;
    }
    const dirs = kind === 'data' ? await subdirs(join(this.root, 'data')) : [join(this.root, kind)];
    for (const dir of dirs) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name.startsWith('.')) continue;
        const st = await stat(join(dir, name)).catch(() => undefined);
        if (st?.isFile()) yield { name, size: st.size };
      }
    }
  }

  async stat(kind: FileKind, name: string): Promise<TargetFile | undefined> {
    const st = await stat(this.path(kind, name)).catch(() => undefined);
    return st?.isFile() ? { name, size: st.size } : undefined;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).map((n) => join(dir, n));
}
