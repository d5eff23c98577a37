// Flag value parsing shared by commands, with the docker CLI's messages.
import { UsageError } from '../errors.js';

/** `-f key=value` flags into docker's filter map. */
export function parseFilterFlags(values: string[], path: string, usage: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) {
      throw new UsageError(
        `invalid argument "${v}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
        `${path} ${usage}`,
        path,
        125,
        'run',
      );
    }
    const key = v.slice(0, eq).trim().toLowerCase();
    const value = v.slice(eq + 1).trim();
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

/** The `filters` query parameter in docker's map[string]map[string]bool form. */
export function filtersQuery(filters: Map<string, string[]>): Record<string, string | undefined> {
  if (filters.size === 0) return {};
  const obj: Record<string, Record<string, boolean>> = {};
  for (const [k, vs] of filters) {
    obj[k] = {};
    for (const v of vs) obj[k][v] = true;
  }
  return { filters: JSON.stringify(obj) };
}

/** `--label k=v` / `-o k=v` lists into a map; a bare key gets "". Later duplicates win. */
export function parseKeyValueList(
  values: string[],
  flag: string,
  path: string,
  usage: string,
  kind: 'label' | 'opt' | 'env',
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === '' || (kind === 'label' && key.trim() === '')) {
      throw new UsageError(
        `invalid argument "${v}" for "${flag}" flag: invalid ${kind === 'label' ? 'label' : 'argument'} '${v}': empty name`,
        `${path} ${usage}`,
        path,
        125,
        'run',
      );
    }
    out[key] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}
