// A worker thread copying one share of a parallel clone (tree-clone.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { cloneShare } from './tree-clone.js';

const { src, dst, names } = workerData as { src: string; dst: string; names: Uint8Array[] };
const result = await cloneShare(
  src,
  dst,
  names.map((n) => Buffer.from(n)),
  { onProgress: (progress) => parentPort!.postMessage({ progress }) },
);
parentPort!.postMessage({ done: result });
