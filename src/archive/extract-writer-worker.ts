// A writer thread of a parallel extraction (extract-writers.ts): it creates
// the regular files it is sent, one at a time, in the order sent.
import { parentPort } from 'node:worker_threads';
import { ExtractedFile, type FileJob } from './extracted-file.js';
import { toWorkerError, type WorkerError } from '../util/worker.js';

export type WriterMessage =
  | { op: 'open'; job: FileJob }
  | { op: 'data'; chunk: Uint8Array }
  | { op: 'close' };

/** `written`: a data chunk's bytes are on disk; `done`: the file is complete. */
export type WriterReply = { written: number } | { done: true } | { error: WorkerError };

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

let current: ExtractedFile | undefined;
let failed = false;
parentPort!.on('message', (m: WriterMessage) => {
  if (failed) return;
  try {
    if (m.op === 'open') {
      const { job } = m;
      const xattrs = new Map([...job.meta.xattrs].map(([k, v]) => [k, asBuffer(v)]));
      current = new ExtractedFile({ ...job, abs: asBuffer(job.abs), meta: { ...job.meta, xattrs } });
      if (job.source) current.copyIn();
    } else if (m.op === 'data') {
      current!.write(asBuffer(m.chunk));
      parentPort!.postMessage({ written: m.chunk.byteLength } satisfies WriterReply);
    } else {
      const file = current!;
      current = undefined;
      file.finish();
      parentPort!.postMessage({ done: true } satisfies WriterReply);
    }
  } catch (e) {
    failed = true;
    current?.abandon();
    parentPort!.postMessage({ error: toWorkerError(e) } satisfies WriterReply);
  }
});
