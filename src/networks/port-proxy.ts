// The userland proxy behind `-p`: for each published port, berthd listens on
// the host address and port and relays to the container's address (TCP
// connection by connection, UDP datagram by datagram with a flow per client
// that ends after 90 s without traffic, as docker-proxy's). No firewall rule
// is involved, so loopback, the host's own addresses and hairpin traffic
// from containers all work alike; the cost is one copy through berthd.
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { SystemError } from '../errors.js';
import type { PortBinding, PortRequest } from './ports.js';

/** docker-proxy's UDP flow timeout. */
const UDP_FLOW_IDLE_MS = 90_000;

interface Listener {
  close(): void;
}

function bracket(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

function listenTcp(hostIp: string, hostPort: number, target: { ip: string; port: number }, log: Logger): Promise<{ listener: Listener; port: number }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: target.ip, port: target.port, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: hostIp, port: hostPort, ipv6Only: hostIp.includes(':'), exclusive: true }, () => {
      server.removeListener('error', reject);
      server.on('error', (err) => log.warn({ err: err.message }, 'port proxy listener error'));
      resolve({
        port: (server.address() as { port: number }).port,
        listener: {
          close() {
            server.close();
            for (const s of sockets) s.destroy();
          },
        },
      });
    });
  });
}

function listenUdp(hostIp: string, hostPort: number, target: { ip: string; port: number }, log: Logger): Promise<{ listener: Listener; port: number }> {
  const v6 = hostIp.includes(':');
  const front: UdpSocket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
  const flows = new Map<string, { upstream: UdpSocket; timer: NodeJS.Timeout }>();
  const endFlow = (key: string) => {
    const f = flows.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    f.upstream.close();
    flows.delete(key);
  };
  front.on('message', (msg: Buffer, client: RemoteInfo) => {
    const key = `${client.address}:${client.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const upstream = createSocket('udp4');
      upstream.on('message', (reply) => front.send(reply, client.port, client.address));
      upstream.on('error', () => endFlow(key));
      flow = { upstream, timer: setTimeout(() => endFlow(key), UDP_FLOW_IDLE_MS) };
      flows.set(key, flow);
    }
    flow.timer.refresh();
    flow.upstream.send(msg, target.port, target.ip);
  });
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.bind({ address: hostIp, port: hostPort, exclusive: true }, () => {
      front.removeListener('error', reject);
      front.on('error', (err) => log.warn({ err: err.message }, 'port proxy socket error'));
      resolve({
        port: front.address().port,
        listener: {
          close() {
            for (const key of [...flows.keys()]) endFlow(key);
            front.close();
          },
        },
      });
    });
  });
}

function listen(protocol: PortRequest['protocol'], hostIp: string, hostPort: number, target: { ip: string; port: number }, log: Logger) {
  return protocol === 'udp' ? listenUdp(hostIp, hostPort, target, log) : listenTcp(hostIp, hostPort, target, log);
}

/** The published ports of one running container. */
export class PortProxy {
  private constructor(
    private readonly listeners: Listener[],
    readonly bindings: PortBinding[],
  ) {}

  /**
   * Listens for every request and relays to `targetIp`. `previous` (a
   * berthd restart) gives the host ports to take again. A port that cannot
   * be had fails the whole start, with dockerd's message.
   */
  static async open(opts: {
    requests: readonly PortRequest[];
    targetIp: string;
    ipv6: boolean;
    endpointName: string;
    previous?: readonly PortBinding[];
    log: Logger;
  }): Promise<PortProxy> {
    const listeners: Listener[] = [];
    const bindings: PortBinding[] = [];
    try {
      for (const r of opts.requests) {
        const addresses = r.hostIp !== '' ? [r.hostIp] : opts.ipv6 ? ['0.0.0.0', '::'] : ['0.0.0.0'];
        const target = { ip: opts.targetIp, port: r.containerPort };
        const before = opts.previous?.find((b) => b.containerPort === r.containerPort && b.protocol === r.protocol && addresses.includes(b.hostIp));
        const candidates = before ? [before.hostPort] : r.hostPorts[0] === 0 ? [0] : range(r.hostPorts[0], r.hostPorts[1]);
        let bound = false;
        let lastError: unknown;
        for (const candidate of candidates) {
          const made: Listener[] = [];
          try {
            let port = candidate;
            for (const ip of addresses) {
              const l = await listen(r.protocol, ip, port, target, opts.log);
              made.push(l.listener);
              port = l.port;
            }
            listeners.push(...made);
            for (const ip of addresses) bindings.push({ containerPort: r.containerPort, protocol: r.protocol, hostIp: ip, hostPort: port });
            bound = true;
            break;
          } catch (e) {
            for (const l of made) l.close();
            lastError = e;
          }
        }
        if (!bound) {
          const port = candidates.length === 1 ? candidates[0]! : `${r.hostPorts[0]}-${r.hostPorts[1]}`;
          const why = (lastError as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE' ? 'port is already allocated' : String((lastError as Error | undefined)?.message ?? lastError);
          throw new SystemError(
            `driver failed programming external connectivity on endpoint ${opts.endpointName}: Bind for ${bracket(addresses[0]!)}:${port} failed: ${why}`,
          );
        }
      }
    } catch (e) {
      for (const l of listeners) l.close();
      throw e;
    }
    return new PortProxy(listeners, bindings);
  }

  close(): void {
    for (const l of this.listeners) l.close();
  }
}

function range(first: number, last: number): number[] {
  const out: number[] = [];
  for (let p = first; p <= last; p++) out.push(p);
  return out;
}
