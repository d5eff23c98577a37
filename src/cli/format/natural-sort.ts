// github.com/fvbommel/sortorder's natural order, which `docker volume ls`
// sorts names by: digit runs compare numerically, everything else bytewise.
import { utf8Bytes } from '../../go/strconv.js';

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;

function lessBytes(s1: Uint8Array, s2: Uint8Array): boolean {
  let i1 = 0;
  let i2 = 0;
  while (i1 < s1.length && i2 < s2.length) {
    const c1 = s1[i1]!;
    const c2 = s2[i2]!;
    const d1 = isDigit(c1);
    const d2 = isDigit(c2);
    if (d1 !== d2) return d1; // the side whose text ended first (hit a digit) sorts first
    if (!d1) {
      if (c1 !== c2) return c1 < c2;
      i1++;
      i2++;
      continue;
    }
    while (s1[i1] === 0x30) i1++;
    while (s2[i2] === 0x30) i2++;
    const nz1 = i1;
    const nz2 = i2;
    while (isDigit(s1[i1])) i1++;
    while (isDigit(s2[i2])) i2++;
    const len1 = i1 - nz1;
    const len2 = i2 - nz2;
    if (len1 !== len2) return len1 < len2;
    for (let k = 0; k < len1; k++) {
      if (s1[nz1 + k] !== s2[nz2 + k]) return s1[nz1 + k]! < s2[nz2 + k]!;
    }
    // Equal values: fewer leading zeros first ("2" < "02").
    if (nz1 !== nz2) return nz1 < nz2;
  }
  return s1.length < s2.length;
}

/** sortorder.NaturalLess. */
export function naturalLess(a: string, b: string): boolean {
  return lessBytes(utf8Bytes(a), utf8Bytes(b));
}

/** Comparator for Array.prototype.sort: "v2" before "v10". */
export function naturalCompare(a: string, b: string): number {
  const ba = utf8Bytes(a);
  const bb = utf8Bytes(b);
  if (lessBytes(ba, bb)) return -1;
  return lessBytes(bb, ba) ? 1 : 0;
}
