// moby's pkg/jsonmessage: the JSON-lines progress stream of pull, push, load
// and build (one message per line), and JSONProgress.String(), the text bar
// dockerd puts in "progress" and a terminal CLI redraws with "progressDetail".
import { humanSize } from './units.js';

export interface JSONProgress {
  current?: number;
  total?: number;
  /** Unix seconds the transfer started (for the time left). */
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface JSONError {
  code?: number;
  message?: string;
}

/**
 * moby's jsonmessage.JSONError as a thrown error: a failure whose stream
 * message carries a code (a failing RUN's exit status, which the docker CLI
 * exits with).
 */
export class CodedJSONError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** One line of the stream, with Go's field names and order. */
export interface JSONMessage {
  stream?: string;
  status?: string;
  progressDetail?: JSONProgress;
  /** The rendered bar (ProgressMessage). */
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: JSONError;
  error?: string;
  aux?: unknown;
}

/** Go's time.Duration.String() for whole seconds: "0s", "45s", "2m5s", "1h0m3s". */
function durationString(seconds: number): string {
  if (seconds <= 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * JSONProgress.String() for a terminal `width` columns wide (dockerd, which
 * has no terminal, renders with 200): the bar when wider than 110, the
 * counts, and the time left when a start is known and wider than 50.
 */
export function progressString(p: JSONProgress, width: number, nowMs: number = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (!p.hidecounts) {
    if (p.units) numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
    else numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  }
  let timeLeft = '';
  if (current > 0 && p.start !== undefined && p.start > 0 && percentage < 50 && width > 50) {
    const elapsed = nowMs / 1000 - p.start;
    timeLeft = ` ${durationString(Math.trunc(((total - current) * elapsed) / current))}`;
  }
  return bar + numbers + timeLeft;
}
