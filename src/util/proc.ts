// Process identity from /proc: a pid alone can be reused, a pid with its start
// time (field 22 of /proc/PID/stat, clock ticks since boot) cannot.
import { readFileSync, readdirSync } from 'node:fs';

interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead), T, ... */
  state: string;
  ppid: number;
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
  return state && startTime ? { state, ppid: Number(rest[1]), startTime } : null;
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

/** `pid` and every live process descended from it, from one reading of /proc. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(name));
    children.set(st.ppid, list);
  }
  const tree: number[] = [];
  const queue = isProcessRunning(pid) ? [pid] : [];
  while (queue.length > 0) {
    const p = queue.shift()!;
    tree.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return tree;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/**
 * SIGKILLs `pid` and all its descendants. They are stopped first, until a
 * reading of /proc finds no new one, so none can fork a child that escapes
 * (killed first, a parent's children would be reparented out of reach).
 */
export function killProcessTree(pid: number): void {
  const stopped = new Set<number>();
  for (let round = 0; round < 100; round++) {
    const fresh = processTree(pid).filter((p) => !stopped.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      signal(p, 'SIGSTOP');
      stopped.add(p);
    }
  }
  for (const p of stopped) signal(p, 'SIGKILL');
}
