// Go's lexical path functions (path.Clean, filepath.IsLocal on Unix): no file
// system access, so results match Go's for the same string.

/** path.Clean: '' → '.', no trailing slash, '..' above '/' dropped. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = (rooted ? '/' : '') + out.join('/');
  return joined === '' ? '.' : joined;
}

/** filepath.IsLocal on Unix: relative, non-empty, and does not climb out with '..'. */
export function isLocalPath(p: string): boolean {
  if (p === '' || p.startsWith('/')) return false;
  const c = cleanPath(p);
  return c !== '..' && !c.startsWith('../');
}
