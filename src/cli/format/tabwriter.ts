// Go's text/tabwriter as docker's CLI configures it for tables
// (NewWriter(out, 10, 1, 3, ' ', 0)), including docker's fork detail of
// measuring cells by terminal display width (go-runewidth) instead of runes.

export interface TabwriterOptions {
  /** Minimal cell width including padding. Docker: 10. */
  minwidth?: number;
  /** Padding added to the widest cell of a column. Docker: 3. */
  padding?: number;
}

interface Cell {
  text: string;
  width: number;
}

/**
 * Aligns tab-terminated cells into columns. A column is a block of
 * consecutive lines that all have a cell terminated in that position; the
 * text after a line's last tab is not part of any column and is not padded.
 * '\v' terminates a cell like '\t'; '\f' ends a line and every column block.
 */
export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const minwidth = opts.minwidth ?? 10;
  const padding = opts.padding ?? 3;

  const segments: Cell[][][] = [[]];
  let line: Cell[] = [];
  let cellStart = 0;
  const endCell = (i: number): void => {
    const t = text.slice(cellStart, i);
    line.push({ text: t, width: stringWidth(t) });
    cellStart = i + 1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\t' || c === '\v') endCell(i);
    else if (c === '\n' || c === '\f') {
      endCell(i);
      segments[segments.length - 1]!.push(line);
      line = [];
      if (c === '\f') segments.push([]);
    }
  }
  // Unterminated trailing text forms a cell only if it is non-empty.
  if (cellStart < text.length) endCell(text.length);
  segments[segments.length - 1]!.push(line);

  // Every line but the last was terminated by a line break ('\f' prints as '\n').
  return segments.flatMap((lines) => formatSegment(lines, minwidth, padding)).join('\n');
}

function formatSegment(lines: Cell[][], minwidth: number, padding: number): string[] {
  const widths = lines.map((l) => new Array<number>(Math.max(l.length - 1, 0)).fill(0));
  const maxCols = Math.max(0, ...lines.map((l) => l.length - 1));
  for (let c = 0; c < maxCols; c++) {
    let i = 0;
    while (i < lines.length) {
      if (lines[i]!.length - 1 <= c) {
        i++;
        continue;
      }
      let j = i;
      let w = minwidth;
      for (; j < lines.length && lines[j]!.length - 1 > c; j++) w = Math.max(w, lines[j]![c]!.width + padding);
      for (let k = i; k < j; k++) widths[k]![c] = w;
      i = j;
    }
  }
  return lines.map((cells, i) =>
    cells.map((cell, c) => (c < cells.length - 1 ? cell.text + ' '.repeat(widths[i]![c]! - cell.width) : cell.text)).join(''),
  );
}

// ---------------------------------------------------------------------------
// Display width (go-runewidth's StringWidth, non East-Asian-ambiguous mode)

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

// East Asian Wide/Fullwidth ranges and wide emoji.
const WIDE: readonly [number, number][] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0], [0x23f3, 0x23f3],
  [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f], [0x2693, 0x2693], [0x26a1, 0x26a1],
  [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5], [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea],
  [0x26f2, 0x26f3], [0x26f5, 0x26f5], [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b],
  [0x2728, 0x2728], [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55], [0x2e80, 0x303e],
  [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3],
  [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff], [0x1b000, 0x1b2ff], [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a], [0x1f200, 0x1f202], [0x1f210, 0x1f23b], [0x1f240, 0x1f248], [0x1f250, 0x1f251],
  [0x1f260, 0x1f265], [0x1f300, 0x1f320], [0x1f32d, 0x1f335], [0x1f337, 0x1f37c], [0x1f37e, 0x1f393],
  [0x1f3a0, 0x1f3ca], [0x1f3cf, 0x1f3d3], [0x1f3e0, 0x1f3f0], [0x1f3f4, 0x1f3f4], [0x1f3f8, 0x1f43e],
  [0x1f440, 0x1f440], [0x1f442, 0x1f4fc], [0x1f4ff, 0x1f53d], [0x1f54b, 0x1f54e], [0x1f550, 0x1f567],
  [0x1f57a, 0x1f57a], [0x1f595, 0x1f596], [0x1f5a4, 0x1f5a4], [0x1f5fb, 0x1f64f], [0x1f680, 0x1f6c5],
  [0x1f6cc, 0x1f6cc], [0x1f6d0, 0x1f6d2], [0x1f6d5, 0x1f6d7], [0x1f6dc, 0x1f6df], [0x1f6eb, 0x1f6ec],
  [0x1f6f4, 0x1f6fc], [0x1f7e0, 0x1f7eb], [0x1f7f0, 0x1f7f0], [0x1f90c, 0x1f93a], [0x1f93c, 0x1f945],
  [0x1f947, 0x1f9ff], [0x1fa70, 0x1faff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

const ZERO_WIDTH: readonly [number, number][] = [
  [0x070f, 0x070f], [0x180b, 0x180e], [0x200b, 0x200f], [0x2028, 0x202e], [0x2060, 0x206f],
  [0xd800, 0xdfff], [0xfeff, 0xfeff], [0xfff9, 0xfffb],
];

const MARK = /^[\p{Mn}\p{Me}]$/u;

function inRanges(cp: number, table: readonly [number, number][]): boolean {
  let lo = 0;
  let hi = table.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = table[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

function runeWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0xad) return 0;
  if (cp < 0x300) return 1;
  if (inRanges(cp, ZERO_WIDTH) || MARK.test(String.fromCodePoint(cp))) return 0;
  return inRanges(cp, WIDE) ? 2 : 1;
}

/** Terminal columns taken by s: per grapheme, the width of its first visible rune. */
export function stringWidth(s: string): number {
  if (/^[\x20-\x7e]*$/.test(s)) return s.length;
  let w = 0;
  for (const { segment } of segmenter.segment(s)) {
    for (const ch of segment) {
      const cw = runeWidth(ch.codePointAt(0)!);
      if (cw > 0) {
        w += cw;
        break;
      }
    }
  }
  return w;
}
