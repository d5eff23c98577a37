// docker/go-units (v0.5.0) size formatting and parsing, as the docker CLI
// prints sizes (`docker volume ls --format '{{.Size}}'`, `docker system df`)
// and both the CLI and dockerd parse them (`--shm-size 64m`, the local
// driver's `size` option). Errors are plain Errors with go-units' text;
// callers map them to their own error types.
import { formatFloat, parseGoFloat, utf8Length } from './strconv.js';

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'] as const;
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'] as const;

const KB = 1000;
const KiB = 1024;
const DECIMAL_MAP: Readonly<Record<string, number>> = { k: KB, m: KB ** 2, g: KB ** 3, t: KB ** 4, p: KB ** 5 };
const BINARY_MAP: Readonly<Record<string, number>> = { k: KiB, m: KiB ** 2, g: KiB ** 3, t: KiB ** 4, p: KiB ** 5 };

function sizeAndUnit(size: number, base: number, abbrs: readonly string[]): [number, string] {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return [size, abbrs[i]!];
}

/** Go's fmt `%.*g`: strconv's 'g' format; a negative precision means shortest, as in fmt. */
function formatG(x: number, precision: number): string {
  return formatFloat(x, 'g', precision < 0 ? -1 : precision);
}

/** go-units HumanSizeWithPrecision: decimal units, `%.<precision>g`. */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [s, unit] = sizeAndUnit(size, 1000, DECIMAL_ABBRS);
  return formatG(s, precision) + unit;
}

/** go-units HumanSize: 102400 → "102.4kB", 2e9 → "2GB". */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units, 1536 → "1.5KiB". */
export function bytesSize(size: number): string {
  const [s, unit] = sizeAndUnit(size, 1024, BINARY_ABBRS);
  return formatG(s, 4) + unit;
}

/** Go's int64(float64) on amd64: truncation; out of range gives MinInt64. */
function toInt64(x: number): number {
  if (!(Math.abs(x) < 2 ** 63)) return -(2 ** 63);
  return Math.trunc(x) || 0;
}

function parseSize(sizeStr: string, uMap: Readonly<Record<string, number>>): number {
  let sep = -1;
  for (let i = sizeStr.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(sizeStr[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${sizeStr}'`);
  const num = sizeStr[sep] === ' ' ? sizeStr.slice(0, sep) : sizeStr.slice(0, sep + 1);
  let sfx = sizeStr.slice(sep + 1);
  let size = parseGoFloat(num); // its error text is go-units' error text
  if (size < 0) throw new Error(`invalid size: '${sizeStr}'`);
  if (sfx.length === 0) return toInt64(size);

  const badSuffix = (): never => {
    throw new Error(`invalid suffix: '${sfx}'`);
  };
  if (utf8Length(sfx) > 3) badSuffix();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) badSuffix();
    return toInt64(size);
  }
  const mul = Object.prototype.hasOwnProperty.call(uMap, sfx[0]!) ? uMap[sfx[0]!] : undefined;
  if (mul === undefined) badSuffix();
  size *= mul!;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) badSuffix();
  return toInt64(size);
}

/** go-units FromHumanSize: decimal multiples ("44kB" → 44000). Throws on bad input. */
export function fromHumanSize(s: string): number {
  return parseSize(s, DECIMAL_MAP);
}

/** go-units RAMInBytes: binary multiples ("64m" → 67108864). Throws on bad input. */
export function ramInBytes(s: string): number {
  return parseSize(s, BINARY_MAP);
}
