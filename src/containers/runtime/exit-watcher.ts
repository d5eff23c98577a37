// The exit directory conmon writes to (--exit-dir): <dir>/<container id>
// holds the container's exit code once it has ended and its output is
// written. One inotify watch on the directory (fs.watch) tells berthd of
// every exit as it happens; the files stay until the next start of the
// container, so a berthd that was down reads them at its start.
import { mkdirSync, readFileSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** A container's exit as conmon recorded it. */
export interface RecordedExit {
  /** The exit status, 128 + N when signal N killed it, -1 when conmon could not tell. */
  exitCode: number;
  /** When the file was written: the exit's time, in nanoseconds since the epoch. */
  finishedAtNs: bigint;
}

export class ExitWatcher {
  private watcher: FSWatcher | null = null;
  private readonly listeners = new Map<string, (exit: RecordedExit) => void>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  path(id: string): string {
    return join(this.dir, id);
  }

  /** The exit recorded for `id`, or null while it has none. */
  read(id: string): RecordedExit | null {
    try {
      const text = readFileSync(this.path(id), 'utf8').trim();
      // Written whole and renamed into place (g_file_set_contents): empty only if something else wrote it.
      if (!/^-?\d+$/.test(text)) return null;
      return { exitCode: Number(text), finishedAtNs: statSync(this.path(id), { bigint: true }).mtimeNs };
    } catch {
      return null;
    }
  }

  /** Forgets an exit before the container's next start. */
  clear(id: string): void {
    rmSync(this.path(id), { force: true });
  }

  /**
   * Calls `onExit` once when `id`'s exit is recorded (at once if it already
   * is). Returns a function that cancels it.
   */
  onExit(id: string, onExit: (exit: RecordedExit) => void): () => void {
    this.start();
    let called = false;
    const fire = (exit: RecordedExit): void => {
      if (called) return;
      called = true;
      this.forget(id, fire);
      onExit(exit);
    };
    this.listeners.set(id, fire);
    // A process waiting for an exit stays alive for it.
    this.watcher?.ref();
    const now = this.read(id);
    if (now) fire(now);
    return () => this.forget(id, fire);
  }

  private forget(id: string, fire: (exit: RecordedExit) => void): void {
    if (this.listeners.get(id) === fire) this.listeners.delete(id);
    if (this.listeners.size === 0) this.watcher?.unref();
  }

  /** Checks `id` again (the caller learnt by other means that its monitor is gone). */
  recheck(id: string): void {
    const exit = this.read(id);
    if (exit) this.listeners.get(id)?.(exit);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    this.listeners.clear();
  }

  private start(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, (_event, name) => {
      if (typeof name !== 'string') {
        // The kernel dropped events (queue overflow): look at every watched exit.
        for (const id of [...this.listeners.keys()]) this.recheck(id);
        return;
      }
      if (this.listeners.has(name)) this.recheck(name);
    });
    this.watcher.on('error', () => undefined);
  }
}
