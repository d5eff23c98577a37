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

/**
 * Runs `task` for every item, `limit` at a time, in order. The first failure
 * aborts the others (through the signal they get) and is thrown once every
 * task has settled, so nothing is left running; `signal` aborts them all.
 * `onWait` hears of an item that must queue.
 */
export async function allOrNone<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  task: (item: T, signal: AbortSignal) => Promise<R>,
  onWait?: (item: T) => void,
): Promise<R[]> {
  const abort = new AbortController();
  const onAbort = (): void => abort.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const limiter = new Limiter(limit);
  try {
    const results = await Promise.allSettled(
      items.map((item) =>
        limiter.run(
          async () => {
            abort.signal.throwIfAborted();
            try {
              return await task(item, abort.signal);
            } catch (e) {
              abort.abort(e);
              throw e;
            }
          },
          () => onWait?.(item),
        ),
      ),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw abort.signal.reason ?? failure.reason;
    return results.map((r) => (r as PromiseFulfilledResult<R>).value);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
