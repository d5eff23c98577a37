// Published ports: HostConfig.PortBindings and PublishAllPorts (with the
// image's and the request's ExposedPorts) as the bindings a container's
// start must make, with dockerd's validation and defaults: no host IP means
// every IPv4 and IPv6 address, no host port one the kernel picks, a host
// port range the first free port in it.
import { isIP } from 'node:net';
import { InvalidParameter } from '../errors.js';

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

/** A binding asked for: host side may be a range or unset. */
export interface PortRequest {
  containerPort: number;
  protocol: PortProtocol;
  /** "" for every address. */
  hostIp: string;
  /** [first, last] host ports; [0, 0] for one the kernel picks. */
  hostPorts: [number, number];
}

/** A binding in place (NetworkSettings.Ports). */
export interface PortBinding {
  containerPort: number;
  protocol: PortProtocol;
  hostIp: string;
  hostPort: number;
}

/** "80/tcp" (the protocol defaults to tcp) as Docker's nat.ParsePort / SplitProtoPort read it. */
export function parsePortKey(key: string): { port: number; protocol: PortProtocol } {
  const slash = key.indexOf('/');
  const portText = slash < 0 ? key : key.slice(0, slash);
  const proto = (slash < 0 ? 'tcp' : key.slice(slash + 1)).toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new InvalidParameter(`invalid proto: ${proto}`);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) throw new InvalidParameter(`invalid port: ${portText}`);
  return { port, protocol: proto };
}

function parseHostPorts(text: string): [number, number] {
  if (text === '') return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const first = m ? Number(m[1]) : NaN;
  const last = m?.[2] !== undefined ? Number(m[2]) : first;
  if (!m || first > 65535 || last > 65535 || last < first) throw new InvalidParameter(`invalid hostPort: ${text}`);
  return [first, last];
}

/** The bindings a container asks for, checked: HostConfig.PortBindings, then -P's exposed ports that have none. */
export function portRequests(hostConfig: Record<string, unknown>, exposedPorts: Record<string, unknown> | null | undefined): PortRequest[] {
  const out: PortRequest[] = [];
  const bindings = (hostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
  for (const [key, list] of Object.entries(bindings)) {
    const { port, protocol } = parsePortKey(key);
    for (const b of list ?? []) {
      const hostIp = b.HostIp ?? '';
      if (hostIp !== '' && isIP(hostIp) === 0) throw new InvalidParameter(`invalid IP address: ${hostIp}`);
      out.push({ containerPort: port, protocol, hostIp, hostPorts: parseHostPorts(b.HostPort ?? '') });
    }
  }
  if (hostConfig.PublishAllPorts === true) {
    for (const key of Object.keys(exposedPorts ?? {})) {
      const { port, protocol } = parsePortKey(key);
      if (out.some((r) => r.containerPort === port && r.protocol === protocol)) continue;
      out.push({ containerPort: port, protocol, hostIp: '', hostPorts: [0, 0] });
    }
  }
  return out;
}

/** Docker's NetworkSettings.Ports: every exposed or bound port, with its bindings (null for an exposed port without one). */
export function portMap(bindings: readonly PortBinding[], exposedPorts: Record<string, unknown> | null | undefined): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of Object.keys(exposedPorts ?? {})) {
    const { port, protocol } = parsePortKey(key);
    out[`${port}/${protocol}`] = null;
  }
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.protocol}`;
    (out[key] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  }
  return out;
}
