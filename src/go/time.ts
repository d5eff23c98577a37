// Go's time.ParseDuration, and moby's api/types/time GetTimestamp: how the
// docker CLI and dockerd read `--since`/`--until` and `until` filters
// ("10m", RFC 3339 or unix times).

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds; undefined when invalid. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) return undefined;
    const whole = m[1] === '' ? 0 : Number(m[1]);
    const frac = m[2] ? Number(`0.${m[2]}`) : 0;
    total += (whole + frac) * UNIT_NS[m[3]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
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
