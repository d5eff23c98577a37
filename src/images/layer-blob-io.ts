// Layer blob files: writing a layer's archive as a blob (kept as it came when
// it is gzip or zstd, gzip-compressed otherwise), and reading a blob back as
// the layer's plain tar.
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressor, decoded, sniffCompression, type Compression } from '../archive/compression.js';
import { InvalidParameter } from '../errors.js';
import { layerCompression, MEDIA_TYPES } from '../registry/manifest.js';

export interface BlobInfo {
  /** "sha256:<hex>" of the blob's bytes. */
  digest: string;
  size: number;
  mediaType: string;
}

/** A pass-through that hashes and counts what flows through it. */
export function digester(): Transform & { digest(): string; bytes(): number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return Object.assign(t, { digest: () => `sha256:${hash.copy().digest('hex')}`, bytes: () => bytes });
}

/**
 * Writes a layer archive (plain tar, or compressed with gzip, zstd, bzip2 or
 * xz) into `file` as a blob: gzip and zstd bytes are kept as they are, the
 * rest is gzip-compressed. The file is flushed to disk.
 */
export async function writeLayerBlob(input: AsyncIterable<Buffer>, file: string): Promise<BlobInfo> {
  const { kind, stream } = await sniffCompression(input);
  const kept = kind === 'gzip' || kind === 'zstd';
  const tap = digester();
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  if (kept) await pipeline(stream, tap, out);
  else await pipeline(decoded(stream, kind), compressor('gzip'), tap, out);
  const fh = await fsp.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { digest: tap.digest(), size: tap.bytes(), mediaType: kind === 'zstd' ? MEDIA_TYPES.ociLayerZstd : MEDIA_TYPES.dockerLayerGzip };
}

/** The compression of a layer blob's media type; refuses types berth cannot unpack (foreign layers, unknown media). */
export function blobCompression(mediaType: string): Compression {
  const kind = layerCompression(mediaType);
  if (kind === null) throw new InvalidParameter(`unsupported media type ${mediaType}`);
  return kind;
}

/** The plain tar inside a blob file; `onRead` sees the blob bytes as they are read (for progress). */
export function readLayerBlob(file: string, mediaType: string, onRead?: (bytes: number) => void): Readable {
  const tar = openLayerBlob(file, blobCompression(mediaType), onRead);
  // The unpacker reports the failure it meets first; a decoder error arriving
  // after it stopped reading must not be an uncaught exception.
  tar.on('error', () => undefined);
  return tar;
}

function openLayerBlob(file: string, kind: Compression, onRead?: (bytes: number) => void): Readable {
  const raw = createReadStream(file);
  if (onRead === undefined) return decoded(raw, kind);
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onRead(chunk.length);
      cb(null, chunk);
    },
  });
  raw.on('error', (e) => counted.destroy(e));
  return decoded(raw.pipe(counted), kind);
}
