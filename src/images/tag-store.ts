// Tags, digest references and reference resolution. repositories.json under
// <image root> holds the only mutable image metadata (SchemaVersion, the
// references and LastTagTime), in Docker's layout: a repository's entries are
// "name:tag" and, for images pulled or pushed, "name@sha256:<manifest>"; it is one small document replaced atomically (temp +
// fsync + rename) after each change. Its migrations live in
// src/store/migrations/repositories/.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotFound, SystemError } from '../errors.js';
import { REPOSITORIES_SCHEMA_VERSION, upgradeRepositories } from '../store/migrations/repositories/index.js';
import { writeFileAtomic, writeFileAtomicSync } from './fs-util.js';
import { isDigestRef, repositoryOf, tryNormalizeRef } from './reference.js';

interface RepositoriesFile {
  SchemaVersion: number;
  Repositories: Record<string, Record<string, string>>;
  LastTagTime?: Record<string, string>;
}

/** The images tags may point at. */
export interface ImageIds {
  has(hex: string): boolean;
  hexes(): string[];
}

export class TagStore {
  private readonly file: string;
  /** familiar "name:tag" or "name@sha256:<hex>" → image hex. */
  private readonly refs = new Map<string, string>();
  private readonly lastTagTime = new Map<string, string>();

  constructor(
    root: string,
    private readonly images: ImageIds,
  ) {
    this.file = join(root, 'repositories.json');
    if (!existsSync(this.file)) {
      writeFileAtomicSync(this.file, this.json());
      return;
    }
    let upgraded: boolean;
    try {
      const read = upgradeRepositories(JSON.parse(readFileSync(this.file, 'utf8')));
      upgraded = read.upgraded;
      const state = read.doc as unknown as RepositoriesFile;
      for (const repo of Object.values(state.Repositories ?? {})) {
        for (const [tag, id] of Object.entries(repo)) {
          const hex = id.replace(/^sha256:/, '');
          if (images.has(hex)) this.refs.set(tag, hex);
        }
      }
      for (const [id, t] of Object.entries(state.LastTagTime ?? {})) {
        const hex = id.replace(/^sha256:/, '');
        if (images.has(hex)) this.lastTagTime.set(hex, t);
      }
    } catch (e) {
      throw new SystemError(`image store: cannot read ${this.file}: ${(e as Error).message}`, { cause: e });
    }
    if (upgraded) writeFileAtomicSync(this.file, this.json());
  }

  /** Familiar "name:tag" references of an image, sorted. */
  tagsOf(hex: string): string[] {
    return [...this.refs].filter(([r, h]) => h === hex && !isDigestRef(r)).map(([r]) => r).sort();
  }

  /** Familiar "name@sha256:..." references of an image, sorted. */
  digestsOf(hex: string): string[] {
    return [...this.refs].filter(([r, h]) => h === hex && isDigestRef(r)).map(([r]) => r).sort();
  }

  /** Every reference, tag or digest, in `repository` (familiar name), with its image. */
  inRepository(repository: string): Array<[string, string]> {
    return [...this.refs].filter(([r]) => repositoryOf(r) === repository).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The image a familiar "name:tag" or "name@digest" points at. */
  target(ref: string): string | undefined {
    return this.refs.get(ref);
  }

  lastTagged(hex: string): string | null {
    return this.lastTagTime.get(hex) ?? null;
  }

  /** Resolves `name`, `name:tag`, `name@digest`, `docker.io/library/name:tag`, `sha256:<hex>` or a unique ID prefix to an image hex. */
  resolve(ref: string): string | null {
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(ref);
    if (full) return this.images.has(full[1]!) ? full[1]! : null;
    const key = tryNormalizeRef(ref);
    if (key !== null) {
      const hex = this.refs.get(key);
      if (hex !== undefined) return hex;
    }
    const prefix = /^(?:sha256:)?([a-f0-9]{1,63})$/.exec(ref);
    if (prefix) {
      const matches = this.images.hexes().filter((h) => h.startsWith(prefix[1]!));
      if (matches.length === 1) return matches[0]!;
    }
    return null;
  }

  mustResolve(ref: string): string {
    const hex = this.resolve(ref);
    if (hex === null) throw new NotFound(`No such image: ${ref}`);
    return hex;
  }

  /** Points `ref` (a tag, or a digest reference) at `hex`; returns the image it moved away from, if any. Call save() after. */
  set(ref: string, hex: string): string | null {
    const prev = this.refs.get(ref);
    this.refs.set(ref, hex);
    if (!isDigestRef(ref)) this.lastTagTime.set(hex, new Date().toISOString());
    return prev !== undefined && prev !== hex ? prev : null;
  }

  /** Call save() after. */
  delete(ref: string): void {
    this.refs.delete(ref);
  }

  /** Forgets a deleted image's LastTagTime. Call save() after. */
  forget(hex: string): void {
    this.lastTagTime.delete(hex);
  }

  async save(): Promise<void> {
    await writeFileAtomic(this.file, this.json());
  }

  private json(): string {
    const repos: RepositoriesFile['Repositories'] = {};
    for (const [ref, hex] of [...this.refs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      (repos[repositoryOf(ref)] ??= {})[ref] = `sha256:${hex}`;
    }
    const ltt: Record<string, string> = {};
    for (const [hex, t] of this.lastTagTime) ltt[`sha256:${hex}`] = t;
    return JSON.stringify({ SchemaVersion: REPOSITORIES_SCHEMA_VERSION, Repositories: repos, LastTagTime: ltt } satisfies RepositoriesFile, null, 2) + '\n';
  }
}
