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

export { getTimestamp, parseGoDuration } from '../../go/time.js';
