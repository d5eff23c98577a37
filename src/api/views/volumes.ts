// Volume service records as the Engine API shows them.
import type { Volume } from '../../volumes/service.js';
import type { ApiVolume } from '../types/index.js';

export function toApiVolume(v: Volume, opts: { status?: boolean } = {}): ApiVolume {
  const out: ApiVolume = {
    CreatedAt: formatTimestamp(v.createdAt),
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: v.options,
    Scope: v.scope,
  };
  if (opts.status && v.status) out.Status = v.status;
  return out;
}

/** RFC 3339 at second precision in the daemon's local zone, as docker prints CreatedAt. */
export function formatTimestamp(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const offsetMin = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + offsetMin * 60_000);
  const base = local.toISOString().slice(0, 19);
  if (offsetMin === 0) return base + 'Z';
  const sign = offsetMin > 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return `${base}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
