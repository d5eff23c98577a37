// /etc/hosts and /etc/resolv.conf as dockerd writes them for a container
// (libnetwork's etchosts and resolvconf packages): the default entries, the
// --add-host entries, then one line per network address with the hostname;
// the host's resolv.conf without loopback servers on the default bridge,
// the embedded resolver (127.0.0.11, ndots:0) on user-defined networks.
import { RESOLVER_ADDRESS } from './dns/server.js';

const DEFAULT_HOSTS = [
  ['127.0.0.1', 'localhost'],
  ['::1', 'localhost ip6-localhost ip6-loopback'],
  ['fe00::0', 'ip6-localnet'],
  ['ff00::0', 'ip6-mcastprefix'],
  ['ff02::1', 'ip6-allnodes'],
  ['ff02::2', 'ip6-allrouters'],
] as const;

/** The fallback servers dockerd writes when the host has only loopback ones. */
const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

export interface HostsInput {
  hostname: string;
  domainname: string;
  /** HostConfig.ExtraHosts: "name:ip" (Docker also takes "name=ip"). */
  extraHosts: readonly string[];
  /** The container's addresses, one line each. */
  addresses: readonly string[];
}

/** "a.b c" for hostname a and domain b.c..., as etchosts.Build names the container. */
function hostnameEntry(hostname: string, domainname: string): string {
  const fqdn = domainname !== '' ? `${hostname}.${domainname}` : hostname;
  const dot = fqdn.indexOf('.');
  return dot > 0 ? `${fqdn} ${fqdn.slice(0, dot)}` : fqdn;
}

/** "host:ip" (or "host=ip") as its /etc/hosts line; an IPv6 address may be bracketed. */
export function extraHostLine(entry: string): string {
  const sep = /[=:]/.exec(entry);
  if (!sep) return entry;
  const name = entry.slice(0, sep.index);
  const ip = entry.slice(sep.index + 1).replace(/^\[(.*)\]$/, '$1');
  return `${ip}\t${name}`;
}

/** The container's /etc/hosts on a bridge network, or with no network ('none', private). */
export function hostsFile(input: HostsInput): string {
  const lines = DEFAULT_HOSTS.map(([ip, names]) => `${ip}\t${names}`);
  for (const e of input.extraHosts) lines.push(extraHostLine(e));
  for (const a of input.addresses) lines.push(`${a}\t${hostnameEntry(input.hostname, input.domainname)}`);
  return lines.join('\n') + '\n';
}

/** With --network host: the host's own file, then the --add-host entries. */
export function hostNetworkHostsFile(hostHosts: string, extraHosts: readonly string[]): string {
  const base = hostHosts === '' || hostHosts.endsWith('\n') ? hostHosts : `${hostHosts}\n`;
  return base + extraHosts.map((e) => `${extraHostLine(e)}\n`).join('');
}

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** The nameserver, search (or domain) and options lines of a resolv.conf. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

export function isLoopbackNameserver(ns: string): boolean {
  return ns.startsWith('127.') || ns === '::1';
}

function buildResolvConf(c: ResolvConf): string {
  const lines: string[] = [];
  if (c.search.length > 0) lines.push(`search ${c.search.join(' ')}`);
  for (const ns of c.nameservers) lines.push(`nameserver ${ns}`);
  if (c.options.length > 0) lines.push(`options ${c.options.join(' ')}`);
  return lines.map((l) => `${l}\n`).join('');
}

export interface DnsSettings {
  /** HostConfig.Dns, DnsSearch, DnsOptions. */
  dns: readonly string[];
  dnsSearch: readonly string[];
  dnsOptions: readonly string[];
}

/**
 * resolv.conf for a container that does not use the embedded resolver (the
 * default bridge, none, private): the host's file without loopback servers
 * (they cannot be reached from the container; Google's as dockerd when none
 * is left), or what --dns, --dns-search and --dns-option set.
 */
export function plainResolvConf(hostResolvConf: string, settings: DnsSettings): string {
  const host = parseResolvConf(hostResolvConf);
  if (settings.dns.length === 0 && settings.dnsSearch.length === 0 && settings.dnsOptions.length === 0) {
    const kept = hostResolvConf
      .split('\n')
      .filter((l) => {
        const m = /^\s*nameserver\s+(\S+)/.exec(l);
        return !m || !isLoopbackNameserver(m[1]!);
      })
      .join('\n');
    const remaining = parseResolvConf(kept).nameservers;
    if (remaining.length > 0) return kept.endsWith('\n') || kept === '' ? kept : `${kept}\n`;
    return `${kept.trimEnd()}${kept.trim() === '' ? '' : '\n'}${DEFAULT_NAMESERVERS.map((n) => `nameserver ${n}\n`).join('')}`;
  }
  return buildResolvConf({
    nameservers: settings.dns.length > 0 ? [...settings.dns] : host.nameservers.filter((n) => !isLoopbackNameserver(n)),
    search: settings.dnsSearch.length > 0 ? settings.dnsSearch.filter((s) => s !== '.') : host.search,
    options: settings.dnsOptions.length > 0 ? [...settings.dnsOptions] : host.options,
  });
}

/** resolv.conf pointing at the embedded resolver, which forwards to the servers the container would otherwise use. */
export function embeddedResolvConf(hostResolvConf: string, settings: DnsSettings): string {
  const host = parseResolvConf(hostResolvConf);
  const options = settings.dnsOptions.length > 0 ? [...settings.dnsOptions] : host.options;
  if (!options.some((o) => o.startsWith('ndots:'))) options.push('ndots:0');
  return buildResolvConf({
    nameservers: [RESOLVER_ADDRESS],
    search: settings.dnsSearch.length > 0 ? settings.dnsSearch.filter((s) => s !== '.') : host.search,
    options,
  });
}

/** The servers the embedded resolver forwards to: --dns, else the host's (loopback ones included: berthd reaches them). */
export function upstreamServers(hostResolvConf: string, settings: DnsSettings): string[] {
  return settings.dns.length > 0 ? [...settings.dns] : parseResolvConf(hostResolvConf).nameservers;
}
