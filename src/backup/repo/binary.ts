// The byte codec of the binary repository objects (pack headers, index
// files, trees): LEB128 uvarints, zigzag svarints, fixed-size fields.
// Decoding never trusts a length or count before checking it against the
// bytes left, and every failure is a RepositoryCorrupt naming the object.
import { RepositoryCorrupt } from './errors.js';

const MAX_VARINT_BYTES = 10;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const LOW_49_BITS = (1n << 49n) - 1n;
const U64_END = 1n << 64n;
const S64_MIN = -(1n << 63n);
const S64_END = 1n << 63n;

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v;
    return this;
  }

  /** An unsigned integer up to 2^53 (or any size as a bigint). */
  uvarint(v: number | bigint): this {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uvarint out of range: ${v}`);
      this.room(MAX_VARINT_BYTES);
      while (v >= 0x80) {
        this.buf[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.pos++] = v;
      return this;
    }
    if (v < 0n || v >= U64_END) throw new RangeError(`uvarint out of range: ${v}`);
    if (v <= MAX_SAFE) return this.uvarint(Number(v));
    // Above 2^53: the low 49 bits as seven groups from a Number, the rest from the BigInt (few values ever get here).
    this.room(MAX_VARINT_BYTES);
    let low = Number(v & LOW_49_BITS);
    for (let i = 0; i < 7; i++) {
      this.buf[this.pos++] = (low % 0x80) | 0x80;
      low = Math.floor(low / 0x80);
    }
    let high = Number(v >> 49n);
    while (high >= 0x80) {
      this.buf[this.pos++] = (high % 0x80) | 0x80;
      high = Math.floor(high / 0x80);
    }
    this.buf[this.pos++] = high;
    return this;
  }

  /** A signed 64-bit integer, zigzag-encoded. */
  svarint(v: bigint): this {
    if (v < S64_MIN || v >= S64_END) throw new RangeError(`svarint out of range: ${v}`);
    return this.uvarint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A length (uvarint) and then the bytes. */
  lengthPrefixed(b: Uint8Array): this {
    return this.uvarint(b.length).bytes(b);
  }

  get length(): number {
    return this.pos;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export class ByteReader {
  private pos = 0;

  /** `what` names the object in error messages ("index file 1a2b...", "tree 3c4d..."). */
  constructor(
    private readonly buf: Buffer,
    readonly what: string,
  ) {}

  fail(problem: string): never {
    throw new RepositoryCorrupt(`${this.what} is corrupt: ${problem} (at byte ${this.pos})`);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  u8(): number {
    if (this.pos >= this.buf.length) this.fail('unexpected end');
    return this.buf[this.pos++]!;
  }

  /**
   * A uvarint of up to 64 bits. Decoded in Numbers (seven bits at a time
   * up to 2^53), with one BigInt made at the end: values are inodes and
   * times, one per node, and BigInt arithmetic per byte would make most of
   * a tree decoder's garbage.
   */
  private rawUvarint(): bigint {
    let low = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8();
      if (i < 7) {
        low += (b & 0x7f) * scale;
        scale *= 0x80;
        if ((b & 0x80) === 0) {
          if (b === 0 && i > 0) this.fail('varint with a redundant byte');
          return BigInt(low);
        }
        continue;
      }
      // Past 49 bits: the rest in BigInt.
      let high = BigInt(b & 0x7f);
      let shift = 7n;
      let last = b;
      for (let j = i + 1; (last & 0x80) !== 0; j++) {
        if (j >= MAX_VARINT_BYTES) this.fail('varint longer than 10 bytes');
        last = this.u8();
        high |= BigInt(last & 0x7f) << shift;
        shift += 7n;
      }
      if (last === 0) this.fail('varint with a redundant byte');
      const result = BigInt(low) | (high << 49n);
      if (result >= U64_END) this.fail('varint above 64 bits');
      return result;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A uvarint that must be at most `max` (default 2^53 - 1). */
  uvarint(max = Number.MAX_SAFE_INTEGER, field = 'value'): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) this.fail('varint with a redundant byte');
        if (result > max) this.fail(`${field} ${result} is above ${max}`);
        return result;
      }
      scale *= 0x80;
    }
    this.fail(`${field} is above ${max}`);
  }

  uvarintBig(): bigint {
    return this.rawUvarint();
  }

  svarint(): bigint {
    const z = this.rawUvarint();
    return (z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n);
  }

  /** A count of items each at least `minItemBytes` long: refused when the bytes left cannot hold them. */
  count(minItemBytes: number, field: string): number {
    const n = this.uvarint(Number.MAX_SAFE_INTEGER, field);
    if (n * minItemBytes > this.remaining) this.fail(`${field} ${n} is more than the bytes left can hold`);
    return n;
  }

  bytes(n: number): Buffer {
    if (n > this.remaining) this.fail(`length ${n} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  lengthPrefixed(max: number, field: string): Buffer {
    return this.bytes(this.uvarint(max, `${field} length`));
  }

  end(): void {
    if (this.pos !== this.buf.length) this.fail(`${this.buf.length - this.pos} trailing bytes`);
  }
}
