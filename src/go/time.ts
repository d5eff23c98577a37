// Go's time.Duration text: ParseDuration ("1h30m", "250ms", ".5s") and
// Duration.String, so labels and flags that docker-side tools write as Go
// durations mean here exactly what they mean there, and messages print them
// back the same way. Durations are nanoseconds, as in Go.

const NS = 1n;
const US = 1000n * NS;
const MS = 1000n * US;
const SECOND = 1000n * MS;
const MINUTE = 60n * SECOND;
const HOUR = 60n * MINUTE;

const UNITS: Record<string, bigint> = {
  ns: NS,
  us: US,
  '\u00b5s': US, // U+00B5 micro sign
  '\u03bcs': US, // U+03BC Greek mu
  ms: MS,
  s: SECOND,
  m: MINUTE,
  h: HOUR,
};

const MAX_INT64 = (1n << 63n) - 1n;
const LIMIT = 1n << 63n;

/** Go's time.quote: ASCII printables as they are, everything else as \x bytes. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return out + '"';
}

function invalid(orig: string): Error {
  return new Error(`time: invalid duration ${quote(orig)}`);
}

/**
 * time.ParseDuration: a possibly signed sequence of decimal numbers, each
 * with an optional fraction and a unit (ns, us, µs, ms, s, m, h). Returns
 * nanoseconds; throws Go's error text ("time: invalid duration \"x\"",
 * "time: missing unit in duration ...", "time: unknown unit ...").
 */
export function parseDuration(orig: string): number {
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid(orig);
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0]! >= '0' && s[0]! <= '9'))) throw invalid(orig);
    // The integer part; overflow is an invalid duration, as in Go.
    const intDigits = /^[0-9]*/.exec(s)![0];
    let v = 0n;
    for (const d of intDigits) {
      if (v > LIMIT / 10n) throw invalid(orig);
      v = v * 10n + BigInt(d.charCodeAt(0) - 48);
      if (v > LIMIT) throw invalid(orig);
    }
    s = s.slice(intDigits.length);
    const pre = intDigits.length > 0;
    // The fraction: digits past int64 range are dropped, as Go's leadingFraction does.
    let frac = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      const fracDigits = /^[0-9]*/.exec(s)![0];
      let overflow = false;
      for (const d of fracDigits) {
        if (overflow) continue;
        if (frac > MAX_INT64 / 10n) {
          overflow = true;
          continue;
        }
        const next = frac * 10n + BigInt(d.charCodeAt(0) - 48);
        if (next > LIMIT) {
          overflow = true;
          continue;
        }
        frac = next;
        scale *= 10;
      }
      s = s.slice(fracDigits.length);
      post = fracDigits.length > 0;
    }
    if (!pre && !post) throw invalid(orig);
    const unitText = /^[^0-9.]*/.exec(s)![0];
    if (unitText === '') throw new Error(`time: missing unit in duration ${quote(orig)}`);
    s = s.slice(unitText.length);
    const unit = UNITS[unitText];
    if (unit === undefined) throw new Error(`time: unknown unit ${quote(unitText)} in duration ${quote(orig)}`);
    if (v > LIMIT / unit) throw invalid(orig);
    v *= unit;
    if (frac > 0n) {
      // Go computes this part in float64 and truncates.
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / scale)));
      if (v > LIMIT) throw invalid(orig);
    }
    total += v;
    if (total > LIMIT) throw invalid(orig);
  }
  if (neg) return total === 0n ? 0 : -Number(total);
  if (total > MAX_INT64) throw invalid(orig);
  return Number(total);
}

/** The fraction v / 10**prec as ".123" without trailing zeros ("" when zero), and the integer part. */
function fraction(v: bigint, prec: number): { text: string; rest: bigint } {
  let text = '';
  let printed = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    printed ||= digit !== 0n;
    if (printed) text = String(digit) + text;
    v /= 10n;
  }
  return { text: printed ? `.${text}` : '', rest: v };
}

/** Duration.String: "1h2m3.5s", "250ms", "1.5µs", "0s". `ns` is nanoseconds. */
export function formatDuration(ns: number | bigint): string {
  let u = BigInt(typeof ns === 'number' ? Math.trunc(ns) : ns);
  const neg = u < 0n;
  if (neg) u = -u;
  let out: string;
  if (u < SECOND) {
    if (u === 0n) return '0s';
    let prec: number;
    let unit: string;
    if (u < US) {
      prec = 0;
      unit = 'ns';
    } else if (u < MS) {
      prec = 3;
      unit = '\u00b5s';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const { text, rest } = fraction(u, prec);
    out = `${rest}${text}${unit}`;
  } else {
    const { text, rest } = fraction(u, 9);
    const seconds = rest % 60n;
    const minutes = (rest / 60n) % 60n;
    const hours = rest / 3600n;
    out = `${seconds}${text}s`;
    if (rest >= 60n) out = `${minutes}m${out}`;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return neg ? `-${out}` : out;
}

/** Nanoseconds in a millisecond, for callers that keep milliseconds. */
export const NS_PER_MS = 1e6;

/** Go's time.ParseDuration, in nanoseconds; undefined when invalid. */
export function parseGoDuration(s: string): number | undefined {
  try {
    return parseDuration(s);
  } catch {
    return undefined;
  }
}

/**
 * GetTimestamp from docker's api/types/time: a relative duration ("10m") is
 * subtracted from `now`; an RFC 3339-like time becomes "sec.nanos"; a bare
 * unix timestamp passes through.
 */
export function getTimestamp(value: string, now: number = Date.now()): string {
  const d = parseGoDuration(value);
  if (value !== '0' && d !== undefined) return String(Math.trunc((now - d / 1e6) / 1000));

  const hasZone = /[zZ+]/.test(value) || (value.match(/-/g) ?? []).length === 3;
  let iso: string | undefined;
  const date = /^(\d{4})-(\d{2})-(\d{2})(.*)$/.exec(value);
  if (date) {
    let rest = date[4]!;
    let zone = '';
    if (hasZone) {
      const z = /([zZ]|[+-]\d{2}:\d{2})$/.exec(rest);
      if (z) {
        zone = z[1]!.toUpperCase();
        rest = rest.slice(0, -z[1]!.length);
      }
    }
    const t = /^(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?$/.exec(rest);
    if (t) {
      const time = `${t[1] ?? '00'}:${t[2] ?? '00'}:${t[3] ?? '00'}${t[4] ?? ''}`;
      iso = `${date[1]}-${date[2]}-${date[3]}T${time}${zone}`;
    }
  }
  if (iso !== undefined) {
    const ms = Date.parse(iso);
    if (!Number.isNaN(ms)) {
      const frac = /\.(\d+)/.exec(iso)?.[1] ?? '';
      const nanos = frac === '' ? 0 : Number(frac.slice(0, 9).padEnd(9, '0'));
      const secs = Math.floor(ms / 1000);
      return `${secs}.${String(nanos).padStart(9, '0')}`;
    }
  }
  if (value.includes('-')) throw new Error(`parsing time "${value}": cannot parse as a timestamp`);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  return value;
}
