// The thread of a worker export (tree-export.ts): walks and encodes the tree,
// either sending each batch of chunks (transferred, not copied) while it has
// credit, or writing the archive straight into a file descriptor.
import { parentPort, workerData } from 'node:worker_threads';
import { tarChunks, writeTarTo, type ExportWorkerMessage } from './tree-export.js';
import type { TreeProgress } from './tree.js';
import { toWorkerError } from '../util/worker.js';

const { root, topName, fd } = workerData as { root: string; topName: string; credits?: number; fd?: number };
let credits = (workerData as { credits?: number }).credits ?? 0;
let resume: (() => void) | undefined;
parentPort!.on('message', (grant: number) => {
  credits += grant;
  resume?.();
  resume = undefined;
});

const send = (m: ExportWorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);
const progress: TreeProgress = { bytes: 0, files: 0 };
try {
  if (fd !== undefined) {
    writeTarTo(root, topName, fd, progress, () => send({ progress: { ...progress } }));
  } else {
    for (const batch of tarChunks(root, topName, progress)) {
      const chunks = batch.filter((c) => c.length > 0);
      if (chunks.length === 0) continue;
      send({ batch: chunks, progress: { ...progress } }, chunks.map((c) => c.buffer as ArrayBuffer));
      if (--credits <= 0) await new Promise<void>((r) => (resume = r));
    }
  }
  send({ end: true, progress: { ...progress } });
} catch (e) {
  send({ error: toWorkerError(e) });
}
parentPort!.close();
