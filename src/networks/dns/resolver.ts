// The embedded resolver's answer to one query from a container: names of
// containers on the container's networks (names, aliases, short IDs) are
// answered here, with the records Docker's resolver gives (A with a TTL of
// 600, an empty NOERROR for AAAA, PTR for their addresses); everything else
// goes to the upstream servers.
import type { DnsForwarder } from './forwarder.js';
import { RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, TYPE_PTR, buildResponse, parseQuery, reverseIPv4 } from './message.js';

/** Docker's TTL for the names it answers. */
const TTL = 600;

/** What one container may resolve. */
export interface DnsScope {
  /** IPv4 addresses of `name` for this container, or undefined when no container on its networks has that name. */
  lookup(name: string): number[] | undefined;
  /** "name.network" of the container holding `address` on one of this container's networks. */
  reverse(address: number): string | undefined;
  /** Upstream servers; none for a container only on internal networks. */
  upstream(): string[];
}

export async function resolveQuery(msg: Buffer, scope: DnsScope, forwarder: Pick<DnsForwarder, 'forward'>): Promise<Buffer | undefined> {
  const q = parseQuery(msg);
  const upstream = scope.upstream();
  if (!q) return upstream.length > 0 ? forwarder.forward(msg, upstream) : undefined;
  const { name, type } = q.question;
  if (type === TYPE_A || type === TYPE_AAAA) {
    const addresses = scope.lookup(name);
    if (addresses) {
      const answers = type === TYPE_A ? addresses.map((a) => ({ type: TYPE_A, ttl: TTL, data: a }) as const) : [];
      return buildResponse(q, RCODE_NOERROR, answers);
    }
  }
  if (type === TYPE_PTR) {
    const address = reverseIPv4(name);
    const owner = address === undefined ? undefined : scope.reverse(address);
    if (owner) return buildResponse(q, RCODE_NOERROR, [{ type: TYPE_PTR, ttl: TTL, data: owner }]);
  }
  if (upstream.length === 0) return buildResponse(q, RCODE_NXDOMAIN);
  return (await forwarder.forward(msg, upstream)) ?? buildResponse(q, RCODE_SERVFAIL);
}
