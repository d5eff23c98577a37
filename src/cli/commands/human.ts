// Times as the docker CLI prints them: go-units HumanDuration ("Up 3 seconds",
// "5 minutes ago"), Go's time.Time.String() for CreatedAt columns, and the
// `--since`/`--until` parsing of `docker logs` (api/types/time GetTimestamp).

import { humanDuration } from '../../util/duration.js';
import { parseDuration } from '../../go/time.js';

/** "5 minutes ago" for a unix timestamp in seconds (docker's RunningFor / CreatedSince). */
export function timeAgo(unixSeconds: number, now: number = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

export interface ContainerStateTimes {
  Running?: boolean;
  Paused?: boolean;
  Restarting?: boolean;
  Dead?: boolean;
  RemovalInProgress?: boolean;
  ExitCode?: number;
  StartedAt?: string;
  FinishedAt?: string;
  Health?: { Status?: string } | null;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function isZeroTime(t: string | undefined): boolean {
  return !t || t === ZERO_TIME || t.startsWith('0001-01-01');
}

/**
 * The daemon's container State.String(): "Up 3 seconds", "Up 2 hours (Paused)",
 * "Exited (0) 5 minutes ago", "Created", "Dead". The daemon computes this for
 * `/containers/json`; exported so both sides agree.
 */
export function containerStatus(s: ContainerStateTimes, now: number = Date.now()): string {
  const since = (t: string | undefined): string => humanDuration(now - Date.parse(t ?? ''));
  if (s.Running) {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode ?? 0}) ${since(s.FinishedAt)} ago`;
    const health = s.Health?.Status;
    if (health && health !== 'none') {
      const h = health === 'starting' ? 'health: starting' : health;
      return `Up ${since(s.StartedAt)} (${h})`;
    }
    return `Up ${since(s.StartedAt)}`;
  }
  if (s.RemovalInProgress) return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (isZeroTime(s.StartedAt)) return 'Created';
  if (isZeroTime(s.FinishedAt)) return '';
  return `Exited (${s.ExitCode ?? 0}) ${since(s.FinishedAt)} ago`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function zoneAbbreviation(d: Date, offsetMinutes: number): string {
  if (offsetMinutes === 0 && (!process.env.TZ || /^(UTC|Etc\/UTC|UTC0|:?UTC|Universal|Zulu)$/i.test(process.env.TZ))) return 'UTC';
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
    if (part && /^[A-Z]{2,5}$/.test(part.value)) return part.value;
  } catch {
    // fall through to the numeric form Go uses for unnamed zones
  }
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return abs % 60 === 0 ? `${sign}${pad(abs / 60)}` : `${sign}${pad(Math.trunc(abs / 60))}${pad(abs % 60)}`;
}

/** Go's time.Unix(sec, 0).String() in the local zone: "2024-01-02 15:04:05 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date} ${time} ${sign}${pad(Math.trunc(abs / 60))}${pad(abs % 60)} ${zoneAbbreviation(d, offset)}`;
}

// ---------------------------------------------------------------------------
// Go durations and GetTimestamp

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
