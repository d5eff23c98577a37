// The thread of a worker export (tree-export.ts): walks and encodes the tree,
// sending each batch of chunks (transferred, not copied) while it has credit.
import { parentPort, workerData } from 'node:worker_threads';
import { tarChunks, type ExportWorkerMessage } from './tree-export.js';
import type { TreeProgress } from './tree.js';
import { toWorkerError } from '../util/worker.js';

const { root, topName } = workerData as { root: string; topName: string; credits: number };
let credits = (workerData as { credits: number }).credits;
let resume: (() => void) | undefined;
parentPort!.on('message', (grant: number) => {
  credits += grant;
  resume?.();
  resume = undefined;
});

const send = (m: ExportWorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);
const progress: TreeProgress = { bytes: 0, files: 0 };
try {
  for (const batch of tarChunks(root, topName, progress)) {
    const chunks = batch.filter((c) => c.length > 0);
    if (chunks.length === 0) continue;
    send({ batch: chunks, progress: { ...progress } }, chunks.map((c) => c.buffer as ArrayBuffer));
    if (--credits <= 0) await new Promise<void>((r) => (resume = r));
  }
  send({ end: true, progress: { ...progress } });
} catch (e) {
  send({ error: toWorkerError(e) });
}
parentPort!.close();
