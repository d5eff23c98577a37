// A packing thread (pack-workers.ts): compresses and seals the data blobs it
// is sent into its open pack, and hands each full pack back, its buffer
// transferred.
import { parentPort, workerData } from 'node:worker_threads';
import { PackWriter, type PackedBlob } from './pack.js';
import type { Aead } from './crypto.js';
import { toWorkerError, type WorkerError } from '../../util/worker.js';

export interface PackWorkerInit {
  aead: Aead;
  publicKey: Uint8Array;
  level: number;
  packSize: number;
}

export interface BlobSlice {
  id: Uint8Array;
  offset: number;
  length: number;
}

export type PackWorkerMessage = { op: 'store'; seq: number; data: Uint8Array; blobs: BlobSlice[] } | { op: 'flush'; seq: number };

export interface PackMessage {
  name: string;
  ephemeral: Uint8Array;
  size: number;
  bytes: Uint8Array;
  blobs: PackedBlob[];
}

export type PackWorkerReply = { done: number } | { pack: PackMessage } | { error: WorkerError };

const init = workerData as PackWorkerInit;
const publicKey = Buffer.from(init.publicKey);
let pack: PackWriter | undefined;
let failed = false;

function sealAndSend(): void {
  if (!pack || pack.count === 0) return;
  const sealed = pack.seal();
  pack = undefined;
  const bytes = sealed.bytes;
  const message: PackMessage = { name: sealed.name, ephemeral: sealed.ephemeral, size: sealed.size, bytes, blobs: sealed.blobs };
  parentPort!.postMessage({ pack: message } satisfies PackWorkerReply, [bytes.buffer as ArrayBuffer]);
}

parentPort!.on('message', (m: PackWorkerMessage) => {
  if (failed) return;
  try {
    if (m.op === 'store') {
      for (const b of m.blobs) {
        pack ??= new PackWriter(init.aead, publicKey, init.level, init.packSize + (init.packSize >> 3));
        pack.add('data', b.id, m.data.subarray(b.offset, b.offset + b.length));
        if (pack.size >= init.packSize) sealAndSend();
      }
    } else {
      sealAndSend();
    }
    parentPort!.postMessage({ done: m.seq } satisfies PackWorkerReply);
  } catch (e) {
    failed = true;
    parentPort!.postMessage({ error: toWorkerError(e) } satisfies PackWorkerReply);
  }
});
