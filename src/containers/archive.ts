// The archive endpoints behind `docker cp`. Each operation runs in a
// short-lived helper process (archive-helper.ts) whose root is the
// container's own filesystem view, so every path, symlink and '..' is
// resolved by the kernel inside the container, never on the host. berthd
// only decides which mounts make up the view, refuses writes to read-only
// mounts by name (Docker's messages), and checks every entry of an upload
// before anything is extracted (all or nothing). Archives both ways are
// berth's own tar codec (src/archive/), as for images and volumes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, fstatSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ArchiveMembers } from '../archive/archive-members.js';
import { decompressed } from '../archive/compression.js';
import { ByteReader, readTar, type TarEntryType } from '../archive/tar/reader.js';
import { Conflict, Forbidden, InvalidParameter, NotFound, SystemError, errorText } from '../errors.js';
import { generateId } from '../util/random-id.js';
import type { ArchiveHelperRequest, HelperReply, HelperStat, ViewMount } from './archive-helper.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord } from './types.js';
import { cleanContainerPath, followsLast, pathStatOf } from './path-stat.js';
import * as libc from '../util/libc.js';

export type PathStat = HelperStat;

const HELPER = fileURLToPath(new URL('./archive-helper.js', import.meta.url));

interface HelperRun {
  child: ChildProcess;
  /** {ready} once the helper is inside the view, or its error. */
  ready: HelperReply;
  /** The reply after that: the stat (stat, get) or the end (put). */
  first: Promise<HelperReply>;
  /** Resolves when the helper has exited and said how it went. */
  finished: Promise<HelperReply>;
}

function spawnHelper(): ChildProcess {
  // A slave of berthd's mounts: the data root is a shared mount (util/shared-mount.ts),
  // so rootfs and volume mounts made after this helper started reach it, and the
  // view it builds stays its own.
  const child = spawn('unshare', ['--mount', '--propagation', 'slave', '--', process.execPath, HELPER], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  // An idle helper's pipes may break (it exits with berthd's channel); the exit status tells.
  for (const s of [child.stdin, child.stdout, child.stderr, child.stdio[3]]) s?.on('error', () => undefined);
  child.once('error', () => undefined);
  return child;
}

/**
 * Helpers started ahead of time, so a `docker cp` (a HEAD then a GET or PUT)
 * does not wait for Node to boot twice. Started at the first use, not at
 * daemon start; each serves one request.
 */
export class HelperPool {
  private readonly spares: ChildProcess[] = [];
  private closed = false;

  constructor(private readonly size = 2) {}

  take(): ChildProcess {
    let child: ChildProcess | undefined;
    while ((child = this.spares.shift())) {
      if (child.exitCode === null && child.signalCode === null) break;
    }
    const taken = child ?? spawnHelper();
    this.refill();
    return taken;
  }

  private refill(): void {
    if (this.closed) return;
    while (this.spares.length < this.size) {
      const c = spawnHelper();
      c.once('exit', () => {
        const i = this.spares.indexOf(c);
        if (i >= 0) this.spares.splice(i, 1);
      });
      this.spares.push(c);
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.spares.splice(0)) c.kill('SIGKILL');
  }
}

interface Attached {
  child: ChildProcess;
  /** The i-th reply, or the helper's failure if it exited first. */
  reply(i: number): Promise<HelperReply>;
  finished: Promise<HelperReply>;
}

function attach(child: ChildProcess, req: ArchiveHelperRequest): Attached {
  (child.stdio[3] as NodeJS.WritableStream).write(`${JSON.stringify(req)}\n`);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const replies: HelperReply[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  const control = child.stdio[3] as Readable;
  control.setEncoding('utf8');
  control.on('data', (d: string) => {
    buffered += d;
    let i;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      try {
        replies.push(JSON.parse(line) as HelperReply);
      } catch {
        // not ours: ignore
      }
      for (const w of waiters.splice(0)) w();
    }
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    child.once('error', (e) => {
      stderr += errorText(e);
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  const lost = (code: number | null): HelperReply => ({
    error: { kind: 'system', message: `archive helper failed (exit ${code}): ${stderr.trim() || 'no output'}` },
  });
  const reply = (n: number) =>
    new Promise<HelperReply>((resolve) => {
      const check = () => {
        const r = replies[n] ?? replies.find((x) => 'error' in x);
        if (r) resolve(r);
        else waiters.push(check);
      };
      check();
      void exited.then((code) => resolve(replies[n] ?? replies.find((x) => 'error' in x) ?? lost(code)));
    });
  const finished = exited.then((code) => {
    const last = replies[replies.length - 1];
    if (last && 'error' in last) return last;
    if (code === 0 && last && 'done' in last) return last;
    return lost(code);
  });
  return { child, reply, finished };
}

/**
 * A helper with the container's view entered. Mounts under the data root
 * reach spare helpers (it is a shared mount); one that predates a mount the
 * view needs anyway (berthd could not share its root, or the mount is outside
 * it) says "stale" and a fresh helper takes over.
 */
async function startHelper(pool: HelperPool, req: ArchiveHelperRequest): Promise<HelperRun> {
  let run = attach(pool.take(), req);
  let ready = await run.reply(0);
  if ('stale' in ready) {
    run.child.kill('SIGKILL');
    run = attach(spawnHelper(), req);
    ready = await run.reply(0);
    if ('stale' in ready) {
      // A fresh namespace is a copy of berthd's: the mounts changed under us meanwhile.
      run.child.kill('SIGKILL');
      ready = { error: { kind: 'system', message: "the container's filesystem changed while it was being prepared; try again" } };
    }
  }
  return { child: run.child, ready, first: run.reply(1), finished: run.finished };
}

/**
 * lstat (stat for a path ending in '/' or '/.') of `containerPath` resolved
 * by openat2 under `root` with `resolve`; NotFound as Docker words it; null
 * when a helper must answer (a link, a link on the way under
 * RESOLVE_NO_SYMLINKS, anything unexpected).
 */
function statUnder(root: number, ref: string, containerPath: string, resolve: number): PathStat | null {
  const clean = cleanContainerPath(containerPath);
  let fd: number;
  try {
    fd = libc.openat2(root, clean === '/' ? '.' : clean.slice(1), {
      flags: libc.O_PATH | libc.O_CLOEXEC | (followsLast(containerPath) ? 0 : libc.O_NOFOLLOW),
      resolve,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFound(`Could not find the file ${containerPath} in container ${ref}`);
    return null;
  }
  try {
    const st = fstatSync(fd);
    return st.isSymbolicLink() ? null : pathStatOf(clean, st, '');
  } finally {
    libc.close(fd);
  }
}

/** berth copies neither from nor to a container's tmpfs mounts. */
function refuseTmpfs(c: ContainerRecord, containerPath: string): void {
  const clean = cleanContainerPath(containerPath);
  const tmpfs = c.tmpfs.find((m) => clean === m.destination || clean.startsWith(`${m.destination}/`));
  if (tmpfs) throw new InvalidParameter(`copying from or to the tmpfs mount ${tmpfs.destination} is not supported`);
}

function toError(r: HelperReply, containerPath: string, ref: string): Error | undefined {
  if (!('error' in r)) return undefined;
  const { kind, message } = r.error;
  if (kind === 'not-found') return new NotFound(`Could not find the file ${containerPath} in container ${ref}`);
  if (kind === 'invalid') return new InvalidParameter(message);
  if (kind === 'conflict') return new Conflict(message);
  if (kind === 'read-only') return new Forbidden(message);
  return new SystemError(message);
}

/** Docker's refusal of upload entries that would land outside the extraction directory, in its words. */
export function checkUploadEntry(entry: { path: string; type: TarEntryType; linkpath?: string }, dest: string): void {
  const name = entry.path;
  if (name.startsWith('/')) throw new InvalidParameter(`archive entry ${JSON.stringify(name)} has an absolute path`);
  const clean = posix.normalize(name);
  if (clean === '..' || clean.startsWith('../')) {
    throw new InvalidParameter(`${JSON.stringify(name)} is outside of ${JSON.stringify(dest)}`);
  }
  if (entry.type === 'hardlink') {
    const target = entry.linkpath ?? '';
    const t = posix.normalize(target);
    if (target.startsWith('/') || t === '..' || t.startsWith('../')) {
      throw new InvalidParameter(`invalid hardlink ${JSON.stringify(name)} -> ${JSON.stringify(target)}`);
    }
  }
}

/**
 * Reads the whole spooled upload and admits every entry as the helper's
 * extraction will (the codec's own rules, after Docker's); nothing is
 * extracted yet.
 */
async function checkUpload(file: string, dest: string): Promise<void> {
  // The helper merges, so names are taken as a merge takes them.
  const members = new ArchiveMembers('lexical');
  let refused: Error | undefined;
  try {
    for await (const { header } of readTar(new ByteReader(createReadStream(file)), { requireEnd: true })) {
      try {
        checkUploadEntry(header, dest);
        members.admit(header);
      } catch (e) {
        refused = e as Error;
        break;
      }
    }
  } catch (e) {
    throw new InvalidParameter(`invalid tar archive: ${errorText(e)}`, { cause: e });
  }
  if (refused) throw refused;
}

export class ArchiveService {
  private readonly pool = new HelperPool();

  constructor(private readonly containers: ContainerService) {}

  /** Daemon shutdown: the idle helpers go. */
  close(): void {
    this.pool.close();
  }

  private async request(ref: string, op: ArchiveHelperRequest['op'], containerPath: string, extra: Partial<ArchiveHelperRequest> = {}) {
    const c = this.containers.resolve(ref);
    refuseTmpfs(c, containerPath);
    const view = await this.containers.archiveView(c.id);
    let expect: ArchiveHelperRequest['expect'];
    try {
      expect = [view.rootfs, ...view.mounts.filter((m) => !m.tmpfs).map((m) => m.source)].map((path) => {
        const st = statSync(path);
        return { path, dev: st.dev, ino: st.ino };
      });
    } catch (e) {
      await view.release();
      throw new SystemError(`cannot prepare the container's filesystem: ${errorText(e)}`, { cause: e });
    }
    const req: ArchiveHelperRequest = {
      op,
      rootfs: view.rootfs,
      readonlyRootfs: view.readonlyRootfs,
      mounts: view.mounts,
      expect,
      path: containerPath,
      ...extra,
    };
    return { c, view, req };
  }

  async stat(ref: string, containerPath: string): Promise<PathStat> {
    const c = this.containers.resolve(ref);
    refuseTmpfs(c, containerPath);
    const quick = this.statRunning(c.id, ref, containerPath);
    if (quick) return quick;
    const { view, req } = await this.request(ref, 'stat', containerPath);
    try {
      const inView = this.statInView(view, ref, containerPath);
      if (inView) return inView;
      const run = await startHelper(this.pool, req);
      const r = 'error' in run.ready ? run.ready : await run.finished.then(async (end) => ('error' in end ? end : await run.first));
      const err = toError(r, containerPath, ref);
      if (err) throw err;
      return (r as { stat: PathStat }).stat;
    } finally {
      await view.release();
    }
  }

  /**
   * The stat of a path in a running container, without a helper: resolved
   * by the kernel from the container's own root (/proc/<init>/root: its
   * mounts in place, '..' and absolute links kept inside). null when a
   * helper must answer: the container is not running, the path is a link
   * (whose target Docker reports resolved), or it is under the runtime's
   * own /proc, /sys or /dev, which are not in docker cp's view.
   */
  private statRunning(id: string, ref: string, containerPath: string): PathStat | null {
    const clean = cleanContainerPath(containerPath);
    if (['/proc', '/sys', '/dev'].some((m) => clean === m || clean.startsWith(`${m}/`))) return null;
    const root = this.containers.openRunningRoot(id);
    if (root === null) return null;
    try {
      return statUnder(root, ref, containerPath, libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS);
    } finally {
      libc.close(root);
    }
  }

  /**
   * The stat of a path of a container's rootfs that no mount of the view
   * covers and no link leads through (a link on the way, or a mount, is for
   * the helper's real view), without a helper.
   */
  private statInView(view: { rootfs: string; mounts: ViewMount[] }, ref: string, containerPath: string): PathStat | null {
    const clean = cleanContainerPath(containerPath);
    if (view.mounts.some((m) => clean === m.destination || clean.startsWith(m.destination === '/' ? '/' : `${m.destination}/`))) return null;
    let root: number;
    try {
      root = libc.openat(libc.AT_FDCWD, view.rootfs, libc.O_PATH | libc.O_DIRECTORY);
    } catch {
      return null;
    }
    try {
      return statUnder(root, ref, containerPath, libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_SYMLINKS | libc.RESOLVE_NO_MAGICLINKS);
    } finally {
      libc.close(root);
    }
  }

  /** A tar of the path (its basename as the top entry), plus its stat. */
  async get(ref: string, containerPath: string): Promise<{ stat: PathStat; stream: Readable; done: () => Promise<void> }> {
    const { view, req } = await this.request(ref, 'get', containerPath);
    let run: HelperRun | undefined;
    try {
      run = await startHelper(this.pool, req);
      const first = 'error' in run.ready ? run.ready : await run.first;
      const err = toError(first, containerPath, ref);
      if (err) throw err;
      if (!('stat' in first)) throw new SystemError('archive helper sent no stat');
      // The tar ends cleanly only if the helper finished cleanly: a file
      // vanishing mid-walk (or any other failure) destroys the stream instead.
      const out = new PassThrough();
      // Whoever reads the stream sees the error; it must not go unhandled if no one does.
      out.on('error', () => undefined);
      const helper = run;
      helper.child.stdout!.pipe(out, { end: false });
      const stdoutDone = new Promise<void>((resolve) => helper.child.stdout!.once('close', resolve));
      void Promise.all([helper.finished, stdoutDone]).then(([end]) => {
        if ('done' in end) out.end();
        else out.destroy(new SystemError('error' in end ? end.error.message : 'archive failed'));
      });
      const done = async () => {
        if (helper.child.exitCode === null && helper.child.signalCode === null) helper.child.kill('SIGKILL');
        await helper.finished;
        await view.release();
      };
      return { stat: first.stat, stream: out, done };
    } catch (e) {
      if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
      await run?.finished;
      await view.release();
      throw e;
    }
  }

  /** Extracts a tar into the directory at `containerPath`: every entry is checked first, then all are written. */
  async put(ref: string, containerPath: string, body: AsyncIterable<Buffer>, opts: { copyUIDGID: boolean; noOverwriteDirNonDir: boolean }): Promise<void> {
    const c = this.containers.resolve(ref);
    const clean = posix.normalize(posix.join('/', containerPath));
    const mount = [...c.mounts]
      .filter((m) => clean === m.destination || clean.startsWith(m.destination === '/' ? '/' : `${m.destination}/`))
      .sort((a, b) => b.destination.length - a.destination.length)[0];
    if (mount ? !mount.rw : c.hostConfig.ReadonlyRootfs === true) {
      throw new Forbidden(mount ? 'mounted volume is marked read-only' : 'container rootfs is marked read-only');
    }
    const spool = join(this.containers.containerDir(c.id), `upload-${generateId().slice(0, 16)}.tar`);
    try {
      // Spooled as plain tar, whatever the compression the client chose (Docker takes gzip, bzip2, xz, zstd).
      const { tar } = await decompressed(body);
      await pipeline(tar, createWriteStream(spool, { mode: 0o600, flags: 'wx' }));
      await checkUpload(spool, containerPath);
      const { view, req } = await this.request(ref, 'put', containerPath, opts);
      try {
        const run = await startHelper(this.pool, req);
        const refused = toError(run.ready, containerPath, ref);
        if (refused) throw refused;
        const feed = pipeline(createReadStream(spool), run.child.stdin!).catch(() => undefined);
        const end = await run.finished;
        await feed;
        const err = toError(end, containerPath, ref);
        if (err) throw err;
      } finally {
        await view.release();
      }
    } finally {
      await rm(spool, { force: true });
    }
  }
}
