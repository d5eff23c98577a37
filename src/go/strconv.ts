// Go's strconv behaviour that docker's output depends on: float formatting
// (exact, round-half-even like Go, not JS's round-half-up), Go number and
// string literal syntax, and Go-style quoting. Go strings are UTF-8 bytes,
// so byte-oriented helpers live here too. This module (and all of src/go/)
// imports nothing from berth: the core and the CLI both build on it.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

export function utf8Decode(b: Uint8Array): string {
  return decoder.decode(b);
}

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Go's string ordering: bytewise on UTF-8, which is code point order. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Float formatting (strconv.FormatFloat)

/** Decimal digits of a positive value: value = 0.d × 10^dp, no trailing zeros. */
interface Digits {
  d: string;
  dp: number;
}

function shortestDigits(x: number): Digits {
  // JS and Go both produce the shortest round-tripping digit string.
  const [mant = '', exp = '0'] = x.toExponential().split('e');
  const d = mant.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(exp) + 1 };
}

function exactDigits(x: number): Digits {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (biased === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = biased - 1075;
  }
  let s: string;
  let dp: number;
  if (e2 >= 0) {
    s = (mant << BigInt(e2)).toString();
    dp = s.length;
  } else {
    // mant / 2^k == mant * 5^k / 10^k: exact decimal expansion.
    s = (mant * 5n ** BigInt(-e2)).toString();
    dp = s.length + e2;
  }
  return { d: s.replace(/0+$/, ''), dp };
}

/** Keeps nd leading digits, rounding half to even on exact ties (as Go does). */
function roundDigits(x: Digits, nd: number): Digits {
  if (nd < 0 || nd >= x.d.length) return x;
  const c = x.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (c === 5 && nd + 1 === x.d.length) up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = c >= 5;
  if (up) {
    let i = nd - 1;
    while (i >= 0 && x.d[i] === '9') i--;
    if (i < 0) return { d: '1', dp: x.dp + 1 };
    return { d: x.d.slice(0, i) + String.fromCharCode(x.d.charCodeAt(i) + 1), dp: x.dp };
  }
  const d = x.d.slice(0, nd).replace(/0+$/, '');
  return d === '' ? { d: '', dp: 0 } : { d, dp: x.dp };
}

function fmtE(neg: boolean, x: Digits, prec: number, ch: string): string {
  let s = neg ? '-' : '';
  s += x.d.length > 0 ? x.d[0] : '0';
  if (prec > 0) {
    s += '.';
    const m = Math.min(x.d.length, prec + 1);
    let i = 1;
    if (i < m) {
      s += x.d.slice(1, m);
      i = m;
    }
    s += '0'.repeat(Math.max(0, prec + 1 - i));
  }
  s += ch;
  let exp = x.d.length === 0 ? 0 : x.dp - 1;
  s += exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  s += exp < 10 ? '0' + exp : String(exp);
  return s;
}

function fmtF(neg: boolean, x: Digits, prec: number): string {
  let s = neg ? '-' : '';
  if (x.dp > 0) {
    const m = Math.min(x.d.length, x.dp);
    s += x.d.slice(0, m) + '0'.repeat(x.dp - m);
  } else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = x.dp + i - 1;
      s += j >= 0 && j < x.d.length ? x.d[j] : '0';
    }
  }
  return s;
}

/** strconv.FormatFloat(x, fmt, prec, 64); prec < 0 means shortest. */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let digs: Digits;
  if (ax === 0) digs = { d: '', dp: 0 };
  else if (shortest) digs = shortestDigits(ax);
  else {
    const exact = exactDigits(ax);
    if (fmt === 'e' || fmt === 'E') digs = roundDigits(exact, prec + 1);
    else if (fmt === 'f') digs = roundDigits(exact, exact.dp + prec);
    else {
      if (prec === 0) prec = 1;
      digs = roundDigits(exact, prec);
    }
  }
  if (shortest) {
    if (fmt === 'e' || fmt === 'E') prec = Math.max(digs.d.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, digs, prec, fmt);
    case 'f':
      return fmtF(neg, digs, prec);
    default: {
      let eprec = prec;
      if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
      if (shortest) eprec = 6;
      const exp = digs.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > digs.d.length) prec = digs.d.length;
        return fmtE(neg, digs, prec - 1, fmt === 'g' ? 'e' : 'E');
      }
      if (prec > digs.dp) prec = digs.d.length;
      return fmtF(neg, digs, Math.max(prec - digs.dp, 0));
    }
  }
}

// ---------------------------------------------------------------------------
// Number parsing (strconv.ParseFloat / ParseInt with base 0)

export class NumError extends Error {
  constructor(fn: string, input: string, reason: 'invalid syntax' | 'value out of range') {
    super(`strconv.${fn}: parsing ${quote(input)}: ${reason}`);
    this.name = 'NumError';
  }
}

const DEC_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))[pP]([+-]?\d+)$/;

/** Go literal rule: '_' only between digits, or between a base prefix and a digit. */
function underscoresOK(s: string): boolean {
  if (!s.includes('_')) return true;
  let t = s.replace(/^[+-]/, '');
  let saw = '^';
  let hexDigits = false;
  if (/^0[bBoOxX]/.test(t)) {
    hexDigits = /^0[xX]/.test(t);
    t = t.slice(2);
    saw = '0';
  }
  for (const c of t) {
    if ((c >= '0' && c <= '9') || (hexDigits && /[a-fA-F]/.test(c))) saw = '0';
    else if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
    } else {
      if (saw === '_') return false;
      saw = '!';
    }
  }
  return saw !== '_';
}

/** strconv.ParseFloat(s, 64). Throws NumError. */
export function parseGoFloat(s: string): number {
  if (!underscoresOK(s)) throw new NumError('ParseFloat', s, 'invalid syntax');
  const t = s.replace(/_/g, '');
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  let v: number;
  if (DEC_FLOAT.test(t)) v = Number(t);
  else {
    const m = HEX_FLOAT.exec(t);
    if (!m) throw new NumError('ParseFloat', s, 'invalid syntax');
    const [intPart = '', frac = ''] = m[2]!.split('.');
    const digits = intPart + frac;
    const mant = digits === '' ? 0n : BigInt('0x' + digits);
    v = Number(mant) * 2 ** (Number(m[3]) - 4 * frac.length);
    if (m[1] === '-') v = -v;
  }
  if (!Number.isFinite(v)) throw new NumError('ParseFloat', s, 'value out of range');
  return v;
}

/** strconv.ParseInt(s, 0, 64) as a bigint. Throws NumError. */
export function parseGoInt(s: string): bigint {
  if (!underscoresOK(s)) throw new NumError('ParseInt', s, 'invalid syntax');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(s.replace(/_/g, ''));
  if (!m) throw new NumError('ParseInt', s, 'invalid syntax');
  let body = m[2]!;
  if (/^0[0-7]+$/.test(body)) body = '0o' + body.slice(1);
  let v = BigInt(body.replace(/^0([xXbBoO])/, (_all, p: string) => '0' + p.toLowerCase()));
  if (m[1] === '-') v = -v;
  if (v > 9223372036854775807n || v < -9223372036854775808n) throw new NumError('ParseInt', s, 'value out of range');
  return v;
}

// ---------------------------------------------------------------------------
// Quoting

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols, ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0x20 || cp === 0x7f) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function escapeRune(cp: number, quoteChar: number, asciiOnly: boolean): string {
  if (cp === quoteChar || cp === 0x5c) return '\\' + String.fromCodePoint(cp);
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return String.fromCodePoint(cp);
  switch (cp) {
    case 0x07: return '\\a';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x0b: return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hex(cp, 2);
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate: invalid UTF-8 in Go terms
  if (cp < 0x10000) return '\\u' + hex(cp, 4);
  return '\\U' + hex(cp, 8);
}

/** strconv.Quote (or QuoteToASCII). */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, 0x22, asciiOnly);
  return out + '"';
}

/** strconv.QuoteRune. */
export function quoteRune(cp: number): string {
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  return "'" + escapeRune(cp, 0x27, false) + "'";
}

/** strconv.CanBackquote. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x60 || cp === 0xfeff || (cp < 0x20 && cp !== 0x09) || cp === 0x7f) return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
  }
  return true;
}

export class GoSyntaxError extends Error {}

/**
 * strconv.UnquoteChar: decodes one (possibly escaped) character at s[i].
 * Returns the bytes it stands for and the index after it. Throws on bad syntax.
 */
function unquoteCharAt(s: string, i: number, quoteChar: string): { bytes: number[]; next: number } {
  const c = s[i];
  if (c === undefined) throw new GoSyntaxError('invalid syntax');
  if (c === quoteChar && (quoteChar === "'" || quoteChar === '"')) throw new GoSyntaxError('invalid syntax');
  if (c !== '\\') {
    const cp = s.codePointAt(i)!;
    return { bytes: [...utf8Bytes(String.fromCodePoint(cp))], next: i + (cp > 0xffff ? 2 : 1) };
  }
  const e = s[i + 1];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c };
  if (e === undefined) throw new GoSyntaxError('invalid syntax');
  if (e in simple) return { bytes: [simple[e]!], next: i + 2 };
  if (e === "'" || e === '"') {
    if (e !== quoteChar) throw new GoSyntaxError('invalid syntax');
    return { bytes: [e.charCodeAt(0)], next: i + 2 };
  }
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    const digits = s.slice(i + 2, i + 2 + n);
    if (digits.length !== n || !/^[0-9a-fA-F]+$/.test(digits)) throw new GoSyntaxError('invalid syntax');
    const v = parseInt(digits, 16);
    if (e === 'x') return { bytes: [v], next: i + 2 + n };
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new GoSyntaxError('invalid syntax');
    return { bytes: [...utf8Bytes(String.fromCodePoint(v))], next: i + 2 + n };
  }
  if (e >= '0' && e <= '7') {
    const digits = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(digits)) throw new GoSyntaxError('invalid syntax');
    const v = parseInt(digits, 8);
    if (v > 255) throw new GoSyntaxError('invalid syntax');
    return { bytes: [v], next: i + 4 };
  }
  throw new GoSyntaxError('invalid syntax');
}

/** strconv.Unquote for "..." and `...` literals. Throws GoSyntaxError. */
export function unquote(lit: string): string {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw new GoSyntaxError('invalid syntax');
  const body = lit.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new GoSyntaxError('invalid syntax');
    return body.replace(/\r/g, '');
  }
  if (q !== '"') throw new GoSyntaxError('invalid syntax');
  if (body.includes('\n')) throw new GoSyntaxError('invalid syntax');
  const bytes: number[] = [];
  for (let i = 0; i < body.length; ) {
    const r = unquoteCharAt(body, i, '"');
    bytes.push(...r.bytes);
    i = r.next;
  }
  return utf8Decode(Uint8Array.from(bytes));
}

/** Decodes a character literal such as 'a' or '\n' to its code point. */
export function unquoteCharLiteral(lit: string): number {
  if (lit.length < 3 || lit[0] !== "'") throw new GoSyntaxError('invalid syntax');
  const r = unquoteCharAt(lit, 1, "'");
  if (lit.slice(r.next) !== "'") throw new GoSyntaxError(`malformed character constant: ${lit}`);
  const b = r.bytes;
  if (b.length === 1) return b[0]!;
  return utf8Decode(Uint8Array.from(b)).codePointAt(0)!;
}

/** strconv.ParseBool; undefined where Go returns an error. */
export function parseBool(s: string): boolean | undefined {
  switch (s) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      return undefined;
  }
}
