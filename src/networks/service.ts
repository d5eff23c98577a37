// NetworkService: Docker's local networks. `bridge` (the default), `host`
// and `none` always exist; user-defined networks are bridge networks. Each
// bridge network is a Linux bridge with the gateway address (bridge.ts),
// isolated from the others by berth's nftables table (firewall.ts). A
// running container's sandbox is its endpoints (a veth pair each, an
// address from the network's IPAM), its published ports (port-proxy.ts)
// and, on user-defined networks, the embedded DNS server answering for the
// containers on its networks. Endpoints and ports are kept in berth.db, so
// a berthd restart takes back the sandboxes of containers still running.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Conflict, Forbidden, InvalidParameter, NotFound, SystemError, errorText, NOT_A_SWARM_MANAGER } from '../errors.js';
import type { EventSink } from '../events/bus.js';
import { generateId, shortId } from '../util/random-id.js';
import { formatRFC3339Nano, nowNs } from '../go/timestamps.js';
import { matchesAllLabels, matchesPruneLabels, nameMatcher } from '../volumes/filters.js';
import { ensureBridge, joinEndpoint, leaveEndpoint, leaveEndpointInBackground, removeBridge, removeInterface, strayInterfaces, DEFAULT_MTU } from './bridge.js';
import { embeddedResolvConf, hostNetworkHostsFile, hostsFile, plainResolvConf, upstreamServers, type DnsSettings } from './etc-files.js';
import { Firewall, type FirewallBridge } from './firewall.js';
import { allocateAddress, checkStaticAddress, choosePool, formatIPv4, formatPrefix, hostRoutes, ipv4Configs, macForAddress, validateIpamConfig, type IpamConfig, type Pool } from './ipam.js';
import { parseCidr, parseIPv4, type Prefix } from './ipv4.js';
import { netnsOfPid } from './netns.js';
import { createNamespace, loopbackUp, removeNamespace, strayNamespaces } from './sandbox-netns.js';
import { DEFAULT_ADDRESS_LOCK, withHostLock } from './host-lock.js';
import { Netlink, withNetlink } from './netlink.js';
import { PortProxy } from './port-proxy.js';
import type { PortBinding, PortRequest } from './ports.js';
import type { NetworkRecords } from './records.js';
import { DnsForwarder } from './dns/forwarder.js';
import { resolveQuery, type DnsScope } from './dns/resolver.js';
import { ContainerDnsServer } from './dns/server.js';
import type { EndpointConfig, EndpointRecord, NetworkRecord } from './types.js';

/** The predefined networks' names. */
export const DEFAULT_BRIDGE = 'bridge';
export const HOST_NETWORK = 'host';
export const NONE_NETWORK = 'none';
const PREDEFINED = [DEFAULT_BRIDGE, HOST_NETWORK, NONE_NETWORK];

export const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
export const OPT_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';
export const OPT_ICC = 'com.docker.network.bridge.enable_icc';
export const OPT_HOST_BINDING = 'com.docker.network.bridge.host_binding_ipv4';
export const OPT_MTU = 'com.docker.network.driver.mtu';

/** How a container is networked: on bridge networks, in the host's namespace, or alone with loopback (none; private when berthd has no default bridge). */
export type NetworkMode = 'bridge' | 'host' | 'none' | 'private' | 'container';

export interface NetworkServiceDeps {
  records: NetworkRecords;
  events: EventSink;
  log: Logger;
  firewall: Firewall;
  /** berthd --bridge: the default bridge's device ("none": no default bridge network). */
  defaultBridge: string;
  /** berthd --bip: the default bridge's gateway address and subnet, "172.17.0.1/16". */
  defaultBridgeCidr?: string;
  /** The host-wide lock file held while a subnet is chosen and given to a bridge. */
  addressLock?: string;
  /** The host's resolv.conf and hosts (tests give their own). */
  readHostFile?: (path: '/etc/resolv.conf' | '/etc/hosts') => string;
  /** /proc/net/route, the host's IPv4 routes auto-assigned subnets must avoid. */
  readRoutes?: () => string;
  /**
   * Where sandboxes' network namespaces are kept (sandbox-netns.ts), one file
   * per container; without it runc makes each container's namespace and the
   * interfaces are plumbed once the container exists.
   */
  namespaceDir?: string;
}

export interface NetworkCreateSpec {
  name: string;
  driver: string;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  enableIPv6: boolean;
  configOnly: boolean;
  configFrom: string;
  ipam: { driver: string; options: Record<string, string> | null; config: IpamConfig[] };
  options: Record<string, string> | null;
  labels: Record<string, string> | null;
}

export interface NetworkFilters {
  driver?: string[];
  id?: string[];
  name?: string[];
  label?: string[];
  scope?: string[];
  type?: string[];
  dangling?: boolean;
}

/** What a container's networking is made from at its start (built from its record by the container service). */
export interface SandboxSpec {
  containerId: string;
  name: string;
  hostname: string;
  domainname: string;
  mode: NetworkMode;
  /** The networks the container is on, by name; the primary one (HostConfig.NetworkMode) first. */
  networks: Array<[string, EndpointConfig]>;
  dns: DnsSettings;
  extraHosts: string[];
  ports: PortRequest[];
}

/** What the container service writes into the container before it starts. */
export interface SandboxFiles {
  hosts: string;
  resolvConf: string;
}

interface Sandbox {
  spec: SandboxSpec;
  endpoints: EndpointRecord[];
  /** The namespace berthd made for it, which runc joins (createNamespace). */
  nsPath?: string;
  /** Its interfaces are in place (plumbNamespace). */
  plumbed?: boolean;
  pid?: number;
  dns?: ContainerDnsServer;
  proxy?: PortProxy;
}

export class NetworkService {
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly forwarder: DnsForwarder;
  /** Firewall updates run one at a time, each from the networks as they are then. */
  private firewallQueue: Promise<void> = Promise.resolve();
  /** Names held by creates in flight. */
  private readonly creating = new Set<string>();
  /** Endpoints of ended sandboxes whose veth is being deleted, by host interface. */
  private readonly leaving = new Map<string, EndpointRecord>();

  constructor(private readonly deps: NetworkServiceDeps) {
    this.forwarder = new DnsForwarder(deps.log.child({ component: 'dns' }));
    for (const n of deps.records.networks()) this.networks.set(n.id, n);
  }

  close(): void {
    for (const sb of this.sandboxes.values()) {
      sb.dns?.close();
      sb.proxy?.close();
    }
    this.forwarder.close();
  }

  private hostFile(path: '/etc/resolv.conf' | '/etc/hosts'): string {
    if (this.deps.readHostFile) return this.deps.readHostFile(path);
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  }

  // ---- lookup ----

  /** dockerd's FindNetwork: full ID, then full name, then a unique ID prefix. */
  find(ref: string): NetworkRecord {
    const byId = this.networks.get(ref);
    if (byId) return byId;
    const all = [...this.networks.values()];
    const byName = all.find((n) => n.name === ref);
    if (byName) return byName;
    const prefixed = ref === '' ? [] : all.filter((n) => n.id.startsWith(ref));
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) throw new InvalidParameter(`network ${ref} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    throw new NotFound(`network ${ref} not found`);
  }

  byName(name: string): NetworkRecord | undefined {
    return [...this.networks.values()].find((n) => n.name === name);
  }

  list(filters: NetworkFilters = {}): NetworkRecord[] {
    return [...this.networks.values()]
      .filter((n) => !filters.driver?.length || filters.driver.includes(n.driver))
      .filter((n) => !filters.id?.length || nameMatcher(filters.id)(n.id))
      .filter((n) => !filters.name?.length || nameMatcher(filters.name)(n.name))
      .filter((n) => !filters.scope?.length || filters.scope.includes('local'))
      .filter((n) => !filters.type?.length || filters.type.includes(n.predefined ? 'builtin' : 'custom'))
      .filter((n) => matchesAllLabels(n.labels, filters.label ?? []))
      .filter((n) => filters.dangling === undefined || filters.dangling === (!n.predefined && this.endpointsOn(n.id).length === 0))
      .sort((a, b) => (a.created < b.created ? -1 : 1));
  }

  /** The endpoints of running containers on a network (inspect's Containers). */
  endpointsOn(networkId: string): EndpointRecord[] {
    const out: EndpointRecord[] = [];
    for (const sb of this.sandboxes.values()) for (const e of sb.endpoints) if (e.networkId === networkId) out.push(e);
    return out;
  }

  /** A running container's endpoints, in interface order. */
  endpointsOf(containerId: string): EndpointRecord[] {
    return this.sandboxes.get(containerId)?.endpoints ?? [];
  }

  /** A running container's published ports. */
  portsOf(containerId: string): PortBinding[] {
    return this.sandboxes.get(containerId)?.proxy?.bindings ?? [];
  }

  // ---- create, remove, prune ----

  async create(spec: NetworkCreateSpec): Promise<{ id: string; warning: string }> {
    const { name } = spec;
    if (name === '') throw new InvalidParameter('invalid name: ');
    if (PREDEFINED.includes(name)) throw new Forbidden(`operation is not permitted on predefined ${name} network `);
    if (this.byName(name) || this.creating.has(name)) throw new Conflict(`network with name ${name} already exists`);
    const driver = spec.driver === '' ? 'bridge' : spec.driver;
    if (driver === 'host' || driver === 'null') throw new Forbidden(`only one instance of "${driver}" network is allowed`);
    if (driver === 'overlay') {
      throw new Forbidden(NOT_A_SWARM_MANAGER);
    }
    if (driver === 'macvlan' || driver === 'ipvlan') throw new InvalidParameter(`berth cannot create ${driver} networks: only the bridge driver is supported`);
    if (driver !== 'bridge') throw new NotFound(`plugin "${driver}" not found`);
    if (spec.ipam.driver !== '' && spec.ipam.driver !== 'default') throw new NotFound(`plugin "${spec.ipam.driver}" not found`);
    if (spec.ingress) throw new Forbidden(NOT_A_SWARM_MANAGER);
    if (spec.configOnly || spec.configFrom !== '') throw new InvalidParameter('berth does not support config-only networks');
    validateIpamConfig(spec.ipam.config, spec.enableIPv6);
    const v4 = ipv4Configs(spec.ipam.config);
    if (v4.length > 1) throw new InvalidParameter('berth supports one IPv4 subnet per network');
    const options = spec.options ?? {};
    const mtu = this.mtuOption(options);
    const id = generateId();
    const device = options[OPT_BRIDGE_NAME] || `br-${id.slice(0, 12)}`;
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(device)) throw new InvalidParameter(`invalid bridge name ${device}: at most 15 letters, digits, '_', '.' or '-'`);
    if ([...this.networks.values()].some((n) => n.bridge === device)) throw new Forbidden(`bridge name ${device} is in use by another network`);
    this.creating.add(name);
    let pool: Pool;
    try {
      // The subnet is chosen and the bridge takes it under the host-wide lock (another berthd may be choosing too).
      pool = this.withAddressLock(() => {
        const p = choosePool(v4[0], this.takenSubnets());
        ensureBridge(device, p.gateway, p.subnet, mtu);
        return p;
      });
    } catch (e) {
      this.creating.delete(name);
      throw e;
    }
    const configs: IpamConfig[] = [
      { ...(v4[0] ?? {}), Subnet: formatPrefix(pool.subnet), Gateway: formatIPv4(pool.gateway) },
      ...spec.ipam.config.filter((c) => !v4.includes(c)),
    ];
    const record: NetworkRecord = {
      id,
      name,
      driver: 'bridge',
      created: formatRFC3339Nano(nowNs()),
      enableIPv6: spec.enableIPv6,
      internal: spec.internal,
      attachable: spec.attachable,
      ipam: { driver: spec.ipam.driver || 'default', options: spec.ipam.options ?? {}, config: configs },
      options,
      labels: spec.labels ?? {},
      bridge: device,
      userSubnet: v4.length > 0,
      predefined: false,
    };
    try {
      try {
        this.deps.records.insertNetwork(record);
      } catch (e) {
        removeBridge(device);
        throw e;
      }
      this.networks.set(id, record);
      try {
        await this.applyFirewall();
      } catch (e) {
        this.networks.delete(id);
        this.deps.records.deleteNetwork(id);
        removeBridge(device);
        throw e;
      }
    } finally {
      this.creating.delete(name);
    }
    this.deps.events.publish('network', 'create', id, { name, type: 'bridge' });
    return { id, warning: '' };
  }

  private withAddressLock<T>(fn: () => T): T {
    return withHostLock(this.deps.addressLock ?? DEFAULT_ADDRESS_LOCK, fn);
  }

  private mtuOption(options: Record<string, string>): number {
    const text = options[OPT_MTU];
    if (text === undefined || text === '') return DEFAULT_MTU;
    const mtu = Number(text);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidParameter(`invalid MTU number: ${text}`);
    return mtu;
  }

  async remove(ref: string): Promise<void> {
    const n = this.find(ref);
    if (n.predefined) throw new Forbidden(`${n.name} is a pre-defined network and cannot be removed`);
    if (this.endpointsOn(n.id).length > 0) {
      throw new Forbidden(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    }
    // The bridge goes before the record: a crash in between leaves a network whose bridge the next start makes again, never a bridge no record names.
    if (n.bridge) removeBridge(n.bridge);
    this.deps.records.deleteNetwork(n.id);
    this.networks.delete(n.id);
    await this.applyFirewall().catch((e) => this.deps.log.warn({ network: n.name, err: errorText(e) }, 'firewall update after a network removal failed'));
    this.deps.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
  }

  /** Removes the user-defined networks no running container uses (and that match the filters); their names. */
  async prune(filters: { until?: number; label: string[]; notLabel: string[] }): Promise<string[]> {
    const removed: string[] = [];
    for (const n of [...this.networks.values()]) {
      if (n.predefined || this.endpointsOn(n.id).length > 0) continue;
      if (filters.until !== undefined && Date.parse(n.created) >= filters.until) continue;
      if (!matchesPruneLabels(n.labels, filters.label, filters.notLabel)) continue;
      await this.remove(n.id).then(
        () => removed.push(n.name),
        (e) => this.deps.log.warn({ network: n.name, err: errorText(e) }, 'network prune: could not remove'),
      );
    }
    this.deps.events.publish('network', 'prune', '', { reclaimed: '0' });
    return removed;
  }

  // ---- subnets and the firewall ----

  private poolOf(n: NetworkRecord): Pool | undefined {
    const cfg = ipv4Configs(n.ipam.config)[0];
    if (!cfg?.Subnet) return undefined;
    const subnet = parseCidr(cfg.Subnet)!.prefix;
    return {
      subnet,
      range: cfg.IPRange ? parseCidr(cfg.IPRange)!.prefix : subnet,
      gateway: parseIPv4(cfg.Gateway ?? '') ?? subnet.base + 1,
      reserved: Object.values(cfg.AuxiliaryAddresses ?? {}).map((a) => parseIPv4(a)!),
    };
  }

  /** Subnets an automatic choice must avoid: every network's, and the host's routes not through berth's bridges. */
  private takenSubnets(): Prefix[] {
    const ours = new Set([...this.networks.values()].map((n) => n.bridge).filter((b): b is string => !!b));
    const taken: Prefix[] = [];
    for (const n of this.networks.values()) {
      const p = this.poolOf(n);
      if (p) taken.push(p.subnet);
    }
    const routes = this.deps.readRoutes ? this.deps.readRoutes() : readFileOr('/proc/net/route');
    for (const r of hostRoutes(routes)) if (!ours.has(r.iface)) taken.push(r.prefix);
    return taken;
  }

  private firewallBridges(): FirewallBridge[] {
    const out: FirewallBridge[] = [];
    for (const n of this.networks.values()) {
      const pool = this.poolOf(n);
      if (n.driver !== 'bridge' || !n.bridge || !pool) continue;
      out.push({ device: n.bridge, subnet: formatPrefix(pool.subnet), internal: n.internal, masquerade: (n.options ?? {})[OPT_MASQUERADE] !== 'false' });
    }
    return out;
  }

  private applyFirewall(): Promise<void> {
    const run = this.firewallQueue.then(() => this.deps.firewall.apply(this.firewallBridges()));
    this.firewallQueue = run.catch(() => undefined);
    return run;
  }

  // ---- containers: create-time checks ----

  /**
   * The networks a new container is on, from HostConfig.NetworkMode and
   * NetworkingConfig.EndpointsConfig, with dockerd's refusals. `multiple`:
   * API 1.44+ may name several networks at create.
   */
  planContainerNetworks(
    networkMode: string,
    endpointsConfig: Record<string, Partial<EndpointConfig>>,
    opts: { multiple: boolean },
  ): { mode: NetworkMode; networks: Record<string, EndpointConfig> } {
    const mode = networkMode === '' || networkMode === 'default' ? DEFAULT_BRIDGE : networkMode;
    const names = Object.keys(endpointsConfig).map((k) => (k === 'default' ? DEFAULT_BRIDGE : k));
    if (mode === HOST_NETWORK || mode === NONE_NETWORK) {
      const others = names.filter((k) => k !== mode);
      if (others.length > 0) {
        throw new InvalidParameter(
          mode === HOST_NETWORK
            ? 'container sharing network namespace with another container or host cannot be connected to any other network'
            : 'container cannot be connected to multiple networks with one of the networks in private (none) mode',
        );
      }
      return { mode, networks: {} };
    }
    if (mode.startsWith('container:')) {
      // The other container's namespace, joined at start (the container service checks the container).
      if (names.length > 0) throw new InvalidParameter('conflicting options: container type network can\'t be used with other networks');
      return { mode: 'container', networks: {} };
    }
    if (!opts.multiple && names.length > 1) {
      throw new InvalidParameter(`Container cannot be connected to network endpoints: ${names.join(', ')}`);
    }
    if (mode === DEFAULT_BRIDGE && this.deps.defaultBridge === 'none') {
      if (names.some((n) => n !== DEFAULT_BRIDGE)) throw new NotFound(`network ${DEFAULT_BRIDGE} not found`);
      return { mode: 'private', networks: {} };
    }
    const networks: Record<string, EndpointConfig> = {};
    const primary = this.find(mode);
    const ordered = [primary.name, ...names.map((n) => this.find(n).name).filter((n) => n !== primary.name)];
    for (const name of ordered) {
      const n = this.find(name);
      if (n.driver !== 'bridge') {
        throw new InvalidParameter(
          n.driver === 'host'
            ? 'container sharing network namespace with another container or host cannot be connected to any other network'
            : 'container cannot be connected to multiple networks with one of the networks in private (none) mode',
        );
      }
      const key = Object.keys(endpointsConfig).find((k) => (k === 'default' ? DEFAULT_BRIDGE : k) === name || this.find(k === 'default' ? DEFAULT_BRIDGE : k).id === n.id);
      networks[n.name] = this.checkEndpointConfig(n, key !== undefined ? endpointsConfig[key] ?? {} : {});
    }
    return { mode: 'bridge', networks };
  }

  /** An endpoint config checked against its network (dockerd's refusals for the default bridge and static addresses). */
  checkEndpointConfig(n: NetworkRecord, cfg: Partial<EndpointConfig>): EndpointConfig {
    if (n.driver === 'host') throw new InvalidParameter('container cannot be disconnected from host network or connected to host network');
    if (n.driver === 'null') throw new InvalidParameter('container cannot be connected to multiple networks with one of the networks in private (none) mode');
    const aliases = cfg.aliases ?? [];
    const isDefault = n.name === DEFAULT_BRIDGE;
    if (isDefault && aliases.length > 0) throw new InvalidParameter('network-scoped alias is supported only for containers in user defined networks');
    if (cfg.ipv4Address || cfg.ipv6Address) {
      if (isDefault) throw new InvalidParameter('user specified IP address is supported on user defined networks only');
      if (!n.userSubnet) throw new InvalidParameter('user specified IP address is supported only when connecting to networks with user configured subnets');
      const pool = this.poolOf(n);
      if (cfg.ipv4Address && pool) checkStaticAddress(pool, cfg.ipv4Address, new Set());
    }
    return {
      networkId: n.id,
      aliases,
      links: cfg.links ?? [],
      ...(cfg.ipv4Address ? { ipv4Address: cfg.ipv4Address } : {}),
      ...(cfg.ipv6Address ? { ipv6Address: cfg.ipv6Address } : {}),
      ...(cfg.macAddress ? { macAddress: cfg.macAddress } : {}),
      ...(cfg.driverOpts ? { driverOpts: cfg.driverOpts } : {}),
    };
  }

  // ---- containers: start, exit ----

  /**
   * A starting container's sandbox, before its process exists: an endpoint
   * (address, MAC, interface names) on each of its networks, kept in
   * berth.db, and its /etc/hosts and /etc/resolv.conf.
   */
  prepare(spec: SandboxSpec): SandboxFiles {
    if (this.sandboxes.has(spec.containerId)) this.releaseNow(spec.containerId);
    const endpoints: EndpointRecord[] = [];
    try {
      for (const [name, cfg] of spec.networks) {
        const n = this.networkForStart(name, cfg);
        endpoints.push(this.allocateEndpoint(n, spec, cfg, `eth${endpoints.length}`));
      }
    } catch (e) {
      for (const ep of endpoints) this.deps.records.deleteEndpoint(ep.networkId, ep.containerId);
      throw e;
    }
    this.sandboxes.set(spec.containerId, { spec, endpoints });
    return this.filesFor(spec, endpoints);
  }

  private networkForStart(name: string, cfg: EndpointConfig): NetworkRecord {
    const n = this.byName(name) ?? (cfg.networkId ? this.networks.get(cfg.networkId) : undefined);
    if (!n) throw new NotFound(`network ${name} not found`);
    return n;
  }

  private filesFor(spec: SandboxSpec, endpoints: readonly EndpointRecord[]): SandboxFiles {
    const resolv = this.hostFile('/etc/resolv.conf');
    if (spec.mode === 'host') {
      return { hosts: hostNetworkHostsFile(this.hostFile('/etc/hosts'), spec.extraHosts), resolvConf: resolv };
    }
    // Links on the default bridge are /etc/hosts lines (Docker's legacy links): "address\talias id name".
    const linkHosts: string[] = [];
    for (const ep of endpoints) {
      if (this.usesEmbeddedDns(ep)) continue;
      for (const link of ep.links) {
        const [name, alias] = link.split(':') as [string, string | undefined];
        const target = this.endpointsOn(ep.networkId).find((e) => e.containerName === name || e.containerId.startsWith(name));
        const names = [...new Set([alias ?? name, shortId(target?.containerId ?? ''), target?.containerName ?? ''])].join(' ');
        // As an --add-host entry "names=address" (extraHostLine writes "address\tnames").
        if (target) linkHosts.push(`${names}=${target.address}`);
      }
    }
    const hosts = hostsFile({
      hostname: spec.hostname,
      domainname: spec.domainname,
      extraHosts: [...spec.extraHosts, ...linkHosts],
      addresses: endpoints.map((e) => e.address),
    });
    const embedded = endpoints.some((e) => this.usesEmbeddedDns(e));
    return { hosts, resolvConf: embedded ? embeddedResolvConf(resolv, spec.dns) : plainResolvConf(resolv, spec.dns) };
  }

  /** Docker's embedded resolver serves containers on user-defined networks, not on the default bridge. */
  private usesEmbeddedDns(e: EndpointRecord): boolean {
    return this.networks.get(e.networkId)?.name !== DEFAULT_BRIDGE;
  }

  private addressesInUse(networkId: string): Set<number> {
    const used = new Set<number>();
    for (const e of this.deps.records.endpoints()) if (e.networkId === networkId) used.add(parseIPv4(e.address)!);
    for (const sb of this.sandboxes.values()) for (const e of sb.endpoints) if (e.networkId === networkId) used.add(parseIPv4(e.address)!);
    // Held until the old veth is gone: its peer answered for the address.
    for (const e of this.leaving.values()) if (e.networkId === networkId) used.add(parseIPv4(e.address)!);
    return used;
  }

  private allocateEndpoint(n: NetworkRecord, spec: Pick<SandboxSpec, 'containerId' | 'name'>, cfg: EndpointConfig, iface: string): EndpointRecord {
    const pool = this.poolOf(n);
    if (n.driver !== 'bridge' || !pool || !n.bridge) throw new SystemError(`network ${n.name} has no address pool`);
    const used = this.addressesInUse(n.id);
    const address = cfg.ipv4Address ? checkStaticAddress(pool, cfg.ipv4Address, used) : allocateAddress(pool, used);
    if (address === undefined) throw new SystemError(`no available IPv4 addresses on this network's address pools: ${n.name} (${n.id})`);
    const id = generateId();
    const ep: EndpointRecord = {
      id,
      networkId: n.id,
      containerId: spec.containerId,
      containerName: spec.name,
      address: formatIPv4(address),
      prefixLen: pool.subnet.bits,
      gateway: formatIPv4(pool.gateway),
      mac: cfg.macAddress || macForAddress(address),
      hostInterface: `veth${id.slice(0, 7)}`,
      interface: iface,
      aliases: cfg.aliases,
      links: cfg.links,
    };
    this.deps.records.putEndpoint(ep);
    return ep;
  }

  /**
   * The container's process exists (created, not yet running): its
   * interfaces are made in its namespace, its DNS server and published
   * ports start. A failure undoes the whole sandbox.
   */
  async attach(containerId: string, pid: number, opts: { previousPorts?: readonly PortBinding[] } = {}): Promise<void> {
    const sb = this.sandboxes.get(containerId);
    if (!sb) return;
    sb.pid = pid;
    try {
      if (!sb.plumbed) for (const [i, ep] of sb.endpoints.entries()) this.plumb(ep, netnsOfPid(pid), i === 0);
      sb.plumbed = true;
      await this.startServices(sb, opts.previousPorts);
    } catch (e) {
      await this.release(containerId);
      throw e;
    }
    for (const ep of sb.endpoints) this.publishEndpointEvent('connect', ep);
  }

  /**
   * The sandbox's own network namespace, made now, before its container
   * (sandboxes on bridge networks, when berthd keeps a namespace directory):
   * its path, for the container's spec; undefined when runc is to make it.
   */
  createNamespace(containerId: string): string | undefined {
    const sb = this.sandboxes.get(containerId);
    const dir = this.deps.namespaceDir;
    if (!sb || !dir || sb.endpoints.length === 0) return undefined;
    const path = join(dir, containerId);
    createNamespace(path);
    sb.nsPath = path;
    return path;
  }

  /**
   * Brings up the loopback of the namespace createNamespace made and plumbs
   * the sandbox's interfaces into it, while runc creates the container that
   * joins it (attach then has only its services to start). A failure is the
   * start's: release() undoes it.
   */
  plumbNamespace(containerId: string): void {
    const sb = this.sandboxes.get(containerId);
    if (!sb?.nsPath || sb.plumbed) return;
    loopbackUp(sb.nsPath);
    for (const [i, ep] of sb.endpoints.entries()) this.plumb(ep, sb.nsPath, i === 0);
    sb.plumbed = true;
  }

  private plumb(ep: EndpointRecord, nsPath: string, gatewayCandidate: boolean): void {
    const n = this.networks.get(ep.networkId);
    if (!n?.bridge) throw new NotFound(`network ${ep.networkId} not found`);
    const pool = this.poolOf(n)!;
    // The bridge may have been deleted by hand: made again, as at berthd's start.
    ensureBridge(n.bridge, pool.gateway, pool.subnet, this.mtuOption(n.options ?? {}));
    joinEndpoint(ep, n.bridge, nsPath, {
      defaultRoute: gatewayCandidate && !n.internal,
      mtu: this.mtuOption(n.options ?? {}),
      isolated: (n.options ?? {})[OPT_ICC] === 'false',
    });
  }

  /** DNS server (user-defined networks) and published ports (through the first endpoint's address) of a sandbox whose process runs. */
  private async startServices(sb: Sandbox, previousPorts?: readonly PortBinding[]): Promise<void> {
    if (sb.pid === undefined) return;
    if (!sb.dns && sb.endpoints.some((e) => this.usesEmbeddedDns(e))) {
      const id = sb.spec.containerId;
      sb.dns = await ContainerDnsServer.open(sb.nsPath ?? netnsOfPid(sb.pid), (q) => resolveQuery(q, this.dnsScope(id), this.forwarder), this.deps.log.child({ container: id }));
    }
    const target = sb.endpoints[0];
    if (!sb.proxy && target && sb.spec.ports.length > 0) {
      const n = this.networks.get(target.networkId);
      const hostBinding = (n?.options ?? {})[OPT_HOST_BINDING];
      const requests = sb.spec.ports.map((r) => (r.hostIp === '' && hostBinding && hostBinding !== '0.0.0.0' ? { ...r, hostIp: hostBinding } : r));
      sb.proxy = await PortProxy.open({
        requests,
        targetIp: target.address,
        ipv6: existsSync('/proc/net/if_inet6'),
        endpointName: sb.spec.name,
        previous: previousPorts,
        log: this.deps.log.child({ container: sb.spec.containerId }),
      });
      this.deps.records.putPorts(sb.spec.containerId, sb.proxy.bindings);
    }
  }

  /** The container's run ended (or its start failed): its sandbox goes, addresses are freed. */
  async release(containerId: string): Promise<void> {
    const sb = this.sandboxes.get(containerId);
    this.releaseNow(containerId);
    if (sb?.pid !== undefined) for (const ep of sb.endpoints) this.publishEndpointEvent('disconnect', ep);
  }

  private releaseNow(containerId: string): void {
    const sb = this.sandboxes.get(containerId);
    this.sandboxes.delete(containerId);
    if (!sb) return;
    // (A restart of berthd gives the sandboxes it takes back their path: restore().)
    if (sb.nsPath) removeNamespace(sb.nsPath);
    sb.dns?.close();
    sb.proxy?.close();
    for (const ep of sb.endpoints) this.leaveInBackground(ep);
    this.deps.records.transaction(() => {
      for (const ep of sb.endpoints) this.deps.records.deleteEndpoint(ep.networkId, containerId);
      this.deps.records.deletePorts(containerId);
    });
  }

  /**
   * Deletes an ended sandbox's veth without holding up the exit (the kernel
   * takes ~15 ms for it); its address stays taken until the veth is gone.
   */
  private leaveInBackground(ep: EndpointRecord): void {
    this.leaving.set(ep.hostInterface, ep);
    leaveEndpointInBackground(ep)
      .catch((e: unknown) => this.deps.log.warn({ container: ep.containerId, interface: ep.hostInterface, err: errorText(e) }, 'could not remove an endpoint interface'))
      .finally(() => this.leaving.delete(ep.hostInterface));
  }

  private publishEndpointEvent(action: 'connect' | 'disconnect', ep: EndpointRecord): void {
    const n = this.networks.get(ep.networkId);
    this.deps.events.publish('network', action, ep.networkId, { container: ep.containerId, name: n?.name ?? '', type: n?.driver ?? 'bridge' });
  }

  // ---- containers: connect, disconnect while running ----

  /** Connects a running container to one more network (docker network connect). */
  async connect(containerId: string, n: NetworkRecord, cfg: EndpointConfig): Promise<void> {
    const sb = this.sandboxes.get(containerId);
    if (!sb || sb.pid === undefined) return;
    if (sb.endpoints.some((e) => e.networkId === n.id)) throw new Forbidden(`endpoint with name ${sb.spec.name} already exists in network ${n.name}`);
    const used = new Set(sb.endpoints.map((e) => e.interface));
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    const ep = this.allocateEndpoint(n, sb.spec, cfg, `eth${i}`);
    try {
      this.plumb(ep, netnsOfPid(sb.pid), sb.endpoints.length === 0);
    } catch (e) {
      this.deps.records.deleteEndpoint(n.id, containerId);
      throw e;
    }
    sb.endpoints.push(ep);
    sb.spec = { ...sb.spec, networks: [...sb.spec.networks, [n.name, cfg]] };
    await this.startServices(sb);
    this.publishEndpointEvent('connect', ep);
  }

  /** Disconnects a running container from a network. */
  async disconnect(containerId: string, n: NetworkRecord): Promise<void> {
    const sb = this.sandboxes.get(containerId);
    const ep = sb?.endpoints.find((e) => e.networkId === n.id);
    if (!sb || !ep) return;
    leaveEndpoint(ep);
    this.deps.records.deleteEndpoint(n.id, containerId);
    sb.endpoints = sb.endpoints.filter((e) => e !== ep);
    sb.spec = { ...sb.spec, networks: sb.spec.networks.filter(([name]) => name !== n.name) };
    if (sb.dns && !sb.endpoints.some((e) => this.usesEmbeddedDns(e))) {
      sb.dns.close();
      sb.dns = undefined;
    }
    this.publishEndpointEvent('disconnect', ep);
  }

  /** A rename changes the name the container is resolved by. */
  renameContainer(containerId: string, name: string): void {
    const sb = this.sandboxes.get(containerId);
    if (!sb) return;
    sb.spec = { ...sb.spec, name };
    for (const ep of sb.endpoints) {
      ep.containerName = name;
      this.deps.records.putEndpoint(ep);
    }
  }

  // ---- DNS ----

  /** What container `id` resolves: the containers on its user-defined networks, by name, alias, short ID and link alias. */
  private dnsScope(id: string): DnsScope {
    const own = () => this.sandboxes.get(id)?.endpoints.filter((e) => this.usesEmbeddedDns(e)) ?? [];
    const names = (e: EndpointRecord): string[] => [e.containerName, ...e.aliases, shortId(e.containerId)].map((s) => s.toLowerCase());
    return {
      lookup: (query) => {
        const found: number[] = [];
        for (const mine of own()) {
          const network = this.networks.get(mine.networkId)?.name.toLowerCase() ?? '';
          // "web.mynet" names web on mynet only.
          const name = query.endsWith(`.${network}`) ? query.slice(0, -(network.length + 1)) : query;
          // A link ("db_1:db") makes its alias resolve to the linked container, for this container only.
          const linked = mine.links.map((l) => l.split(':')).find(([, alias]) => alias?.toLowerCase() === name)?.[0]?.replace(/^\//, '').toLowerCase();
          for (const e of this.endpointsOn(mine.networkId)) {
            if (!names(e).includes(name) && e.containerName.toLowerCase() !== linked) continue;
            const a = parseIPv4(e.address)!;
            if (!found.includes(a)) found.push(a);
          }
        }
        return found.length > 0 ? found : undefined;
      },
      reverse: (address) => {
        for (const mine of own()) {
          const e = this.endpointsOn(mine.networkId).find((x) => parseIPv4(x.address) === address);
          if (e) return `${e.containerName}.${this.networks.get(e.networkId)?.name ?? ''}`;
        }
        return undefined;
      },
      upstream: () => {
        const sb = this.sandboxes.get(id);
        const external = sb?.endpoints.some((e) => !this.networks.get(e.networkId)?.internal) ?? false;
        return external ? upstreamServers(this.hostFile('/etc/resolv.conf'), sb!.spec.dns) : [];
      },
    };
  }

  // ---- berthd start ----

  /** The predefined networks, made at the first start. */
  private ensurePredefined(): void {
    const made: NetworkRecord[] = [];
    const base = (name: string, driver: NetworkRecord['driver']): NetworkRecord => ({
      id: generateId(),
      name,
      driver,
      created: formatRFC3339Nano(nowNs()),
      enableIPv6: false,
      internal: false,
      attachable: false,
      ipam: { driver: 'default', options: null, config: [] },
      options: {},
      labels: {},
      userSubnet: false,
      predefined: true,
    });
    if (!this.byName(HOST_NETWORK)) made.push(base(HOST_NETWORK, 'host'));
    if (!this.byName(NONE_NETWORK)) made.push(base(NONE_NETWORK, 'null'));
    const bridge = this.byName(DEFAULT_BRIDGE);
    if (this.deps.defaultBridge === 'none') {
      // berthd --bridge none: no default bridge network (containers get loopback only).
      // Not while a container still running from before the restart has an endpoint on it (kept in berth.db).
      if (bridge && !this.deps.records.endpoints().some((e) => e.networkId === bridge.id)) {
        this.deps.records.deleteNetwork(bridge.id);
        this.networks.delete(bridge.id);
      }
    } else if (!bridge) {
      made.push(this.defaultBridgeRecord(base(DEFAULT_BRIDGE, 'bridge')));
    }
    for (const n of made) {
      this.deps.records.insertNetwork(n);
      this.networks.set(n.id, n);
    }
  }

  private defaultBridgeRecord(base: NetworkRecord): NetworkRecord {
    let pool: Pool;
    if (this.deps.defaultBridgeCidr) {
      const parsed = parseCidr(this.deps.defaultBridgeCidr);
      if (!parsed) throw new InvalidParameter(`invalid --bip: ${this.deps.defaultBridgeCidr}`);
      pool = { subnet: parsed.prefix, range: parsed.prefix, gateway: parsed.address, reserved: [] };
    } else {
      pool = choosePool(undefined, this.takenSubnets());
    }
    const device = this.deps.defaultBridge;
    return {
      ...base,
      ipam: { driver: 'default', options: null, config: [{ Subnet: formatPrefix(pool.subnet), Gateway: formatIPv4(pool.gateway) }] },
      options: {
        'com.docker.network.bridge.default_bridge': 'true',
        [OPT_ICC]: 'true',
        [OPT_MASQUERADE]: 'true',
        [OPT_HOST_BINDING]: '0.0.0.0',
        [OPT_BRIDGE_NAME]: device,
        [OPT_MTU]: String(DEFAULT_MTU),
      },
      bridge: device,
    };
  }

  /**
   * Reconciles after berthd starts: the predefined networks exist, every
   * bridge is there (made again if it went), the firewall table is
   * current; running containers keep their endpoints (their DNS servers and
   * published ports start again, with the same host ports); endpoints of
   * containers that are not running, and veths on berth's bridges that no
   * endpoint owns, are removed.
   */
  async restore(running: ReadonlyArray<{ spec: SandboxSpec; pid: number }>): Promise<void> {
    const { records, log } = this.deps;
    this.withAddressLock(() => {
      this.ensurePredefined();
      for (const n of this.networks.values()) {
        const pool = this.poolOf(n);
        if (n.driver !== 'bridge' || !n.bridge || !pool) continue;
        try {
          ensureBridge(n.bridge, pool.gateway, pool.subnet, this.mtuOption(n.options ?? {}));
        } catch (e) {
          log.error({ network: n.name, bridge: n.bridge, err: errorText(e) }, 'could not make the network bridge');
        }
      }
    });
    if (this.deps.firewall.enabled && this.firewallBridges().length > 0) enableIPv4Forwarding(log);
    await this.applyFirewall().catch((e) => log.error({ err: errorText(e) }, 'could not apply the firewall rules'));

    const byContainer = new Map(running.map((r) => [r.spec.containerId, r]));
    const stored = records.endpoints();
    const ports = records.publishedPorts();
    const keep = new Set<string>();
    for (const ep of stored) {
      const r = byContainer.get(ep.containerId);
      if (!r || !this.networks.has(ep.networkId)) {
        records.deleteEndpoint(ep.networkId, ep.containerId);
        continue;
      }
      keep.add(ep.hostInterface);
      const sb = this.sandboxes.get(ep.containerId) ?? { spec: r.spec, endpoints: [], pid: r.pid };
      sb.endpoints.push(ep);
      this.sandboxes.set(ep.containerId, sb);
    }
    for (const [containerId] of ports) if (!byContainer.has(containerId)) records.deletePorts(containerId);
    const bridges = [...this.networks.values()].map((n) => n.bridge).filter((b): b is string => !!b);
    for (const name of strayInterfaces(bridges, keep)) {
      removeInterface(name);
      log.info({ interface: name }, 'removed a veth no running container owns');
    }
    if (this.deps.namespaceDir) {
      for (const path of strayNamespaces(this.deps.namespaceDir, new Set(byContainer.keys()))) removeNamespace(path);
      for (const [id, sb] of this.sandboxes) {
        const path = join(this.deps.namespaceDir, id);
        if (existsSync(path)) sb.nsPath = path;
      }
    }
    for (const r of running) {
      const sb = this.sandboxes.get(r.spec.containerId);
      if (!sb) continue;
      sb.endpoints.sort((a, b) => a.interface.localeCompare(b.interface, 'en', { numeric: true }));
      // A bridge made again above lost its ports: the container's end is still in its namespace.
      for (const [i, ep] of sb.endpoints.entries()) {
        try {
          this.reattachInterface(ep, r.pid, i === 0);
        } catch (e) {
          log.warn({ container: r.spec.containerId, interface: ep.hostInterface, err: errorText(e) }, 'could not reattach an endpoint');
        }
      }
      await this.startServices(sb, ports.get(r.spec.containerId)).catch((e) =>
        log.warn({ container: r.spec.containerId, err: errorText(e) }, 'could not restart DNS or published ports'),
      );
    }
  }

  /** After a restart: the veth still on its bridge is left alone; one that lost it (the bridge made again) is put back. */
  private reattachInterface(ep: EndpointRecord, pid: number, gatewayCandidate: boolean): void {
    const n = this.networks.get(ep.networkId);
    if (!n?.bridge) return;
    if (isEnslaved(ep.hostInterface, n.bridge)) return;
    if (interfaceExists(ep.hostInterface)) {
      setMaster(ep.hostInterface, n.bridge);
      return;
    }
    this.plumb(ep, netnsOfPid(pid), gatewayCandidate);
  }
}

function interfaceExists(name: string): boolean {
  return withNetlink(Netlink.open, (nl) => nl.link(name) !== undefined);
}

function isEnslaved(name: string, bridge: string): boolean {
  return withNetlink(Netlink.open, (nl) => {
    const l = nl.link(name);
    const b = nl.link(bridge);
    return !!l && !!b && l.master === b.index;
  });
}

function setMaster(name: string, bridge: string): void {
  withNetlink(Netlink.open, (nl) => nl.setMaster(name, bridge));
}

function readFileOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** dockerd's --ip-forward: containers reach beyond their bridge only when the host routes for them. */
function enableIPv4Forwarding(log: Logger): void {
  const path = '/proc/sys/net/ipv4/ip_forward';
  try {
    if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1\n');
  } catch (e) {
    log.warn({ err: errorText(e) }, 'could not enable IPv4 forwarding');
  }
}

