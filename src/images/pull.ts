// `docker pull` (POST /images/create?fromImage=): the manifest (a list or
// index resolved for the platform), the config, then the layers, downloaded
// a few at a time into private files with their digests checked as they
// stream, resumed with a Range request after a transient failure, and
// unpacked. Progress is moby's, message for message. The image and its
// references appear in one step at the end; a failed pull releases every
// layer it took, so nothing of it stays.
import { createHash, type Hash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { Logger } from 'pino';
import { InvalidParameter, NotFound } from '../errors.js';
import type { AuthConfig } from '../registry/auth.js';
import { readBody, type RegistryClient } from '../registry/client.js';
import { withRepository } from '../registry/connect.js';
import { defaultPlatform, formatPlatform, MANIFEST_ACCEPT, MEDIA_TYPES, parseManifest, selectManifest, type Descriptor, type ImageManifest, type Platform } from '../registry/manifest.js';
import { allOrNone } from '../util/limiter.js';
import { parseImageConfig, sha256Hex } from './config-file.js';
import { familiarName, familiarString, fullName, parseReference, type Reference } from './reference.js';
import type { Progress } from './progress.js';
import type { ImageService } from './service.js';
import { connectOptions, pullError, TransientError, withRetries, type RegistrySettings } from './transfer.js';
import type { ImageConfigFile } from './types.js';

export interface PullRequest {
  /** As sent: fromImage with tag (a tag or a digest) applied; neither means every tag (docker pull -a). */
  reference: Reference;
  auth: AuthConfig;
  /** Requested with --platform; otherwise linux and this host's architecture. */
  platform?: Platform;
  signal?: AbortSignal;
}

const CONFIG_TYPES = new Set<string>([MEDIA_TYPES.dockerConfig, MEDIA_TYPES.ociConfig, 'application/octet-stream']);

/** "sha256:abc…" → the 12 hex digits moby's progress shows. */
function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export class ImagePuller {
  constructor(
    private readonly images: ImageService,
    private readonly settings: RegistrySettings,
    private readonly log: Logger,
  ) {}

  /** The whole pull; errors before the first message are the caller's to answer with a status. */
  async pull(req: PullRequest, progress: Progress): Promise<void> {
    const ref = req.reference;
    try {
      await withRepository(
        connectOptions(this.settings, ref, req.auth, ['pull'], this.log, req.signal),
        async (client) => {
          let downloaded = false;
          if (ref.tag === undefined && ref.digest === undefined) {
            const tags = await this.listTags(client, req.signal);
            for (const tag of tags) downloaded = (await this.pullOne(client, { ...ref, tag }, req, progress)) || downloaded;
          } else {
            downloaded = await this.pullOne(client, ref, req, progress);
          }
          const shown = familiarString(ref);
          progress.message(downloaded ? `Status: Downloaded newer image for ${shown}` : `Status: Image is up to date for ${shown}`);
        },
      );
    } catch (e) {
      throw pullError(e, ref);
    }
    this.images.imageEvent('pull', familiarString(ref), familiarName(ref));
  }

  private async listTags(client: RegistryClient, signal?: AbortSignal): Promise<string[]> {
    const { body } = await client.fetch(`v2/${client.path}/tags/list`, { Accept: 'application/json' }, signal);
    const tags = (JSON.parse(body.toString('utf8')) as { tags?: unknown }).tags;
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  }

  /** A manifest by tag or digest, its digest checked when asked for by digest. */
  private async fetchManifest(client: RegistryClient, reference: string, signal?: AbortSignal): Promise<{ bytes: Buffer; digest: string; contentType: string }> {
    const { body, headers } = await client.fetch(`v2/${client.path}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT.join(', ') }, signal);
    const digest = `sha256:${sha256Hex(body)}`;
    if (reference.startsWith('sha256:') && digest !== reference) throw new InvalidParameter(`manifest verification failed for digest ${reference}`);
    return { bytes: body, digest, contentType: String(headers['content-type'] ?? '') };
  }

  /** Pulls one tag or digest; true when the reference now points at a different image. */
  private async pullOne(client: RegistryClient, ref: Reference, req: PullRequest, progress: Progress): Promise<boolean> {
    const name = fullName(ref);
    const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
    const top = await this.fetchManifest(client, tagOrDigest, req.signal);
    const parsed = parseManifest(top.bytes, top.contentType, name);
    let manifest: ImageManifest;
    // A list entry is chosen by its platform; a single image must be what --platform asks for.
    const checkPlatform = parsed.kind === 'image';
    if (parsed.kind === 'index') {
      const chosen = selectManifest(parsed.index, req.platform ?? defaultPlatform());
      const inner = await this.fetchManifest(client, chosen.digest, req.signal);
      const innerParsed = parseManifest(inner.bytes, inner.contentType, name);
      if (innerParsed.kind !== 'image') throw new InvalidParameter('unsupported manifest format');
      manifest = innerParsed.manifest;
    } else {
      manifest = parsed.manifest;
    }
    const configType = manifest.config.mediaType ?? MEDIA_TYPES.dockerConfig;
    if (!CONFIG_TYPES.has(configType)) {
      const cls = configType.includes('plugin') ? 'plugin' : 'unknown';
      throw new InvalidParameter(`Encountered remote "${configType}"(${cls}) when fetching`);
    }
    progress.message(`Pulling from ${ref.path}`, tagOrDigest);

    const configBytes = await this.fetchBlob(client, manifest.config, 'image config', req.signal);
    const config = parseImageConfig(configBytes, `image config ${manifest.config.digest}`);
    if (checkPlatform) this.checkPlatform(config, ref, req.platform);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) throw new InvalidParameter("layers from manifest don't match image configuration");

    const configHex = manifest.config.digest.slice('sha256:'.length);
    const pinned: string[] = [];
    try {
      if (!this.images.hasImage(configHex)) {
        await this.pullLayers(client, manifest.layers, config, req, progress, pinned);
      }
      progress.message(`Digest: ${top.digest}`);
      const refs = [`${familiarName(ref)}@${top.digest}`];
      if (ref.digest === undefined) refs.push(`${familiarName(ref)}:${tagOrDigest}`);
      const { moved } = await this.images.createImage(configBytes, config, refs);
      this.log.info({ image: `sha256:${configHex}`, reference: familiarString(ref) }, 'image pulled');
      return moved;
    } finally {
      await this.images.releaseLayers(pinned);
    }
  }

  /** An explicit --platform must be what the (single-platform) image is. */
  private checkPlatform(config: ImageConfigFile, ref: Reference, want: Platform | undefined): void {
    if (want === undefined) return;
    const actual: Platform = { os: config.os ?? '', architecture: config.architecture ?? '', ...(config.variant ? { variant: config.variant } : {}) };
    if (actual.os !== want.os || actual.architecture !== want.architecture || (want.variant !== undefined && actual.variant !== undefined && actual.variant !== want.variant)) {
      throw new NotFound(
        `image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(actual)}`,
      );
    }
  }

  /** A small blob (the config), its digest checked. */
  private async fetchBlob(client: RegistryClient, desc: Descriptor, what: string, signal?: AbortSignal): Promise<Buffer> {
    const res = await client.request('GET', `v2/${client.path}/blobs/${desc.digest}`, { signal });
    const body = await readBody(res);
    if (`sha256:${sha256Hex(body)}` !== desc.digest) throw new InvalidParameter(`${what} verification failed for digest ${desc.digest}`);
    return body;
  }

  /**
   * Every layer the store lacks, a few at a time; `pinned` collects the
   * layers held for the image (the caller releases them). The first failure
   * cancels the rest.
   */
  private async pullLayers(
    client: RegistryClient,
    layers: Descriptor[],
    config: ImageConfigFile,
    req: PullRequest,
    progress: Progress,
    pinned: string[],
  ): Promise<void> {
    // A mirror serves Docker Hub's repositories: the blobs are the Hub's.
    const source = fullName(req.reference);
    const missing: Array<{ desc: Descriptor; diffId: string }> = [];
    const seen = new Set<string>();
    for (const [i, desc] of layers.entries()) {
      const diffId = config.rootfs.diff_ids[i]!;
      const hex = diffId.slice('sha256:'.length);
      if (seen.has(hex)) continue;
      seen.add(hex);
      if (await this.images.pinLayer(hex)) {
        pinned.push(hex);
        progress.update(shortDigest(desc.digest), 'Already exists');
        await this.images.recordBlobRepository(desc.digest, source);
        continue;
      }
      progress.update(shortDigest(desc.digest), 'Pulling fs layer');
      missing.push({ desc, diffId });
    }
    if (missing.length === 0) return;
    await allOrNone(
      missing,
      this.settings.maxConcurrentDownloads,
      req.signal,
      async ({ desc, diffId }, signal) => {
        pinned.push(await this.pullLayer(client, desc, diffId, progress, signal, source));
      },
      ({ desc }) => progress.update(shortDigest(desc.digest), 'Waiting'),
    );
  }

  /** Downloads, verifies and unpacks one layer; returns its hex, pinned. */
  private async pullLayer(
    client: RegistryClient,
    desc: Descriptor,
    diffId: string,
    progress: Progress,
    signal: AbortSignal,
    source: string,
  ): Promise<string> {
    const id = shortDigest(desc.digest);
    const mediaType = desc.mediaType ?? MEDIA_TYPES.dockerLayerGzip;
    if (desc.urls !== undefined && desc.urls.length > 0) throw new InvalidParameter(`unsupported media type ${mediaType}`);
    const file = this.images.tempBlobPath();
    try {
      await this.download(client, desc, file, progress, signal);
      const extracting = progress.counter(id, 'Extracting', desc.size);
      const hex = await this.images.ingestBlob(file, { digest: desc.digest, size: desc.size, mediaType }, diffId, `layer ${desc.digest} of ${source}`, {
        repository: source,
        onRead: (n) => extracting.add(n),
      });
      extracting.finish();
      progress.update(id, 'Pull complete');
      return hex;
    } finally {
      await fsp.rm(file, { force: true });
    }
  }

  /**
   * Streams a blob into `file` with its digest computed on the way; a
   * transient failure resumes from what is on disk with a Range request.
   */
  private async download(client: RegistryClient, desc: Descriptor, file: string, progress: Progress, signal: AbortSignal): Promise<void> {
    const id = shortDigest(desc.digest);
    let hash: Hash = createHash('sha256');
    let have = 0;
    const fh = await fsp.open(file, 'w+', 0o600);
    const restart = async (): Promise<void> => {
      hash = createHash('sha256');
      have = 0;
      await fh.truncate(0);
    };
    try {
      await withRetries(Math.max(1, this.settings.maxDownloadAttempts), progress, id, signal, async () => {
        const resumedAt = have;
        const res = await client.request('GET', `v2/${client.path}/blobs/${desc.digest}`, {
          headers: resumedAt > 0 ? { Range: `bytes=${resumedAt}-` } : {},
          ok: (s) => s === 200 || s === 206,
          signal,
        });
        if (resumedAt > 0 && res.statusCode !== 206) await restart();
        const counter = progress.counter(id, 'Downloading', desc.size, have);
        try {
          for await (const chunk of res as AsyncIterable<Buffer>) {
            hash.update(chunk);
            await fh.write(chunk, 0, chunk.length, have);
            have += chunk.length;
            counter.add(chunk.length);
          }
        } catch (e) {
          throw new TransientError(`reading blob ${desc.digest}: ${(e as Error).message}`, { cause: e });
        }
        counter.finish();
        if (have < desc.size) throw new TransientError(`blob ${desc.digest}: the registry sent ${have} of ${desc.size} bytes`);
        progress.update(id, 'Verifying Checksum');
        if (`sha256:${hash.digest('hex')}` !== desc.digest || have !== desc.size) {
          const resumed = resumedAt > 0;
          await restart();
          const err = `filesystem layer verification failed for digest ${desc.digest}`;
          // A resumed download may have joined two different bodies: worth one more try from scratch.
          if (resumed) throw new TransientError(err);
          throw new InvalidParameter(err);
        }
        progress.update(id, 'Download complete');
      });
      await fh.sync();
    } catch (e) {
      if (signal.aborted && !(e instanceof InvalidParameter)) throw signal.reason ?? e;
      throw e;
    } finally {
      await fh.close();
    }
  }
}

/** Parses fromImage and tag as dockerd does: the tag may be a digest; with neither, every tag is pulled. */
export function pullReference(fromImage: string, tag: string): Reference {
  // `docker pull -a` may send the name with a trailing ":".
  const ref = parseReference(fromImage.replace(/:$/, ''));
  if (tag === '') return ref;
  if (/^[a-z0-9]+:[a-f0-9]{32,}$/.test(tag)) return { domain: ref.domain, path: ref.path, digest: tag };
  return { domain: ref.domain, path: ref.path, tag: parseReference(`x:${tag}`).tag! };
}
