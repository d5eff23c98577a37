// Go's strings package, where its splitting rules differ from String.split.

/** strings.SplitN(s, sep, n) for n > 0: at most n parts, the last holding the rest. */
export function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/** strings.Cut: before, after, and whether sep was found. */
export function cut(s: string, sep: string): [string, string, boolean] {
  const i = s.indexOf(sep);
  if (i < 0) return [s, '', false];
  return [s.slice(0, i), s.slice(i + sep.length), true];
}
