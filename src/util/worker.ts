// Worker threads of berth's own modules. Compiled, a worker is its .js file
// beside the caller; from TypeScript sources (tests under tsx) it is the .ts
// file, loaded after registering tsx in the thread. Errors cross the thread
// boundary as message and errno code.
import { Worker, setEnvironmentData } from 'node:worker_threads';

/**
 * Where a starting worker finds its readiness flag: 0 while it loads its
 * modules, 1 once loaded, 2 once it has exited.
 */
const READY_KEY = 'berth:worker-ready';
const readiness = new WeakMap<Worker, Int32Array>();

/** Starts the worker module `name` (without extension) that sits beside the module at `base` (its import.meta.url). */
export function startWorker(base: string, name: string, workerData?: unknown): Worker {
  const fromSource = base.endsWith('.ts');
  const ext = fromSource ? 'ts' : 'js';
  const url = JSON.stringify(new URL(`./${name}.${ext}`, base).href);
  // The filesystem's koffi functions are declared before the worker counts as started (src/fs/native.ts says why).
  const native = JSON.stringify(new URL(`../fs/native.${ext}`, import.meta.url).href);
  const imports = `import(${native}).then((n) => n.loadFsBindings()).then(() => import(${url}))`;
  const load = fromSource ? `import('tsx/esm/api').then((t) => t.register()).then(() => ${imports})` : imports;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  // Cloned into the worker as it is made: the clone shares the flag's memory.
  setEnvironmentData(READY_KEY, flag);
  const worker = new Worker(
    `const ready = require('node:worker_threads').getEnvironmentData(${JSON.stringify(READY_KEY)});
${load}.finally(() => { Atomics.store(ready, 0, 1); Atomics.notify(ready, 0); });`,
    { eval: true, workerData },
  );
  setEnvironmentData(READY_KEY, undefined);
  readiness.set(worker, flag);
  worker.once('exit', () => {
    Atomics.store(flag, 0, 2);
    Atomics.notify(flag, 0);
  });
  return worker;
}

/** Atomics.waitAsync, in Node 20 but not in this project's ES2023 library types. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/**
 * Terminates a worker, once it has loaded its modules: terminating a thread
 * while it loads koffi's addon aborts the whole process (koffi throws into an
 * environment that is shutting down, a fatal napi_throw).
 */
export async function terminateWorker(worker: Worker): Promise<void> {
  const flag = readiness.get(worker);
  if (flag) {
    const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(flag, 0, 0);
    if (wait.async) await wait.value;
  }
  await worker.terminate();
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
