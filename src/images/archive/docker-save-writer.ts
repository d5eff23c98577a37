// Writes a `docker save` archive as Docker 25+ does, which `docker load`
// (and the reader beside this file) takes: an OCI image layout (oci-layout,
// index.json, blobs/sha256/ holding configs, manifests and the layers as
// plain tars named by their diff_id) plus Docker's manifest.json and the
// legacy `repositories`. Members are in the order Go's archive walk gives
// them (names sorted), directories 0755, files 0644, owned by root.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { encodeMember, END_OF_ARCHIVE, paddingFor, type TarMember } from '../../archive/tar/writer.js';
import { InvalidParameter } from '../../errors.js';
import { MEDIA_TYPES } from '../../registry/manifest.js';
import { sha256Hex } from '../config-file.js';

export interface SavedLayer {
  /** The layer's diff_id hex. */
  hex: string;
  /** Bytes of its tar. */
  tarSize: number;
  /** Opens the layer's tar. */
  open(): Readable;
}

export interface ImageToSave {
  configBytes: Buffer;
  /** RFC 3339 creation time (member mtimes), or "". */
  created: string;
  layers: SavedLayer[];
  /** Full references saved with it: "docker.io/library/busybox:latest". */
  references: Array<{ full: string; familiar: string; repository: string; tag: string }>;
}

type Member = { name: string; mtimeNs: bigint } & ({ kind: 'dir' } | { kind: 'bytes'; data: Buffer } | { kind: 'layer'; layer: SavedLayer });

function header(name: string, type: 'directory' | 'file', size: number, mtimeNs: bigint): Buffer {
  const m: TarMember = { path: Buffer.from(name), type, mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, size, mtimeNs };
  return encodeMember(m);
}

function timeNs(rfc3339: string): bigint {
  const ms = Date.parse(rfc3339);
  return Number.isNaN(ms) ? 0n : BigInt(Math.floor(ms / 1000)) * 1_000_000_000n;
}

/** The members of the archive, in Go's walk order; layers stay to be streamed. */
function plan(images: ImageToSave[]): Member[] {
  const blobs = new Map<string, Member>();
  const manifestJson: unknown[] = [];
  const indexManifests: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const img of images) {
    const mtimeNs = timeNs(img.created);
    const configHex = sha256Hex(img.configBytes);
    blobs.set(configHex, { name: `blobs/sha256/${configHex}`, mtimeNs, kind: 'bytes', data: img.configBytes });
    for (const l of img.layers) if (!blobs.has(l.hex)) blobs.set(l.hex, { name: `blobs/sha256/${l.hex}`, mtimeNs, kind: 'layer', layer: l });
    const layerDescs = img.layers.map((l) => ({ mediaType: MEDIA_TYPES.ociLayer, digest: `sha256:${l.hex}`, size: l.tarSize }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: `sha256:${configHex}`, size: img.configBytes.length },
        layers: layerDescs,
      }),
    );
    const manifestHex = sha256Hex(manifest);
    blobs.set(manifestHex, { name: `blobs/sha256/${manifestHex}`, mtimeNs: 0n, kind: 'bytes', data: manifest });
    const untagged = { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${manifestHex}`, size: manifest.length };
    for (const r of img.references) {
      indexManifests.push({ ...untagged, annotations: { 'io.containerd.image.name': r.full, 'org.opencontainers.image.ref.name': r.tag } });
      (repositories[r.repository] ??= {})[r.tag] = img.layers.at(-1)?.hex ?? '';
    }
    if (img.references.length === 0) indexManifests.push(untagged);
    manifestJson.push({
      Config: `blobs/sha256/${configHex}`,
      RepoTags: img.references.length > 0 ? img.references.map((r) => r.familiar) : null,
      Layers: img.layers.map((l) => `blobs/sha256/${l.hex}`),
      LayerSources: Object.fromEntries(layerDescs.map((d) => [d.digest, d])),
    });
  }
  const members: Member[] = [
    { name: 'blobs', mtimeNs: 0n, kind: 'dir' },
    { name: 'blobs/sha256', mtimeNs: 0n, kind: 'dir' },
    ...[...blobs.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    {
      name: 'index.json',
      mtimeNs: 0n,
      kind: 'bytes',
      data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: indexManifests })),
    },
    { name: 'manifest.json', mtimeNs: 0n, kind: 'bytes', data: Buffer.from(JSON.stringify(manifestJson) + '\n') },
    { name: 'oci-layout', mtimeNs: 0n, kind: 'bytes', data: Buffer.from('{"imageLayoutVersion": "1.0.0"}') },
  ];
  if (Object.keys(repositories).length > 0) members.push({ name: 'repositories', mtimeNs: 0n, kind: 'bytes', data: Buffer.from(JSON.stringify(repositories) + '\n') });
  return members;
}

/** The archive as chunks; a layer whose tar is not its diff_id (size or digest) fails the stream. */
export async function* dockerSaveArchive(images: ImageToSave[]): AsyncGenerator<Buffer> {
  for (const m of plan(images)) {
    if (m.kind === 'dir') {
      yield header(m.name, 'directory', 0, m.mtimeNs);
      continue;
    }
    if (m.kind === 'bytes') {
      yield Buffer.concat([header(m.name, 'file', m.data.length, m.mtimeNs), m.data, Buffer.alloc(paddingFor(m.data.length))]);
      continue;
    }
    const { layer } = m;
    yield header(m.name, 'file', layer.tarSize, m.mtimeNs);
    const hash = createHash('sha256');
    let written = 0;
    for await (const chunk of layer.open() as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > layer.tarSize) break;
      hash.update(chunk);
      yield chunk;
    }
    if (written !== layer.tarSize || hash.digest('hex') !== layer.hex) {
      throw new InvalidParameter(`layer sha256:${layer.hex}: its stored archive does not match its diff_id`);
    }
    yield Buffer.alloc(paddingFor(layer.tarSize));
  }
  yield END_OF_ARCHIVE;
}
