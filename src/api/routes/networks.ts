// /networks routes: parse, call the network and container services, pick the status.
import { z } from 'zod';
import { dictSchema } from '../../util/dict.js';
import type { Router } from '../router.js';
import { readJsonObject, sendJson } from '../http.js';
import { HttpError } from '../errors.js';
import { boolFilter, checkFilterKeys, parseFilters, pruneFilters } from '../filters.js';
import { toApiNetwork } from '../views/networks.js';
import type { NetworkService } from '../../networks/service.js';
import type { ContainerService } from '../../containers/service.js';
import { decodeEndpointSettings } from '../decode/endpoint-settings.js';

const stringMap = dictSchema(z.string()).nullable().optional();
const IpamConfigSchema = z.object({
  Subnet: z.string().nullable().optional(),
  IPRange: z.string().nullable().optional(),
  Gateway: z.string().nullable().optional(),
  AuxiliaryAddresses: stringMap,
});
const CreateBody = z.object({
  Name: z.string().nullable().optional(),
  CheckDuplicate: z.boolean().nullable().optional(),
  Driver: z.string().nullable().optional(),
  Scope: z.string().nullable().optional(),
  Internal: z.boolean().nullable().optional(),
  Attachable: z.boolean().nullable().optional(),
  Ingress: z.boolean().nullable().optional(),
  ConfigOnly: z.boolean().nullable().optional(),
  ConfigFrom: z.object({ Network: z.string().nullable().optional() }).nullable().optional(),
  EnableIPv4: z.boolean().nullable().optional(),
  EnableIPv6: z.boolean().nullable().optional(),
  IPAM: z
    .object({ Driver: z.string().nullable().optional(), Config: z.array(IpamConfigSchema).nullable().optional(), Options: stringMap })
    .nullable()
    .optional(),
  Options: stringMap,
  Labels: stringMap,
});

const ConnectBody = z.object({ Container: z.string().nullable().optional(), EndpointConfig: z.unknown().optional() });
const DisconnectBody = z.object({ Container: z.string().nullable().optional(), Force: z.boolean().nullable().optional() });

export interface NetworkRouteDeps {
  networks: Pick<NetworkService, 'list' | 'find' | 'create' | 'remove' | 'prune' | 'endpointsOn'>;
  containers: Pick<ContainerService, 'connectNetwork' | 'disconnectNetwork'>;
}

function parseBody<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(400, `invalid JSON: field ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function registerNetworkRoutes(router: Router, deps: NetworkRouteDeps): void {
  // Backends are read per request (never at registration).
  const networks = {
    list: (...a: Parameters<NetworkRouteDeps['networks']['list']>) => deps.networks.list(...a),
    find: (ref: string) => deps.networks.find(ref),
    create: (...a: Parameters<NetworkRouteDeps['networks']['create']>) => deps.networks.create(...a),
    remove: (ref: string) => deps.networks.remove(ref),
    prune: (...a: Parameters<NetworkRouteDeps['networks']['prune']>) => deps.networks.prune(...a),
    endpointsOn: (id: string) => deps.networks.endpointsOn(id),
  };
  const containers = {
    connectNetwork: (...a: Parameters<NetworkRouteDeps['containers']['connectNetwork']>) => deps.containers.connectNetwork(...a),
    disconnectNetwork: (...a: Parameters<NetworkRouteDeps['containers']['disconnectNetwork']>) => deps.containers.disconnectNetwork(...a),
  };

  router.add('GET', '/networks', (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    checkFilterKeys(filters, ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    for (const t of filters.get('type') ?? []) {
      if (t !== 'custom' && t !== 'builtin') throw new HttpError(400, `invalid filter: 'type'='${t}'`);
    }
    for (const s of filters.get('scope') ?? []) {
      if (!['local', 'swarm', 'global'].includes(s)) throw new HttpError(400, `invalid filter: 'scope'='${s}'`);
    }
    const list = networks.list({
      dangling: boolFilter(filters, 'dangling'),
      driver: filters.get('driver'),
      id: filters.get('id'),
      name: filters.get('name'),
      label: filters.get('label'),
      scope: filters.get('scope'),
      type: filters.get('type'),
    });
    sendJson(ctx.res, 200, list.map((n) => toApiNetwork(n)));
  });

  router.add('GET', '/networks/{id}', (ctx) => {
    const scope = ctx.query.get('scope');
    const n = networks.find(ctx.params.id!);
    if (scope && scope !== 'local') throw new HttpError(404, `network ${ctx.params.id} not found`);
    sendJson(ctx.res, 200, toApiNetwork(n, networks.endpointsOn(n.id)));
  });

  router.add('POST', '/networks/create', async (ctx) => {
    const body = parseBody(CreateBody, await readJsonObject(ctx.req));
    const r = await networks.create({
      name: body.Name ?? '',
      driver: body.Driver ?? '',
      internal: body.Internal ?? false,
      attachable: body.Attachable ?? false,
      ingress: body.Ingress ?? false,
      enableIPv6: body.EnableIPv6 ?? false,
      configOnly: body.ConfigOnly ?? false,
      configFrom: body.ConfigFrom?.Network ?? '',
      ipam: {
        driver: body.IPAM?.Driver ?? '',
        options: body.IPAM?.Options ?? null,
        config: (body.IPAM?.Config ?? []).map((c) => ({
          ...(c.Subnet != null ? { Subnet: c.Subnet } : {}),
          ...(c.IPRange != null && c.IPRange !== '' ? { IPRange: c.IPRange } : {}),
          ...(c.Gateway != null && c.Gateway !== '' ? { Gateway: c.Gateway } : {}),
          ...(c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length > 0 ? { AuxiliaryAddresses: c.AuxiliaryAddresses } : {}),
        })),
      },
      options: body.Options ?? null,
      labels: body.Labels ?? null,
    });
    sendJson(ctx.res, 201, { Id: r.id, Warning: r.warning });
  });

  router.add('DELETE', '/networks/{id}', async (ctx) => {
    await networks.remove(ctx.params.id!);
    ctx.res.writeHead(204);
    ctx.res.end();
  });

  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = parseBody(ConnectBody, await readJsonObject(ctx.req));
    networks.find(ctx.params.id!);
    await containers.connectNetwork(body.Container ?? '', ctx.params.id!, decodeEndpointSettings(body.EndpointConfig));
    ctx.res.writeHead(200, { 'Content-Length': '0' });
    ctx.res.end();
  });

  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = parseBody(DisconnectBody, await readJsonObject(ctx.req));
    await containers.disconnectNetwork(body.Container ?? '', ctx.params.id!, body.Force ?? false);
    ctx.res.writeHead(200, { 'Content-Length': '0' });
    ctx.res.end();
  });

  router.add(
    'POST',
    '/networks/prune',
    async (ctx) => {
      const removed = await networks.prune(pruneFilters(ctx.query.get('filters')));
      sendJson(ctx.res, 200, { NetworksDeleted: removed });
    },
    { minVersion: '1.25' },
  );
}
