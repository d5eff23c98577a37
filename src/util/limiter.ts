/**
 * At most `limit` tasks at a time, started in arrival order (dockerd's
 * max-concurrent-downloads/uploads). `onWait` runs when a task must queue.
 */
export class Limiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>, onWait?: () => void): Promise<T> {
    if (this.running >= this.limit) {
      onWait?.();
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next task, so `running` stays the same.
      if (next !== undefined) next();
      else this.running--;
    }
  }
}
