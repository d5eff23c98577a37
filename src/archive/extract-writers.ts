// Writer threads for a large extraction: the extractor parses the archive,
// checks every member and makes directories, links and special files
// itself; regular files are written by these threads, so the kernel creates
// files while the next ones are still being read. Files of one directory go
// to one thread (creating in a directory takes its lock), directories are
// dealt out in turn. The extractor waits for idle() before anything that
// must see a file complete: a hard link to it, a member replacing it,
// directory metadata at the end.
import type { Worker } from 'node:worker_threads';
import { fromWorkerError, startWorker, terminateWorker } from '../util/worker.js';
import { toWire, type FileJob, type WireJob } from './extracted-file.js';
import type { WriterMessage, WriterReply } from './extract-writer-worker.js';

/** Data sent to the threads but not yet written: the bound on what an extraction holds in memory. */
const MAX_IN_FLIGHT = 64 << 20;
/** Files copied from the archive file go to a thread in batches (one message each) of this many, or fewer holding this much data. */
const BATCH_FILES = 32;
const BATCH_BYTES = 4 << 20;
/** Files a thread may have queued: the bound on how far parsing runs ahead. */
const MAX_PENDING = 4096;

interface Writer {
  worker: Worker;
  /** Files sent or batched and not yet confirmed written. */
  pending: number;
  /** Files from the archive file not sent yet. */
  batch: WireJob[];
  batchBytes: number;
}

export class ExtractWriters {
  private readonly writers: Writer[];
  private readonly slotOfDir = new Map<string, number>();
  private nextSlot = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  private waiters: Array<() => void> = [];
  private current: Writer | undefined;

  /** `onWritten` hears of file data the threads have written. */
  constructor(
    count: number,
    private readonly onWritten?: (bytes: number) => void,
  ) {
    this.writers = Array.from({ length: count }, () => {
      const worker = startWorker(import.meta.url, 'extract-writer-worker');
      const w: Writer = { worker, pending: 0, batch: [], batchBytes: 0 };
      worker.on('message', (m: WriterReply) => this.onReply(w, m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (code !== 0 || w.pending > 0) this.fail(new Error(`an extraction writer thread exited with code ${code}`));
      });
      return w;
    });
  }

  private onReply(w: Writer, m: WriterReply): void {
    if ('error' in m) {
      this.fail(fromWorkerError(m.error));
      return;
    }
    if ('written' in m) {
      this.inFlight -= m.written;
      this.onWritten?.(m.written);
    } else {
      w.pending -= m.done;
      if (m.bytes > 0) this.onWritten?.(m.bytes);
    }
    this.wake();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private async waitUntil(ready: () => boolean): Promise<void> {
    while (!ready()) {
      this.check();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.check();
  }

  private writerOf(dirKey: string): Writer {
    let slot = this.slotOfDir.get(dirKey);
    if (slot === undefined) {
      slot = this.nextSlot++ % this.writers.length;
      this.slotOfDir.set(dirKey, slot);
    }
    return this.writers[slot]!;
  }

  /** Queues a whole file whose data is in the archive file (`job.source`) on its directory's thread. */
  async add(dirKey: string, job: FileJob, bytes: number): Promise<void> {
    this.check();
    const w = this.writerOf(dirKey);
    if (w.pending >= MAX_PENDING) await this.waitUntil(() => w.pending < MAX_PENDING / 2);
    w.pending++;
    w.batch.push(toWire(job));
    w.batchBytes += bytes;
    if (w.batch.length >= BATCH_FILES || w.batchBytes >= BATCH_BYTES) this.send(w);
  }

  private send(w: Writer): void {
    if (w.batch.length === 0) return;
    w.worker.postMessage({ op: 'files', jobs: w.batch } satisfies WriterMessage);
    w.batch = [];
    w.batchBytes = 0;
  }

  /** Starts a file in `dirKey` on that directory's thread, its data to follow (`data`, then `close`). */
  open(dirKey: string, job: FileJob): void {
    this.check();
    this.current = this.writerOf(dirKey);
    this.send(this.current);
    this.current.pending++;
    this.post({ op: 'open', job: toWire(job) });
  }

  /** Sends data of the current file; waits while too much is in flight. */
  async data(chunk: Buffer): Promise<void> {
    this.check();
    // A copy handed over (transferred, not copied again): the reader reuses its buffers.
    const copy = Uint8Array.prototype.slice.call(chunk);
    this.post({ op: 'data', chunk: copy }, [copy.buffer]);
    this.inFlight += chunk.length;
    if (this.inFlight > MAX_IN_FLIGHT) await this.waitUntil(() => this.inFlight <= MAX_IN_FLIGHT / 2);
  }

  close(): void {
    this.post({ op: 'close' });
    this.current = undefined;
  }

  /** Resolves once every file sent is written, or rejects with the first thread's error. */
  idle(): Promise<void> {
    for (const w of this.writers) this.send(w);
    return this.waitUntil(() => this.writers.every((w) => w.pending === 0));
  }

  async terminate(): Promise<void> {
    await Promise.all(this.writers.map((w) => terminateWorker(w.worker)));
  }

  private post(m: WriterMessage, transfer: ArrayBuffer[] = []): void {
    this.current!.worker.postMessage(m, transfer);
  }
}
