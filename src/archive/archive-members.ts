// The members of one tar archive in order, and the refusals that follow
// from the archive alone, before any file is touched: a name that leaves
// the root (absolute, or climbing with `..`), a member beneath a
// non-directory an earlier member made (a symlink above all: writing
// through it would land wherever it points), a directory the archive made
// replaced by a non-directory, a hard link to anything but an earlier
// member. The extractor (tree-extract.ts) admits every member here before
// it writes it; berthd admits every member of a docker cp upload before
// extracting any (containers/archive.ts), so such an upload is refused whole.
import { InvalidArchive } from '../errors.js';
import type { TarHeader } from './tar/reader.js';

/** What the archive made at a path: a directory (its own member, or implied by a member below it), or anything else. */
export type MadeKind = 'directory' | 'implicit-directory' | 'other';

/**
 * How a `..` component is taken: refused (volume import, as GNU tar does),
 * or resolved on the name alone as docker cp does (`d/../b` is `b`),
 * refused only when it climbs above the root.
 */
export type DotDotRule = 'refuse' | 'lexical';

export interface AdmittedMember {
  /** The name's components below the root; [] for the root itself. */
  parts: Buffer[];
  /** Parents parts[0..i] with i >= firstNewParent were made by no earlier member: the extractor creates (or, merging, finds) them. */
  firstNewParent: number;
  /** What an earlier member made at this name. */
  previous: MadeKind | undefined;
  /** A hard link's target, as components below the root. */
  linkTarget?: Buffer[];
}

const SLASH = 0x2f;
const DOT = 0x2e;

/** Components joined back into a relative path. */
export function joinParts(parts: Buffer[]): Buffer {
  return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('/'), p])));
}

/** A map key for a relative path (latin1 keeps every byte). */
export function keyOf(parts: Buffer[]): string {
  return joinParts(parts).toString('latin1');
}

export class ArchiveMembers {
  private readonly made = new Map<string, MadeKind>();

  constructor(private readonly dotDot: DotDotRule) {}

  /** Checks `h` against the members before it and records what it makes; throws InvalidArchive for a refused member. */
  admit(h: TarHeader): AdmittedMember {
    const parts = this.components(h.pathBytes, h.path);
    if (parts.length === 0) {
      if (h.type !== 'directory') throw new InvalidArchive(`archive member ${h.path} names the root but is not a directory`);
      return { parts, firstNewParent: 0, previous: 'directory' };
    }
    let firstNewParent = parts.length - 1;
    let key = '';
    for (let i = 0; i < parts.length - 1; i++) {
      key = i === 0 ? parts[0]!.toString('latin1') : `${key}/${parts[i]!.toString('latin1')}`;
      const kind = this.made.get(key);
      if (kind === 'other') {
        throw new InvalidArchive(`archive member ${h.path} is beneath ${Buffer.from(key, 'latin1').toString()}, which is not a directory (a symlink or file in the archive)`);
      }
      if (kind === undefined) {
        // An ancestor is recorded before its descendants, so every deeper parent is new too.
        if (firstNewParent > i) firstNewParent = i;
        this.made.set(key, 'implicit-directory');
      }
    }
    const own = keyOf(parts);
    const previous = this.made.get(own);
    if (previous !== undefined && previous !== 'other' && h.type !== 'directory') {
      throw new InvalidArchive(`archive member ${h.path} would replace a directory`);
    }
    const admitted: AdmittedMember = { parts, firstNewParent, previous };
    if (h.type === 'hardlink') {
      const target = this.components(h.linkpathBytes, h.linkpath);
      if (target.length === 0 || this.made.get(keyOf(target)) !== 'other') {
        throw new InvalidArchive(`archive member ${h.path} is a hard link to ${h.linkpath}, which is not an earlier file in the archive`);
      }
      admitted.linkTarget = target;
    }
    this.made.set(own, h.type === 'directory' ? 'directory' : 'other');
    return admitted;
  }

  /** A member name (or hard-link target) as components below the root. */
  private components(name: Buffer, display: string): Buffer[] {
    if (name.length > 0 && name[0] === SLASH) throw new InvalidArchive(`archive member has an absolute name: ${display}`);
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i <= name.length; i++) {
      if (i < name.length && name[i] !== SLASH) continue;
      const part = name.subarray(start, i);
      start = i + 1;
      if (part.length === 0 || (part.length === 1 && part[0] === DOT)) continue;
      if (part.length === 2 && part[0] === DOT && part[1] === DOT) {
        if (this.dotDot === 'refuse') throw new InvalidArchive(`archive member name contains "..": ${display}`);
        if (parts.length === 0) throw new InvalidArchive(`archive member ${display} is outside of the directory it is extracted into`);
        parts.pop();
        continue;
      }
      parts.push(part);
    }
    return parts;
  }
}
