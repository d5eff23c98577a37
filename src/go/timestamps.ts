// Go's time.Time text as Docker writes it: RFC3339Nano (json-file times,
// inspect), the fixed-width RFC3339NanoFixed of `docker logs -t`, and their
// parsing, all in nanoseconds since the epoch (bigint).
const epochAnchorNs = BigInt(Date.now()) * 1_000_000n;
const hrAnchor = process.hrtime.bigint();

/** Wall-clock time with nanosecond resolution (monotonic offsets from one Date.now() anchor). */
export function nowNs(): bigint {
  return epochAnchorNs + (process.hrtime.bigint() - hrAnchor);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function formatTime(ns: bigint, fixed: boolean): string {
  let secs = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    secs -= 1n;
  }
  const d = new Date(Number(secs) * 1000);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  let f = frac.toString().padStart(9, '0');
  if (!fixed) f = f.replace(/0+$/, '');
  return f === '' ? `${base}Z` : `${base}.${f}Z`;
}

/** Go's time.RFC3339Nano in UTC: fraction with trailing zeros trimmed (none if zero). */
export function formatRFC3339Nano(ns: bigint): string {
  return formatTime(ns, false);
}

/** Docker's RFC3339NanoFixed (always 9 fraction digits), used by `docker logs -t`. */
export function formatRFC3339NanoFixed(ns: bigint): string {
  return formatTime(ns, true);
}

/** Parses an RFC3339 time (any fraction length, Z or ±hh:mm) into epoch nanoseconds. */
export function parseRFC3339Nano(s: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new Error(`invalid RFC3339 time: ${s}`);
  const [, y, mo, d, h, mi, se, fr, tz] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (tz && tz !== 'Z' && tz !== 'z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const [th, tm] = tz.slice(1).split(':');
    ms -= sign * (Number(th) * 60 + Number(tm)) * 60_000;
  }
  return BigInt(ms) * 1_000_000n + BigInt((fr ?? '').padEnd(9, '0') || '0');
}

/** A `since`/`until` bound: a Date, epoch seconds (may be fractional), epoch nanoseconds (bigint) or an RFC3339 string. */
export type TimeBound = Date | number | bigint | string;

export function toNs(t: TimeBound): bigint {
  if (typeof t === 'bigint') return t;
  if (t instanceof Date) return BigInt(t.getTime()) * 1_000_000n;
  if (typeof t === 'number') {
    const secs = Math.floor(t);
    return BigInt(secs) * 1_000_000_000n + BigInt(Math.round((t - secs) * 1e9));
  }
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(t);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return parseRFC3339Nano(t);
}
