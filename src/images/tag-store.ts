// Tags and reference resolution. repositories.json under <image root> holds
// the only mutable image metadata (SchemaVersion, tags and LastTagTime), in
// Docker's layout; it is one small document replaced atomically (temp +
// fsync + rename) after each change. Its migrations live in
// src/store/migrations/repositories/.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotFound, SystemError } from '../errors.js';
import { REPOSITORIES_SCHEMA_VERSION, upgradeRepositories } from '../store/migrations/repositories/index.js';
import { writeFileAtomic, writeFileAtomicSync } from './fs-util.js';
import { splitTagged, tryNormalizeTagRef } from './reference.js';

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
  /** familiar "name:tag" → image hex. */
  private readonly tags = new Map<string, string>();
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
          if (images.has(hex)) this.tags.set(tag, hex);
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
    return [...this.tags].filter(([, h]) => h === hex).map(([t]) => t).sort();
  }

  /** The image a familiar "name:tag" points at. */
  target(tag: string): string | undefined {
    return this.tags.get(tag);
  }

  lastTagged(hex: string): string | null {
    return this.lastTagTime.get(hex) ?? null;
  }

  /** Resolves `name`, `name:tag`, `docker.io/library/name:tag`, `sha256:<hex>` or a unique ID prefix to an image hex. */
  resolve(ref: string): string | null {
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(ref);
    if (full) return this.images.has(full[1]!) ? full[1]! : null;
    const tagged = tryNormalizeTagRef(ref);
    if (tagged !== null) {
      const hex = this.tags.get(tagged);
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

  /** Points `tag` at `hex`; returns the image it moved away from, if any. Call save() after. */
  set(tag: string, hex: string): string | null {
    const prev = this.tags.get(tag);
    this.tags.set(tag, hex);
    this.lastTagTime.set(hex, new Date().toISOString());
    return prev !== undefined && prev !== hex ? prev : null;
  }

  /** Call save() after. */
  delete(tag: string): void {
    this.tags.delete(tag);
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
    for (const [tag, hex] of [...this.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const { repository } = splitTagged(tag);
      (repos[repository] ??= {})[tag] = `sha256:${hex}`;
    }
    const ltt: Record<string, string> = {};
    for (const [hex, t] of this.lastTagTime) ltt[`sha256:${hex}`] = t;
    return JSON.stringify({ SchemaVersion: REPOSITORIES_SCHEMA_VERSION, Repositories: repos, LastTagTime: ltt } satisfies RepositoriesFile, null, 2) + '\n';
  }
}
