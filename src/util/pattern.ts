// Matchers for the patterns clients send in filters. Docker evaluates them
// with Go's regexp (RE2) and path.Match, both linear in the input; a
// JavaScript RegExp backtracks, so one hostile pattern could stall the event
// loop. Every client-supplied pattern goes through here, compiled by re2js.
import { RE2JS } from 're2js';

export type Matcher = (s: string) => boolean;

/**
 * Go's `regexp.MatchString(pattern, s)`: an unanchored search with RE2 syntax.
 * Returns null for a pattern Go would not compile.
 */
export function regexpMatcher(pattern: string): Matcher | null {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch {
    return null;
  }
  return (s) => re.test(s);
}

/** A code point as an RE2 literal that needs no escaping rules of its own. */
function literal(cp: number): string {
  return `\\x{${cp.toString(16)}}`;
}

/**
 * Go's `path.Match(glob, s)`: `*` is any run of non-'/' characters, `?` one
 * non-'/' character, `[...]` / `[^...]` a class with ranges, `\` escapes.
 * Returns null for a malformed pattern (Go's ErrBadPattern).
 */
export function globMatcher(glob: string): Matcher | null {
  const cps = Array.from(glob, (c) => c.codePointAt(0)!);
  let re = '^';
  let i = 0;
  // One class member: an escaped or plain character, never an unescaped ']' or '-' start.
  const member = (): number | null => {
    if (i >= cps.length) return null;
    let cp = cps[i]!;
    if (cp === 0x5c /* \ */) {
      i++;
      if (i >= cps.length) return null;
      cp = cps[i]!;
    } else if (cp === 0x2d /* - */ || cp === 0x5d /* ] */) {
      return null;
    }
    i++;
    return cp;
  };
  while (i < cps.length) {
    const cp = cps[i]!;
    if (cp === 0x2a /* * */) {
      re += '[^/]*';
      i++;
    } else if (cp === 0x3f /* ? */) {
      re += '[^/]';
      i++;
    } else if (cp === 0x5c /* \ */) {
      if (i + 1 >= cps.length) return null;
      re += literal(cps[i + 1]!);
      i += 2;
    } else if (cp === 0x5b /* [ */) {
      i++;
      let cls = '[';
      if (cps[i] === 0x5e /* ^ */) {
        cls += '^';
        i++;
      }
      let ranges = 0;
      let parts = '';
      for (;;) {
        if (i >= cps.length) return null;
        if (cps[i] === 0x5d /* ] */ && ranges > 0) {
          i++;
          break;
        }
        const lo = member();
        if (lo === null) return null;
        let hi = lo;
        if (cps[i] === 0x2d /* - */) {
          i++;
          const h = member();
          if (h === null) return null;
          hi = h;
        }
        // Go accepts a reversed range and lets it match nothing.
        if (hi >= lo) parts += hi === lo ? literal(lo) : `${literal(lo)}-${literal(hi)}`;
        ranges++;
      }
      // A class of reversed ranges only: nothing (or, negated, anything) matches.
      if (parts === '') re += cls === '[^' ? '[\\x{0}-\\x{10ffff}]' : '[^\\x{0}-\\x{10ffff}]';
      else re += `${cls}${parts}]`;
    } else {
      re += literal(cp);
      i++;
    }
  }
  re += '$';
  return regexpMatcher(re);
}
