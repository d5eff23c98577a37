// Waiting for a state that message handlers change (a worker pool's queue
// drained, its replies all in), with the first failure ending every wait:
// the pools of the backup engine share this instead of each keeping its
// own waiter list.
export class StateWaiters {
  private failure: Error | undefined;
  private waiters: Array<() => void> = [];

  /** Records the first failure and wakes every wait, which then throws it. */
  fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  /** Lets every wait test its condition again. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Throws the failure, if there was one. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Resolves once `condition` holds (tested at every wake); rejects with the failure. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) {
      this.check();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.check();
  }
}
