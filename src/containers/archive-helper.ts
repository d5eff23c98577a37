// The process that does one `docker cp` operation inside a container's own
// filesystem view. berthd starts it with `unshare --mount --propagation
// private`, so the mounts made here are invisible to everyone else. It
// builds the view (the rootfs with each volume and bind mounted on its
// destination, destinations opened with openat2(RESOLVE_IN_ROOT)), then
// chroot(2)s into it: from then on every path, every symlink (absolute ones
// included) and every '..' is resolved by the kernel inside the container's
// view, even if the container swaps directories for links meanwhile.
//
// berthd starts these ahead of time (Node's start-up is most of the cost):
// an idle helper waits for one request, a JSON line on fd 3, and exits if
// berthd goes away first. Data: the tar on stdin (put) or stdout (get).
// Replies: JSON lines on fd 3 ({stat}, {done}, {error}). One request each:
// after the chroot the process cannot be reused. Archives are berth's own
// tar codec (src/archive/), loaded before the chroot: nothing is loaded
// from the container's files, and no worker thread is started (its script
// is not in the container's view).
import { fstatSync, lstatSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { exportTree, extractTree } from '../archive/tree.js';
import * as libc from '../util/libc.js';
import { mkdirAllAt, openInRoot, openInside, resolveInScope } from '../mounts/safe-path.js';
import { cleanContainerPath, followsLast, pathStatOf, type PathStat } from './path-stat.js';

export interface ViewMount {
  /** Host path of the volume or bind source (daemon-chosen, or the user's bind). */
  source: string;
  /** volume-subpath inside source. */
  subpath?: string;
  /** A tmpfs in the container: an empty read-only tmpfs stands in for it. */
  tmpfs?: boolean;
  destination: string;
  readonly: boolean;
}

export interface ArchiveHelperRequest {
  op: 'stat' | 'get' | 'put';
  rootfs: string;
  readonlyRootfs: boolean;
  /** Parents before children. */
  mounts: ViewMount[];
  /** What berthd sees at these paths: a spare helper whose mount namespace predates a mount answers {stale}. */
  expect: Array<{ path: string; dev: number; ino: number }>;
  /** The container path as the client gave it. */
  path: string;
  copyUIDGID?: boolean;
  /** put: refuse to replace a directory with a non-directory and vice versa (else replace). */
  noOverwriteDirNonDir?: boolean;
}

export type HelperStat = PathStat;

export type HelperReply =
  | { ready: true }
  | { stale: true }
  | { stat: HelperStat }
  | { done: true }
  | { error: { kind: HelperErrorKind; message: string } };

export type HelperErrorKind = 'not-found' | 'invalid' | 'conflict' | 'read-only' | 'system';

// Go's os.FileMode type bits, which docker cp reads from the stat header.

const control = new Socket({ fd: 3, readable: true, writable: true });
function send(r: HelperReply): Promise<void> {
  return new Promise((resolve) => control.write(`${JSON.stringify(r)}\n`, () => resolve()));
}

/** The request line, or null when berthd closed the channel first. */
function readRequest(): Promise<ArchiveHelperRequest | null> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\n');
      if (i < 0) return;
      control.off('data', onData);
      control.pause();
      resolve(JSON.parse(buf.slice(0, i)) as ArchiveHelperRequest);
    };
    control.on('data', onData);
    control.once('end', () => resolve(null));
    control.once('error', () => resolve(null));
  });
}

class HelperError extends Error {
  constructor(
    readonly kind: HelperErrorKind,
    message: string,
  ) {
    super(message);
  }
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function bindOnto(srcFd: number, dstFd: number): void {
  libc.mount(libc.fdPath(srcFd), libc.fdPath(dstFd), null, libc.MS_BIND | libc.MS_REC);
}

function remountReadOnly(fd: number): void {
  libc.mount(null, libc.fdPath(fd), null, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY);
}

/** Opens (creating it inside the root if missing, as runc would) the mountpoint for `m`. */
function openMountpoint(rootFd: number, destination: string, directory: boolean): number {
  try {
    return openInRoot(rootFd, destination);
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw e;
  }
  const parent = posix.dirname(destination);
  const name = posix.basename(destination);
  mkdirAllAt(rootFd, parent);
  const parentFd = openInRoot(rootFd, parent, libc.O_PATH | libc.O_DIRECTORY);
  try {
    if (directory) libc.mkdirat(parentFd, name, 0o755);
    else libc.close(libc.openat(parentFd, name, libc.O_CREAT | libc.O_EXCL | libc.O_WRONLY | libc.O_NOFOLLOW, 0o644));
  } catch (e) {
    if (errCode(e) !== 'EEXIST') throw e;
  } finally {
    libc.close(parentFd);
  }
  return openInRoot(rootFd, destination);
}

/** Builds the container's view and chroots into it. */
async function enterView(req: ArchiveHelperRequest): Promise<void> {
  // A bind of the rootfs onto itself: a mount of our own that can be made
  // read-only without touching the container's.
  const under = libc.openat2(libc.AT_FDCWD, req.rootfs, { flags: libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC });
  libc.mount(libc.fdPath(under), libc.fdPath(under), null, libc.MS_BIND);
  libc.close(under);
  const rootFd = libc.openat2(libc.AT_FDCWD, req.rootfs, { flags: libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC });
  for (const m of req.mounts) {
    if (m.tmpfs) {
      const dst = openMountpoint(rootFd, m.destination, true);
      libc.mount('tmpfs', libc.fdPath(dst), 'tmpfs', libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC, 'size=4k');
      libc.close(dst);
      continue;
    }
    const src = m.subpath
      ? await openInside(m.source, m.subpath)
      : (() => {
          const fd = libc.openat2(libc.AT_FDCWD, m.source, { flags: libc.O_PATH | libc.O_CLOEXEC });
          return { fd, isDirectory: fstatSync(fd).isDirectory(), close: () => libc.close(fd) };
        })();
    try {
      const dst = openMountpoint(rootFd, m.destination, src.isDirectory);
      try {
        bindOnto(src.fd, dst);
      } finally {
        libc.close(dst);
      }
      if (m.readonly) {
        // The new mount is what the destination resolves to now; check that
        // before changing its flags.
        const top = openInRoot(rootFd, m.destination);
        try {
          const a = fstatSync(top);
          const b = fstatSync(src.fd);
          if (a.dev !== b.dev || a.ino !== b.ino) throw new HelperError('system', `mount at ${m.destination} changed while it was being set up`);
          remountReadOnly(top);
        } finally {
          libc.close(top);
        }
      }
    } finally {
      src.close();
    }
  }
  if (req.readonlyRootfs) remountReadOnly(rootFd);
  libc.fchdir(rootFd);
  libc.chroot('.');
  libc.chdir('/');
  libc.close(rootFd);
}

const cleanPath = cleanContainerPath;

async function statPath(containerPath: string): Promise<{ stat: HelperStat; path: string }> {
  const clean = cleanPath(containerPath);
  const path = followsLast(containerPath) ? await resolveInScope('/', clean) : clean;
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    const c = errCode(e);
    if (c === 'ENOENT' || c === 'ENOTDIR') throw new HelperError('not-found', `Could not find the file ${containerPath}`);
    throw e;
  }
  // Docker reports a link fully resolved inside the container.
  const linkTarget = st.isSymbolicLink() ? await resolveInScope('/', path) : '';
  return { stat: pathStatOf(clean, st, linkTarget), path };
}

/** The top member's name: the path's basename, or "." (the contents) for the root and a path ending in "/.", as Docker names it. */
function topNameOf(containerPath: string): string {
  if (containerPath === '.' || containerPath.endsWith('/.')) return '.';
  return posix.basename(cleanPath(containerPath)) || '.';
}

async function get(containerPath: string): Promise<void> {
  const { stat, path } = await statPath(containerPath);
  await send({ stat });
  // A directory's tree, or the one file or symlink (never followed) at `path`.
  await pipeline(exportTree(path, { topName: topNameOf(containerPath) }), process.stdout);
}

async function put(containerPath: string, opts: { copyUIDGID: boolean; noOverwriteDirNonDir: boolean }): Promise<void> {
  const dir = cleanPath(containerPath);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const c = errCode(e);
    if (c === 'ENOENT' || c === 'ENOTDIR') throw new HelperError('not-found', `Could not find the file ${containerPath}`);
    throw e;
  }
  if (!st.isDirectory()) throw new HelperError('invalid', 'extraction point is not a directory');
  // berthd admitted every member before this ran. Link targets are kept
  // verbatim, absolute ones included: they mean the container's root here.
  await extractTree(process.stdin, dir, {
    writers: 0,
    merge: { owner: opts.copyUIDGID ? 'archive' : { uid: 0, gid: 0 }, overwriteDirNonDir: !opts.noOverwriteDirNonDir },
  });
}

async function main(): Promise<void> {
  const req = await readRequest();
  if (!req) process.exit(0);
  for (const e of req.expect) {
    let st;
    try {
      st = statSync(e.path);
    } catch {
      st = undefined;
    }
    if (!st || st.dev !== e.dev || st.ino !== e.ino) {
      await send({ stale: true });
      process.exit(0);
    }
  }
  await enterView(req);
  await send({ ready: true });
  if (req.op === 'stat') {
    await send({ stat: (await statPath(req.path)).stat });
  } else if (req.op === 'get') {
    await get(req.path);
  } else {
    await put(req.path, { copyUIDGID: req.copyUIDGID === true, noOverwriteDirNonDir: req.noOverwriteDirNonDir === true });
  }
  await send({ done: true });
}

function failure(e: unknown): HelperReply {
  if (e instanceof HelperError) return { error: { kind: e.kind, message: e.message } };
  const c = errCode(e);
  if (c === 'EROFS') return { error: { kind: 'read-only', message: 'container rootfs is marked read-only' } };
  const kind = (e as { kind?: string } | undefined)?.kind;
  if (kind === 'not-found') return { error: { kind: 'not-found', message: (e as Error).message } };
  if (kind === 'invalid-parameter') return { error: { kind: 'invalid', message: (e as Error).message } };
  if (kind === 'conflict') return { error: { kind: 'conflict', message: (e as Error).message } };
  return { error: { kind: 'system', message: e instanceof Error ? e.message : String(e) } };
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    await send(failure(e));
    process.exit(1);
  },
);
