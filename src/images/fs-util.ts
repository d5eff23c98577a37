// Small filesystem and process helpers for the image store.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SystemError } from '../errors.js';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a host binary (no shell). Rejects with SystemError carrying stderr. */
export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const msg = (stderr || err.message).trim();
        reject(Object.assign(new SystemError(`${cmd} ${args.join(' ')}: ${msg}`, { cause: err }), { stderr }));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

export function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}

export { writeFileAtomic, writeFileAtomicSync, fsyncDir } from '../util/fs.js';

export function isErrno(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');
}

/** A promise-chain mutex: one critical section at a time, in arrival order. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.then(
      () => {},
      () => {},
    );
    return result;
  }
}
