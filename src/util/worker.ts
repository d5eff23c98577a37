// Worker threads of berth's own modules. Compiled, a worker is its .js file
// beside the caller; from TypeScript sources (tests under tsx) it is the .ts
// file, loaded after registering tsx in the thread. Errors cross the thread
// boundary as message and errno code.
import { Worker } from 'node:worker_threads';

/** Starts the worker module `name` (without extension) that sits beside the module at `base` (its import.meta.url). */
export function startWorker(base: string, name: string, workerData?: unknown): Worker {
  if (base.endsWith('.ts')) {
    const url = new URL(`./${name}.ts`, base).href;
    return new Worker(`import('tsx/esm/api').then((t) => t.register()).then(() => import(${JSON.stringify(url)}))`, { eval: true, workerData });
  }
  return new Worker(new URL(`./${name}.js`, base), { workerData });
}

export interface WorkerError {
  message: string;
  code?: string;
}

/** What a worker posts for an error it caught. */
export function toWorkerError(e: unknown): WorkerError {
  const err = e as NodeJS.ErrnoException;
  return { message: err.message ?? String(e), code: err.code };
}

/** The caught error again, on this side: its message and errno code. */
export function fromWorkerError(w: WorkerError): Error {
  return Object.assign(new Error(w.message), w.code ? { code: w.code } : {});
}

/**
 * `b`, or a copy of it, owning all of its ArrayBuffer: what can be
 * transferred to a thread (a pooled or sliced Buffer shares its memory).
 */
export function ownedBuffer(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !(b.buffer instanceof SharedArrayBuffer)) return b;
  const copy = Buffer.allocUnsafeSlow(b.length);
  b.copy(copy);
  return copy;
}
