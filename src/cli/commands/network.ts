// `berth network create|ls|inspect|rm|connect|disconnect|prune`: flags,
// output and exit codes of `docker network` 28.2. The daemon does the work;
// this file only builds requests and prints answers.
import type { Command } from 'commander';
import { ApiClient, DaemonError } from '../client.js';
import { collect, defineCommand } from '../command.js';
import { CliError, formatError } from '../errors.js';
import { confirm } from '../prompt.js';
import { renderList } from '../format/formatter.js';
import { naturalCompare } from '../format/natural-sort.js';
import { filtersQuery, parseFilterFlags, parseKeyValueList } from './shared.js';
import { renderInspect } from './volume.js';
import { NIL_MAP } from '../../go/template.js';
import { asStruct } from '../../go/json.js';

/** GET /networks element, as the CLI reads it. */
interface ApiNetwork {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Labels: Record<string, string> | null;
}

const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  Label: 'LABEL',
  CreatedAt: 'CREATED AT',
};

/** Go's time.Time.String() of an RFC 3339 UTC timestamp: "2024-01-02 15:04:05.123 +0000 UTC". */
function goTime(rfc3339: string): string {
  return `${rfc3339.replace('T', ' ').replace(/Z$/, '')} +0000 UTC`;
}

function networkContext(n: ApiNetwork, noTrunc: boolean): object {
  const labels = n.Labels ?? {};
  return {
    ID: noTrunc ? n.Id : n.Id.slice(0, 12),
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv4: 'true',
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    CreatedAt: goTime(n.Created),
    Label: (key: string) => labels[key] ?? '',
  };
}

/** The docker CLI's consolidateIpam: each subnet with the ip-range, gateway and aux addresses it contains. */
function ipamConfig(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): Array<Record<string, unknown>> {
  if (subnets.length < ranges.length || subnets.length < gateways.length) {
    throw new CliError('every ip-range or gateway must have a corresponding subnet');
  }
  const contains = (subnet: string, address: string): boolean => {
    const [base, bitsText] = subnet.split('/');
    const addr = address.split('/')[0]!;
    const toNum = (a: string) => a.split('.').reduce((n, p) => n * 256 + Number(p), 0);
    if (!base || !bitsText || base.includes(':') || addr.includes(':')) return base?.includes(':') === addr.includes(':');
    const bits = Number(bitsText);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return ((toNum(base) & mask) >>> 0) === ((toNum(addr) & mask) >>> 0);
  };
  const out: Array<Record<string, unknown>> = subnets.map((s) => ({ Subnet: s }));
  for (const r of ranges) {
    const cfg = out.find((c) => contains(String(c.Subnet), r));
    if (!cfg) throw new CliError(`no matching subnet for range ${r}`);
    if (cfg.IPRange) throw new CliError(`cannot configure multiple ranges (${r}, ${String(cfg.IPRange)}) on the same subnet (${String(cfg.Subnet)})`);
    cfg.IPRange = r;
  }
  for (const g of gateways) {
    const cfg = out.find((c) => contains(String(c.Subnet), g));
    if (!cfg) throw new CliError(`no matching subnet for gateway ${g}`);
    if (cfg.Gateway) throw new CliError(`cannot configure multiple gateways (${g}, ${String(cfg.Gateway)}) for the same subnet (${String(cfg.Subnet)})`);
    cfg.Gateway = g;
  }
  for (const [name, address] of Object.entries(aux)) {
    const cfg = out.find((c) => contains(String(c.Subnet), address));
    if (!cfg) throw new CliError(`no matching subnet for aux-address ${address}`);
    cfg.AuxiliaryAddresses = { ...((cfg.AuxiliaryAddresses ?? {}) as Record<string, string>), [name]: address };
  }
  return out;
}

/** The docker CLI decodes network.Inspect: structs keep their field order under `json`, nil maps print as map[]. */
export function networkTemplateView(n: Record<string, unknown>): object {
  const ipam = (n.IPAM ?? {}) as Record<string, unknown>;
  const containers: Record<string, unknown> = {};
  for (const [id, c] of Object.entries((n.Containers ?? {}) as Record<string, object>)) containers[id] = asStruct({ ...c });
  return asStruct({
    ...n,
    IPAM: asStruct({ ...ipam, Options: ipam.Options ?? NIL_MAP, Config: ((ipam.Config ?? []) as object[]).map((c) => asStruct({ ...c })) }),
    ConfigFrom: asStruct({ ...((n.ConfigFrom ?? {}) as object) }),
    Containers: containers,
    Labels: n.Labels ?? NIL_MAP,
    Options: n.Options ?? NIL_MAP,
  });
}

export function registerNetworkCommands(program: Command, client: () => ApiClient): void {
  const network = program.command('network').description('Manage networks').usage('COMMAND');
  network.action(() => {
    process.stdout.write(network.helpInformation());
  });

  defineCommand<{
    attachable?: boolean;
    auxAddress?: string[];
    configFrom?: string;
    configOnly?: boolean;
    driver: string;
    gateway?: string[];
    ingress?: boolean;
    internal?: boolean;
    ipRange?: string[];
    ipamDriver: string;
    ipamOpt?: string[];
    ipv6?: boolean;
    label?: string[];
    opt?: string[];
    scope?: string;
    subnet?: string[];
  }>(
    network,
    { name: 'create', use: '[OPTIONS] NETWORK', description: 'Create a network', arity: { exact: 1 } },
    (cmd) =>
      cmd
        .option('--attachable', 'Enable manual container attachment')
        .option('--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', collect)
        .option('--config-from <string>', 'The network from which to copy the configuration')
        .option('--config-only', 'Create a configuration only network')
        .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
        .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', collect)
        .option('--ingress', 'Create swarm routing-mesh network')
        .option('--internal', 'Restrict external access to the network')
        .option('--ip-range <strings>', 'Allocate container ip from a sub-range', collect)
        .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
        .option('--ipam-opt <map>', 'Set IPAM driver specific options', collect)
        .option('--ipv6', 'Enable or disable IPv6 networking')
        .option('--label <list>', 'Set metadata on a network', collect)
        .option('-o, --opt <map>', 'Set driver specific options', collect)
        .option('--scope <string>', "Control the network's scope")
        .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect),
    async (args, opts, cmd) => {
      const path = 'berth network create';
      const aux = parseKeyValueList(opts.auxAddress ?? [], '--aux-address', path, cmd.usage(), 'opt');
      const body: Record<string, unknown> = {
        Name: args[0],
        Driver: opts.driver,
        Options: parseKeyValueList(opts.opt ?? [], '-o, --opt', path, cmd.usage(), 'opt'),
        IPAM: {
          Driver: opts.ipamDriver,
          Config: ipamConfig(opts.subnet ?? [], opts.ipRange ?? [], opts.gateway ?? [], aux),
          Options: parseKeyValueList(opts.ipamOpt ?? [], '--ipam-opt', path, cmd.usage(), 'opt'),
        },
        Internal: !!opts.internal,
        Attachable: !!opts.attachable,
        Ingress: !!opts.ingress,
        Scope: opts.scope ?? '',
        ConfigOnly: !!opts.configOnly,
        Labels: parseKeyValueList(opts.label ?? [], '--label', path, cmd.usage(), 'label'),
      };
      if (opts.ipv6 !== undefined) body.EnableIPv6 = opts.ipv6;
      if (opts.configFrom) body.ConfigFrom = { Network: opts.configFrom };
      const r = await client().json<{ Id: string; Warning?: string }>('POST', '/networks/create', { body });
      if (r.Warning) process.stderr.write(`${r.Warning}\n`);
      process.stdout.write(`${r.Id}\n`);
    },
  );

  defineCommand<{ quiet?: boolean; format?: string; filter?: string[]; noTrunc?: boolean }>(
    network,
    { name: 'ls', aliases: ['list'], use: '[OPTIONS]', description: 'List networks', arity: { none: true } },
    (cmd) =>
      cmd
        .option('-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')", collect)
        .option('--format <string>', 'Format output using a custom template')
        .option('--no-trunc', 'Do not truncate the output')
        .option('-q, --quiet', 'Only display network IDs'),
    async (_args, opts, cmd) => {
      const filters = parseFilterFlags(opts.filter ?? [], 'berth network ls', cmd.usage());
      const list = await client().json<ApiNetwork[]>('GET', '/networks', { query: filtersQuery(filters) });
      const sorted = [...list].sort((a, b) => naturalCompare(a.Name, b.Name));
      // commander's --no-trunc sets trunc: false.
      const noTrunc = (opts as { trunc?: boolean }).trunc === false;
      process.stdout.write(
        renderList(sorted, {
          format: opts.format ?? '',
          quiet: !!opts.quiet,
          defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
          quietTemplate: '{{.ID}}',
          headers: NETWORK_HEADERS,
          context: (n) => networkContext(n, noTrunc),
        }),
      );
    },
  );

  defineCommand<{ format?: string; verbose?: boolean }>(
    network,
    { name: 'inspect', use: '[OPTIONS] NETWORK [NETWORK...]', description: 'Display detailed information on one or more networks', arity: { min: 1 } },
    (cmd) => cmd.option('-f, --format <string>', 'Format output using a custom template').option('-v, --verbose', 'Verbose output for diagnostics'),
    async (args, opts) => {
      const api = client();
      const found: object[] = [];
      const errors: string[] = [];
      for (const ref of args) {
        try {
          found.push(await api.json<object>('GET', `/networks/${encodeURIComponent(ref)}`, { query: opts.verbose ? { verbose: 'true' } : {} }));
        } catch (e) {
          if (!(e instanceof DaemonError)) throw e;
          errors.push(formatError(e).trimEnd());
        }
      }
      process.stdout.write(
        renderInspect(found, opts.format, (o) => networkTemplateView(o as Record<string, unknown>)),
      );
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    },
  );

  defineCommand<{ force?: boolean }>(
    network,
    { name: 'rm', aliases: ['remove'], use: 'NETWORK [NETWORK...]', description: 'Remove one or more networks', arity: { min: 1 } },
    (cmd) => cmd.option('-f, --force', 'Do not error if the network does not exist'),
    async (args, opts) => {
      const api = client();
      let failed = false;
      for (const ref of args) {
        try {
          await api.request('DELETE', `/networks/${encodeURIComponent(ref)}`);
          process.stdout.write(`${ref}\n`);
        } catch (e) {
          if (!(e instanceof DaemonError)) throw e;
          if (opts.force && e.status === 404) continue;
          process.stderr.write(formatError(e));
          failed = true;
        }
      }
      // docker 28.2 ends a failed rm with the "exit status 1" of its StatusError.
      if (failed) throw new CliError('exit status 1');
    },
  );

  defineCommand<{ alias?: string[]; driverOpt?: string[]; ip?: string; ip6?: string; link?: string[]; linkLocalIp?: string[] }>(
    network,
    { name: 'connect', use: '[OPTIONS] NETWORK CONTAINER', description: 'Connect a container to a network', arity: { exact: 2 } },
    (cmd) =>
      cmd
        .option('--alias <strings>', 'Add network-scoped alias for the container', collect)
        .option('--driver-opt <strings>', 'driver options for the network', collect)
        .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
        .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")')
        .option('--link <list>', 'Add link to another container', collect)
        .option('--link-local-ip <strings>', 'Add a link-local address for the container', collect),
    async (args, opts, cmd) => {
      const driverOpts = parseKeyValueList(opts.driverOpt ?? [], '--driver-opt', 'berth network connect', cmd.usage(), 'opt');
      const endpoint: Record<string, unknown> = {
        IPAMConfig: { IPv4Address: opts.ip ?? '', IPv6Address: opts.ip6 ?? '', LinkLocalIPs: opts.linkLocalIp ?? null },
        Links: opts.link ?? null,
        Aliases: opts.alias ?? null,
        DriverOpts: Object.keys(driverOpts).length > 0 ? driverOpts : null,
      };
      await client().request('POST', `/networks/${encodeURIComponent(args[0]!)}/connect`, { body: { Container: args[1], EndpointConfig: endpoint } });
    },
  );

  defineCommand<{ force?: boolean }>(
    network,
    { name: 'disconnect', use: '[OPTIONS] NETWORK CONTAINER', description: 'Disconnect a container from a network', arity: { exact: 2 } },
    (cmd) => cmd.option('-f, --force', 'Force the container to disconnect from a network'),
    async (args, opts) => {
      await client().request('POST', `/networks/${encodeURIComponent(args[0]!)}/disconnect`, { body: { Container: args[1], Force: !!opts.force } });
    },
  );

  defineCommand<{ filter?: string[]; force?: boolean }>(
    network,
    { name: 'prune', use: '[OPTIONS]', description: 'Remove all unused networks', arity: { none: true } },
    (cmd) => cmd.option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", collect).option('-f, --force', 'Do not prompt for confirmation'),
    async (_args, opts, cmd) => {
      const filters = parseFilterFlags(opts.filter ?? [], 'berth network prune', cmd.usage());
      const warning = 'WARNING! This will remove all custom networks not used by at least one container.\n';
      if (!opts.force && !(await confirm(`${warning}Are you sure you want to continue? [y/N] `))) return;
      const report = await client().json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: filtersQuery(filters) });
      const deleted = report.NetworksDeleted ?? [];
      if (deleted.length > 0) process.stdout.write(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
    },
  );
}
