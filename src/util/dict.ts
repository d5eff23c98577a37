// Dictionaries keyed by what users send (labels, driver options, env-like
// maps). A plain object drops a '__proto__' key on assignment and answers
// `in` for 'constructor'; a null-prototype object keeps every key as data.
import { z } from 'zod';

export type Dict<V = string> = Record<string, V>;

export function newDict<V = string>(): Dict<V> {
  return Object.create(null) as Dict<V>;
}

export function dictFrom<V>(entries: Iterable<readonly [string, V]>): Dict<V> {
  const d = newDict<V>();
  for (const [k, v] of entries) d[k] = v;
  return d;
}

/** A copy that keeps every own key, '__proto__' included. */
export function copyDict<V>(src: Readonly<Record<string, V>>): Dict<V> {
  return dictFrom(Object.entries(src));
}

/**
 * zod's z.record(z.string(), value) rebuilds the object by assignment and so
 * loses '__proto__'; this schema validates the same and keeps it.
 */
export function dictSchema<T extends z.ZodType>(value: T) {
  return z.unknown().transform((v, ctx): Dict<z.output<T>> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: `Invalid input: expected record, received ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v}` });
      return z.NEVER;
    }
    const out = newDict<z.output<T>>();
    for (const [k, x] of Object.entries(v)) {
      const r = value.safeParse(x);
      if (!r.success) {
        for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [k, ...issue.path] } as never);
        return z.NEVER;
      }
      out[k] = r.data as z.output<T>;
    }
    return out;
  });
}
