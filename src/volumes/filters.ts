// Volume list and prune filter semantics (spec 1.4, 1.8).

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

/** `name` filter: exact match, or an unanchored regex search; an invalid regex counts only as exact. */
export function matchesName(name: string, pattern: string): boolean {
  if (name === pattern) return true;
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return false;
  }
}
