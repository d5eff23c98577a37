// IPv4 address management for bridge networks, as libnetwork's default IPAM
// driver: a network's subnet is the one asked for, or the first of Docker's
// local default pools that overlaps neither another network nor a route of
// the host; container addresses are the lowest free ones of the pool's range
// (the subnet unless an ip-range narrows it), never the network, broadcast,
// gateway or auxiliary addresses. IPv6 configs are validated and kept, not
// allocated from.
import { Forbidden, InvalidParameter } from '../errors.js';
import { contains, formatIPv4, formatPrefix, isIPv6Text, lastAddress, overlaps, parseCidr, parseIPv4, type Prefix } from './ipv4.js';

/** One IPAM.Config entry, as the API carries it. */
export interface IpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** An IPv4 pool in use by a network. */
export interface Pool {
  subnet: Prefix;
  /** Where container addresses come from (the subnet, or the ip-range). */
  range: Prefix;
  gateway: number;
  /** Addresses never handed out (auxiliary addresses). */
  reserved: number[];
}

/** moby's local-scope default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
export function defaultSubnets(): Prefix[] {
  const out: Prefix[] = [];
  for (let b = 17; b <= 31; b++) out.push({ base: ((172 << 24) | (b << 16)) >>> 0, bits: 16 });
  for (let c = 0; c < 256; c += 16) out.push({ base: ((192 << 24) | (168 << 16) | (c << 8)) >>> 0, bits: 20 });
  return out;
}

/** moby's joined validation error: one message alone, several as a bulleted list. */
function joined(errors: string[]): string {
  return errors.length === 1 ? errors[0]! : `* ${errors.join('\n* ')}`;
}

function checkAddress(text: string | undefined, subnet: Prefix, what: string, errors: string[]): void {
  if (text === undefined || text === '') return;
  if (isIPv6Text(text)) {
    errors.push(`${what}: parent subnet is an IPv4 block`);
    return;
  }
  const a = parseIPv4(text);
  if (a === undefined) errors.push(`${what}: invalid address`);
  else if (!contains(subnet, a)) errors.push(`${what}: parent subnet ${formatPrefix(subnet)} doesn't contain this address`);
}

/**
 * moby's ValidateIPAM for the request's IPAM.Config: a 400 listing every
 * problem. IPv6 entries are checked only when IPv6 is enabled (as moby),
 * and never allocated from.
 */
export function validateIpamConfig(configs: readonly IpamConfig[], enableIPv6: boolean): void {
  const errors: string[] = [];
  for (const cfg of configs) {
    const subnetText = cfg.Subnet ?? '';
    if (isIPv6Text(subnetText)) {
      if (enableIPv6 && !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(subnetText)) errors.push(`invalid subnet ${subnetText}: invalid CIDR block notation`);
      continue;
    }
    const parsed = parseCidr(subnetText);
    if (!parsed) {
      errors.push(`invalid subnet ${subnetText}: invalid CIDR block notation`);
      continue;
    }
    const subnet = parsed.prefix;
    if (parsed.address !== subnet.base) errors.push(`invalid subnet ${subnetText}: it should be ${formatPrefix(subnet)}`);
    if (cfg.IPRange) {
      const range = isIPv6Text(cfg.IPRange) ? undefined : parseCidr(cfg.IPRange);
      if (isIPv6Text(cfg.IPRange)) errors.push(`invalid ip-range ${cfg.IPRange}: parent subnet is an IPv4 block`);
      else if (!range) errors.push(`invalid ip-range ${cfg.IPRange}: invalid CIDR block notation`);
      else {
        if (range.prefix.bits < subnet.bits) errors.push(`invalid ip-range ${cfg.IPRange}: CIDR block is bigger than its parent subnet ${formatPrefix(subnet)}`);
        if (range.address !== range.prefix.base) errors.push(`invalid ip-range ${cfg.IPRange}: it should be ${formatPrefix(range.prefix)}`);
        if (!overlaps(subnet, range.prefix)) errors.push(`invalid ip-range ${cfg.IPRange}: parent subnet ${formatPrefix(subnet)} doesn't contain ip-range`);
      }
    }
    checkAddress(cfg.Gateway, subnet, `invalid gateway ${cfg.Gateway}`, errors);
    for (const [name, aux] of Object.entries(cfg.AuxiliaryAddresses ?? {})) checkAddress(aux, subnet, `invalid auxiliary address ${name}`, errors);
  }
  if (errors.length > 0) throw new InvalidParameter(`invalid network config:\n${joined(errors)}`);
}

/** The IPv4 entries of a validated config. */
export function ipv4Configs(configs: readonly IpamConfig[]): IpamConfig[] {
  return configs.filter((c) => c.Subnet !== undefined && c.Subnet !== '' && !isIPv6Text(c.Subnet));
}

/**
 * The pool a network gets: its configured IPv4 subnet, or the first default
 * subnet free of `taken` (other networks' subnets and the host's routes).
 */
export function choosePool(config: IpamConfig | undefined, taken: readonly Prefix[]): Pool {
  if (config?.Subnet) {
    const subnet = parseCidr(config.Subnet)!.prefix;
    if (taken.some((t) => overlaps(t, subnet))) throw new Forbidden('invalid pool request: Pool overlaps with other one on this address space');
    const range = config.IPRange ? parseCidr(config.IPRange)!.prefix : subnet;
    const reserved = Object.values(config.AuxiliaryAddresses ?? {}).map((a) => parseIPv4(a)!);
    const gateway = config.Gateway ? parseIPv4(config.Gateway)! : firstFree(subnet, range, new Set(reserved));
    if (gateway === undefined) throw new Forbidden(`no available addresses for the gateway in ${formatPrefix(range)}`);
    return { subnet, range, gateway, reserved };
  }
  const subnet = defaultSubnets().find((s) => !taken.some((t) => overlaps(t, s)));
  if (!subnet) throw new Forbidden('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  return { subnet, range: subnet, gateway: subnet.base + 1, reserved: [] };
}

/** The lowest address of `range` that is a host address of `subnet` and not in `used`. */
function firstFree(subnet: Prefix, range: Prefix, used: ReadonlySet<number>): number | undefined {
  const first = Math.max(range.base, subnet.base + (subnet.bits < 31 ? 1 : 0));
  const last = Math.min(lastAddress(range), lastAddress(subnet) - (subnet.bits < 31 ? 1 : 0));
  for (let a = first; a <= last; a++) if (!used.has(a)) return a;
  return undefined;
}

/** An address for a container: the lowest free one of the pool's range. */
export function allocateAddress(pool: Pool, inUse: ReadonlySet<number>): number | undefined {
  const used = new Set<number>([...inUse, pool.gateway, ...pool.reserved]);
  return firstFree(pool.subnet, pool.range, used);
}

/** Checks a static address (--ip) against the pool and the addresses in use: dockerd's messages. */
export function checkStaticAddress(pool: Pool, text: string, inUse: ReadonlySet<number>): number {
  const a = parseIPv4(text);
  if (a === undefined) throw new InvalidParameter(`invalid IPv4 address: ${text}`);
  if (!contains(pool.subnet, a)) throw new InvalidParameter(`no configured subnet or ip-range contain the IP address ${text}`);
  if (a === pool.gateway || pool.reserved.includes(a) || inUse.has(a) || a === pool.subnet.base || a === lastAddress(pool.subnet)) {
    throw new InvalidParameter(`Address already in use`);
  }
  return a;
}

/** The host's IPv4 routes (other than default routes), which auto-assigned subnets must not overlap: /proc/net/route. */
export function hostRoutes(procNetRoute: string): Array<{ iface: string; prefix: Prefix }> {
  const out: Array<{ iface: string; prefix: Prefix }> = [];
  for (const line of procNetRoute.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = littleEndianHex(f[1]!);
    const mask = littleEndianHex(f[7]!);
    if (mask === 0) continue;
    let bits = 0;
    while (bits < 32 && (mask & (0x80000000 >>> bits)) !== 0) bits++;
    out.push({ iface: f[0]!, prefix: { base: dest, bits } });
  }
  return out;
}

function littleEndianHex(hex: string): number {
  const n = parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | ((n >>> 24) & 0xff)) >>> 0;
}

/** Docker 20.10's MAC for an IPv4 address: 02:42 and the address's four bytes. */
export function macForAddress(address: number): string {
  return ['02', '42', ...[address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export { formatIPv4, formatPrefix };
