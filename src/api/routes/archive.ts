// GET, HEAD and PUT /containers/{id}/archive: what `docker cp` calls.
import { pipeline } from 'node:stream/promises';
import type { Router } from '../router.js';
import { queryBool } from '../http.js';
import { HttpError } from '../errors.js';
import type { ArchiveService, PathStat as DomainPathStat } from '../../containers/archive.js';
import type { PathStat } from '../types/index.js';

function statHeader(s: DomainPathStat): string {
  const wire: PathStat = { name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget };
  return Buffer.from(JSON.stringify(wire)).toString('base64');
}

/** What the archive routes need of the archive service. */
export type ArchiveBackend = Pick<ArchiveService, 'get' | 'put' | 'stat'>;

export function registerArchiveRoutes(router: Router, archives: ArchiveBackend): void {
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
    // pipeline() carries a read error (a file vanishing mid-archive) to the
    // handler, where it closes the stream: pipe() would leave it uncaught.
    try {
      await pipeline(r.stream, ctx.res);
    } finally {
      await r.done();
    }
  });

  router.add('PUT', '/containers/{id}/archive', async (ctx) => {
    await archives.put(ctx.params.id!, pathOf(ctx.query), ctx.req, {
      copyUIDGID: queryBool(ctx.query, 'copyUIDGID'),
      noOverwriteDirNonDir: queryBool(ctx.query, 'noOverwriteDirNonDir'),
    });
    ctx.res.writeHead(200, { 'Content-Length': '0' });
    ctx.res.end();
  });
}
