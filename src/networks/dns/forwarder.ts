// Queries the embedded resolver cannot answer go to the container's
// upstream servers (the host's resolv.conf, or --dns), from berthd's own
// network namespace: so a host resolver on loopback (systemd-resolved's
// 127.0.0.53) serves containers too, as Docker's resolver does since 25.0.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { messageId, withMessageId } from './message.js';

/** How long one upstream server has to answer before the next is asked (Docker: 4 s for all). */
const PER_SERVER_TIMEOUT_MS = 2000;

interface Pending {
  originalId: number;
  server: string;
  resolve: (answer: Buffer | undefined) => void;
  timer: NodeJS.Timeout;
}

export class DnsForwarder {
  private readonly sockets = new Map<'udp4' | 'udp6', Socket>();
  private readonly pending = new Map<number, Pending>();
  private nextId = Math.floor(Math.random() * 0xffff);

  constructor(private readonly log: Logger) {}

  /** The first answer of `servers`, asked in turn; undefined when none answers. */
  async forward(query: Buffer, servers: readonly string[]): Promise<Buffer | undefined> {
    for (const server of servers) {
      const answer = await this.ask(query, server);
      if (answer) return answer;
    }
    return undefined;
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private socket(family: 'udp4' | 'udp6'): Socket {
    let s = this.sockets.get(family);
    if (!s) {
      s = createSocket(family);
      s.on('message', (msg, rinfo) => this.answered(msg, rinfo.address));
      s.on('error', (err) => this.log.warn({ err: err.message }, 'DNS forwarder socket error'));
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }

  private freeId(): number {
    for (let i = 0; i < 0x10000; i++) {
      this.nextId = (this.nextId + 1) & 0xffff;
      if (!this.pending.has(this.nextId)) return this.nextId;
    }
    throw new Error('DNS forwarder: every query ID is in use');
  }

  private ask(query: Buffer, server: string): Promise<Buffer | undefined> {
    if (query.length < 12) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const id = this.freeId();
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, PER_SERVER_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { originalId: messageId(query), server, resolve, timer });
      this.socket(isIPv6(server) ? 'udp6' : 'udp4').send(withMessageId(query, id), 53, server, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(undefined);
      });
    });
  }

  private answered(msg: Buffer, from: string): void {
    if (msg.length < 12) return;
    const p = this.pending.get(messageId(msg));
    // An answer from anyone but the server asked is not taken (spoofing).
    if (!p || p.server !== from.replace(/^::ffff:/, '')) return;
    clearTimeout(p.timer);
    this.pending.delete(messageId(msg));
    p.resolve(withMessageId(msg, p.originalId));
  }
}
