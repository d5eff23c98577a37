// Size-based rotation of a running container's log, as Docker's json-file
// driver rotates (max-size, max-file, compress): once the file conmon writes
// reaches max-size it becomes generation 1 (the older ones move up, the
// oldest beyond max-file goes) and conmon is told on its control fifo to
// reopen the log path, which starts a new file. conmon writes to the renamed
// file until it reopens, so no record is lost or split between files.
// Rotated generations are gzip-compressed when asked, as Docker's are.
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Logger } from 'pino';
import { reopenLogs } from './conmon.js';

export interface RotationSettings {
  maxSize: number;
  /** Files kept, the one being written included. */
  maxFile: number;
  compress: boolean;
}

/** Generation `n` of a log: `<log>.n`, or `<log>.n.gz` when compressed. */
export function generationPath(logPath: string, n: number, compressed: boolean): string {
  return `${logPath}.${n}${compressed ? '.gz' : ''}`;
}

/**
 * Rotation into generations (max-file 2 or more). With max-file 1 conmon
 * itself starts the file afresh when the next record would pass max-size
 * (--log-size-max), which is Docker's behaviour for one file.
 */
export class LogRotator {
  private watcher: FSWatcher | null = null;
  /** From a rename until conmon has made the new file and generation 1 is compressed (if asked). */
  private busy = false;
  /** Resolves the wait for conmon's new file. */
  private onReopened: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly logPath: string,
    private readonly bundle: string,
    private readonly settings: RotationSettings,
    private readonly log: Logger,
  ) {}

  /** Watches the log's directory (the file itself is replaced at each rotation). */
  start(): void {
    const name = basename(this.logPath);
    this.watcher = watch(dirname(this.logPath), { persistent: false }, (_event, file) => {
      if (file === name) this.check();
    });
    this.watcher.on('error', () => undefined);
    if (!existsSync(this.logPath)) {
      // A berthd stopped between a rename and conmon's reopen: conmon still writes to generation 1.
      try {
        reopenLogs(this.bundle);
      } catch {
        // conmon is gone
      }
    }
    this.check();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    this.onReopened?.();
  }

  private check(): void {
    if (this.closed) return;
    let size: number;
    try {
      size = statSync(this.logPath).size;
    } catch {
      // Between the rename and conmon's reopen there is no file at the path.
      return;
    }
    if (this.onReopened) {
      const reopened = this.onReopened;
      this.onReopened = null;
      reopened();
    }
    if (this.busy || size < this.settings.maxSize) return;
    this.busy = true;
    this.rotate().then(
      () => {
        this.busy = false;
        // The file may have grown past max-size again meanwhile.
        this.check();
      },
      (e: unknown) => {
        // Tried again at the next write, not at once: a failure must not spin.
        this.busy = false;
        this.log.warn({ log: this.logPath, err: (e as Error).message }, 'log rotation failed');
      },
    );
  }

  private async rotate(): Promise<void> {
    const { maxFile, compress } = this.settings;
    // The oldest generation goes; the others move up by one.
    rmSync(generationPath(this.logPath, maxFile - 1, compress), { force: true });
    for (let n = maxFile - 2; n >= 1; n--) {
      try {
        renameSync(generationPath(this.logPath, n, compress), generationPath(this.logPath, n + 1, compress));
      } catch {
        // not there: fewer rotations so far
      }
    }
    const first = generationPath(this.logPath, 1, false);
    renameSync(this.logPath, first);
    const reopened = new Promise<void>((resolve) => (this.onReopened = resolve));
    try {
      reopenLogs(this.bundle);
    } catch (e) {
      // conmon is gone (the container ended): the renamed file is all there is.
      this.onReopened = null;
      renameSync(first, this.logPath);
      throw e;
    }
    if (!compress) return;
    // conmon writes to generation 1 until it has reopened the path.
    await reopened;
    if (this.closed) return;
    const target = generationPath(this.logPath, 1, true);
    try {
      await pipeline(createReadStream(first), createGzip(), createWriteStream(`${target}.tmp`));
      // Readers take N.gz over N when both are there for an instant.
      renameSync(`${target}.tmp`, target);
      rmSync(first, { force: true });
    } catch (e) {
      rmSync(`${target}.tmp`, { force: true });
      throw e;
    }
  }
}
