// A writer thread of a parallel extraction (extract-writers.ts): it creates
// the regular files it is sent, one at a time, in the order sent.
import { parentPort } from 'node:worker_threads';
import { ExtractedFile, fromWire, type WireJob } from './extracted-file.js';
import { toWorkerError, type WorkerError } from '../util/worker.js';

/**
 * `files`: whole files whose data is in the archive file (copied there);
 * `open`, `data`, `close`: one file whose data arrives in messages.
 */
export type WriterMessage =
  | { op: 'files'; jobs: WireJob[] }
  | { op: 'open'; job: WireJob }
  | { op: 'data'; chunk: Uint8Array }
  | { op: 'close' };

/** `written`: a data chunk's bytes are written; `done`: that many files are complete, with `bytes` of data copied from the archive file. */
export type WriterReply = { written: number } | { done: number; bytes: number } | { error: WorkerError };

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

let current: ExtractedFile | undefined;
let failed = false;
parentPort!.on('message', (m: WriterMessage) => {
  if (failed) return;
  try {
    if (m.op === 'files') {
      let bytes = 0;
      for (const wire of m.jobs) {
        current = new ExtractedFile(fromWire(wire));
        current.copyIn();
        const file = current;
        current = undefined;
        file.finish();
        for (let i = 1; i < wire.extents.length; i += 2) bytes += wire.extents[i]!;
      }
      parentPort!.postMessage({ done: m.jobs.length, bytes } satisfies WriterReply);
    } else if (m.op === 'open') {
      current = new ExtractedFile(fromWire(m.job));
    } else if (m.op === 'data') {
      current!.write(asBuffer(m.chunk));
      parentPort!.postMessage({ written: m.chunk.byteLength } satisfies WriterReply);
    } else {
      const file = current!;
      current = undefined;
      file.finish();
      parentPort!.postMessage({ done: 1, bytes: 0 } satisfies WriterReply);
    }
  } catch (e) {
    failed = true;
    current?.abandon();
    parentPort!.postMessage({ error: toWorkerError(e) } satisfies WriterReply);
  }
});
