// GET, HEAD and PUT /containers/{id}/archive: what `docker cp` calls.
import type { Router } from '../router.js';
import { queryBool } from '../http.js';
import { HttpError } from '../errors.js';
import type { ArchiveService, PathStat } from '../../containers/archive.js';

function statHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

export function registerArchiveRoutes(router: Router, archives: ArchiveService): void {
  const pathOf = (q: URLSearchParams) => {
    const p = q.get('path');
    if (!p) throw new HttpError(400, 'path is required');
    return p;
  };

  router.add('HEAD', '/containers/{id}/archive', async (ctx) => {
    const s = await archives.stat(ctx.params.id!, pathOf(ctx.query));
    ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(s), 'Content-Length': '0' });
    ctx.res.end();
  });

  router.add('GET', '/containers/{id}/archive', async (ctx) => {
    const r = await archives.get(ctx.params.id!, pathOf(ctx.query));
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(r.stat) });
    // A failure mid-tar closes the connection: the client sees a cut stream, never a clean end.
    r.stream.once('error', () => ctx.res.destroy());
    r.stream.pipe(ctx.res);
    await new Promise<void>((resolve) => {
      ctx.res.once('finish', resolve);
      ctx.res.once('close', resolve);
    });
    await r.done();
  });

  router.add('PUT', '/containers/{id}/archive', async (ctx) => {
    await archives.put(ctx.params.id!, pathOf(ctx.query), ctx.req, { copyUIDGID: queryBool(ctx.query, 'copyUIDGID') });
    ctx.res.writeHead(200, { 'Content-Length': '0' });
    ctx.res.end();
  });
}
