// /images routes: import (POST /images/create?fromSrc=-), load, list, inspect, remove, tag.
import type { Router } from '../router.js';
import { queryBool, sendJson } from '../http.js';
import { HttpError } from '../errors.js';
import { parseFilters } from '../filters.js';
import type { ImageService } from '../../images/service.js';
import { errorText } from '../../errors.js';
import { versionAtLeast } from '../version.js';
import { toImageInspect, toImageSummary } from '../views/images.js';

export type ImageBackend = Pick<ImageService, 'importRootfs' | 'load' | 'list' | 'resolve' | 'tag' | 'remove'>;

/** `inUse` lists the containers (any state) created from an image. */
export function registerImageRoutes(router: Router, images: ImageBackend, inUse: (imageId: string) => string[]): void {
  router.add('POST', '/images/create', async (ctx) => {
    const fromSrc = ctx.query.get('fromSrc');
    const fromImage = ctx.query.get('fromImage');
    if (fromSrc === null) {
      // There is no registry to pull from: say so the way a failed pull does.
      ctx.req.resume();
      const ref = `${fromImage ?? ''}${ctx.query.get('tag') ? `:${ctx.query.get('tag')}` : ''}`;
      throw new HttpError(404, `pull access denied for ${fromImage ?? ''}: berth cannot pull from a registry; load ${ref} with 'berth load' or 'berth import' first`);
    }
    if (fromSrc !== '-') {
      ctx.req.resume();
      throw new HttpError(400, 'importing from a URL is not supported: send the archive as the request body (fromSrc=-)');
    }
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') ?? '';
    const reference = repo ? (tag ? `${repo}:${tag}` : repo) : undefined;
    const changes = ctx.query.getAll('changes');
    const rec = await images.importRootfs(ctx.req, { reference, changes, message: ctx.query.get('message') ?? undefined });
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.end(JSON.stringify({ status: rec.id }) + '\n');
  });

  router.add('POST', '/images/load', async (ctx) => {
    const quiet = queryBool(ctx.query, 'quiet');
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    try {
      const lines = await images.load(ctx.req);
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
    const list = images.list({
      dangling: dangling === undefined ? undefined : dangling === 'true' || dangling === '1',
      reference,
    });
    // Before API 1.43 dangling images were listed with "<none>" placeholders.
    const legacyNone = !versionAtLeast(ctx.apiVersion, '1.43');
    sendJson(ctx.res, 200, list.map((rec) => toImageSummary(rec, { containers: inUse(rec.id).length, legacyNone })));
  });

  router.add('GET', '/images/{name:.*}/json', (ctx) => {
    sendJson(ctx.res, 200, toImageInspect(images.resolve(ctx.params.name!)));
  });

  router.add('POST', '/images/{name:.*}/tag', async (ctx) => {
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') ?? '';
    await images.tag(ctx.params.name!, tag ? `${repo}:${tag}` : repo);
    ctx.res.writeHead(201, { 'Content-Length': '0' });
    ctx.res.end();
  });

  router.add('DELETE', '/images/{name:.*}', async (ctx) => {
    const r = await images.remove(ctx.params.name!, { force: queryBool(ctx.query, 'force'), inUse });
    sendJson(ctx.res, 200, r);
  });
}
