// Volume list and prune filter semantics (spec 1.4, 1.8).
import { regexpMatcher, type Matcher } from '../util/pattern.js';

/** A `label` filter entry: "key" (present) or "key=value" (exact value). */
export function matchesLabel(labels: Record<string, string> | null, entry: string): boolean {
  if (!labels) return false;
  const eq = entry.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, entry);
  const key = entry.slice(0, eq);
  return Object.hasOwn(labels, key) && labels[key] === entry.slice(eq + 1);
}

/** Every entry must match (docker ANDs label filters). */
export function matchesAllLabels(labels: Record<string, string> | null, entries: string[]): boolean {
  return entries.every((e) => matchesLabel(labels, e));
}

/**
 * A prune's label filters, as moby's matchLabels: every `label` entry
 * matches, and not every `label!` entry does (each `label!` alone would
 * exclude less: two of them keep only what has both).
 */
export function matchesPruneLabels(labels: Record<string, string> | null, label: string[], notLabel: string[]): boolean {
  return matchesAllLabels(labels, label) && !(notLabel.length > 0 && matchesAllLabels(labels, notLabel));
}

/**
 * A `name` filter's values, compiled once per request, as Docker's
 * `filters.Args.Match`: a value matches when it equals the name or, as a Go
 * (RE2, linear-time) regexp, matches somewhere in it; a value that does not
 * compile counts only as an exact name.
 */
export function nameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns);
  const regexps = patterns.map(regexpMatcher).filter((m): m is Matcher => m !== null);
  return (name) => exact.has(name) || regexps.some((m) => m(name));
}
