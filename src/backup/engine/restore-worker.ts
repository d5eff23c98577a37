// A restore thread (restore.ts): opens the blob boxes of a piece of a pack
// (checking each against its ID), writes their plaintext where the files
// want it, and completes files: reads them back, checks what they hold
// against their blobs, applies their metadata.
import { closeSync, constants, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { applyFileMeta, type EntryMeta } from '../../archive/tree-write.js';
import { blobId, openBlob, shortId, type BlobType } from '../repo/blob.js';
import type { Aead } from '../repo/crypto.js';
import { RepositoryCorrupt } from '../repo/errors.js';
import { toWorkerError, type WorkerError } from '../../util/worker.js';

export interface RestoreWorkerInit {
  aead: Aead;
  blobIdKey: Uint8Array;
}

/** Where a piece of a blob goes: [file offset, offset in the blob, length]. */
export type Piece = [number, number, number];

/** A file as a restore thread completes it. */
export interface FileSpec {
  path: Uint8Array;
  size: number;
  /** Set the size after the data (the file ends in a hole). */
  truncate: boolean;
  meta: EntryMeta;
  /** Its blobs with where each lies, to read the file back and check it. */
  blobs: Array<{ id: Uint8Array; pieces: Piece[] }>;
}

export interface BlobWrite {
  /** The main thread's number for the file (its acknowledgements name it). */
  file: number;
  /** The file's path: it exists (the main thread made it) unless `whole` says to make it. */
  path: Uint8Array;
  pieces: Piece[];
  /** A file this one blob makes whole: created, written, checked and completed here. */
  whole?: FileSpec;
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

export type RestoreMessage =
  | { op: 'blobs'; seq: number; data: Uint8Array; packKey: Uint8Array; blobs: BlobJob[] }
  | { op: 'finish'; seq: number; files: FileSpec[] };

/** `files`: files whose pieces this message wrote, with how many; `bytes`: plaintext written. */
export type RestoreReply = { done: number; written: Array<[file: number, pieces: number]>; bytes: number } | { error: WorkerError };

const init = workerData as RestoreWorkerInit;
const blobIdKey = Buffer.from(init.blobIdKey);
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function writeAll(fd: number, data: Buffer, at: number): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off, at + off);
}

function readAll(fd: number, length: number, at: number, path: Buffer): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let off = 0; off < length; ) {
    const n = readSync(fd, out, off, length - off, at + off);
    if (n === 0) throw new Error(`restored file ${path.toString()} is shorter than written`);
    off += n;
  }
  return out;
}

function writePieces(fd: number, plaintext: Buffer, pieces: Piece[]): void {
  for (const [fileOffset, blobOffset, length] of pieces) writeAll(fd, plaintext.subarray(blobOffset, blobOffset + length), fileOffset);
}

/** The blob's bytes as the file now holds them (its pieces read back, in blob order). */
function readBack(fd: number, pieces: Piece[], rawLength: number, path: Buffer): Buffer {
  const out = Buffer.allocUnsafe(rawLength);
  for (const [fileOffset, blobOffset, length] of pieces) readAll(fd, length, fileOffset, path).copy(out, blobOffset);
  return out;
}

const mismatch = (path: Buffer, id: Uint8Array): RepositoryCorrupt =>
  new RepositoryCorrupt(`restored file ${path.toString()} does not hold what blob ${shortId(id)} holds after it was written`);

function completeFile(fd: number, f: FileSpec, path: Buffer): void {
  if (f.truncate) ftruncateSync(fd, f.size);
  applyFileMeta(fd, path, f.meta);
}

/** A file made whole by one blob: created, written, read back and compared, completed. */
function writeWhole(f: FileSpec, plaintext: Buffer, pieces: Piece[]): void {
  const path = asBuffer(f.path);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writePieces(fd, plaintext, pieces);
    if (!readBack(fd, pieces, plaintext.length, path).equals(plaintext)) throw mismatch(path, f.blobs[0]!.id);
    completeFile(fd, f, path);
  } finally {
    closeSync(fd);
  }
}

/** A file whose blobs were all written: read back, each blob's range checked against its ID, completed. */
function finishFile(f: FileSpec): void {
  const path = asBuffer(f.path);
  const fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  try {
    for (const b of f.blobs) {
      const rawLength = b.pieces.reduce((n, p) => Math.max(n, p[1] + p[2]), 0);
      if (!blobId(blobIdKey, readBack(fd, b.pieces, rawLength, path)).equals(asBuffer(b.id))) throw mismatch(path, b.id);
    }
    completeFile(fd, f, path);
  } finally {
    closeSync(fd);
  }
}

function writeBlobs(m: Extract<RestoreMessage, { op: 'blobs' }>): RestoreReply {
  const packKey = asBuffer(m.packKey);
  const data = asBuffer(m.data);
  const written = new Map<number, number>();
  let bytes = 0;
  for (const b of m.blobs) {
    const plaintext = openBlob(init.aead, packKey, blobIdKey, { ...b, id: asBuffer(b.id) }, data.subarray(b.at, b.at + b.length), `${b.type} blob ${shortId(b.id)} in pack ${shortId(b.pack)}`);
    for (const w of b.writes) {
      if (w.whole) writeWhole(w.whole, plaintext, w.pieces);
      else {
        const fd = openSync(asBuffer(w.path), constants.O_WRONLY | constants.O_NOFOLLOW);
        try {
          writePieces(fd, plaintext, w.pieces);
        } finally {
          closeSync(fd);
        }
      }
      written.set(w.file, (written.get(w.file) ?? 0) + 1);
      bytes += w.pieces.reduce((n, p) => n + p[2], 0);
    }
  }
  return { done: m.seq, written: [...written], bytes };
}

let failed = false;
parentPort!.on('message', (m: RestoreMessage) => {
  if (failed) return;
  try {
    if (m.op === 'blobs') parentPort!.postMessage(writeBlobs(m) satisfies RestoreReply);
    else {
      for (const f of m.files) finishFile(f);
      parentPort!.postMessage({ done: m.seq, written: [], bytes: 0 } satisfies RestoreReply);
    }
  } catch (e) {
    failed = true;
    parentPort!.postMessage({ error: toWorkerError(e) } satisfies RestoreReply);
  }
});
