// berthd as a child subreaper: the monitors it starts (conmon double-forks
// to leave its spawner) are reparented to berthd instead of PID 1, which may
// not reap at all, and berthd reaps them when they exit. Only pids registered
// here are waited for: every other child belongs to libuv, which reaps its
// own and must still see their exits.
import { check, libcFunction } from './libc.js';

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

type PrctlFn = (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;
type WaitpidFn = (pid: number, status: [number], options: number) => number;

let prctlFn: PrctlFn | undefined;
let waitpidFn: WaitpidFn | undefined;

/** Makes orphaned descendants of this process its children (prctl(PR_SET_CHILD_SUBREAPER)). */
export function becomeSubreaper(): void {
  prctlFn ??= libcFunction<PrctlFn>('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)');
  check(prctlFn(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 'prctl');
}

/** The exit of a reaped process, as waitpid(2) reports it. */
export interface ReapedExit {
  /** The exit status, or 128 + the signal that killed it. */
  code: number;
}

/**
 * waitpid(pid, WNOHANG): the exit when `pid` was a child that has ended (it
 * is reaped now), null when it still runs, 'not-a-child' when it is not ours.
 */
function tryReap(pid: number): ReapedExit | null | 'not-a-child' {
  waitpidFn ??= libcFunction<WaitpidFn>('int waitpid(int pid, _Out_ int *status, int options)');
  const status: [number] = [0];
  const rc = waitpidFn(pid, status, WNOHANG);
  if (rc === 0) return null;
  if (rc < 0) return 'not-a-child';
  const s = status[0];
  const signal = s & 0x7f;
  return { code: signal === 0 ? (s >> 8) & 0xff : 128 + signal };
}

/**
 * Reaps registered pids on SIGCHLD. `watch(pid)` resolves when that process
 * has been reaped, or with null when it is not (or no longer) a child of
 * berthd: a monitor left by a previous berthd belongs to whoever adopted it.
 */
export class Reaper {
  private readonly waiting = new Map<number, Array<(exit: ReapedExit | null) => void>>();
  private readonly onSignal = (): void => this.sweep();
  private listening = false;

  watch(pid: number): Promise<ReapedExit | null> {
    return new Promise((resolve) => {
      const list = this.waiting.get(pid) ?? [];
      list.push(resolve);
      this.waiting.set(pid, list);
      if (!this.listening) {
        process.on('SIGCHLD', this.onSignal);
        this.listening = true;
      }
      // It may have ended before it was registered.
      this.sweepOne(pid);
    });
  }

  close(): void {
    if (this.listening) process.off('SIGCHLD', this.onSignal);
    this.listening = false;
  }

  private sweep(): void {
    for (const pid of [...this.waiting.keys()]) this.sweepOne(pid);
  }

  private sweepOne(pid: number): void {
    const result = tryReap(pid);
    if (result === null) return;
    const list = this.waiting.get(pid) ?? [];
    this.waiting.delete(pid);
    for (const resolve of list) resolve(result === 'not-a-child' ? null : result);
  }
}
