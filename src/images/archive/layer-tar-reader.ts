// Reads one layer tar (a `docker import` rootfs tar or a layer of a save
// archive; plain or gzip) into a directory and reports its diff_id.
import { unpackLayer, type UnpackResult } from '../layer-unpack.js';
import { openMaybeCompressed } from '../../archive/tar/reader.js';

export interface LayerTarResult extends UnpackResult {
  /** "sha256:<hex>" of the uncompressed tar stream. */
  diffId: string;
}

export async function readLayerTar(source: AsyncIterable<Buffer | string | Uint8Array>, dest: string): Promise<LayerTarResult> {
  const opened = await openMaybeCompressed(source);
  const result = await unpackLayer(opened.reader, dest);
  // Trailing bytes after the end-of-archive blocks still count towards the digest.
  await opened.reader.drain();
  return { ...result, diffId: opened.digest() };
}
