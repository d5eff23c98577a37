// The archive endpoints behind `docker cp`: paths inside the container are
// mapped to host paths (volumes and binds first, then the overlay rootfs),
// resolved without letting symlinks leave their mount, and read-only mounts
// refuse writes.
import { lstat, readlink, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { Forbidden, InvalidParameter, NotFound } from '../errors.js';
import { resolveInScope } from '../mounts/safe-path.js';
import type { ContainerService } from './service.js';

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

interface ResolvedPath {
  /** Host path of the entry (its parent resolved, the final component not followed). */
  hostPath: string;
  readOnly: boolean;
  release: () => Promise<void>;
}

// Go's os.FileMode type bits, which docker cp reads from the stat header.
const GO_DIR = 0x80000000;
const GO_SYMLINK = 0x08000000;

export class ArchiveService {
  constructor(private readonly containers: ContainerService) {}

  private async resolve(ref: string, containerPath: string): Promise<ResolvedPath> {
    const c = this.containers.resolve(ref);
    const clean = posix.normalize(posix.join('/', containerPath));
    const candidates = [...c.mounts, ...c.tmpfs]
      .filter((m) => clean === m.destination || clean.startsWith(m.destination === '/' ? '/' : `${m.destination}/`))
      .sort((a, b) => b.destination.length - a.destination.length);
    const m = candidates[0];
    if (m && m.type !== 'tmpfs') {
      const rel = clean.slice(m.destination.length);
      const parent = await resolveInScope(m.source, posix.dirname(rel === '' ? '/' : rel));
      const hostPath = rel === '' || rel === '/' ? parent : join(parent, posix.basename(rel));
      return { hostPath, readOnly: !m.rw, release: async () => undefined };
    }
    if (m && m.type === 'tmpfs') {
      throw new InvalidParameter(`copying from or to the tmpfs mount ${m.destination} is not supported`);
    }
    const { rootfs, release } = await this.containers.rootfs(c.id);
    try {
      const parent = await resolveInScope(rootfs, posix.dirname(clean));
      const hostPath = clean === '/' ? parent : join(parent, posix.basename(clean));
      return { hostPath, readOnly: c.hostConfig.ReadonlyRootfs === true, release };
    } catch (e) {
      await release();
      throw e;
    }
  }

  async stat(ref: string, containerPath: string): Promise<PathStat> {
    const r = await this.resolve(ref, containerPath);
    try {
      return await this.statHost(ref, containerPath, r.hostPath);
    } finally {
      await r.release();
    }
  }

  private async statHost(ref: string, containerPath: string, hostPath: string): Promise<PathStat> {
    let st;
    try {
      st = await lstat(hostPath);
    } catch {
      throw new NotFound(`Could not find the file ${containerPath} in container ${ref}`);
    }
    let mode = st.mode & 0o777;
    let linkTarget = '';
    if (st.isDirectory()) mode = (mode | GO_DIR) >>> 0;
    if (st.isSymbolicLink()) {
      mode = (mode | GO_SYMLINK) >>> 0;
      linkTarget = await readlink(hostPath);
    }
    return { name: basename(containerPath) || '/', size: st.size, mode, mtime: st.mtime.toISOString(), linkTarget };
  }

  /** A tar of the path (its basename as the top entry), plus its stat. */
  async get(ref: string, containerPath: string): Promise<{ stat: PathStat; stream: Readable; done: () => Promise<void> }> {
    const r = await this.resolve(ref, containerPath);
    try {
      const pathStat = await this.statHost(ref, containerPath, r.hostPath);
      // The top entry carries the container's name for the path, not the host's
      // (a volume root is `_data` on the host).
      const name = posix.basename(posix.normalize(posix.join('/', containerPath))) || '.';
      const isDir = (pathStat.mode & GO_DIR) !== 0;
      const stream = (
        isDir
          ? tar.c({ cwd: r.hostPath, prefix: name === '.' ? '' : name, portable: false, follow: false }, ['.'])
          : tar.c({ cwd: dirname(r.hostPath), portable: false, follow: false }, [basename(r.hostPath)])
      ) as unknown as Readable;
      return { stat: pathStat, stream, done: r.release };
    } catch (e) {
      await r.release();
      throw e;
    }
  }

  /** Extracts a tar into the directory at `containerPath`. */
  async put(ref: string, containerPath: string, body: NodeJS.ReadableStream, opts: { copyUIDGID: boolean }): Promise<void> {
    const r = await this.resolve(ref, containerPath);
    try {
      if (r.readOnly) {
        const c = this.containers.resolve(ref);
        const onVolume = [...c.mounts].some((m) => containerPath === m.destination || containerPath.startsWith(`${m.destination}/`));
        throw new Forbidden(onVolume ? 'mounted volume is marked read-only' : 'container rootfs is marked read-only');
      }
      let st;
      try {
        st = await stat(r.hostPath);
      } catch {
        throw new NotFound(`Could not find the file ${containerPath} in container ${ref}`);
      }
      if (!st.isDirectory()) throw new InvalidParameter('extraction point is not a directory');
      const extract = tar.x({
        cwd: r.hostPath,
        preservePaths: false,
        preserveOwner: opts.copyUIDGID,
        uid: opts.copyUIDGID ? undefined : 0,
        gid: opts.copyUIDGID ? undefined : 0,
        strict: true,
      });
      await pipeline(body, extract as unknown as NodeJS.WritableStream);
    } finally {
      await r.release();
    }
  }
}
