// The part of the DNS wire format (RFC 1035) the embedded resolver needs:
// a query's header and first question, and answers built for it (A and PTR
// records, NXDOMAIN, empty NOERROR, SERVFAIL). Anything else is forwarded
// byte for byte, never parsed.

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

export interface Question {
  /** Lower-cased, without the trailing dot. */
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  /** The header's flags word as sent (RD is echoed back). */
  flags: number;
  question: Question;
  /** The question section's bytes, as sent (answers repeat it). */
  questionBytes: Buffer;
}

const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const AA = 0x0400;
const RD = 0x0100;
const RA = 0x0080;

/** The query in `msg`, or undefined for anything that is not a standard query with one question. */
export function parseQuery(msg: Buffer): Query | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if ((flags & QR) !== 0 || (flags & OPCODE_MASK) !== 0 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off]!;
    off++;
    if (len === 0) break;
    // Compression pointers never appear in a question sent first in a message.
    if (len > 63 || off + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', off, off + len));
    off += len;
  }
  if (off + 4 > msg.length) return undefined;
  const question = { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), class: msg.readUInt16BE(off + 2) };
  return { id: msg.readUInt16BE(0), flags, question, questionBytes: msg.subarray(12, off + 4) };
}

export interface AnswerRecord {
  type: typeof TYPE_A | typeof TYPE_PTR;
  ttl: number;
  /** TYPE_A: the address as a 32-bit number; TYPE_PTR: a domain name. */
  data: number | string;
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((p) => p !== '');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([Buffer.byteLength(p, 'latin1')]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

/** A response to `q` with `rcode` and `answers` (the resolver is authoritative for what it answers). */
export function buildResponse(q: Query, rcode: number, answers: AnswerRecord[] = []): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(QR | AA | (q.flags & RD) | RA | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((a) => {
    const rdata = a.type === TYPE_A ? Buffer.alloc(4) : encodeName(String(a.data));
    if (a.type === TYPE_A) rdata.writeUInt32BE(Number(a.data) >>> 0);
    const fixed = Buffer.alloc(12);
    // The owner name points at the question's name, at offset 12.
    fixed.writeUInt16BE(0xc00c, 0);
    fixed.writeUInt16BE(a.type, 2);
    fixed.writeUInt16BE(CLASS_IN, 4);
    fixed.writeUInt32BE(a.ttl, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
  return Buffer.concat([header, q.questionBytes, ...records]);
}

/** The 16-bit ID of a message (forwarding rewrites it). */
export function messageId(msg: Buffer): number {
  return msg.readUInt16BE(0);
}

export function withMessageId(msg: Buffer, id: number): Buffer {
  const copy = Buffer.from(msg);
  copy.writeUInt16BE(id, 0);
  return copy;
}

/** "4.3.2.1.in-addr.arpa" as the address 1.2.3.4, or undefined. */
export function reverseIPv4(name: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const bytes = [m[4], m[3], m[2], m[1]].map(Number);
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes.reduce((n, b) => n * 256 + b, 0);
}
