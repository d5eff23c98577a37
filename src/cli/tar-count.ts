// Counts members and file-data bytes of a plain tar stream as it passes, for
// export progress (the daemon's totals count files and data bytes, not
// archive bytes). It only reads headers; the archive itself is checked by
// whoever extracts it.
const BLOCK = 512;

/** The numeric size field: octal, or GNU base-256 when the high bit is set. */
function parseSize(field: Buffer): number {
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** The `size` and `GNU.sparse.realsize` records of a PAX extended header, if any. */
function paxSizes(data: Buffer): { size?: number; realsize?: number } {
  let size: number | undefined;
  let realsize: number | undefined;
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.toString('latin1', pos, space), 10);
    if (!(len > 0)) break;
    const record = data.toString('latin1', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    if (key === 'size') size = Number(record.slice(eq + 1));
    else if (key === 'GNU.sparse.realsize') realsize = Number(record.slice(eq + 1));
    pos += len;
  }
  return { size, realsize };
}

export class TarCounter {
  files = 0;
  bytes = 0;
  private header = Buffer.alloc(0);
  /** Data (plus padding) still to skip of the current member. */
  private skip = 0;
  /** Collecting a PAX header's data: what is left of it, and what we have. */
  private paxLeft = 0;
  private pax: Buffer[] = [];
  private paxPadding = 0;
  private nextSize: number | undefined;
  /** A sparse file's apparent size: what the daemon's totals count for it. */
  private nextRealsize: number | undefined;

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.paxLeft > 0) {
        const n = Math.min(this.paxLeft, chunk.length - pos);
        this.pax.push(chunk.subarray(pos, pos + n));
        this.paxLeft -= n;
        pos += n;
        if (this.paxLeft === 0) {
          const sizes = paxSizes(Buffer.concat(this.pax));
          this.nextSize = sizes.size ?? this.nextSize;
          this.nextRealsize = sizes.realsize ?? this.nextRealsize;
          this.pax = [];
          this.skip = this.paxPadding;
        }
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        this.skip -= n;
        pos += n;
        continue;
      }
      const need = BLOCK - this.header.length;
      const take = chunk.subarray(pos, pos + need);
      pos += take.length;
      this.header = this.header.length === 0 ? Buffer.from(take) : Buffer.concat([this.header, take]);
      if (this.header.length < BLOCK) continue;
      this.onHeader(this.header);
      this.header = Buffer.alloc(0);
    }
  }

  private onHeader(h: Buffer): void {
    if (h.every((b) => b === 0)) return;
    const type = String.fromCharCode(h[156]!);
    const size = parseSize(h.subarray(124, 136));
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      this.paxLeft = size;
      this.paxPadding = padded - size;
      if (size === 0) this.skip = 0;
      return;
    }
    if (type === 'g' || type === 'L' || type === 'K') {
      this.skip = padded;
      return;
    }
    const stored = this.nextSize ?? size;
    const apparent = this.nextRealsize ?? stored;
    this.nextSize = undefined;
    this.nextRealsize = undefined;
    this.files++;
    // Only regular files (and contiguous/GNU sparse) carry data; a hard link's size is 0.
    if (type === '0' || type === '\0' || type === '7' || type === 'S') this.bytes += apparent;
    this.skip = Math.ceil(stored / BLOCK) * BLOCK;
  }
}
