import { InvalidParameter } from '../errors.js';

// docker/go-units RAMInBytes: binary multiples, optional "i"/"b" suffix.
const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

export function ramInBytes(s: string): number {
  const m = SIZE_RE.exec(s);
  if (!m) throw new InvalidParameter(`invalid size: '${s}'`);
  const value = Number.parseFloat(m[1]!);
  if (!Number.isFinite(value)) throw new InvalidParameter(`invalid size: '${s}'`);
  const unit = m[2]?.toLowerCase();
  return Math.trunc(value * (unit ? BINARY[unit]! : 1));
}
