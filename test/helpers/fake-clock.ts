// A clock whose time moves only when a test says so, with timers that fire
// in time order as it does (src/backup/scheduler.ts's Clock).
import type { Clock } from '../../src/backup/scheduler.js';

interface Timer {
  at: number;
  fn: () => void;
}

/** Lets every callback that is ready run (promise reactions, then one turn of the event loop). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private readonly timers = new Map<number, Timer>();
  private seq = 0;

  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** When the pending timers fire, earliest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at).sort((a, b) => a - b);
  }

  /** Moves to `time`, firing the timers due on the way in order, each at its own time, settling after each. */
  async advanceTo(time: number): Promise<void> {
    for (;;) {
      const next = [...this.timers.entries()].filter(([, t]) => t.at <= time).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
      await settle();
    }
    this.time = Math.max(this.time, time);
    await settle();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.time + ms);
  }
}
