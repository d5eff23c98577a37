// Reads a `docker save` archive (legacy manifest.json with <id>/layer.tar, or
// the OCI layout: index.json and blobs/sha256; plain or gzip). The outer tar
// is staged into a private directory as numbered files first, because a
// manifest may come after the layers it names; then the manifests are
// resolved inside the archive's own namespace (links followed, never out of
// it) into one plan per image. Ingesting the plans is the image service's job.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InvalidParameter, SystemError, isBerthError } from '../../errors.js';
import { dictSchema } from '../../util/dict.js';
import { DIGEST, hostArchitecture, parseImageConfig, parseJson, sha256Hex } from '../config-file.js';
import { safeComponents } from '../layer-unpack.js';
import { normalizeTagRef, tryNormalizeTagRef } from '../reference.js';
import type { ImageConfigFile } from '../types.js';
import { openMaybeCompressed, readTar } from '../../archive/tar/reader.js';

/** Cap on any JSON document read from an archive. */
const MAX_JSON = 64 * 1024 * 1024;

/** One image found in the archive. */
export interface SavedImage {
  configBytes: Buffer;
  config: ImageConfigFile;
  /** sha256 of configBytes: the image ID's hex. */
  hex: string;
  /** Staged file of each layer, bottom to top. */
  layerFiles: string[];
  /** The archive's name of each layer (for messages). */
  layerNames: string[];
  /** Normalised "name:tag" references. */
  tags: string[];
}

/** A node of the archive staged on disk. */
type ArchiveNode =
  | { kind: 'file'; file: string; size: number }
  | { kind: 'symlink'; target: string }
  | { kind: 'hardlink'; target: string }
  | { kind: 'dir' };

type Nodes = Map<string, ArchiveNode>;

interface ManifestEntry {
  config: string;
  configDigest?: string;
  layers: string[];
  tags: string[];
}

const ManifestSchema = z.array(
  z.looseObject({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);

const DescriptorSchema = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string().regex(DIGEST, 'digest must be sha256:<64 hex>'),
  annotations: dictSchema(z.string()).optional(),
  platform: z.looseObject({ architecture: z.string(), os: z.string() }).optional(),
});
const IndexSchema = z.looseObject({ manifests: z.array(DescriptorSchema) });
const OciManifestSchema = z.looseObject({ config: DescriptorSchema, layers: z.array(DescriptorSchema) });

/**
 * Stages `source` into `staging` (an empty private directory the caller
 * removes) and returns the images it holds; their layer files stay in
 * `staging` until then.
 */
export async function readDockerSave(source: AsyncIterable<Buffer>, staging: string): Promise<SavedImage[]> {
  const nodes = await stageArchive(source, staging);
  let entries: ManifestEntry[];
  if (nodes.get('manifest.json')?.kind === 'file') {
    const manifest = parseJson(ManifestSchema, await readArchiveJson(nodes, 'manifest.json', 'manifest'), 'manifest.json');
    entries = manifest.map((m) => ({ config: m.Config, layers: m.Layers, tags: m.RepoTags ?? [] }));
  } else if (nodes.get('index.json')?.kind === 'file') {
    entries = await ociEntries(nodes);
  } else {
    throw new InvalidParameter('invalid archive: no manifest.json or index.json (is this a `docker save` archive?)');
  }
  const images: SavedImage[] = [];
  for (const e of entries) {
    const configBytes = await readArchiveJson(nodes, e.config, 'manifest Config');
    const hex = sha256Hex(configBytes);
    const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(e.config)?.[1] ?? e.configDigest;
    if (named !== undefined && named !== hex) {
      throw new InvalidParameter(`config ${JSON.stringify(e.config)}: digest mismatch (content is sha256:${hex})`);
    }
    const config = parseImageConfig(configBytes, `config ${e.config}`);
    if (config.rootfs.diff_ids.length !== e.layers.length) {
      throw new InvalidParameter(
        `config ${e.config}: ${config.rootfs.diff_ids.length} diff_ids but the manifest lists ${e.layers.length} layers`,
      );
    }
    const layerFiles = e.layers.map((l) => archiveFile(nodes, l, 'manifest layer').file);
    const tags = [...new Set(e.tags.map((t) => normalizeTagRef(t)))];
    images.push({ configBytes, config, hex, layerFiles, layerNames: e.layers, tags });
  }
  return images;
}

/** Streams the outer archive into `staging` as numbered files; returns the archive's namespace. */
async function stageArchive(source: AsyncIterable<Buffer>, staging: string): Promise<Nodes> {
  const nodes: Nodes = new Map();
  let n = 0;
  try {
    const opened = await openMaybeCompressed(source);
    for await (const entry of readTar(opened.reader)) {
      const h = entry.header;
      const parts = safeComponents(h.path, 'archive entry');
      const rel = parts.join('/');
      if (rel === '') continue;
      switch (h.type) {
        case 'file': {
          const file = join(staging, String(n++));
          const fh = await fsp.open(file, 'wx', 0o600);
          try {
            for await (const chunk of entry.body()) {
              let off = 0;
              while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
            }
          } finally {
            await fh.close();
          }
          nodes.set(rel, { kind: 'file', file, size: h.size });
          break;
        }
        case 'symlink':
          nodes.set(rel, { kind: 'symlink', target: h.linkpath });
          break;
        case 'hardlink':
          nodes.set(rel, { kind: 'hardlink', target: safeComponents(h.linkpath, `hardlink ${JSON.stringify(h.path)} ->`).join('/') });
          break;
        case 'directory':
          nodes.set(rel, { kind: 'dir' });
          break;
        default:
          break; // devices and fifos have no meaning in a save archive
      }
    }
    await opened.reader.drain();
  } catch (e) {
    if (isBerthError(e)) throw e;
    throw new SystemError(`load: ${(e as Error).message}`, { cause: e });
  }
  return nodes;
}

/** Resolves a path named by manifest.json/index.json to a staged regular file, never leaving the archive. */
function archiveFile(nodes: Nodes, name: string, what: string): { file: string; size: number } {
  const outside = (): InvalidParameter => new InvalidParameter(`${what} ${JSON.stringify(name)} points outside the archive`);
  if (name.startsWith('/') || name.includes('\0')) throw outside();
  let stack: string[] = [];
  let pending = name.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0) throw outside();
      stack.pop();
      continue;
    }
    stack.push(c);
    const node = nodes.get(stack.join('/'));
    if (node?.kind === 'symlink' || node?.kind === 'hardlink') {
      if (++hops > 40) throw new InvalidParameter(`${what} ${JSON.stringify(name)}: too many levels of links`);
      if (node.kind === 'hardlink') {
        stack = node.target.split('/');
        continue;
      }
      stack.pop();
      if (node.target.startsWith('/')) throw outside();
      pending = [...node.target.split('/'), ...pending];
    }
  }
  const node = nodes.get(stack.join('/'));
  if (node === undefined) throw new InvalidParameter(`${what} ${JSON.stringify(name)} not found in the archive`);
  if (node.kind !== 'file') throw new InvalidParameter(`${what} ${JSON.stringify(name)} is not a regular file`);
  return node;
}

async function readArchiveJson(nodes: Nodes, name: string, what: string): Promise<Buffer> {
  const f = archiveFile(nodes, name, what);
  if (f.size > MAX_JSON) throw new InvalidParameter(`${what} ${JSON.stringify(name)} is too large`);
  return fsp.readFile(f.file);
}

/** OCI image layout: index.json → (nested indexes) → manifests. */
async function ociEntries(nodes: Nodes): Promise<Array<ManifestEntry & { configDigest: string }>> {
  const blob = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const verified = async (digest: string, what: string): Promise<Buffer> => {
    const bytes = await readArchiveJson(nodes, blob(digest), what);
    if (`sha256:${sha256Hex(bytes)}` !== digest) throw new InvalidParameter(`${what} ${digest}: digest mismatch`);
    return bytes;
  };
  const index = parseJson(IndexSchema, await readArchiveJson(nodes, 'index.json', 'index'), 'index.json');
  const out: Array<ManifestEntry & { configDigest: string }> = [];
  const visit = async (descs: z.infer<typeof DescriptorSchema>[], inheritedTags: string[], depth: number): Promise<void> => {
    if (depth > 4) throw new InvalidParameter('index.json: indexes nested too deeply');
    for (const d of descs) {
      const ann = d.annotations ?? {};
      const tags = [...inheritedTags];
      const full = ann['io.containerd.image.name'];
      const refName = ann['org.opencontainers.image.ref.name'];
      if (full !== undefined) tags.push(full);
      else if (refName !== undefined && /[:/]/.test(refName) && tryNormalizeTagRef(refName) !== null) tags.push(refName);
      const mt = d.mediaType ?? '';
      if (mt.includes('image.index') || mt.includes('manifest.list')) {
        const sub = parseJson(IndexSchema, await verified(d.digest, 'index'), `index ${d.digest}`);
        const host = sub.manifests.filter((m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === hostArchitecture()));
        await visit(host.slice(0, 1), tags, depth + 1);
        continue;
      }
      const m = parseJson(OciManifestSchema, await verified(d.digest, 'manifest'), `manifest ${d.digest}`);
      out.push({
        config: blob(m.config.digest),
        configDigest: m.config.digest.slice('sha256:'.length),
        layers: m.layers.map((l) => blob(l.digest)),
        tags,
      });
    }
  };
  await visit(index.manifests, [], 0);
  return out;
}
