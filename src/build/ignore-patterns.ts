// .dockerignore as Docker reads and matches it (moby/patternmatcher and its
// ignorefile reader): one pattern a line, `#` comments, `!` exceptions,
// patterns cleaned and made relative; Go's filepath.Match syntax plus `**`
// for any number of directories. The later matching pattern wins, and a file
// matches when it or one of its parent directories does. The CLIs leave
// matched files out of the context they send; the daemon only drops the
// Dockerfile and .dockerignore themselves when they match.
import { InvalidParameter } from '../errors.js';
import { cleanPath } from '../go/path.js';
import { globMatcher, regexpMatcher, type Matcher } from '../util/pattern.js';

/** The patterns of a .dockerignore file's text (ignorefile.ReadAll). */
export function readIgnoreFile(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\ufeff/, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

type MatchKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

const ESCAPED = new Set([...'.+()|{}$']);

class Pattern {
  readonly dirs: string[];
  private kind: MatchKind | undefined;
  private regexp: Matcher | null = null;

  constructor(
    readonly cleaned: string,
    readonly exclusion: boolean,
  ) {
    this.dirs = cleaned.split('/');
  }

  /** The pattern as moby's compile() sorts it: a plain name, a `dir/**` prefix, a `**\/name` suffix, or a regexp. */
  private compile(): void {
    let re = '^';
    let kind: MatchKind = 'exact';
    const cps = [...this.cleaned];
    for (let i = 0, k = 0; k < cps.length; i++) {
      const ch = cps[k++]!;
      if (ch === '*') {
        if (cps[k] === '*') {
          k++;
          if (cps[k] === '/') k++;
          if (k >= cps.length) {
            if (kind === 'exact') kind = 'prefix';
            else {
              re += '.*';
              kind = 'regexp';
            }
          } else {
            re += '(.*/)?';
            kind = 'regexp';
          }
          if (i === 0) kind = 'suffix';
        } else {
          re += '[^/]*';
          kind = 'regexp';
        }
      } else if (ch === '?') {
        re += '[^/]';
        kind = 'regexp';
      } else if (ESCAPED.has(ch)) {
        re += `\\${ch}`;
      } else if (ch === '\\') {
        if (k < cps.length) {
          re += `\\${cps[k++]!}`;
          kind = 'regexp';
        } else {
          re += '\\';
        }
      } else if (ch === '[' || ch === ']') {
        re += ch;
        kind = 'regexp';
      } else {
        re += ch;
      }
    }
    if (kind === 'regexp') this.regexp = regexpMatcher(`${re}$`);
    this.kind = kind;
  }

  match(path: string): boolean {
    if (this.kind === undefined) this.compile();
    switch (this.kind) {
      case 'exact':
        return path === this.cleaned;
      case 'prefix':
        return path.startsWith(this.cleaned.slice(0, -2));
      case 'suffix': {
        const suffix = this.cleaned.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      default:
        return this.regexp !== null && this.regexp(path);
    }
  }
}

/** Go's filepath.Dir for a relative, cleaned path. */
function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '.' : path.slice(0, i);
}

export class IgnorePatterns {
  private readonly patterns: Pattern[] = [];
  /** Whether any pattern is an exception (`!`). */
  readonly hasExclusions: boolean;

  constructor(patterns: readonly string[]) {
    let exclusions = false;
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new InvalidParameter('illegal exclusion pattern: "!"');
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      if (globMatcher(p) === null) throw new InvalidParameter('syntax error in pattern');
      this.patterns.push(new Pattern(p, exclusion));
    }
    this.hasExclusions = exclusions;
  }

  /** The exception patterns, cleaned (what decides whether a matched directory is walked into). */
  exclusionPatterns(): string[] {
    return this.patterns.filter((p) => p.exclusion).map((p) => p.cleaned);
  }

  /** MatchesOrParentMatches: `file` (relative, cleaned) or one of its parent directories matches. */
  matchesOrParentMatches(file: string): boolean {
    if (file === '.' || file === '') return false;
    let matched = false;
    const parent = dirOf(file);
    const parentDirs = parent.split('/');
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      if (!match && parent !== '.') {
        for (let i = 0; i < parentDirs.length && !match; i++) match = pattern.match(parentDirs.slice(0, i + 1).join('/'));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}
