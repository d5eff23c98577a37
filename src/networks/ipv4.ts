// IPv4 addresses and prefixes as unsigned 32-bit numbers: parsing with the
// Go net package's rules (no leading zeros, four decimal parts), formatting,
// and the prefix arithmetic IPAM needs.

export interface Prefix {
  /** The network address (host bits cleared). */
  base: number;
  /** Prefix length, 0 to 32. */
  bits: number;
}

/** A dotted quad as a number, or undefined when it is not one (Go's net.ParseIP for IPv4). */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** "a.b.c.d/n" as Go's net.ParseCIDR reads it; `exact` also refuses host bits set ("10.0.0.1/24"). */
export function parseCidr(text: string): { address: number; prefix: Prefix } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIPv4(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (address === undefined || !/^(0|[1-9]\d?)$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > 32) return undefined;
  return { address, prefix: { base: (address & maskOf(bits)) >>> 0, bits } };
}

export function formatPrefix(p: Prefix): string {
  return `${formatIPv4(p.base)}/${p.bits}`;
}

export function size(p: Prefix): number {
  return 2 ** (32 - p.bits);
}

/** The last address of the prefix (its broadcast address). */
export function lastAddress(p: Prefix): number {
  return p.base + size(p) - 1;
}

export function contains(p: Prefix, address: number): boolean {
  return ((address & maskOf(p.bits)) >>> 0) === p.base;
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

/** True for text that looks like an IPv6 address or prefix (IPAM accepts and stores these without allocating from them). */
export function isIPv6Text(text: string): boolean {
  return text.includes(':');
}
