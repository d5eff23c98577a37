// Where a registry is reached and how, as dockerd decides it: Docker Hub
// ("docker.io") is https://registry-1.docker.io, after any mirrors for pulls;
// any other registry is https://HOST first. A registry is insecure when named
// by --insecure-registry (HOST[:PORT] or a CIDR its addresses fall in), and
// 127.0.0.0/8 and ::1 always are; for an insecure registry TLS is not
// verified and plain HTTP is tried when TLS cannot be spoken at all. CA
// certificates and client keys come from <certs-dir>/<HOST[:PORT]>/ (*.crt,
// *.cert + *.key) as with dockerd's /etc/docker/certs.d.
import { lookup } from 'node:dns/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { InvalidParameter } from '../errors.js';

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io/';
export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';
/** dockerd's loopback default for insecure registries. */
const LOOPBACK_CIDRS = ['127.0.0.0/8', '::1/128'];

export interface TlsSettings {
  /** false for insecure registries: any certificate is accepted. */
  verify: boolean;
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
}

export interface Endpoint {
  /** Base URL ending in "/", e.g. https://127.0.0.1:5000/ or a mirror's URL. */
  url: URL;
  /** null: plain HTTP. */
  tls: TlsSettings | null;
  mirror: boolean;
}

export interface RegistryHostsOptions {
  /** --insecure-registry values: HOST[:PORT] or CIDR. */
  insecure?: readonly string[];
  /** --registry-mirror values: http(s) URLs. */
  mirrors?: readonly string[];
  certsDir?: string;
  /** Tests leave the loopback default out to reach a loopback registry as a secure one. */
  loopbackInsecure?: boolean;
}

/** dockerd's ValidateMirror: an http(s) URL without query, fragment or credentials, normalised to end in "/". */
export function validateMirror(mirror: string): string {
  const scheme = /^([^:/]*):\/\//.exec(mirror)?.[1];
  if (scheme === undefined || scheme === '') {
    throw new InvalidParameter(`invalid mirror: no scheme specified for "${mirror}": must use either 'https://' or 'http://'`);
  }
  let u: URL;
  try {
    u = new URL(mirror);
  } catch {
    throw new InvalidParameter(`invalid mirror: "${mirror}" is not a valid URI`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new InvalidParameter(`invalid mirror: unsupported scheme "${scheme}" in "${mirror}": must use either 'https://' or 'http://'`);
  }
  if (u.search !== '' || u.hash !== '') throw new InvalidParameter(`invalid mirror: query or fragment at end of the URI "${mirror}"`);
  if (u.username !== '' || u.password !== '') throw new InvalidParameter(`invalid mirror: username/password not allowed in URI "${mirror}"`);
  return mirror.replace(/\/+$/, '') + '/';
}

/** dockerd's insecure-registry check: a CIDR, or HOST[:PORT]; a scheme is dropped with a warning in dockerd, refused here. */
function parseInsecure(value: string): { cidr?: [string, number, 'ipv4' | 'ipv6']; host?: string } {
  if (value.includes('://')) throw new InvalidParameter(`insecure registry ${value} should not contain '://'`);
  const cidr = /^(.+)\/(\d{1,3})$/.exec(value);
  if (cidr && isIP(cidr[1]!) !== 0) {
    const family = isIP(cidr[1]!) === 4 ? 'ipv4' : 'ipv6';
    return { cidr: [cidr[1]!, Number(cidr[2]), family] };
  }
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(value) && isIP(value.replace(/^\[|\]$/g, '')) === 0) {
    throw new InvalidParameter(`insecure registry ${value} is not valid: invalid host "${value}"`);
  }
  return { host: value };
}

/** Splits "host:port" (also "[v6]:port"); the port is '' when absent. */
function splitHostPort(hostPort: string): { host: string; port: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (v6) return { host: v6[1]!, port: v6[2] ?? '' };
  const colon = hostPort.lastIndexOf(':');
  if (colon > 0 && hostPort.indexOf(':') === colon) return { host: hostPort.slice(0, colon), port: hostPort.slice(colon + 1) };
  return { host: hostPort, port: '' };
}

/** GET /info's RegistryConfig, as dockerd reports its registry settings. */
export interface RegistryConfigView {
  AllowNondistributableArtifactsCIDRs: null;
  AllowNondistributableArtifactsHostnames: null;
  InsecureRegistryCIDRs: string[];
  IndexConfigs: Record<string, { Name: string; Mirrors: string[]; Secure: boolean; Official: boolean }>;
  Mirrors: string[];
}

export class RegistryHosts {
  private readonly insecureHosts = new Set<string>();
  private readonly insecureNets = new BlockList();
  private readonly insecureCidrs: string[] = [];
  readonly mirrors: readonly string[];
  private readonly certsDir: string;

  constructor(opts: RegistryHostsOptions = {}) {
    const cidrs = [...(opts.loopbackInsecure === false ? [] : LOOPBACK_CIDRS)];
    for (const value of opts.insecure ?? []) {
      const parsed = parseInsecure(value);
      if (parsed.cidr) {
        this.insecureNets.addSubnet(...parsed.cidr);
        this.insecureCidrs.push(value);
      } else this.insecureHosts.add(parsed.host!);
    }
    for (const c of cidrs) {
      const parsed = parseInsecure(c);
      this.insecureNets.addSubnet(...parsed.cidr!);
      this.insecureCidrs.push(c);
    }
    this.mirrors = [...new Set((opts.mirrors ?? []).map(validateMirror))];
    this.certsDir = opts.certsDir ?? DEFAULT_CERTS_DIR;
  }

  /** The settings as dockerd's /info shows them. */
  view(): RegistryConfigView {
    const index: RegistryConfigView['IndexConfigs'] = {};
    for (const host of this.insecureHosts) index[host] = { Name: host, Mirrors: [], Secure: false, Official: false };
    index[DOCKER_HUB] = { Name: DOCKER_HUB, Mirrors: [...this.mirrors], Secure: true, Official: true };
    return {
      AllowNondistributableArtifactsCIDRs: null,
      AllowNondistributableArtifactsHostnames: null,
      InsecureRegistryCIDRs: [...new Set(this.insecureCidrs)].sort(),
      IndexConfigs: index,
      Mirrors: [...this.mirrors],
    };
  }

  /** Whether a registry host (HOST[:PORT]) is secure: not listed as insecure, and none of its addresses in an insecure network. */
  async isSecure(hostPort: string): Promise<boolean> {
    if (this.insecureHosts.has(hostPort)) return false;
    const { host } = splitHostPort(hostPort);
    let addresses: Array<{ address: string; family: number }>;
    if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await lookup(host, { all: true });
      } catch {
        return true; // unresolvable: dockerd assumes no match
      }
    }
    return !addresses.some((a) => this.insecureNets.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'));
  }

  /** CA certificates and a client key pair from <certs-dir>/<host>/ (none when the directory is missing). */
  private tlsFor(hostPort: string, verify: boolean): TlsSettings {
    const dir = join(this.certsDir, hostPort);
    const settings: TlsSettings = { verify };
    if (!verify) return settings;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return settings;
    }
    const extra = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n), 'utf8'));
    if (extra.length > 0) settings.ca = [...rootCertificates, ...extra];
    const cert = names.find((n) => n.endsWith('.cert'));
    if (cert !== undefined) {
      const keyName = cert.replace(/\.cert$/, '.key');
      if (!names.includes(keyName)) throw new InvalidParameter(`missing key ${keyName} for client certificate ${cert}. CA certificates must use the extension .crt`);
      settings.cert = readFileSync(join(dir, cert));
      settings.key = readFileSync(join(dir, keyName));
    }
    return settings;
  }

  /**
   * The endpoints to try for `domain`, in order. Mirrors apply to Docker Hub
   * pulls only (`withMirrors`).
   */
  async endpoints(domain: string, withMirrors: boolean): Promise<Endpoint[]> {
    if (domain === DOCKER_HUB) {
      const out: Endpoint[] = [];
      if (withMirrors) {
        for (const m of this.mirrors) {
          const url = new URL(m);
          const secure = await this.isSecure(url.host);
          out.push({ url, mirror: true, tls: url.protocol === 'http:' ? null : this.tlsFor(url.host, secure) });
        }
      }
      out.push({ url: new URL(DOCKER_HUB_ENDPOINT), mirror: false, tls: { verify: true } });
      return out;
    }
    const secure = await this.isSecure(domain);
    const https: Endpoint = { url: new URL(`https://${domain}/`), mirror: false, tls: this.tlsFor(domain, secure) };
    if (secure) return [https];
    return [https, { url: new URL(`http://${domain}/`), mirror: false, tls: null }];
  }
}
