import { HttpError } from './errors.js';
import { getTimestamp } from '../go/time.js';
import { errorText } from '../errors.js';

/**
 * Parses docker's `filters` query value: JSON map[string]map[string]bool, or
 * the legacy map[string][]string. The booleans are ignored (spec 1.4).
 */
export function parseFilters(raw: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (raw === null || raw === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'invalid filter');
  }
  if (parsed === null) return out;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'invalid filter');
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === 'string')) throw new HttpError(400, 'invalid filter');
      out.set(key, [...(value as string[])]);
    } else if (value && typeof value === 'object') {
      out.set(key, Object.keys(value));
    } else if (value === null) {
      out.set(key, []);
    } else {
      throw new HttpError(400, 'invalid filter');
    }
  }
  return out;
}

/** 400 `invalid filter 'x'` for any key outside `allowed`. */
export function checkFilterKeys(filters: Map<string, string[]>, allowed: string[]): void {
  for (const key of filters.keys()) {
    if (!allowed.includes(key)) throw new HttpError(400, `invalid filter '${key}'`);
  }
}

/** Go's filters.GetBoolOrDefault: accepts true/1 and false/0, anything else is invalid. */
export function boolFilter(filters: Map<string, string[]>, key: string): boolean | undefined {
  const values = filters.get(key);
  if (!values || values.length === 0) return undefined;
  let sawTrue = false;
  let sawFalse = false;
  for (const v of values) {
    const l = v.toLowerCase();
    if (l === 'true' || l === '1') sawTrue = true;
    else if (l === 'false' || l === '0') sawFalse = true;
    else throw new HttpError(400, `invalid filter '${key}=[${values.join(' ')}]'`);
  }
  if (sawTrue && sawFalse) throw new HttpError(400, `invalid filter '${key}=[${values.join(' ')}]'`);
  return sawTrue;
}

/**
 * `until` of a prune: moby's timestamp.Parse (a duration before now, RFC
 * 3339, or unix seconds), in ms. A bad value is the parser's error as is
 * (container and network prune), or with image prune's prefix.
 */
export function untilFilter(values: string[] | undefined, opts: { prefixed?: boolean } = {}): number | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw new HttpError(400, 'more than one until filter specified');
  try {
    return Number(getTimestamp(values[0]!)) * 1000;
  } catch (e) {
    throw new HttpError(400, `${opts.prefixed ? "invalid value for 'until' filter: " : ''}${errorText(e)}`);
  }
}

/** A container or network prune's filters: `until`, `label` and `label!`, anything else refused. */
export function pruneFilters(raw: string | null): { until: number | undefined; label: string[]; notLabel: string[] } {
  const filters = parseFilters(raw);
  checkFilterKeys(filters, ['until', 'label', 'label!']);
  return { until: untilFilter(filters.get('until')), label: filters.get('label') ?? [], notLabel: filters.get('label!') ?? [] };
}
