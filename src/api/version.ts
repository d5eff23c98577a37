// docker: spec 1.2 — advertise >= 1.42 so `volume prune --all` works with the
// 28.x CLI, and stay below its 1.50 so its own negotiation picks our number.
export const MAX_API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';
export const ENGINE_VERSION = '0.1.0';

const compared = new Map<string, number>();

/** Compares dotted versions numerically: -1, 0 or 1 (memoized: clients send few distinct versions). */
export function compareVersions(a: string, b: string): number {
  const key = `${a} ${b}`;
  let r = compared.get(key);
  if (r === undefined) {
    r = compareUncached(a, b);
    if (compared.size < 1000) compared.set(key, r);
  }
  return r;
}

function compareUncached(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function versionAtLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}
