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
  /** The file is created with meta's uid and gid already: no chown (applyFileMeta). */
  ownerAsCreated?: boolean;
}

/**
 * A FileJob as it crosses to a writer thread: bytes as latin1 strings and
 * numbers, which a message clones cheaply (a small Buffer is a view of a
 * shared 8 KiB pool, and cloning it copies the whole pool).
 */
export interface WireJob {
  abs: string;
  /** offset, length, offset, length, ... */
  extents: number[];
  size: number;
  sparse: boolean;
  type: EntryMeta['type'];
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  /** name, value (latin1), name, value, ... */
  xattrs: string[];
  acls?: EntryMeta['acls'];
  source?: { fd: number; offset: number };
  ownerAsCreated?: boolean;
}

export function toWire(job: FileJob): WireJob {
  const { meta } = job;
  const wire: WireJob = {
    abs: job.abs.toString('latin1'),
    extents: job.extents.flatMap((x) => [x.offset, x.length]),
    size: job.size,
    sparse: job.sparse,
    type: meta.type,
    mode: meta.mode,
    uid: meta.uid,
    gid: meta.gid,
    mtimeNs: meta.mtimeNs,
    xattrs: [...meta.xattrs].flatMap(([k, v]) => [k, v.toString('latin1')]),
  };
  if (meta.acls) wire.acls = meta.acls;
  if (job.source) wire.source = job.source;
  if (job.ownerAsCreated) wire.ownerAsCreated = true;
  return wire;
}

export function fromWire(w: WireJob): FileJob {
  const extents: Extent[] = [];
  for (let i = 0; i < w.extents.length; i += 2) extents.push({ offset: w.extents[i]!, length: w.extents[i + 1]! });
  const xattrs = new Map<string, Buffer>();
  for (let i = 0; i < w.xattrs.length; i += 2) xattrs.set(w.xattrs[i]!, Buffer.from(w.xattrs[i + 1]!, 'latin1'));
  const meta: EntryMeta = { type: w.type, mode: w.mode, uid: w.uid, gid: w.gid, mtimeNs: w.mtimeNs, xattrs };
  if (w.acls) meta.acls = w.acls;
  const job: FileJob = { abs: Buffer.from(w.abs, 'latin1'), extents, size: w.size, sparse: w.sparse, meta };
  if (w.source) job.source = w.source;
  if (w.ownerAsCreated) job.ownerAsCreated = true;
  return job;
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
      applyFileMeta(this.fd, this.job.abs, this.job.meta, this.job.ownerAsCreated);
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
