// Cleanups for helpers that take a test context (`t.after`), when what they
// start is shared by a whole file (before/after hooks): run in reverse order.
export function cleanups(): { after(fn: () => unknown): void; run(): Promise<void> } {
  const fns: Array<() => unknown> = [];
  return {
    after: (fn) => void fns.push(fn),
    async run() {
      for (const fn of fns.reverse()) await fn();
    },
  };
}
