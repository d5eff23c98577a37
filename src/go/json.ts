// encoding/json's Marshal over the value model of fmt.ts. Map keys are
// sorted like Go sorts them; zero-argument methods are marshalled under their
// name, which is what docker's formatter.MarshalJSON does for its contexts.
import { kindOf, typeName } from './fmt.js';
import { compareGoStrings, formatFloat } from './strconv.js';

/** Marks an object as a Go struct: json keeps its field order instead of sorting keys as for a map. */
export const GO_STRUCT = Symbol.for('berth.goStruct');

export function asStruct<T extends object>(o: T): T {
  Object.defineProperty(o, GO_STRUCT, { value: true, enumerable: false });
  return o;
}

export class JSONMarshalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JSONMarshalError';
  }
}

export interface MarshalOptions {
  /** Go's Encoder default; docker's `json` template func turns it off. */
  escapeHTML?: boolean;
}

const HEX = '0123456789abcdef';

function encodeString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c && !(escapeHTML && (c === 0x3c || c === 0x3e || c === 0x26))) {
        out += s[i];
        continue;
      }
      switch (c) {
        case 0x22: out += '\\"'; break;
        case 0x5c: out += '\\\\'; break;
        case 0x08: out += '\\b'; break;
        case 0x0c: out += '\\f'; break;
        case 0x0a: out += '\\n'; break;
        case 0x0d: out += '\\r'; break;
        case 0x09: out += '\\t'; break;
        default: out += '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
      }
      continue;
    }
    if (c === 0x2028 || c === 0x2029) {
      out += '\\u202' + HEX[c & 0xf];
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i]! + s[i + 1]!;
      i++;
      continue;
    }
    // A lone surrogate is invalid UTF-8 to Go, which writes U+FFFD.
    out += c >= 0xd800 && c <= 0xdfff ? '\\ufffd' : s[i];
  }
  return out + '"';
}

function encodeFloat(x: number): string {
  if (!Number.isFinite(x)) throw new JSONMarshalError(`json: unsupported value: ${formatFloat(x, 'g', -1)}`);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // Go writes e-07 then trims it to e-7.
    return formatFloat(x, 'e', -1).replace(/e([+-])0(\d)$/, 'e$1$2');
  }
  return formatFloat(x, 'f', -1);
}

/** Own enumerable entries plus zero-argument methods (own or inherited). */
function marshalEntries(obj: object): [string, unknown][] {
  const out = new Map<string, unknown>();
  for (let p: object | null = obj; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const k of Object.getOwnPropertyNames(p)) {
      // A class's `constructor` is no field; an object's own 'constructor' key is.
      if (out.has(k) || (k === 'constructor' && p !== obj)) continue;
      const desc = Object.getOwnPropertyDescriptor(p, k);
      if (!desc || !('value' in desc)) continue;
      const v: unknown = desc.value;
      if (typeof v === 'function') {
        if (v.length === 0) out.set(k, (v as () => unknown).call(obj));
        continue;
      }
      if (p === obj && desc.enumerable && v !== undefined) out.set(k, v);
    }
  }
  const entries = [...out.entries()];
  return GO_STRUCT in obj ? entries : entries.sort((a, b) => compareGoStrings(a[0], b[0]));
}

function encode(v: unknown, escapeHTML: boolean, seen: Set<object>): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
    case 'nilmap':
      return 'null';
    case 'bool':
      return v ? 'true' : 'false';
    case 'int':
      return String(v);
    case 'float':
      return encodeFloat(v as number);
    case 'string':
      return encodeString(v as string, escapeHTML);
    case 'func':
      throw new JSONMarshalError(`json: unsupported type: ${typeName(v)}`);
    case 'array':
    case 'map': {
      const o = v as object;
      if (seen.has(o)) throw new JSONMarshalError('json: unsupported value: encountered a cycle');
      seen.add(o);
      try {
        if (Array.isArray(o)) return '[' + o.map((e) => encode(e, escapeHTML, seen)).join(',') + ']';
        return '{' + marshalEntries(o).map(([k, e]) => encodeString(k, escapeHTML) + ':' + encode(e, escapeHTML, seen)).join(',') + '}';
      } finally {
        seen.delete(o);
      }
    }
  }
}

/** json.Marshal (compact, no trailing newline). Throws JSONMarshalError. */
export function marshalJSON(v: unknown, opts: MarshalOptions = {}): string {
  return encode(v, opts.escapeHTML ?? true, new Set());
}
