// /containers routes: translate HTTP to ContainerService calls and back.
import { pipeline } from 'node:stream/promises';
import type { Router } from '../router.js';
import { queryBool, readJsonObject, sendJson, sendNoContent, type RequestContext } from '../http.js';
import { HttpError } from '../errors.js';
import { parseFilters, checkFilterKeys, pruneFilters } from '../filters.js';
import { hijack, splice } from '../hijack.js';
import { toContainerInspect, toContainerSummary } from '../views/containers.js';
import { nameMatcher } from '../../volumes/filters.js';
import type { ContainerService, WaitCondition } from '../../containers/service.js';
import { decodeContainerCreate } from '../decode/container-create.js';
import { isRunningOrRestarting, type ContainerRecord } from '../../containers/types.js';

const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
const RAW = 'application/vnd.docker.raw-stream';

function frame(stream: 1 | 2, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

function matchesContainerFilters(
  c: ContainerRecord,
  f: Map<string, string[]>,
  nameMatches: ((name: string) => boolean) | null,
  networksOf?: (c: ContainerRecord) => Array<{ name: string; id: string }>,
): boolean {
  const any = (key: string, pred: (v: string) => boolean) => {
    const vs = f.get(key);
    return !vs || vs.length === 0 || vs.some(pred);
  };
  if (!any('id', (v) => c.id.startsWith(v))) return false;
  // Docker matches the name with and without its leading '/'.
  if (nameMatches && !nameMatches(`/${c.name}`) && !nameMatches(c.name)) return false;
  if (!any('status', (v) => c.state.status === v)) return false;
  if (!any('exited', (v) => c.state.status === 'exited' && String(c.state.exitCode) === v)) return false;
  if (!any('ancestor', (v) => c.config.Image === v || c.imageId === v || c.imageId.startsWith(`sha256:${v}`))) return false;
  if (!any('volume', (v) => c.mounts.some((m) => m.name === v || m.destination === v || m.source === v))) return false;
  // network: by name, full ID or ID prefix of a network the container is on.
  if (!any('network', (v) => (networksOf?.(c) ?? []).some((n) => n.name === v || (v !== '' && n.id.startsWith(v))))) return false;
  const labels = f.get('label') ?? [];
  for (const l of labels) {
    const eq = l.indexOf('=');
    const k = eq < 0 ? l : l.slice(0, eq);
    const all = c.config.Labels ?? {};
    if (!Object.hasOwn(all, k)) return false;
    if (eq >= 0 && all[k] !== l.slice(eq + 1)) return false;
  }
  return true;
}

function intQuery(ctx: RequestContext, key: string): number | undefined {
  const v = ctx.query.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new HttpError(400, `invalid value for ${key}: ${v}`);
  return n;
}

/** What the container routes need of the container service. */
export type ContainerBackend = Pick<
  ContainerService,
  'attach' | 'attachable' | 'changes' | 'create' | 'export' | 'keepsLog' | 'networkSettings' | 'kill' | 'list' | 'logs' | 'paths' | 'pause' | 'prune' | 'remove' | 'sizes' | 'rename' | 'resize' | 'resolve' | 'restart' | 'start' | 'stats' | 'stop' | 'top' | 'unpause' | 'update' | 'wait'
>;

export function registerContainerRoutes(router: Router, containers: ContainerBackend): void {

  router.add('POST', '/containers/create', async (ctx) => {
    // Docker's Go types first: a wrong type is a 400 before anything is looked at or stored.
    const name = ctx.query.get('name') || undefined;
    const spec = decodeContainerCreate(await readJsonObject(ctx.req), { name, apiVersion: ctx.apiVersion });
    const r = await containers.create(spec);
    sendJson(ctx.res, 201, { Id: r.id, Warnings: r.warnings });
  });

  router.add('GET', '/containers/json', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    checkFilterKeys(filters, ['id', 'name', 'status', 'exited', 'ancestor', 'volume', 'label', 'before', 'since', 'network', 'health', 'isolation', 'is-task', 'publish', 'expose']);
    const all = queryBool(ctx.query, 'all') || filters.has('status') || filters.has('exited');
    const names = filters.get('name');
    const nameMatches = names && names.length > 0 ? nameMatcher(names) : null;
    let list = containers
      .list()
      .filter((c) => all || isRunningOrRestarting(c.state))
      .filter((c) => matchesContainerFilters(c, filters, nameMatches, (x) => containers.networkSettings(x).networks))
      .sort((a, b) => (a.created < b.created ? 1 : -1));
    const limit = intQuery(ctx, 'limit');
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    // size=1 (docker ps -s): dockerd's omitempty sizes.
    const withSizes = queryBool(ctx.query, 'size');
    const summaries = await Promise.all(
      list.map(async (c) => {
        const summary = toContainerSummary(c, containers.networkSettings(c));
        if (!withSizes) return summary;
        const { rw, rootFs } = await containers.sizes(c.id);
        return { ...summary, ...(rw > 0 ? { SizeRw: rw } : {}), ...(rootFs > 0 ? { SizeRootFs: rootFs } : {}) };
      }),
    );
    sendJson(ctx.res, 200, summaries);
  });

  router.add(
    'POST',
    '/containers/prune',
    async (ctx) => {
      const r = await containers.prune(pruneFilters(ctx.query.get('filters')));
      sendJson(ctx.res, 200, { ContainersDeleted: r.removed.length > 0 ? r.removed : null, SpaceReclaimed: r.spaceReclaimed });
    },
    { minVersion: '1.25' },
  );

  router.add('GET', '/containers/{id}/changes', async (ctx) => {
    // dockerd answers null, not [], when nothing changed.
    const changes = await containers.changes(ctx.params.id!);
    sendJson(ctx.res, 200, changes.length > 0 ? changes : null);
  });

  router.add('GET', '/containers/{id}/export', async (ctx) => {
    const tar = await containers.export(ctx.params.id!);
    ctx.res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    try {
      await pipeline(tar, ctx.res);
    } catch {
      // The headers are out: a failed export must not look complete to the client.
      ctx.res.destroy();
    }
  });

  router.add('GET', '/containers/{id}/json', async (ctx) => {
    const c = containers.resolve(ctx.params.id!);
    const inspect = toContainerInspect(c, containers.paths(c.id), containers.networkSettings(c));
    if (!queryBool(ctx.query, 'size')) return sendJson(ctx.res, 200, inspect);
    // inspect --size: both, even when 0, where dockerd puts them (after GraphDriver).
    const { rw, rootFs } = await containers.sizes(c.id);
    const sized: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(inspect)) {
      sized[k] = v;
      if (k === 'GraphDriver') Object.assign(sized, { SizeRw: rw, SizeRootFs: rootFs });
    }
    sendJson(ctx.res, 200, sized);
  });

  router.add('POST', '/containers/{id}/start', async (ctx) => {
    const r = await containers.start(ctx.params.id!);
    sendNoContent(ctx.res, r === 'already-running' ? 304 : 204);
  });

  router.add('POST', '/containers/{id}/stop', async (ctx) => {
    const r = await containers.stop(ctx.params.id!, { timeout: intQuery(ctx, 't'), signal: ctx.query.get('signal') || undefined });
    sendNoContent(ctx.res, r === 'not-running' ? 304 : 204);
  });

  router.add('POST', '/containers/{id}/kill', async (ctx) => {
    await containers.kill(ctx.params.id!, ctx.query.get('signal') || 'SIGKILL');
    sendNoContent(ctx.res);
  });

  router.add('POST', '/containers/{id}/pause', async (ctx) => {
    await containers.pause(ctx.params.id!);
    sendNoContent(ctx.res);
  });

  router.add('POST', '/containers/{id}/unpause', async (ctx) => {
    await containers.unpause(ctx.params.id!);
    sendNoContent(ctx.res);
  });

  router.add('POST', '/containers/{id}/restart', async (ctx) => {
    await containers.restart(ctx.params.id!, { timeout: intQuery(ctx, 't'), signal: ctx.query.get('signal') || undefined });
    sendNoContent(ctx.res);
  });

  router.add('POST', '/containers/{id}/wait', async (ctx) => {
    const condition = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new HttpError(400, `invalid condition: ${JSON.stringify(condition)}`);
    containers.resolve(ctx.params.id!);
    // docker: spec 8 — headers go out at once; the body when the condition is met.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    const r = await containers.wait(ctx.params.id!, condition);
    ctx.res.end(JSON.stringify(r) + '\n');
  });

  router.add('POST', '/containers/{id}/attach', async (ctx) => {
    // Refusals (a paused container) go out as errors, before the connection is hijacked.
    const c = containers.attachable(ctx.params.id!);
    const want = { stdin: queryBool(ctx.query, 'stdin'), stdout: queryBool(ctx.query, 'stdout'), stderr: queryBool(ctx.query, 'stderr') };
    // (A driver that keeps no log has nothing to replay: the live stream only, as dockerd does.)
    if (queryBool(ctx.query, 'logs') && !want.stdin && containers.keepsLog(c.id)) {
      // logs=1 (docker-compose's log printer): the output so far from the log, then, with stream=1, what follows until the container ends.
      const h = hijack(ctx, c.config.Tty ? RAW : MULTIPLEXED);
      const abort = new AbortController();
      h.onClose(() => abort.abort());
      if (want.stdout || want.stderr) {
        const entries = containers.logs(c.id, { follow: queryBool(ctx.query, 'stream'), stdout: want.stdout, stderr: want.stderr, timestamps: false, signal: abort.signal });
        for await (const e of entries) {
          if (abort.signal.aborted) break;
          const data = Buffer.from(e.line);
          h.out.write(c.config.Tty ? data : frame(e.stream === 'stderr' ? 2 : 1, data));
        }
      }
      h.out.end();
      return;
    }
    const h = hijack(ctx, c.config.Tty ? RAW : MULTIPLEXED);
    let closed = false;
    h.onClose(() => (closed = true));
    const attachment = await containers.attach(c.id, want).catch(() => null);
    if (!attachment || closed) {
      attachment?.close();
      h.out.end();
      return;
    }
    splice(attachment, h);
    await attachment.done;
  });

  router.add('POST', '/containers/{id}/resize', async (ctx) => {
    await containers.resize(ctx.params.id!, intQuery(ctx, 'h') ?? 0, intQuery(ctx, 'w') ?? 0);
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' });
    ctx.res.end();
  });

  router.add('GET', '/containers/{id}/logs', async (ctx) => {
    const c = containers.resolve(ctx.params.id!);
    const stdout = queryBool(ctx.query, 'stdout');
    const stderr = queryBool(ctx.query, 'stderr');
    if (!stdout && !stderr) throw new HttpError(400, 'Bad parameters: you must choose at least one stream');
    const tailRaw = ctx.query.get('tail');
    const tail = tailRaw === null || tailRaw === '' || tailRaw === 'all' ? undefined : Number(tailRaw);
    const since = ctx.query.get('since');
    const until = ctx.query.get('until');
    const abort = new AbortController();
    ctx.res.on('close', () => abort.abort());
    const entries = containers.logs(c.id, {
      follow: queryBool(ctx.query, 'follow'),
      stdout,
      stderr,
      timestamps: queryBool(ctx.query, 'timestamps'),
      details: queryBool(ctx.query, 'details'),
      tail,
      since: since && since !== '0' ? toTime(since) : undefined,
      until: until && until !== '0' ? toTime(until) : undefined,
      signal: abort.signal,
    });
    ctx.res.writeHead(200, { 'Content-Type': c.config.Tty ? RAW : MULTIPLEXED });
    ctx.res.flushHeaders();
    for await (const e of entries) {
      const data = Buffer.from(e.line);
      if (ctx.res.destroyed) break;
      const ok = ctx.res.write(c.config.Tty ? data : frame(e.stream === 'stderr' ? 2 : 1, data));
      // A client that went away never drains: stop reading for it.
      if (!ok) await new Promise((r) => {
        ctx.res.once('drain', r);
        ctx.res.once('close', r);
      });
    }
    ctx.res.end();
  });

  router.add('GET', '/containers/{id}/top', async (ctx) => {
    sendJson(ctx.res, 200, await containers.top(ctx.params.id!, ctx.query.get('ps_args') ?? ''));
  });

  router.add('GET', '/containers/{id}/stats', async (ctx) => {
    // stream defaults to true; one-shot only without streaming (dockerd's 400 otherwise).
    const stream = ctx.query.has('stream') ? queryBool(ctx.query, 'stream') : true;
    const oneShot = queryBool(ctx.query, 'one-shot');
    if (stream && oneShot) throw new HttpError(400, 'cannot have stream=true and one-shot=true');
    const abort = new AbortController();
    ctx.res.on('close', () => abort.abort());
    const samples = containers.stats(ctx.params.id!, { stream, oneShot, signal: abort.signal });
    const first = await samples.next();
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    for (let r = first; !r.done; r = await samples.next()) {
      if (ctx.res.destroyed) break;
      ctx.res.write(`${JSON.stringify(r.value)}\n`);
    }
    ctx.res.end();
  });

  router.add('POST', '/containers/{id}/rename', async (ctx) => {
    await containers.rename(ctx.params.id!, ctx.query.get('name') ?? '');
    sendNoContent(ctx.res);
  });

  router.add('POST', '/containers/{id}/update', async (ctx) => {
    const r = await containers.update(ctx.params.id!, await readJsonObject(ctx.req));
    sendJson(ctx.res, 200, { Warnings: r.warnings.length > 0 ? r.warnings : null });
  });

  router.add('DELETE', '/containers/{id}', async (ctx) => {
    await containers.remove(ctx.params.id!, { force: queryBool(ctx.query, 'force'), volumes: queryBool(ctx.query, 'v') });
    sendNoContent(ctx.res);
  });

}

/** docker's since/until: unix seconds (fractional allowed) or RFC 3339. */
function toTime(v: string): Date {
  if (/^\d+(\.\d+)?$/.test(v)) return new Date(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new HttpError(400, `invalid time: ${v}`);
  return new Date(t);
}
