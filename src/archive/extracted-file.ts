// One regular file being written by an extraction: data lands at its
// extents (holes stay holes), then its metadata is applied. Shared by the
// extractor's own thread and its writer threads (extract-writers.ts).
import { closeSync, constants, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { Extent } from '../fs/extents.js';
import { applyFileMeta, type EntryMeta } from './tree-write.js';
import { copyRange } from '../fs/copy-range.js';

export interface FileJob {
  abs: Buffer;
  /** Where the data goes; the member's body yields exactly these extents' bytes, in order. */
  extents: Extent[];
  size: number;
  sparse: boolean;
  meta: EntryMeta;
  /** The data is in this file at `offset` (the archive, read by position): copied file to file, not sent. */
  source?: { fd: number; offset: number };
}

export class ExtractedFile {
  private readonly fd: number;
  private extent = 0;
  /** Bytes written within the current extent. */
  private written = 0;

  constructor(private readonly job: FileJob) {
    this.fd = openSync(job.abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  }

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const x = this.job.extents[this.extent]!;
      const n = Math.min(chunk.length - off, x.length - this.written);
      const end = off + n;
      let pos = x.offset + this.written;
      while (off < end) {
        const w = writeSync(this.fd, chunk, off, end - off, pos);
        off += w;
        pos += w;
      }
      this.written += n;
      if (this.written === x.length) {
        this.extent++;
        this.written = 0;
      }
    }
  }

  /** Copies the whole of the data from `job.source`, extent by extent. */
  copyIn(): void {
    const src = this.job.source!;
    let at = src.offset;
    for (const x of this.job.extents) {
      copyRange(src.fd, at, this.fd, x.offset, x.length);
      at += x.length;
    }
  }

  /** Sets the size (a sparse file may end in a hole), the metadata, and closes. */
  finish(): void {
    try {
      if (this.job.sparse) ftruncateSync(this.fd, this.job.size);
      applyFileMeta(this.fd, this.job.abs, this.job.meta);
    } finally {
      closeSync(this.fd);
    }
  }

  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
