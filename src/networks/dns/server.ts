// One container's DNS server: UDP and TCP on 127.0.0.11:53 inside the
// container's network namespace (sockets made there, served by berthd's
// event loop), as Docker's embedded resolver. The sockets hold the
// namespace, so they are closed when the container's run ends.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { listenersIn } from '../netns.js';

/** 127.0.0.11, Docker's address for the embedded resolver. */
export const RESOLVER_ADDRESS = '127.0.0.11';
const RESOLVER_ADDRESS_NUMBER = 0x7f00000b;

export type DnsHandler = (query: Buffer) => Promise<Buffer | undefined>;

export class ContainerDnsServer {
  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    private readonly clients: Set<Socket>,
  ) {}

  /** Starts serving in the namespace at `nsPath` (a container's /proc/PID/ns/net). */
  static async open(nsPath: string, handler: DnsHandler, log: Logger): Promise<ContainerDnsServer> {
    const fds = listenersIn(nsPath, RESOLVER_ADDRESS_NUMBER, 53);
    const udp = createSocket('udp4');
    const clients = new Set<Socket>();
    udp.on('message', (msg, rinfo) => {
      handler(msg).then(
        (reply) => {
          if (reply) udp.send(reply, rinfo.port, rinfo.address);
        },
        (err: unknown) => log.warn({ err: String(err) }, 'DNS query failed'),
      );
    });
    udp.on('error', (err) => log.warn({ err: err.message }, 'DNS socket error'));
    const tcp = createServer((conn) => serveTcp(conn, handler, clients, log));
    tcp.on('error', (err) => log.warn({ err: err.message }, 'DNS listener error'));
    await Promise.all([
      new Promise<void>((resolve) => udp.bind({ fd: fds.udp }, () => resolve())),
      new Promise<void>((resolve) => tcp.listen({ fd: fds.tcp }, () => resolve())),
    ]);
    udp.unref();
    tcp.unref();
    return new ContainerDnsServer(udp, tcp, clients);
  }

  close(): void {
    this.udp.close();
    this.tcp.close();
    for (const c of this.clients) c.destroy();
  }
}

/** DNS over TCP: messages with a two-byte length before each (RFC 1035 4.2.2). */
function serveTcp(conn: Socket, handler: DnsHandler, clients: Set<Socket>, log: Logger): void {
  clients.add(conn);
  conn.on('close', () => clients.delete(conn));
  conn.on('error', () => conn.destroy());
  let buffered = Buffer.alloc(0);
  conn.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      buffered = buffered.subarray(2 + msg.length);
      handler(Buffer.from(msg)).then(
        (reply) => {
          if (!reply || conn.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          conn.write(Buffer.concat([len, reply]));
        },
        (err: unknown) => log.warn({ err: String(err) }, 'DNS query failed'),
      );
    }
  });
}
