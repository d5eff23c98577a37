// /images routes: pull and import (POST /images/create), load, list, inspect, remove, tag.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Router } from '../router.js';
import { queryBool, sendJson } from '../http.js';
import { HttpError } from '../errors.js';
import { boolFilter, checkFilterKeys, parseFilters, untilFilter } from '../filters.js';
import type { ImageService } from '../../images/service.js';
import { pullReference, type PullRequest } from '../../images/pull.js';
import type { PushRequest } from '../../images/push.js';
import { imageHistory } from '../../images/history.js';
import type { ImagePruner } from '../../images/prune.js';
import { parseReference } from '../../images/reference.js';
import type { Progress } from '../../images/progress.js';
import { decodeAuthHeader } from '../../registry/auth.js';
import { parsePlatform } from '../../registry/manifest.js';
import { openJsonStream } from '../json-stream.js';
import type { RequestContext } from '../http.js';
import { errorText } from '../../errors.js';
import { matchesAllLabels } from '../../volumes/filters.js';
import { versionAtLeast } from '../version.js';
import { toImageInspect, toImageSummary } from '../views/images.js';
import type { ApiImageHistoryItem, ApiImagePruneReport } from '../types/images.js';

export type ImageBackend = Pick<ImageService, 'importRootfs' | 'load' | 'list' | 'resolve' | 'find' | 'tag' | 'remove' | 'save' | 'layerSize'>;

/** Pulls from and pushes to registries (src/images/pull.ts, push.ts). */
export interface RegistryBackend {
  pull(req: PullRequest, progress: Progress): Promise<void>;
  push(req: PushRequest, progress: Progress): Promise<void>;
}

/** Runs a registry transfer as a JSON progress stream. */
async function streamTransfer(ctx: RequestContext, run: (progress: Progress, signal: AbortSignal) => Promise<void>): Promise<void> {
  const stream = openJsonStream(ctx);
  try {
    await run(stream.progress, stream.signal);
  } catch (e) {
    stream.finish(e);
    return;
  }
  stream.finish();
}

/** POST /images/create?fromImage=NAME&tag=TAG|DIGEST[&platform=]: a pull, streamed as JSON progress. */
async function pullImage(ctx: RequestContext, backend: RegistryBackend): Promise<void> {
  ctx.req.resume();
  const fromImage = ctx.query.get('fromImage') ?? '';
  let reference;
  try {
    reference = pullReference(fromImage, ctx.query.get('tag') ?? '');
  } catch (e) {
    throw new HttpError(400, errorText(e));
  }
  if (reference.path === 'scratch' && reference.domain === 'docker.io') throw new HttpError(403, "'scratch' is a reserved name");
  const platformValue = versionAtLeast(ctx.apiVersion, '1.32') ? (ctx.query.get('platform') ?? '') : '';
  const platform = platformValue !== '' ? parsePlatform(platformValue) : undefined;
  const auth = decodeAuthHeader(headerValue(ctx.req.headers['x-registry-auth']));
  await streamTransfer(ctx, (progress, signal) => backend.pull({ reference, auth, platform, signal }, progress));
}

/** POST /images/{name}/push?tag=: a push of one tag, or of every tag without one. */
async function pushImage(ctx: RequestContext, backend: RegistryBackend): Promise<void> {
  ctx.req.resume();
  const tag = ctx.query.get('tag') ?? '';
  let reference;
  try {
    reference = parseReference(tag !== '' ? `${ctx.params.name!}:${tag}` : ctx.params.name!);
  } catch (e) {
    throw new HttpError(400, errorText(e));
  }
  const auth = decodeAuthHeader(headerValue(ctx.req.headers['x-registry-auth']));
  await streamTransfer(ctx, (progress, signal) => backend.push({ reference, auth, signal }, progress));
}

/** GET /images/get?names= and /images/{name}/get: a `docker save` archive; unknown names are a 404 before any byte. */
async function saveImages(ctx: RequestContext, images: ImageBackend, names: string[]): Promise<void> {
  const archive = await images.save(names);
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await pipeline(Readable.from(archive), ctx.res);
  } catch {
    // Headers are out: a broken archive must not look complete.
    ctx.res.destroy();
  }
}


/** The first value of a request header. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export interface ImageRouteBackends {
  images: ImageBackend;
  /** The containers (any state) created from an image. */
  inUse: (imageId: string) => string[];
  /** The running ones among them. */
  running?: (imageId: string) => string[];
  registry: RegistryBackend;
  pruner: Pick<ImagePruner, 'prune'>;
}

export function registerImageRoutes(router: Router, b: ImageRouteBackends): void {
  router.add('POST', '/images/create', async (ctx) => {
    const fromSrc = ctx.query.get('fromSrc');
    const fromImage = ctx.query.get('fromImage');
    if (fromImage !== null && fromImage !== '') {
      await pullImage(ctx, b.registry);
      return;
    }
    if (fromSrc === null) {
      ctx.req.resume();
      throw new HttpError(400, 'image name cannot be blank');
    }
    if (fromSrc !== '-') {
      ctx.req.resume();
      throw new HttpError(400, 'importing from a URL is not supported: send the archive as the request body (fromSrc=-)');
    }
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') ?? '';
    const reference = repo ? (tag ? `${repo}:${tag}` : repo) : undefined;
    const changes = ctx.query.getAll('changes');
    const rec = await b.images.importRootfs(ctx.req, { reference, changes, message: ctx.query.get('message') ?? undefined });
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.end(JSON.stringify({ status: rec.id }) + '\n');
  });

  router.add('POST', '/images/load', async (ctx) => {
    const quiet = queryBool(ctx.query, 'quiet');
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    try {
      const lines = await b.images.load(ctx.req);
      for (const line of lines) ctx.res.write(JSON.stringify({ stream: `${line}\n` }) + '\n');
      void quiet;
    } catch (e) {
      // Headers are out: docker reports a failed load as an error message in the stream.
      ctx.res.write(JSON.stringify({ errorDetail: { message: errorText(e) }, error: errorText(e) }) + '\n');
    }
    ctx.res.end();
  });

  router.add('GET', '/images/json', (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    const dangling = filters.get('dangling')?.[0];
    const reference = filters.get('reference')?.[0];
    const labelFilters = filters.get('label') ?? [];
    const list = b.images
      .list({
        dangling: dangling === undefined ? undefined : dangling === 'true' || dangling === '1',
        reference,
        hideIntermediate: !queryBool(ctx.query, 'all'),
      })
      .filter((rec) => matchesAllLabels(rec.config.config?.Labels ?? null, labelFilters));
    // Before API 1.43 dangling images were listed with "<none>" placeholders.
    const legacyNone = !versionAtLeast(ctx.apiVersion, '1.43');
    sendJson(ctx.res, 200, list.map((rec) => toImageSummary(rec, { containers: b.inUse(rec.id).length, legacyNone })));
  });

  router.add('GET', '/images/{name:.*}/json', (ctx) => {
    sendJson(ctx.res, 200, toImageInspect(b.images.resolve(ctx.params.name!)));
  });

  router.add('POST', '/images/{name:.*}/push', (ctx) => pushImage(ctx, b.registry));
  router.add('GET', '/images/{name:.*}/history', (ctx) => {
    sendJson(
      ctx.res,
      200,
      imageHistory(b.images, ctx.params.name!).map((h): ApiImageHistoryItem => ({ Id: h.id, Created: h.created, CreatedBy: h.createdBy, Tags: h.tags, Size: h.size, Comment: h.comment })),
    );
  });
  router.add(
    'POST',
    '/images/prune',
    async (ctx) => {
      const filters = parseFilters(ctx.query.get('filters'));
      checkFilterKeys(filters, ['dangling', 'label', 'label!', 'until']);
      const report = await b.pruner.prune({
        danglingOnly: boolFilter(filters, 'dangling') ?? true,
        until: untilFilter(filters.get('until'), { prefixed: true }),
        label: filters.get('label') ?? [],
        notLabel: filters.get('label!') ?? [],
      });
      const answer: ApiImagePruneReport = { ImagesDeleted: report.deleted.length > 0 ? report.deleted : null, SpaceReclaimed: report.spaceReclaimed };
      sendJson(ctx.res, 200, answer);
    },
    { minVersion: '1.25' },
  );
  router.add('GET', '/images/get', (ctx) => saveImages(ctx, b.images, ctx.query.getAll('names')));
  router.add('GET', '/images/{name:.*}/get', (ctx) => saveImages(ctx, b.images, [ctx.params.name!]));

  router.add('POST', '/images/{name:.*}/tag', async (ctx) => {
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') ?? '';
    await b.images.tag(ctx.params.name!, tag ? `${repo}:${tag}` : repo);
    ctx.res.writeHead(201, { 'Content-Length': '0' });
    ctx.res.end();
  });

  router.add('DELETE', '/images/{name:.*}', async (ctx) => {
    const r = await b.images.remove(ctx.params.name!, { force: queryBool(ctx.query, 'force'), prune: !queryBool(ctx.query, 'noprune'), inUse: b.inUse, ...(b.running ? { running: b.running } : {}) });
    sendJson(ctx.res, 200, r);
  });
}
