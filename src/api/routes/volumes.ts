// /volumes routes: parse, apply API-version quirks, call the backend, pick the status.
import { z } from 'zod';
import { dictSchema } from '../../util/dict.js';
import type { Router } from '../router.js';
import { queryBool, readJsonObject, sendJson, sendJsonText, sendNoContent } from '../http.js';
import { HttpError } from '../errors.js';
import { boolFilter, checkFilterKeys, parseFilters } from '../filters.js';
import { toApiVolume } from '../views/volumes.js';
import { versionAtLeast } from '../version.js';
import type { Volume, VolumeService } from '../../volumes/service.js';
import { NOT_A_SWARM_MANAGER } from '../../errors.js';

export type VolumeBackend = Pick<VolumeService, 'list' | 'get' | 'create' | 'remove' | 'prune'>;

const stringMap = dictSchema(z.string()).nullable().optional();
const CreateBody = z.object({
  Name: z.string().optional(),
  Driver: z.string().optional(),
  DriverOpts: stringMap,
  Labels: stringMap,
});

export function registerVolumeRoutes(router: Router, volumes: VolumeBackend): void {
  router.add('GET', '/volumes', (ctx) => {
    const filters = parseVolumeFilters(ctx.query.get('filters'));
    checkFilterKeys(filters, ['dangling', 'driver', 'label', 'name']);
    const list = volumes.list({
      dangling: boolFilter(filters, 'dangling'),
      driver: filters.get('driver'),
      label: filters.get('label'),
      name: filters.get('name'),
    });
    sendJsonText(ctx.res, 200, `{"Volumes":[${list.map(serializedVolume).join(',')}],"Warnings":null}`);
  });

  router.add('POST', '/volumes/create', async (ctx) => {
    const raw = await readJsonObject(ctx.req);
    const parsed = CreateBody.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HttpError(400, `invalid JSON: field ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    // From 1.42 a ClusterVolumeSpec asks for a swarm cluster volume (`--scope`, `--availability`...): dockerd outside a swarm answers 503.
    if (raw.ClusterVolumeSpec !== undefined && raw.ClusterVolumeSpec !== null && versionAtLeast(ctx.apiVersion, '1.42')) throw new HttpError(503, NOT_A_SWARM_MANAGER);
    const body = parsed.data;
    const v = await volumes.create({
      name: body.Name,
      driver: body.Driver,
      driverOpts: body.DriverOpts ?? null,
      labels: body.Labels ?? null,
    });
    sendJsonText(ctx.res, 201, serializedVolume(v));
  });

  router.add(
    'POST',
    '/volumes/prune',
    async (ctx) => {
      const filters = parseFilters(ctx.query.get('filters'));
      checkFilterKeys(filters, ['label', 'label!', 'all']);
      let all = true;
      // docker: spec 1.8 — below 1.42 prune behaves as if all=true.
      if (versionAtLeast(ctx.apiVersion, '1.42')) all = parseAllFilter(filters.get('all'));
      const report = await volumes.prune({ label: filters.get('label') ?? [], notLabel: filters.get('label!') ?? [], all });
      sendJson(ctx.res, 200, { VolumesDeleted: report.volumesDeleted, SpaceReclaimed: report.spaceReclaimed });
    },
    { minVersion: '1.25' },
  );

  router.add(
    'PUT',
    '/volumes/{name:.*}',
    () => {
      throw new HttpError(503, 'volume update only valid for cluster volumes, but swarm is unavailable');
    },
    { minVersion: '1.42' },
  );

  router.add('GET', '/volumes/{name:.*}', async (ctx) => {
    const v = await volumes.get(ctx.params.name ?? '');
    sendJsonText(ctx.res, 200, v.status ? JSON.stringify(toApiVolume(v, { status: true })) : serializedVolume(v));
  });

  router.add('DELETE', '/volumes/{name:.*}', async (ctx) => {
    await volumes.remove(ctx.params.name ?? '', { force: queryBool(ctx.query, 'force') });
    sendNoContent(ctx.res);
  });
}

// Volume objects are immutable and shared by the service, so their wire
// form is computed once (ls of 10,000 volumes is mostly string joins).
const serialized = new WeakMap<Volume, string>();
function serializedVolume(v: Volume): string {
  let text = serialized.get(v);
  if (text === undefined) {
    text = JSON.stringify(toApiVolume(v));
    serialized.set(v, text);
  }
  return text;
}

function parseVolumeFilters(raw: string | null): Map<string, string[]> {
  try {
    return parseFilters(raw);
  } catch (e) {
    if (e instanceof HttpError) throw new HttpError(400, `error reading volume filters: ${e.message}`);
    throw e;
  }
}

const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

function parseAllFilter(values: string[] | undefined): boolean {
  if (!values || values.length === 0) return false;
  if (values.length > 1) throw new HttpError(400, `invalid filter 'all=[${values.join(' ')}]': only one value is expected`);
  const v = values[0]!;
  if (GO_TRUE.includes(v)) return true;
  if (GO_FALSE.includes(v)) return false;
  throw new HttpError(400, `invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}
