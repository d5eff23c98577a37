// Compressed archives: the format is told by the first bytes, never by a
// name or a flag, so `import` takes whatever `tar`, `podman volume export`
// or a compressor wrote. gzip and zstd are decoded in-process (zlib,
// zstd-napi); bzip2 and xz, which have no well-kept Node binding, by
// Debian's bzip2 and xz tools as a pipe.
import { spawn } from 'node:child_process';
import { Duplex, PassThrough, Readable, type Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { CompressStream, DecompressStream } from 'zstd-napi';
import { InvalidArchive } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';
/** What export can write. */
export type OutputCompression = 'none' | 'gzip' | 'zstd';
export const OUTPUT_COMPRESSIONS: readonly OutputCompression[] = ['none', 'gzip', 'zstd'];

const MAGIC: Array<[Compression, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];
/** Bytes that tell every format apart. */
export const LONGEST_MAGIC = 6;

/** The compression whose magic `head` starts with; 'none' otherwise (a tar, or garbage the tar reader refuses). */
export function detectCompression(head: Buffer): Compression {
  for (const [name, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return name;
  }
  return 'none';
}

export const CONTENT_TYPES: Record<OutputCompression, string> = {
  none: 'application/x-tar',
  gzip: 'application/gzip',
  zstd: 'application/zstd',
};

/** A stream that compresses what is written to it. */
export function compressor(kind: OutputCompression): Transform {
  switch (kind) {
    case 'gzip':
      return createGzip({ level: 6 });
    case 'zstd':
      return new CompressStream({ compressionLevel: 3 });
    case 'none':
      return new PassThrough();
  }
}

/** Reads until `n` bytes (or the end) are in hand, and hands them back with the rest of the stream. */
async function peek(input: AsyncIterator<Buffer>, n: number): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const r = await input.next();
    if (r.done) return { head: Buffer.concat(parts), done: true };
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    parts.push(chunk);
    have += chunk.length;
  }
  return { head: Buffer.concat(parts), done: false };
}

/** An error of the decoder, reported as an invalid archive. */
function decodeError(kind: Compression, e: unknown): InvalidArchive {
  const text = e instanceof Error ? e.message : String(e);
  return new InvalidArchive(`invalid archive: ${kind} data is corrupt or truncated: ${text}`, { cause: e });
}

/**
 * Decodes through an external tool (bzip2 -dc, xz -dc): stdin is the
 * archive, stdout the tar. The output ends only once the tool has exited
 * with 0, so a corrupt stream is an error, never a short tar.
 */
function toolDecoder(kind: 'bzip2' | 'xz'): Duplex {
  const child = spawn(kind, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-400)));
  child.stdout.pipe(out, { end: false });
  child.on('error', (e) => out.destroy(new InvalidArchive(`cannot decode a ${kind} archive: ${kind} could not be run (${e.message})`)));
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else out.destroy(decodeError(kind, stderr.trim() || `${kind} exited with ${signal ?? code}`));
  });
  // A decoder that quit early: its exit status says why.
  child.stdin.on('error', () => undefined);
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  duplex.on('close', () => child.kill('SIGKILL'));
  return duplex;
}

/** A stream that decodes `kind` (undefined for plain data). */
export function decompressor(kind: Compression): Duplex | undefined {
  switch (kind) {
    case 'gzip':
      return createGunzip();
    case 'zstd':
      return new DecompressStream();
    case 'bzip2':
    case 'xz':
      return toolDecoder(kind);
    case 'none':
      return undefined;
  }
}

/** The compression of `input` (from its first bytes), and the whole input as it was, bytes in hand included. */
export async function sniffCompression(input: AsyncIterable<Buffer>): Promise<{ kind: Compression; stream: Readable }> {
  const it = input[Symbol.asyncIterator]();
  const { head, done } = await peek(it, LONGEST_MAGIC);
  const rest = async function* (): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  };
  return { kind: detectCompression(head), stream: Readable.from(rest(), { objectMode: false }) };
}

/**
 * The plain tar inside `input`, whatever its compression; `kind` is what was
 * found. Decoder failures (corrupt or truncated data) surface as
 * InvalidArchive errors of the returned stream.
 */
export async function decompressed(input: AsyncIterable<Buffer>): Promise<{ kind: Compression; tar: Readable }> {
  const { kind, stream: source } = await sniffCompression(input);
  return { kind, tar: decoded(source, kind) };
}

/** `source` decoded from `kind`; decoder failures are InvalidArchive errors of the returned stream. */
export function decoded(source: Readable, kind: Compression): Readable {
  const dec = decompressor(kind);
  if (!dec) return source;
  const out = new PassThrough();
  const fail = (e: unknown): void => {
    out.destroy(e instanceof InvalidArchive ? e : decodeError(kind, e));
  };
  source.on('error', (e) => {
    dec.destroy();
    out.destroy(e);
  });
  dec.on('error', fail);
  out.on('close', () => {
    if (!source.destroyed) source.destroy();
    if (!dec.destroyed) dec.destroy();
  });
  source.pipe(dec).pipe(out);
  return out;
}
