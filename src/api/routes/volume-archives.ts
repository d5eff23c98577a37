// /volumes/{name}/export | import | clone (docs/volume-archives.md). Register
// before the /volumes/{name:.*} routes, which would otherwise match them.
import { closeSync, fstatSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Router } from '../router.js';
import { queryBool } from '../http.js';
import { HttpError } from '../errors.js';
import { errorText } from '../../errors.js';
import { CONTENT_TYPES, OUTPUT_COMPRESSIONS, type OutputCompression } from '../../archive/compression.js';
import type { TreeProgress } from '../../archive/tree.js';
import type { ArchiveStart, VolumeArchives } from '../../volumes/archives.js';
import { headerSafe, JsonLines } from '../json-lines.js';
import type { ArchiveFile } from '../../archive/tree.js';
import { fileOffset } from '../../fs/extents.js';
import { accessMode, O_RDONLY, O_WRONLY } from '../../util/libc.js';
import { takePeerFd } from '../../fs/peer-fd.js';

export type VolumeArchiveBackend = Pick<VolumeArchives, 'export' | 'exportTo' | 'import' | 'clone'>;

const EXPORT_STATUS = 'X-Berth-Export-Status';
/** A local client's descriptor to write the export into / read the import from (docs/volume-archives.md). */
const OUTPUT_FD = 'x-berth-output-fd';
const INPUT_FD = 'x-berth-input-fd';
/** Set on the refusal of a descriptor: the client sends the archive over the connection instead. */
const FD_REFUSED = 'X-Berth-Fd-Refused';
/** Bytes an export may have queued on the socket before it waits for them to be sent. */
const SEND_AHEAD = 8 << 20;

export function registerVolumeArchiveRoutes(router: Router, archives: VolumeArchiveBackend): void {
  router.add('GET', '/volumes/{name}/export', async (ctx) => {
    const compress = ctx.query.get('compress') || 'none';
    if (!OUTPUT_COMPRESSIONS.includes(compress as OutputCompression)) {
      throw new HttpError(400, `invalid compress value "${compress}": must be one of ${OUTPUT_COMPRESSIONS.join(', ')}`);
    }
    const handed = ctx.req.headers[OUTPUT_FD] !== undefined ? handedFd(ctx.req, OUTPUT_FD, 'write') : undefined;
    if (handed && !(handed instanceof Error)) {
      await exportIntoFd(ctx.res, archives, ctx.params.name!, handed, compress as OutputCompression);
      return;
    }
    const exp = await archives.export(ctx.params.name!, { compress: compress as OutputCompression });
    ctx.res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[compress as OutputCompression],
      Trailer: EXPORT_STATUS,
      ...startHeaders(exp),
      // The descriptor could not be taken: the archive comes over the connection, and the client says why.
      ...(handed instanceof Error ? { [FD_REFUSED]: headerSafe(handed.message) } : {}),
    });
    await sendWithStatusTrailer(ctx.res, exp.stream);
  });

  router.add('POST', '/volumes/{name}/import', async (ctx) => {
    const name = ctx.params.name!;
    const reply = new JsonLines(ctx.res);
    const abort = new AbortController();
    ctx.res.on('close', () => abort.abort(new Error('the client went away')));
    let body: AsyncIterable<Buffer> | ArchiveFile = ctx.req;
    if (ctx.req.headers[INPUT_FD] !== undefined) {
      const handed = handedFd(ctx.req, INPUT_FD, 'read');
      if (handed instanceof Error) {
        ctx.res.setHeader(FD_REFUSED, '1');
        throw new HttpError(400, `cannot read the archive from the client's descriptor: ${handed.message}`);
      }
      // Read from where the client's descriptor is (stdin may not start at 0); closed when the request is done.
      body = { fd: handed, offset: fileOffset(handed) };
    }
    // Only an archive file's progress says how much of it was read: the client counts what it sends.
    let archiveBytes: number | undefined;
    try {
      const r = await archives.import(name, body, {
        replace: queryBool(ctx.query, 'replace'),
        signal: abort.signal,
        // One upload per connection: after a failure the rest of the body is
        // not read, and the connection must close rather than wait for it.
        onAccepted: (start) => reply.start({ ...startHeaders(start), Connection: 'close' }),
        onProgress: (p) => {
          archiveBytes = p.archiveBytes;
          reply.line({ status: 'Importing', id: name, progressDetail: detail(p, undefined, archiveBytes) });
        },
      });
      reply.line({ status: 'Imported', id: name, progressDetail: detail(r, undefined, archiveBytes), created: r.created });
    } catch (e) {
      // Refused before the body was read: an ordinary Docker error response.
      if (!reply.started) throw e;
      reply.error(e);
    } finally {
      if (!(Symbol.asyncIterator in body)) closeSync(body.fd);
    }
    ctx.res.end();
  });

  router.add('POST', '/volumes/{name}/clone', async (ctx) => {
    const target = ctx.query.get('name') ?? '';
    const reply = new JsonLines(ctx.res);
    const abort = new AbortController();
    ctx.res.on('close', () => abort.abort(new Error('the client went away')));
    let totals: TreeProgress | undefined;
    try {
      const r = await archives.clone(ctx.params.name!, target, {
        signal: abort.signal,
        onAccepted: (start) => {
          totals = start.totals;
          reply.start(startHeaders(start));
        },
        onProgress: (p) => reply.line({ status: 'Cloning', id: target, progressDetail: detail(p, totals) }),
      });
      reply.line({ status: 'Cloned', id: target, progressDetail: detail(r, totals), reflinked: r.reflinked });
    } catch (e) {
      if (!reply.started) throw e;
      reply.error(e);
    }
    ctx.res.end();
  });
}

function startHeaders(start: ArchiveStart): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {};
  if (start.totals) {
    h['X-Berth-Total-Bytes'] = String(start.totals.bytes);
    h['X-Berth-Total-Files'] = String(start.totals.files);
  }
  if (start.warnings.length > 0) h['X-Berth-Warning'] = start.warnings.map(headerSafe);
  return h;
}

function detail(p: TreeProgress, totals?: TreeProgress, archiveBytes?: number): Record<string, number> {
  const d: Record<string, number> = { current: p.bytes, files: p.files };
  if (totals) {
    d.total = totals.bytes;
    d.totalFiles = totals.files;
  }
  // Read from a handed-over descriptor: how far into the archive the daemon is (the client cannot count it).
  if (archiveBytes !== undefined) d.archiveBytes = archiveBytes;
  return d;
}

/**
 * The client's descriptor named in `header`, duplicated into this process:
 * a regular file open for `access`. An Error says why it cannot be used
 * (the client then sends the archive over the connection).
 */
function handedFd(req: IncomingMessage, header: string, access: 'read' | 'write'): number | Error {
  const raw = req.headers[header];
  const n = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n)) return new Error(`invalid ${header} header: ${String(raw)}`);
  let fd: number;
  try {
    fd = takePeerFd(req.socket, n);
  } catch (e) {
    return new Error(errorText(e));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('the descriptor is not a regular file');
    const mode = accessMode(fd);
    if (access === 'write' ? mode === O_RDONLY : mode === O_WRONLY) throw new Error(`the descriptor is not open for ${access === 'write' ? 'writing' : 'reading'}`);
    return fd;
  } catch (e) {
    closeSync(fd);
    return new Error(errorText(e));
  }
}

/** The export written into the client's file: JSON lines of progress, as import and clone answer. */
async function exportIntoFd(res: ServerResponse, archives: VolumeArchiveBackend, name: string, fd: number, compress: OutputCompression): Promise<void> {
  const reply = new JsonLines(res);
  const abort = new AbortController();
  res.on('close', () => abort.abort(new Error('the client went away')));
  let totals: TreeProgress | undefined;
  try {
    const r = await archives.exportTo(name, fd, {
      compress,
      signal: abort.signal,
      onAccepted: (start) => {
        totals = start.totals;
        reply.start(startHeaders(start));
      },
      onProgress: (p) => reply.line({ status: 'Exporting', id: name, progressDetail: detail(p, totals) }),
    });
    reply.line({ status: 'Exported', id: name, progressDetail: detail(r, totals) });
  } catch (e) {
    if (!reply.started) throw e;
    reply.error(e);
  } finally {
    closeSync(fd);
  }
  res.end();
}

/**
 * Streams the archive with backpressure and ends with the status trailer:
 * `ok` only after the last byte, `error: ...` when the archive failed, so a
 * client can never take a short archive for a whole one.
 */
async function sendWithStatusTrailer(res: ServerResponse, stream: Readable): Promise<void> {
  res.on('close', () => stream.destroy());
  let status = 'ok';
  try {
    for await (const chunk of stream) {
      if (res.destroyed) return;
      // Keep reading files while the socket sends: waiting for every
      // chunk's drain makes reading and sending take turns.
      if (!res.write(chunk) && res.writableLength >= SEND_AHEAD) await drained(res);
    }
  } catch (e) {
    if (res.destroyed) return;
    status = `error: ${headerSafe(errorText(e))}`;
  }
  if (res.destroyed) return;
  res.addTrailers({ [EXPORT_STATUS]: status });
  res.end();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
