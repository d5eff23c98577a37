// Dotted API versions ("1.41", "1.9") compared numerically, shared by the API
// server, the mount parser and the CLI.
const compared = new Map<string, number>();

function compareUncached(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = Number.parseInt(pa[i] ?? '0', 10) || 0;
    const y = Number.parseInt(pb[i] ?? '0', 10) || 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** -1, 0 or 1 (memoized: clients send few distinct versions). */
export function compareVersions(a: string, b: string): number {
  const key = `${a} ${b}`;
  let r = compared.get(key);
  if (r === undefined) {
    r = compareUncached(a, b);
    if (compared.size < 1000) compared.set(key, r);
  }
  return r;
}

export function versionLess(a: string, b: string): boolean {
  return compareVersions(a, b) < 0;
}

export function versionAtLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}
