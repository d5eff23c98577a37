// A restore thread (restore.ts): opens the blob boxes it is sent (each
// checked against its ID), writes their plaintext where its files want it,
// reads each piece back and compares it with what was checked, and
// completes a file once all its blobs are in (its size, then its metadata).
// Every file of a directory is this one thread's: creating in a directory
// takes its lock, and no other thread waits on it.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { applyFileMeta, type EntryMeta } from '../../archive/tree-write.js';
import { openBlob, shortId, type BlobType } from '../repo/blob.js';
import type { Aead } from '../repo/crypto.js';
import { RepositoryCorrupt } from '../repo/errors.js';
import { toWorkerError, type WorkerError } from '../../util/worker.js';

export interface RestoreWorkerInit {
  aead: Aead;
  blobIdKey: Uint8Array;
}

/** Where a piece of a blob goes: [file offset, offset in the blob, length]. */
export type Piece = [number, number, number];

/** A file as its restore thread makes and completes it. */
export interface FileSpec {
  path: Uint8Array;
  size: number;
  /** Blob writes that make it whole. */
  writes: number;
  /** The main thread made it already (the first name of a hard-link group); else this thread creates it. */
  exists: boolean;
  /** Set the size once the data is in (the file has holes, or ends in one). */
  truncate: boolean;
  meta: EntryMeta;
}

export interface BlobWrite {
  /** The main thread's number for the file. */
  file: number;
  pieces: Piece[];
  /** With the first write of a file sent to this thread. */
  spec?: FileSpec;
}

export interface BlobJob {
  /** Where the box is in the message's data. */
  at: number;
  length: number;
  type: BlobType;
  id: Uint8Array;
  compressed: boolean;
  rawLength: number;
  pack: string;
  writes: BlobWrite[];
}

export type RestoreMessage = { seq: number; data: Uint8Array; packKey: Uint8Array; blobs: BlobJob[] };

/** `bytes`: plaintext written; `completed`: files made whole. */
export type RestoreReply = { done: number; bytes: number; completed: number } | { error: WorkerError };

const init = workerData as RestoreWorkerInit;
const blobIdKey = Buffer.from(init.blobIdKey);
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

interface FileState {
  spec: FileSpec;
  path: Buffer;
  written: number;
  created: boolean;
}

const files = new Map<number, FileState>();
let scratch = Buffer.allocUnsafe(1 << 20);

function writeAll(fd: number, data: Buffer, at: number): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off, at + off);
}

/** Reads back `length` bytes at `at` and compares them with `expected`. */
function sameOnDisk(fd: number, expected: Buffer, at: number): boolean {
  if (scratch.length < expected.length) scratch = Buffer.allocUnsafe(expected.length);
  for (let off = 0; off < expected.length; ) {
    const n = readSync(fd, scratch, off, expected.length - off, at + off);
    if (n === 0) return false;
    off += n;
  }
  return scratch.subarray(0, expected.length).equals(expected);
}

function openFile(f: FileState): number {
  const flags = f.created || f.spec.exists ? constants.O_RDWR | constants.O_NOFOLLOW : constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fd = openSync(f.path, flags, 0o600);
  f.created = true;
  return fd;
}

/** Sets the size and metadata of a file whose blobs are all written; checks its size. */
function complete(fd: number, f: FileState): void {
  if (f.spec.truncate) ftruncateSync(fd, f.spec.size);
  const size = fstatSync(fd).size;
  if (size !== f.spec.size) throw new RepositoryCorrupt(`restored file ${f.path.toString()} is ${size} bytes, not ${f.spec.size}`);
  applyFileMeta(fd, f.path, f.spec.meta);
}

function restoreBlobs(m: RestoreMessage): RestoreReply {
  const packKey = asBuffer(m.packKey);
  const data = asBuffer(m.data);
  let bytes = 0;
  let completed = 0;
  for (const b of m.blobs) {
    const id = asBuffer(b.id);
    const plaintext = openBlob(init.aead, packKey, blobIdKey, { ...b, id }, data.subarray(b.at, b.at + b.length), `${b.type} blob ${shortId(id)} in pack ${shortId(b.pack)}`);
    for (const w of b.writes) {
      if (w.spec) files.set(w.file, { spec: w.spec, path: asBuffer(w.spec.path), written: 0, created: false });
      const f = files.get(w.file);
      if (!f) throw new Error(`a write for file ${w.file} before its description`);
      const fd = openFile(f);
      try {
        for (const [fileOffset, blobOffset, length] of w.pieces) {
          const piece = plaintext.subarray(blobOffset, blobOffset + length);
          writeAll(fd, piece, fileOffset);
          if (!sameOnDisk(fd, piece, fileOffset)) throw new RepositoryCorrupt(`restored file ${f.path.toString()} does not hold blob ${shortId(id)} after it was written`);
          bytes += length;
        }
        if (++f.written === f.spec.writes) {
          complete(fd, f);
          files.delete(w.file);
          completed++;
        }
      } finally {
        closeSync(fd);
      }
    }
  }
  return { done: m.seq, bytes, completed };
}

let failed = false;
parentPort!.on('message', (m: RestoreMessage) => {
  if (failed) return;
  try {
    parentPort!.postMessage(restoreBlobs(m) satisfies RestoreReply);
  } catch (e) {
    failed = true;
    parentPort!.postMessage({ error: toWorkerError(e) } satisfies RestoreReply);
  }
});
