// The packing threads of a blob store: data blobs are compressed and sealed
// into packs beside the thread that reads and hashes files. Work goes to
// the least loaded thread; store() waits while too much is queued, so
// memory stays bounded however fast files are read.
import type { Worker } from 'node:worker_threads';
import { fromWorkerError, ownedBuffer, startWorker } from '../../util/worker.js';
import type { PackedBlob, SealedPack } from './pack.js';
import type { BlobSlice, PackWorkerInit, PackWorkerMessage, PackWorkerReply } from './pack-worker.js';

/** Bytes sent to a thread and not yet packed: the bound on what queues in memory. */
const MAX_QUEUED_BYTES = 48 << 20;

interface PackThread {
  worker: Worker;
  queued: number;
  /** Sequence number -> bytes it carried, until the thread says it is done. */
  pending: Map<number, { bytes: number; done?: () => void }>;
}

export class PackWorkers {
  private readonly threads: PackThread[];
  private seq = 0;
  private failure: Error | undefined;
  private waiters: Array<() => void> = [];

  /** `onPack` takes each sealed pack (to upload it); the pool does not wait for it. */
  constructor(
    count: number,
    init: PackWorkerInit,
    private readonly onPack: (pack: SealedPack) => void,
  ) {
    this.threads = Array.from({ length: count }, () => {
      const worker = startWorker(import.meta.url, 'pack-worker', init);
      const t: PackThread = { worker, queued: 0, pending: new Map() };
      worker.on('message', (m: PackWorkerReply) => this.onReply(t, m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (t.pending.size > 0) this.fail(new Error(`a packing thread exited with code ${code}`));
      });
      return t;
    });
  }

  private onReply(t: PackThread, m: PackWorkerReply): void {
    if ('error' in m) return this.fail(fromWorkerError(m.error));
    if ('pack' in m) {
      const p = m.pack;
      const blobs: PackedBlob[] = p.blobs.map((b) => ({ ...b, id: Buffer.from(b.id.buffer, b.id.byteOffset, b.id.byteLength) }));
      const bytes = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
      this.onPack({ name: p.name, ephemeral: Buffer.from(p.ephemeral), size: p.size, bytes, blobs });
      return;
    }
    const job = t.pending.get(m.done);
    if (!job) return;
    t.pending.delete(m.done);
    t.queued -= job.bytes;
    job.done?.();
    this.wake();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const t of this.threads) for (const job of t.pending.values()) job.done?.();
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Sends blobs (slices of `data`) to be packed; resolves once they are queued within the memory bound. */
  async store(data: Buffer, blobs: BlobSlice[]): Promise<void> {
    this.check();
    const t = this.threads.reduce((a, b) => (b.queued < a.queued ? b : a));
    while (t.queued > 0 && t.queued + data.length > MAX_QUEUED_BYTES) {
      await new Promise<void>((r) => this.waiters.push(r));
      this.check();
    }
    const own = ownedBuffer(data);
    const seq = ++this.seq;
    t.pending.set(seq, { bytes: own.length });
    t.queued += own.length;
    t.worker.postMessage({ op: 'store', seq, data: own, blobs } satisfies PackWorkerMessage, [own.buffer as ArrayBuffer]);
  }

  /** Seals every thread's open pack; resolves once each sealed pack has been handed to onPack. */
  async flush(): Promise<void> {
    this.check();
    await Promise.all(
      this.threads.map(
        (t) =>
          new Promise<void>((resolve) => {
            const seq = ++this.seq;
            t.pending.set(seq, { bytes: 0, done: resolve });
            t.worker.postMessage({ op: 'flush', seq } satisfies PackWorkerMessage);
          }),
      ),
    );
    this.check();
  }

  async terminate(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
