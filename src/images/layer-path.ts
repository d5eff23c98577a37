// Resolves a path inside an image from its unpacked layers, without mounting
// them: overlay semantics (whiteouts, opaque directories) across the layers,
// symlinks in intermediate components resolved inside the image root (as a
// chroot would).
import { promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InvalidParameter } from '../errors.js';
import { isErrno } from './fs-util.js';

export interface LowerPath {
  type: 'file' | 'directory' | 'symlink' | 'other';
  /**
   * Host paths inside the layer directories, top-most first. One element for
   * anything but a directory; for a directory, every layer contributing to the
   * merged view (a reader merging them must skip overlay whiteouts — char
   * devices 0/0 — and already-seen names).
   */
  paths: string[];
}

export interface PathLayer {
  /** The unpacked layer directory. */
  dir: string;
  /** Whether directory `rel` ("" = layer root) is opaque in this layer. */
  isOpaque(rel: string): boolean;
}

/**
 * `layers` top-most first. The final component is followed only with
 * `followSymlinks`. Returns null when the path does not exist in the image.
 */
export async function resolveInLayers(layers: PathLayer[], path: string, opts: { followSymlinks?: boolean } = {}): Promise<LowerPath | null> {
  const hostPath = (i: number, parts: string[]): string => (parts.length ? join(layers[i]!.dir, ...parts) : layers[i]!.dir);
  const isOpaque = (i: number, rel: string): boolean => layers[i]!.isOpaque(rel);
  const lstatOrNull = async (p: string): Promise<Stats | null> => {
    try {
      return await fsp.lstat(p);
    } catch (e) {
      if (isErrno(e, 'ENOENT', 'ENOTDIR')) return null;
      throw e;
    }
  };
  const rootContrib = (): number[] => {
    const out: number[] = [];
    for (let i = 0; i < layers.length; i++) {
      out.push(i);
      if (isOpaque(i, '')) break;
    }
    return out;
  };
  type Step = { kind: 'dir'; contrib: number[] } | { kind: 'other'; layer: number; st: Stats } | null;
  const step = async (contrib: number[], dirParts: string[], name: string): Promise<Step> => {
    const parts = [...dirParts, name];
    const rel = parts.join('/');
    const found: number[] = [];
    for (const i of contrib) {
      const st = await lstatOrNull(hostPath(i, parts));
      if (st === null) continue;
      if (st.isCharacterDevice() && st.rdev === 0) {
        if (found.length === 0) return null;
        break;
      }
      if (st.isDirectory()) {
        found.push(i);
        if (isOpaque(i, rel)) break;
        continue;
      }
      if (found.length === 0) return { kind: 'other', layer: i, st };
      break;
    }
    return found.length > 0 ? { kind: 'dir', contrib: found } : null;
  };
  const walkDirs = async (parts: string[]): Promise<number[] | null> => {
    let contrib = rootContrib();
    for (let k = 0; k < parts.length; k++) {
      const r = await step(contrib, parts.slice(0, k), parts[k]!);
      if (r === null || r.kind !== 'dir') return null;
      contrib = r.contrib;
    }
    return contrib;
  };

  let queue = path.split('/');
  let dirParts: string[] = [];
  let contrib = rootContrib();
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      dirParts.pop();
      contrib = (await walkDirs(dirParts)) ?? rootContrib();
      continue;
    }
    const r = await step(contrib, dirParts, c);
    if (r === null) return null;
    if (r.kind === 'dir') {
      dirParts = [...dirParts, c];
      contrib = r.contrib;
      continue;
    }
    const last = queue.every((q) => q === '' || q === '.');
    if (r.st.isSymbolicLink() && (!last || opts.followSymlinks)) {
      if (++hops > 40) throw new InvalidParameter(`too many levels of symbolic links resolving ${path}`);
      const target = await fsp.readlink(hostPath(r.layer, [...dirParts, c]));
      if (target.startsWith('/')) {
        dirParts = [];
        contrib = rootContrib();
      }
      queue = [...target.split('/'), ...queue];
      continue;
    }
    if (!last) return null;
    const st = r.st;
    return {
      type: st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
      paths: [hostPath(r.layer, [...dirParts, c])],
    };
  }
  return { type: 'directory', paths: contrib.map((i) => hostPath(i, dirParts)) };
}
