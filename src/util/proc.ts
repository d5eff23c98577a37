// Process identity from /proc: a pid alone can be reused, a pid with its start
// time (field 22 of /proc/PID/stat, clock ticks since boot) cannot.
import { readFileSync } from 'node:fs';

interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead), T, ... */
  state: string;
  startTime: string;
}

function readStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const startTime = rest[19];
  return state && startTime ? { state, startTime } : null;
}

/** The process's state letter (R, S, D, T for stopped, Z, ...), or null when there is no such process. */
export function processState(pid: number): string | null {
  return readStat(pid)?.state ?? null;
}

/** The process's start time, or null when there is no such process. */
export function processStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

/**
 * True while the process runs (a zombie has ended: it only waits to be
 * reaped). With `startTime`, only the very process that had it counts.
 */
export function isProcessRunning(pid: number, startTime?: string | null): boolean {
  const st = readStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime == null || st.startTime === startTime;
}

/** The process's argv, or null when there is no such process. */
export function processArgv(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return null;
  }
}
