// `docker push` (POST /images/{name}/push): each layer's stored blob is sent
// as it is, so a pulled image keeps its registry digests. A layer is skipped
// when the repository already has one of its blobs (HEAD), mounted from
// another repository of the same registry that is known to hold it, or
// uploaded, in one PUT when small and in PATCH chunks when large. Then the
// config and a manifest (Docker schema 2 when every layer is gzip, OCI
// otherwise). Progress and errors are moby's.
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidParameter, NotFound } from '../errors.js';
import type { AuthConfig } from '../registry/auth.js';
import type { RegistryClient, RequestBody } from '../registry/client.js';
import { withRepository } from '../registry/connect.js';
import { RegistryError } from '../registry/errors.js';
import { layerCompression, MEDIA_TYPES } from '../registry/manifest.js';
import { allOrNone } from '../util/limiter.js';
import { shortId } from '../util/random-id.js';
import { sha256Hex, parseImageConfig } from './config-file.js';
import type { LayerBlob } from './layer-blobs.js';
import type { Progress } from './progress.js';
import { familiarName, familiarString, fullName, type Reference } from './reference.js';
import type { ImageService } from './service.js';
import { connectOptions, withRetries, type RegistrySettings } from './transfer.js';

/** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
export const UPLOAD_CHUNK = 5 * 1024 * 1024;

export interface PushRequest {
  /** With a tag: that tag; without: every tag of the repository. */
  reference: Reference;
  auth: AuthConfig;
  signal?: AbortSignal;
}

/** A layer as the manifest names it. */
interface PushedLayer {
  digest: string;
  size: number;
  mediaType: string;
}


/** distribution's schema 2 manifest bytes (json.MarshalIndent with three spaces), or an OCI manifest when a layer is not gzip. */
export function buildManifest(config: { digest: string; size: number }, layers: PushedLayer[]): { bytes: Buffer; mediaType: string } {
  const allGzip = layers.every((l) => layerCompression(l.mediaType) === 'gzip');
  if (allGzip) {
    const doc = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, size: config.size, digest: config.digest },
      layers: layers.map((l) => ({ mediaType: MEDIA_TYPES.dockerLayerGzip, size: l.size, digest: l.digest })),
    };
    return { bytes: Buffer.from(JSON.stringify(doc, null, '   ')), mediaType: MEDIA_TYPES.dockerManifest };
  }
  const ociType = (l: PushedLayer): string => {
    const kind = layerCompression(l.mediaType);
    return kind === 'zstd' ? MEDIA_TYPES.ociLayerZstd : kind === 'gzip' ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer;
  };
  const doc = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: ociType(l), digest: l.digest, size: l.size })),
  };
  return { bytes: Buffer.from(JSON.stringify(doc)), mediaType: MEDIA_TYPES.ociManifest };
}

export class ImagePusher {
  constructor(
    private readonly images: ImageService,
    private readonly settings: RegistrySettings,
    private readonly log: Logger,
  ) {}

  async push(req: PushRequest, progress: Progress): Promise<void> {
    const ref = req.reference;
    const repo = familiarName(ref);
    progress.message(`The push refers to repository [${fullName(ref)}]`);
    const refs = this.images.repositoryReferences(repo);
    if (refs.length === 0) throw new NotFound(`An image does not exist locally with the tag: ${repo}`);
    let targets: Array<[string, string]>;
    if (ref.tag !== undefined) {
      const hex = this.images.referenceTarget(`${repo}:${ref.tag}`);
      if (hex === undefined) throw new NotFound(`tag does not exist: ${familiarString(ref)}`);
      targets = [[ref.tag, hex]];
    } else {
      if (ref.digest !== undefined) throw new InvalidParameter('cannot push a digest reference');
      targets = refs.filter(([r]) => !r.includes('@')).map(([r, hex]) => [r.slice(repo.length + 1), hex]);
      if (targets.length === 0) throw new NotFound(`no tags to push for ${repo}`);
    }
    await withRepository(
      connectOptions(this.settings, ref, req.auth, ['pull', 'push'], this.log, req.signal),
      async (client) => {
        // Layers known to be in the repository during this push (shared by its tags).
        const remote = new Map<string, PushedLayer>();
        for (const [tag, hex] of targets) await this.pushTag(client, ref, tag, hex, remote, progress, req.signal);
      },
    );
    this.images.imageEvent('push', familiarString(ref), repo);
  }

  private async pushTag(
    client: RegistryClient,
    ref: Reference,
    tag: string,
    imageHex: string,
    remote: Map<string, PushedLayer>,
    progress: Progress,
    signal?: AbortSignal,
  ): Promise<void> {
    const configBytes = await this.images.configBytes(`sha256:${imageHex}`);
    const config = parseImageConfig(configBytes, `image ${imageHex}`);
    const diffHexes = config.rootfs.diff_ids.map((d) => d.slice('sha256:'.length));
    // moby prepares and uploads from the top layer down.
    const unique = [...new Set(diffHexes)].reverse();
    for (const hex of unique) progress.update(shortId(hex), 'Preparing');
    const pushed = await allOrNone(
      unique,
      this.settings.maxConcurrentUploads,
      signal,
      (hex, layerSignal) => this.pushLayer(client, ref, hex, remote, progress, layerSignal),
      (hex) => progress.update(shortId(hex), 'Waiting'),
    );
    const byHex = new Map(unique.map((hex, i) => [hex, pushed[i]!]));
    const layers = diffHexes.map((hex) => byHex.get(hex)!);

    const configDigest = `sha256:${sha256Hex(configBytes)}`;
    if ((await client.statBlob(configDigest, signal)) === null) await this.uploadBuffer(client, configBytes, configDigest, signal);
    const manifest = buildManifest({ digest: configDigest, size: configBytes.length }, layers);
    const res = await client.request('PUT', `v2/${client.path}/manifests/${tag}`, {
      headers: { 'Content-Type': manifest.mediaType },
      body: manifest.bytes,
      signal,
    });
    res.resume();
    const digest = `sha256:${sha256Hex(manifest.bytes)}`;
    progress.message(`${tag}: digest: ${digest} size: ${manifest.bytes.length}`);
    await this.images.addReferences(imageHex, [`${familiarName(ref)}@${digest}`]);
    progress.aux({ Tag: tag, Digest: digest, Size: manifest.bytes.length });
    this.log.info({ image: `sha256:${imageHex}`, reference: `${familiarName(ref)}:${tag}`, digest }, 'image pushed');
  }

  /** One layer: known, found, mounted or uploaded. */
  private async pushLayer(client: RegistryClient, ref: Reference, diffHex: string, remote: Map<string, PushedLayer>, progress: Progress, signal: AbortSignal): Promise<PushedLayer> {
    const id = shortId(diffHex);
    const known = remote.get(diffHex);
    if (known !== undefined) {
      progress.update(id, 'Layer already exists');
      return known;
    }
    const blobs = this.images.blobsOf(diffHex);
    if (blobs.length === 0) {
      throw new InvalidParameter(
        `layer sha256:${diffHex} has no stored archive (it was stored by a berth older than registry support): remove the image and pull, load or import it again`,
      );
    }
    const target = fullName(ref);
    const done = async (blob: LayerBlob, status: string): Promise<PushedLayer> => {
      progress.update(id, status);
      await this.images.recordBlobRepository(blob.digest, target);
      const layer = { digest: blob.digest, size: blob.size, mediaType: blob.mediaType };
      remote.set(diffHex, layer);
      return layer;
    };

    // Blobs the repository is known to have, then a mount from a repository of the same registry.
    for (const blob of blobs.filter((b) => b.repositories.includes(target))) {
      if ((await client.statBlob(blob.digest, signal)) !== null) return done(blob, 'Layer already exists');
    }
    let session: URL | undefined;
    const prefix = `${ref.domain}/`;
    for (const blob of blobs) {
      const from = blob.repositories.find((r) => r.startsWith(prefix) && r !== target);
      if (from === undefined) continue;
      const fromPath = from.slice(prefix.length);
      const res = await client.request('POST', `v2/${client.path}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(fromPath)}`, {
        extraScopes: [`repository:${fromPath}:pull`],
        ok: (s) => s === 201 || s === 202,
        signal,
      });
      res.resume();
      if (res.statusCode === 201) return done(blob, `Mounted from ${fromPath}`);
      session = new URL(String(res.headers.location ?? ''), client.endpoint.url);
      break;
    }
    for (const blob of blobs) {
      if ((await client.statBlob(blob.digest, signal)) !== null) return done(blob, 'Layer already exists');
    }

    const blob = blobs[0]!;
    await withRetries(this.settings.maxDownloadAttempts, progress, id, signal, async (attempt) => {
      // A retry starts a new session: the old one may be half written.
      const location = attempt === 1 && session !== undefined ? session : await this.startUpload(client, signal);
      await this.uploadFile(client, location, blob, progress, id, signal);
    });
    return done(blob, 'Pushed');
  }

  private async startUpload(client: RegistryClient, signal?: AbortSignal): Promise<URL> {
    const res = await client.request('POST', `v2/${client.path}/blobs/uploads/`, { ok: (s) => s === 202, signal });
    res.resume();
    const location = res.headers.location;
    if (location === undefined) throw new RegistryError(res.statusCode ?? 0, [], 'the registry started an upload without saying where');
    return new URL(location, client.endpoint.url);
  }

  /** The final PUT of an upload, with its digest (and the last bytes, for a monolithic upload). */
  private async finishUpload(client: RegistryClient, location: URL, digest: string, body: RequestBody | undefined, signal?: AbortSignal): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await client.request('PUT', url, { headers: { 'Content-Type': 'application/octet-stream' }, body, ok: (s) => s === 201 || s === 204, signal });
    res.resume();
  }

  /** A small blob in one request (the config). */
  private async uploadBuffer(client: RegistryClient, bytes: Buffer, digest: string, signal?: AbortSignal): Promise<void> {
    const location = await this.startUpload(client, signal);
    await this.finishUpload(client, location, digest, bytes, signal);
  }

  /** A layer blob: one PUT up to UPLOAD_CHUNK bytes, PATCH chunks above. */
  private async uploadFile(client: RegistryClient, location: URL, blob: LayerBlob, progress: Progress, id: string, signal: AbortSignal): Promise<void> {
    const file = this.images.blobPath(blob.digest);
    const counter = progress.counter(id, 'Pushing', blob.size);
    const range = (start: number, end: number) => ({
      length: end - start,
      stream: () => {
        const counted = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            counter.add(chunk.length);
            cb(null, chunk);
          },
        });
        const src = createReadStream(file, { start, end: end - 1 });
        src.on('error', (e) => counted.destroy(e));
        return src.pipe(counted);
      },
    });
    if (blob.size <= UPLOAD_CHUNK) {
      await this.finishUpload(client, location, blob.digest, range(0, blob.size), signal);
      counter.finish();
      return;
    }
    let next = location;
    for (let start = 0; start < blob.size; start += UPLOAD_CHUNK) {
      const end = Math.min(blob.size, start + UPLOAD_CHUNK);
      const res = await client.request('PATCH', next, {
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end - 1}` },
        body: range(start, end),
        ok: (s) => s === 202,
        signal,
      });
      res.resume();
      if (res.headers.location !== undefined) next = new URL(res.headers.location, client.endpoint.url);
    }
    counter.finish();
    await this.finishUpload(client, next, blob.digest, undefined, signal);
  }
}
