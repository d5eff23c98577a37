// rtnetlink over a raw AF_NETLINK socket (koffi): the few link, address and
// route operations a bridge network needs, without spawning `ip`. Each
// request is sent and its acknowledgement read synchronously: the kernel
// answers rtnetlink requests before send() returns to us, so a call costs
// microseconds and nothing else runs on the socket meanwhile.
import { libcFunction, check } from '../util/libc.js';

const AF_NETLINK = 16;
const AF_INET = 2;
const AF_UNSPEC = 0;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_MULTI = 0x2;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

const RTM_NEWLINK = 16;
const RTM_SETLINK = 19;
const AF_BRIDGE = 7;
const IFLA_PROTINFO = 12;
const IFLA_BRPORT_ISOLATED = 33;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const NLA_F_NESTED = 0x8000;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;

const RTA_GATEWAY = 5;
const RTA_OIF = 4;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RTN_UNICAST = 1;

const IFF_UP = 0x1;

/** A link as the kernel lists it. */
export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: "bridge", "veth", ... ("" for devices without one, such as lo). */
  kind: string;
  /** The index of the bridge it is enslaved to, 0 when none. */
  master: number;
  up: boolean;
}

/** A netlink error, with the errno name the kernel answered (EEXIST, ENODEV, ...). */
export class NetlinkError extends Error {
  constructor(
    readonly code: string,
    readonly errno: number,
    operation: string,
  ) {
    super(`${operation}: ${code}`);
  }
}

type Socket = (domain: number, type: number, protocol: number) => number;
type Send = ((fd: number, buf: Buffer, len: number, flags: number) => number | bigint) & {
  async: (fd: number, buf: Buffer, len: number, flags: number, cb: (err: unknown, rc: number | bigint) => void) => void;
};
type Recv = (fd: number, buf: Buffer, len: number, flags: number) => number | bigint;
type Close = (fd: number) => number;

let calls: { socket: Socket; send: Send; recv: Recv; close: Close } | undefined;
function libc(): NonNullable<typeof calls> {
  calls ??= {
    socket: libcFunction<Socket>('int socket(int domain, int type, int protocol)'),
    send: libcFunction<Send>('long send(int fd, void *buf, size_t len, int flags)'),
    recv: libcFunction<Recv>('long recv(int fd, void *buf, size_t len, int flags)'),
    close: libcFunction<Close>('int close(int fd)'),
  };
  return calls;
}

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 95: 'EOPNOTSUPP', 99: 'EADDRNOTAVAIL' };

// ---- message building ----

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** One attribute: header, payload, padding. */
function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

function nested(type: number, ...children: Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(children));
}

function cString(s: string): Buffer {
  return Buffer.concat([Buffer.from(s), Buffer.from([0])]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function ipv4Bytes(address: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(address >>> 0);
  return b;
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

function ifinfomsg(opts: { index?: number; flags?: number; change?: number; family?: number } = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(opts.family ?? AF_UNSPEC, 0);
  b.writeInt32LE(opts.index ?? 0, 4);
  b.writeUInt32LE(opts.flags ?? 0, 8);
  b.writeUInt32LE(opts.change ?? 0, 12);
  return b;
}

// ---- message parsing ----

function parseAttrs(buf: Buffer, start: number, end: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = start; off + 4 <= end; ) {
    const len = buf.readUInt16LE(off);
    if (len < 4) break;
    out.set(buf.readUInt16LE(off + 2) & ~NLA_F_NESTED, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

function parseLink(msg: Buffer): Link {
  // After the 16-byte header: ifinfomsg (16 bytes), then attributes.
  const index = msg.readInt32LE(16 + 4);
  const flags = msg.readUInt32LE(16 + 8);
  const attrs = parseAttrs(msg, 32, msg.length);
  const name = attrs.get(IFLA_IFNAME);
  const master = attrs.get(IFLA_MASTER);
  const info = attrs.get(IFLA_LINKINFO);
  const kind = info ? parseAttrs(info, 0, info.length).get(IFLA_INFO_KIND) : undefined;
  return {
    index,
    name: name ? name.toString('utf8').replace(/\0.*$/s, '') : '',
    kind: kind ? kind.toString('utf8').replace(/\0.*$/s, '') : '',
    master: master ? master.readUInt32LE(0) : 0,
    up: (flags & IFF_UP) !== 0,
  };
}

/**
 * An rtnetlink socket in the network namespace it was opened in (see
 * netns.ts for one opened in a container's). Not thread-safe, not shared:
 * open one, do the work, close it.
 */
export class Netlink {
  private seq = 0;
  private readonly recvBuf = Buffer.alloc(64 * 1024);

  private constructor(private fd: number) {}

  /** A socket in the calling thread's network namespace. */
  static open(): Netlink {
    return new Netlink(check(libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), 'socket'));
  }

  /** Takes over an AF_NETLINK/NETLINK_ROUTE socket made elsewhere (in another namespace). */
  static fromFd(fd: number): Netlink {
    return new Netlink(fd);
  }

  close(): void {
    if (this.fd >= 0) libc().close(this.fd);
    this.fd = -1;
  }

  /** Sends one request; returns the messages of a dump, or [] once the kernel acknowledged it. */
  private request(type: number, flags: number, body: Buffer, operation: string): Buffer[] {
    const { seq, msg } = this.frame(type, flags, body);
    check(libc().send(this.fd, msg, msg.length, 0), 'send');
    return this.replies(seq, flags, operation);
  }

  /**
   * request() with its send on the thread pool: the kernel does the work of
   * an rtnetlink request inside send(), and some (deleting a link waits for
   * RCU grace periods, ~15 ms) are too slow for the event loop. The reply is
   * queued by the time send() returns, so it is read here at once.
   */
  private requestInBackground(type: number, flags: number, body: Buffer, operation: string): Promise<Buffer[]> {
    const { seq, msg } = this.frame(type, flags, body);
    return new Promise((resolve, reject) => {
      libc().send.async(this.fd, msg, msg.length, 0, (err, rc) => {
        if (err) return reject(err as Error);
        // errno belongs to the pool thread: only the failure is known here.
        if (Number(rc) < 0) return reject(new NetlinkError('EIO', 5, `${operation}: send failed`));
        try {
          resolve(this.replies(seq, flags, operation));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  }

  private frame(type: number, flags: number, body: Buffer): { seq: number; msg: Buffer } {
    const seq = ++this.seq;
    const header = Buffer.alloc(16);
    header.writeUInt32LE(16 + body.length, 0);
    header.writeUInt16LE(type, 4);
    header.writeUInt16LE(flags | NLM_F_REQUEST, 6);
    header.writeUInt32LE(seq, 8);
    return { seq, msg: Buffer.concat([header, body]) };
  }

  /** Reads the kernel's answers to request `seq` until its acknowledgement or the end of its dump. */
  private replies(seq: number, flags: number, operation: string): Buffer[] {
    const { recv } = libc();
    const out: Buffer[] = [];
    for (;;) {
      const n = check(recv(this.fd, this.recvBuf, this.recvBuf.length, 0), 'recv');
      let done = false;
      for (let off = 0; off + 16 <= n; ) {
        const len = this.recvBuf.readUInt32LE(off);
        if (len < 16 || off + len > n) break;
        const mtype = this.recvBuf.readUInt16LE(off + 4);
        const mflags = this.recvBuf.readUInt16LE(off + 6);
        const mseq = this.recvBuf.readUInt32LE(off + 8);
        if (mseq === seq) {
          if (mtype === NLMSG_ERROR) {
            const err = -this.recvBuf.readInt32LE(off + 16);
            if (err !== 0) throw new NetlinkError(ERRNO_NAMES[err] ?? `errno ${err}`, err, operation);
            done = true;
          } else if (mtype === NLMSG_DONE) {
            done = true;
          } else {
            out.push(Buffer.from(this.recvBuf.subarray(off, off + len)));
            if ((mflags & NLM_F_MULTI) === 0 && (flags & NLM_F_ACK) === 0) done = true;
          }
        }
        off += align4(len);
      }
      if (done) return out;
    }
  }

  // ---- links ----

  /** Every link of the namespace. */
  links(): Link[] {
    return this.request(RTM_GETLINK, NLM_F_DUMP, ifinfomsg(), 'list links').map(parseLink);
  }

  /** The link named `name`, or undefined. */
  link(name: string): Link | undefined {
    try {
      const msgs = this.request(RTM_GETLINK, 0, Buffer.concat([ifinfomsg(), attr(IFLA_IFNAME, cString(name))]), `get link ${name}`);
      return msgs[0] ? parseLink(msgs[0]) : undefined;
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'ENODEV') return undefined;
      throw e;
    }
  }

  private requireLink(name: string): Link {
    const l = this.link(name);
    if (!l) throw new NetlinkError('ENODEV', 19, `link ${name}`);
    return l;
  }

  /** `ip link add NAME type bridge` with an MTU; EEXIST when it is there. */
  addBridge(name: string, mtu: number): void {
    const body = Buffer.concat([
      ifinfomsg(),
      attr(IFLA_IFNAME, cString(name)),
      attr(IFLA_MTU, u32(mtu)),
      nested(IFLA_LINKINFO, attr(IFLA_INFO_KIND, cString('bridge'))),
    ]);
    this.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, body, `add bridge ${name}`);
  }

  /**
   * A veth pair: `hostName` here, enslaved to `master` and up; its peer made
   * directly in the namespace `peerNetnsFd` as `peerName`, with `peerMac`.
   */
  addVethPair(opts: { hostName: string; master: string; mtu: number; peerName: string; peerMac: string; peerNetnsFd: number }): void {
    const master = this.requireLink(opts.master);
    const peer = Buffer.concat([
      ifinfomsg(),
      attr(IFLA_IFNAME, cString(opts.peerName)),
      attr(IFLA_MTU, u32(opts.mtu)),
      attr(IFLA_ADDRESS, macBytes(opts.peerMac)),
      attr(IFLA_NET_NS_FD, u32(opts.peerNetnsFd)),
    ]);
    const body = Buffer.concat([
      ifinfomsg({ flags: IFF_UP, change: IFF_UP }),
      attr(IFLA_IFNAME, cString(opts.hostName)),
      attr(IFLA_MTU, u32(opts.mtu)),
      attr(IFLA_MASTER, u32(master.index)),
      nested(IFLA_LINKINFO, attr(IFLA_INFO_KIND, cString('veth')), nested(IFLA_INFO_DATA, nested(VETH_INFO_PEER, peer))),
    ]);
    this.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, body, `add veth ${opts.hostName}`);
  }

  /** `ip link set NAME up`. */
  setUp(name: string): void {
    const l = this.requireLink(name);
    this.request(RTM_NEWLINK, NLM_F_ACK, ifinfomsg({ index: l.index, flags: IFF_UP, change: IFF_UP }), `set ${name} up`);
  }

  /** `ip link set NAME master BRIDGE`. */
  setMaster(name: string, bridge: string): void {
    const l = this.requireLink(name);
    const master = this.requireLink(bridge);
    this.request(RTM_NEWLINK, NLM_F_ACK, Buffer.concat([ifinfomsg({ index: l.index }), attr(IFLA_MASTER, u32(master.index))]), `set ${name} master ${bridge}`);
  }

  /** `ip link set NAME type bridge_slave isolated on|off`: isolated ports reach the bridge, not each other. */
  setBridgePortIsolated(name: string, isolated: boolean): void {
    const l = this.requireLink(name);
    const body = Buffer.concat([ifinfomsg({ index: l.index, family: AF_BRIDGE }), nested(IFLA_PROTINFO, attr(IFLA_BRPORT_ISOLATED, Buffer.from([isolated ? 1 : 0])))]);
    this.request(RTM_SETLINK, NLM_F_ACK, body, `set ${name} isolated`);
  }

  /** `ip link del NAME`; false when there was no such link. */
  deleteLink(name: string): boolean {
    const l = this.link(name);
    if (!l) return false;
    try {
      this.request(RTM_DELLINK, NLM_F_ACK, ifinfomsg({ index: l.index }), `delete link ${name}`);
      return true;
    } catch (e) {
      return goneMeanwhile(e);
    }
  }

  /** deleteLink() with the kernel's slow part off the event loop. */
  async deleteLinkInBackground(name: string): Promise<boolean> {
    const l = this.link(name);
    if (!l) return false;
    try {
      await this.requestInBackground(RTM_DELLINK, NLM_F_ACK, ifinfomsg({ index: l.index }), `delete link ${name}`);
      return true;
    } catch (e) {
      return goneMeanwhile(e);
    }
  }

  // ---- addresses and routes ----

  /** `ip addr replace ADDRESS/BITS brd BROADCAST dev NAME`. */
  replaceAddress(name: string, address: number, bits: number, broadcast: number): void {
    const l = this.requireLink(name);
    const msg = Buffer.alloc(8);
    msg.writeUInt8(AF_INET, 0);
    msg.writeUInt8(bits, 1);
    msg.writeUInt8(RT_SCOPE_UNIVERSE, 3);
    msg.writeUInt32LE(l.index, 4);
    const body = Buffer.concat([msg, attr(IFA_LOCAL, ipv4Bytes(address)), attr(IFA_ADDRESS, ipv4Bytes(address)), attr(IFA_BROADCAST, ipv4Bytes(broadcast))]);
    this.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK, body, `add address to ${name}`);
  }

  /** `ip route replace default via GATEWAY dev NAME`. */
  replaceDefaultRoute(name: string, gateway: number): void {
    const l = this.requireLink(name);
    const msg = Buffer.alloc(12);
    msg.writeUInt8(AF_INET, 0);
    msg.writeUInt8(0, 1);
    msg.writeUInt8(RT_TABLE_MAIN, 4);
    msg.writeUInt8(RTPROT_BOOT, 5);
    msg.writeUInt8(RT_SCOPE_UNIVERSE, 6);
    msg.writeUInt8(RTN_UNICAST, 7);
    const body = Buffer.concat([msg, attr(RTA_GATEWAY, ipv4Bytes(gateway)), attr(RTA_OIF, u32(l.index))]);
    this.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK, body, `add default route via ${name}`);
  }
}

/** False for a link that went away before it could be deleted (a veth goes with its peer's namespace); rethrows anything else. */
function goneMeanwhile(e: unknown): false {
  if (e instanceof NetlinkError && e.code === 'ENODEV') return false;
  throw e;
}

/** For tests and callers that keep a socket open around a few calls. */
export function withNetlink<T>(open: () => Netlink, fn: (nl: Netlink) => T): T {
  const nl = open();
  try {
    return fn(nl);
  } finally {
    nl.close();
  }
}
