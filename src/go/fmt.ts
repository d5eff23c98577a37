// The JS value model that stands in for Go values, and Go's fmt printing of
// it (%v, Sprint, Sprintln, Sprintf).
//
// Model: `undefined` is Go's invalid value ("<no value>" when a template
// prints it), `null` is a nil interface, NIL_MAP a typed nil map, safe
// integers are Go ints, other numbers float64, arrays are slices and any
// other object is a map[string]T whose function-valued properties are
// methods (never listed as map entries).
import { compareGoStrings, formatFloat, quote, quoteRune, canBackquote, isPrint, runeCount, utf8Bytes } from './strconv.js';

/** Stands where Go would hold a nil map: prints `map[]`, JSON `null`, len 0. */
export const NIL_MAP: Readonly<Record<string, never>> = Object.freeze(Object.create(null) as Record<string, never>);

export type Kind = 'invalid' | 'nil' | 'nilmap' | 'bool' | 'int' | 'float' | 'string' | 'array' | 'map' | 'func';

export function kindOf(v: unknown): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  if (v === NIL_MAP) return 'nilmap';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isSafeInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'string';
    case 'function':
      return 'func';
    case 'object':
      return Array.isArray(v) ? 'array' : 'map';
    default:
      return 'invalid';
  }
}

export function isMapObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && v !== NIL_MAP && !Array.isArray(v);
}

/** A map's entries as Go sees them: sorted keys, methods and undefined left out. */
export function mapEntries(obj: object): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const k of Object.keys(obj)) {
    const v = (obj as Record<string, unknown>)[k];
    if (v !== undefined && typeof v !== 'function') out.push([k, v]);
  }
  return out.sort((a, b) => compareGoStrings(a[0], b[0]));
}

/** Go's name for the dynamic type, as used in fmt and template errors. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'nilmap':
      return 'map[string]string';
    case 'bool':
      return 'bool';
    case 'int':
      return typeof v === 'bigint' ? 'int64' : 'int';
    case 'float':
      return 'float64';
    case 'string':
      return 'string';
    case 'func':
      return 'func()';
    case 'array': {
      const a = v as unknown[];
      return a.length > 0 && a.every((e) => typeof e === 'string') ? '[]string' : '[]interface {}';
    }
    case 'map': {
      const e = mapEntries(v as object);
      return e.length > 0 && e.every(([, x]) => typeof x === 'string') ? 'map[string]string' : 'map[string]interface {}';
    }
  }
}

// ---------------------------------------------------------------------------
// fmt

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  wid: number | undefined;
  prec: number | undefined;
  sharpV: boolean;
}

function noFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, wid: undefined, prec: undefined, sharpV: false };
}

function pad(s: string, f: Flags, zeroOK = true): string {
  if (f.wid === undefined) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero && zeroOK ? '0' : ' ').repeat(n) + s;
}

function badVerb(v: unknown, verb: string, f: Flags): string {
  const inner = v === undefined || v === null ? '<nil>' : `${typeName(v)}=${printArg(v, 'v', f)}`;
  return `%!${verb}(${inner})`;
}

function fmtInteger(n: bigint, verb: string, f: Flags): string {
  const neg = n < 0n;
  const u = neg ? -n : n;
  const base = verb === 'b' ? 2 : verb === 'o' || verb === 'O' ? 8 : verb === 'x' || verb === 'X' ? 16 : 10;
  let prec = -1;
  if (f.prec !== undefined) {
    prec = f.prec;
    if (prec === 0 && u === 0n) return pad('', f, false);
  } else if (f.zero && !f.minus && f.wid !== undefined) {
    prec = f.wid;
    if (neg || f.plus || f.space) prec--; // leave room for the sign
  }
  let digits = u.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (prec > digits.length) digits = '0'.repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 2) digits = '0b' + digits;
    else if (base === 8 && digits[0] !== '0') digits = '0' + digits;
    else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits;
  }
  if (verb === 'O') digits = '0o' + digits;
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  return pad(sign + digits, f, false);
}

function fmtFloatVerb(x: number, verb: string, f: Flags): string {
  const ch = (verb === 'v' ? 'g' : verb === 'F' ? 'f' : verb) as 'e' | 'E' | 'f' | 'g' | 'G';
  let prec = 'eEfF'.includes(verb) ? 6 : -1;
  if (f.prec !== undefined) prec = f.prec;
  let num = formatFloat(x, ch, prec);
  if (num[0] !== '-' && num[0] !== '+') num = '+' + num;
  if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
  if (num[1] === 'I' || num[1] === 'N') {
    // Inf and NaN are never zero padded; NaN drops an unrequested sign.
    if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
    return pad(num, f, false);
  }
  if (f.plus || num[0] !== '+') {
    if (f.zero && !f.minus && f.wid !== undefined && f.wid > num.length) {
      return num[0] + '0'.repeat(f.wid - num.length) + num.slice(1);
    }
    return pad(num, f);
  }
  return pad(num.slice(1), f);
}

function truncateRunes(s: string, prec: number | undefined): string {
  if (prec === undefined) return s;
  return Array.from(s).slice(0, prec).join('');
}

function fmtString(s: string, verb: string, f: Flags): string {
  switch (verb) {
    case 'v':
      if (f.sharpV) return pad(quote(s), f);
      return pad(truncateRunes(s, f.prec), f);
    case 's':
      return pad(truncateRunes(s, f.prec), f);
    case 'q': {
      const t = truncateRunes(s, f.prec);
      if (f.sharp && canBackquote(t)) return pad('`' + t + '`', f);
      return pad(quote(t, f.plus), f);
    }
    case 'x':
    case 'X': {
      let bytes = Array.from(utf8Bytes(s));
      if (f.prec !== undefined) bytes = bytes.slice(0, f.prec);
      const prefix = f.sharp ? (verb === 'X' ? '0X' : '0x') : '';
      const hexes = bytes.map((b) => {
        const h = b.toString(16).padStart(2, '0');
        return verb === 'X' ? h.toUpperCase() : h;
      });
      const out = f.space ? hexes.map((h) => prefix + h).join(' ') : prefix + hexes.join('');
      return pad(out, f);
    }
    default:
      return badVerb(s, verb, f);
  }
}

function printArg(v: unknown, verb: string, f: Flags): string {
  if (v === undefined || v === null) {
    return verb === 'v' || verb === 'T' ? pad('<nil>', f) : badVerb(v, verb, f);
  }
  if (verb === 'T') return pad(typeName(v), f);
  switch (kindOf(v)) {
    case 'bool':
      return verb === 't' || verb === 'v' ? pad(String(v), f) : badVerb(v, verb, f);
    case 'int': {
      const n = typeof v === 'bigint' ? v : BigInt(v as number);
      switch (verb) {
        case 'v':
        case 'd':
        case 'b':
        case 'o':
        case 'O':
        case 'x':
        case 'X':
          return fmtInteger(n, verb, f);
        case 'c': {
          const cp = Number(n);
          const ok = cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
          return pad(String.fromCodePoint(ok ? cp : 0xfffd), f);
        }
        case 'q':
          return pad(quoteRune(Number(n)), f);
        case 'U': {
          const cp = Number(n);
          let s = 'U+' + cp.toString(16).toUpperCase().padStart(Math.max(4, f.prec ?? 0), '0');
          if (f.sharp && cp >= 0 && cp <= 0x10ffff && isPrint(cp)) s += ` '${String.fromCodePoint(cp)}'`;
          return pad(s, f, false);
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
          // Lenient: JS cannot tell 2.0 from 2, so integral numbers take float verbs.
          return fmtFloatVerb(Number(n), verb, f);
        default:
          return badVerb(v, verb, f);
      }
    }
    case 'float':
      return 'veEfFgG'.includes(verb) ? fmtFloatVerb(v as number, verb, f) : badVerb(v, verb, f);
    case 'string':
      return fmtString(v as string, verb, f);
    case 'nilmap':
      return 'map[]';
    case 'array':
      return '[' + (v as unknown[]).map((e) => printArg(e ?? null, verb, f)).join(' ') + ']';
    case 'map':
      return 'map[' + mapEntries(v as object).map(([k, x]) => printArg(k, verb, f) + ':' + printArg(x ?? null, verb, f)).join(' ') + ']';
    case 'func':
      return pad('0x0', f);
    default:
      return badVerb(v, verb, f);
  }
}

/** fmt.Sprint of one value: Go's %v. */
export function formatValue(v: unknown): string {
  return printArg(v, 'v', noFlags());
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += printArg(a, 'v', noFlags());
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln. */
export function sprintln(args: readonly unknown[]): string {
  return args.map((a) => printArg(a, 'v', noFlags())).join(' ') + '\n';
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const end = format.length;

  // Parses an explicit "[n]" argument index at i.
  const argIndex = (): { ok: boolean; found: boolean } => {
    if (format[i] !== '[') return { ok: true, found: false };
    reordered = true;
    const close = format.length - i >= 3 ? format.indexOf(']', i + 1) : -1;
    if (close < 0) {
      i += 1;
      return { ok: false, found: false };
    }
    const digits = format.slice(i + 1, close);
    i = close + 1;
    if (!/^\d+$/.test(digits)) return { ok: false, found: false };
    const n = Number(digits) - 1;
    if (n < 0 || n >= args.length) return { ok: false, found: true };
    argNum = n;
    return { ok: true, found: true };
  };
  const intArg = (): number | undefined => {
    if (argNum >= args.length) return undefined;
    const a = args[argNum];
    argNum++;
    return typeof a === 'number' && Number.isSafeInteger(a) && Math.abs(a) <= 1e6 ? a : undefined;
  };

  while (i < end) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f = noFlags();
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#': f.sharp = true; break;
        case '0': f.zero = !f.minus; break;
        case '+': f.plus = true; break;
        case '-': f.minus = true; f.zero = false; break;
        case ' ': f.space = true; break;
        default: break flags;
      }
    }
    let good = argIndex();
    let afterIndex = good.found;
    if (format[i] === '*') {
      i++;
      const w = intArg();
      if (w === undefined) out += '%!(BADWIDTH)';
      else {
        f.wid = Math.abs(w);
        if (w < 0) {
          f.minus = true;
          f.zero = false;
        }
      }
      afterIndex = false;
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        f.wid = Number(m[0]);
        i += m[0].length;
        if (afterIndex) good = { ok: false, found: true }; // "%[3]2d" is malformed
      }
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) good = { ok: false, found: true };
      const g = argIndex();
      if (!g.ok) good = g;
      afterIndex = g.found;
      if (format[i] === '*') {
        i++;
        const p = intArg();
        if (p === undefined || p < 0) out += '%!(BADPREC)';
        else f.prec = p;
        afterIndex = false;
      } else {
        const m = /^\d*/.exec(format.slice(i))!;
        f.prec = m[0] === '' ? 0 : Number(m[0]);
        i += m[0].length;
      }
    }
    if (!afterIndex) {
      const g = argIndex();
      if (!g.ok) good = g;
    }
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const cp = format.codePointAt(i)!;
    const verb = String.fromCodePoint(cp);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!good.ok) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === 'v') {
      f.sharpV = f.sharp;
      f.sharp = false;
    }
    out += printArg(args[argNum], verb, f);
    argNum++;
  }
  if (!reordered && argNum < args.length) {
    const extra = args.slice(argNum).map((a) => (a === undefined || a === null ? '<nil>' : `${typeName(a)}=${formatValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}
