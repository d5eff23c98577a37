// The backup threads of a session (backup-worker.ts): files are handed out
// in batches to the least loaded thread; each thread's questions ("which
// of these blobs does the repository lack?") are answered here from the
// blob store, and its sealed packs are handed to the store to upload. The
// main thread only walks the tree and keeps the books.
import type { Worker } from 'node:worker_threads';
import { StateWaiters } from '../../util/state-waiters.js';
import { fromWorkerError, startWorker, terminateWorker } from '../../util/worker.js';
import type { PackSource, StoreLedger } from '../repo/blob-store.js';
import type { Repository } from '../repo/repository.js';
import type { BackupWorkerInit, BackupWorkerMessage, BackupWorkerReply, FileJob, FileOutcome } from './backup-worker.js';

/** Bytes of files queued on a thread before the walk waits. */
const MAX_QUEUED_BYTES = 64 << 20;
/** Files a batch message carries at most, and bytes after which it is sent anyway. */
const BATCH_FILES = 64;
const BATCH_BYTES = 4 << 20;
/** The cost of a file for balancing: opening it weighs like reading this much. */
const FILE_COST = 64 << 10;

interface Thread {
  worker: Worker;
  queued: number;
  batch: FileJob[];
  batchBytes: number;
}

export class FileReaders implements PackSource {
  private readonly threads: Thread[];
  private readonly waiting = new Map<number, { cost: number; thread: Thread; resolve: (o: FileOutcome) => void }>();
  private readonly flushes = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextJob = 0;
  private nextFlush = 0;
  private closed = false;
  private readonly state = new StateWaiters();

  constructor(
    private readonly repo: Repository,
    private readonly ledger: StoreLedger,
  ) {
    const { config, secrets } = repo;
    const init: BackupWorkerInit = {
      aead: config.aead,
      publicKey: secrets.write.publicKey,
      level: config.compression.level,
      packSize: config.packSize,
      chunkerKey: secrets.write.chunker,
      blobIdKey: secrets.write.blobId,
      chunker: config.chunker,
    };
    this.threads = Array.from({ length: repo.threads }, () => {
      const worker = startWorker(import.meta.url, 'backup-worker', init);
      const t: Thread = { worker, queued: 0, batch: [], batchBytes: 0 };
      worker.on('message', (m: BackupWorkerReply) => this.onReply(t, m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`a backup thread exited with code ${code}`));
      });
      return t;
    });
    repo.blobs.addSource(this);
  }

  private onReply(t: Thread, m: BackupWorkerReply): void {
    switch (m.op) {
      case 'ids':
        void this.answer(t, m.segment, m.ids);
        return;
      case 'outcomes':
        for (const o of m.outcomes) {
          const w = this.waiting.get(o.job);
          if (!w) continue;
          this.waiting.delete(o.job);
          w.thread.queued -= w.cost;
          w.resolve(o);
        }
        this.state.wake();
        return;
      case 'pack': {
        const p = m.pack;
        const recycle = (bytes: Buffer): void => {
          if (this.closed) return;
          const buffer = bytes.buffer as ArrayBuffer;
          t.worker.postMessage({ op: 'recycle', buffer } satisfies BackupWorkerMessage, [buffer]);
        };
        this.repo.blobs.addPack(
          {
            name: p.name,
            ephemeral: Buffer.from(p.ephemeral),
            size: p.size,
            bytes: Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength),
            blobs: p.blobs.map((b) => ({ ...b, id: Buffer.from(b.id) })),
          },
          recycle,
        );
        return;
      }
      case 'flushed':
        this.flushes.get(m.seq)?.resolve();
        this.flushes.delete(m.seq);
        return;
      case 'error':
        this.fail(fromWorkerError(m.error));
        return;
    }
  }

  /** Answers a thread's question once the upload queue has room (a slow target holds the threads back here). */
  private async answer(t: Thread, segment: number, ids: Uint8Array[]): Promise<void> {
    try {
      await this.repo.blobs.uploadRoom();
      const store = this.repo.blobs.claim(ids, this.ledger);
      t.worker.postMessage({ op: 'decision', segment, store } satisfies BackupWorkerMessage);
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private fail(e: Error): void {
    this.state.fail(e);
    for (const f of this.flushes.values()) f.reject(this.state.failed!);
    this.flushes.clear();
  }

  private send(t: Thread): void {
    if (t.batch.length === 0) return;
    t.worker.postMessage({ op: 'files', jobs: t.batch } satisfies BackupWorkerMessage);
    t.batch = [];
    t.batchBytes = 0;
  }

  /**
   * Queues a file (or a part of one) to be read (`size` its expected data, for balancing);
   * resolves with what the thread found once it has read, cut and hashed
   * it (its blobs may still be on their way to a pack: flush() waits for
   * them). Waits first while the threads have enough queued.
   */
  async read(path: Buffer, size: number, parentBlock?: number, part?: FileJob['part']): Promise<{ outcome: Promise<FileOutcome> }> {
    this.state.check();
    const cost = size + FILE_COST;
    const lightest = (): Thread => this.threads.reduce((a, b) => (b.queued < a.queued ? b : a));
    for (const t of this.threads) if (lightest().queued > 0 && lightest().queued + cost > MAX_QUEUED_BYTES) this.send(t);
    await this.state.until(() => lightest().queued === 0 || lightest().queued + cost <= MAX_QUEUED_BYTES);
    const t = lightest();
    const job = ++this.nextJob;
    t.queued += cost;
    t.batch.push({ job, path, ...(parentBlock !== undefined ? { parentBlock } : {}), ...(part ? { part } : {}) });
    t.batchBytes += cost;
    if (t.batch.length >= BATCH_FILES || t.batchBytes >= BATCH_BYTES) this.send(t);
    return { outcome: new Promise<FileOutcome>((resolve) => this.waiting.set(job, { cost, thread: t, resolve })) };
  }

  /** Sends what is batched and waits for every file queued so far. */
  async drain(): Promise<void> {
    for (const t of this.threads) this.send(t);
    await this.state.until(() => this.waiting.size === 0);
  }

  /** Seals every thread's open pack once its blobs are answered; resolves when each pack is with the blob store. */
  async flush(): Promise<void> {
    await this.drain();
    await Promise.all(
      this.threads.map(
        (t) =>
          new Promise<void>((resolve, reject) => {
            const seq = ++this.nextFlush;
            this.flushes.set(seq, { resolve, reject });
            t.worker.postMessage({ op: 'flush', seq } satisfies BackupWorkerMessage);
          }),
      ),
    );
    this.state.check();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.repo.blobs.removeSource(this);
    await Promise.all(this.threads.map((t) => terminateWorker(t.worker)));
  }
}
