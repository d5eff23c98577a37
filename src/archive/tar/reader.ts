// A small streaming tar reader, the reading half of berth's one tar codec
// (images, docker cp, volumes). No third-party tar library: node-tar's
// Unpack drops PAX xattrs, and we want every write decision (whiteouts,
// symlink parents, hardlink targets) in our own code. The reader only
// parses; it never touches the filesystem.
//
// Supported: ustar/POSIX (prefix field), GNU long names ('L'/'K'), PAX
// per-entry ('x') and global ('g') headers including SCHILY.xattr.* and
// LIBARCHIVE.xattr.*, base-256 numeric fields, gzip input (detected by magic),
// names as raw bytes (non-UTF-8 names survive), nanosecond mtimes, GNU sparse
// files in the PAX 1.0 and 0.1 formats, and the SCHILY.acl.* text records.
import { createHash, type Hash } from 'node:crypto';
import { fstatSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidParameter } from '../../errors.js';

export type TarEntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'chardev'
  | 'blockdev'
  | 'directory'
  | 'fifo';

export interface TarHeader {
  /** Path exactly as stored (after PAX/GNU long-name resolution). */
  path: string;
  type: TarEntryType;
  /** Raw typeflag character, for error messages. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkpath: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX records (name → raw value). */
  xattrs: Map<string, Buffer>;
  /** `path` and `linkpath` as the archive's bytes (the strings above decode them as UTF-8, lossily). */
  pathBytes: Buffer;
  linkpathBytes: Buffer;
  /** mtime in nanoseconds since the epoch (PAX mtime keeps nine decimals). */
  mtimeNs: bigint;
  /** For a sparse file: where its data lies; `size` is then the file's real size and body() yields the extents' data in order. */
  sparse?: Array<{ offset: number; length: number }>;
  /** POSIX ACLs in text form (SCHILY.acl.access / .default), as GNU tar and star write them. */
  acls?: { access?: string; default?: string };
}

const BLOCK = 512;

/** Exact-size reads over an async iterable of chunks. */
export class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  /** Bytes of the input consumed so far (read, streamed or skipped). */
  consumed = 0;
  private readonly it: AsyncIterator<Buffer | string | Uint8Array>;

  constructor(source: AsyncIterable<Buffer | string | Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** The source's next chunk as a Buffer, or null (and `ended`) at its end. */
  private async nextChunk(): Promise<Buffer | null> {
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return null;
    }
    const v = r.value;
    return Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }

  private async fill(min: number): Promise<void> {
    while (this.length < min && !this.ended) {
      const b = await this.nextChunk();
      if (b !== null && b.length > 0) {
        this.chunks.push(b);
        this.length += b.length;
      }
    }
  }

  private take(n: number): Buffer {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.chunks[0]!;
      if (head.length <= need) {
        out.push(head);
        this.chunks.shift();
        need -= head.length;
      } else {
        out.push(head.subarray(0, need));
        this.chunks[0] = head.subarray(need);
        need = 0;
      }
    }
    this.length -= n;
    this.consumed += n;
    return out.length === 1 ? out[0]! : Buffer.concat(out, n);
  }

  /** Up to `n` bytes without consuming them. */
  async peek(n: number): Promise<Buffer> {
    await this.fill(n);
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length ? [all] : [];
    return all.subarray(0, Math.min(n, all.length));
  }

  /** Exactly `n` bytes; null at a clean end of input; throws on a short read. */
  async read(n: number): Promise<Buffer | null> {
    await this.fill(n);
    if (this.length === 0 && n > 0) return null;
    if (this.length < n) throw new InvalidParameter('unexpected end of archive');
    return this.take(n);
  }

  /** Yields exactly `n` bytes as chunks; throws on a short read. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.length === 0) await this.fill(1);
      if (this.length === 0) throw new InvalidParameter('unexpected end of archive');
      const head = this.chunks[0]!;
      const k = Math.min(head.length, left);
      yield this.take(k);
      left -= k;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) void _;
  }

  /** Everything left, as it arrives. */
  async *rest(): AsyncGenerator<Buffer> {
    while (this.chunks.length > 0) {
      const c = this.chunks.shift()!;
      this.length -= c.length;
      yield c;
    }
    while (!this.ended) {
      const b = await this.nextChunk();
      if (b !== null && b.length > 0) yield b;
    }
  }

  /** Consumes everything left (e.g. the zero padding after the end-of-archive). */
  async drain(): Promise<void> {
    this.chunks = [];
    this.length = 0;
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
    }
  }
}

const nothing = async function* (): AsyncGenerator<Buffer> {};

/** How much a FileByteReader reads ahead for header blocks: a header, its PAX records, and often the next member's. */
const HEADER_WINDOW = 4 << 10;

/**
 * The same reads over a regular file, by position: skipping costs nothing,
 * and a member's data can be left where it is (TarEntry.dataAt) for the
 * caller to copy file to file.
 */
export class FileByteReader extends ByteReader {
  private position: number;
  private readonly size: number;

  /** Reads `fd` from `start` (its current offset, for a descriptor someone else opened). */
  constructor(
    readonly fd: number,
    private readonly start: number,
  ) {
    super(nothing());
    this.position = start;
    this.size = fstatSync(fd).size;
  }

  /** Where the next read starts, in the file. */
  get offset(): number {
    return this.position;
  }

  private left(): number {
    return Math.max(0, this.size - this.position);
  }

  private pread(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let got = 0; got < n; ) {
      const k = readSync(this.fd, b, got, n - got, this.position + got);
      if (k === 0) throw new InvalidParameter('unexpected end of archive');
      got += k;
    }
    return b;
  }

  /** The last read-ahead of header blocks: `window` holds the file's bytes from `windowAt`. */
  private window: Buffer = Buffer.alloc(0);
  private windowAt = 0;
  /** Windows are cut from a larger slab, never reused: what read() returned stays valid, and few buffers are made. */
  private slab: Buffer = Buffer.alloc(0);
  private slabUsed = 0;

  private windowSpace(n: number): Buffer {
    if (this.slab.length - this.slabUsed < n) {
      this.slab = Buffer.allocUnsafe(Math.max(n, 64 * HEADER_WINDOW));
      this.slabUsed = 0;
    }
    const w = this.slab.subarray(this.slabUsed, this.slabUsed + n);
    this.slabUsed += n;
    return w;
  }

  /**
   * `n` bytes at the position, for headers: served from a read-ahead window
   * (a member's header blocks, and the next ones after a small member, take
   * one read instead of one each). Data goes through `pread`, or stays in
   * the file.
   */
  private preadHeader(n: number): Buffer {
    if (n > HEADER_WINDOW) return this.pread(n);
    const at = this.position - this.windowAt;
    if (at < 0 || at + n > this.window.length) {
      const w = this.windowSpace(Math.min(HEADER_WINDOW, this.left()));
      let got = 0;
      while (got < w.length) {
        const k = readSync(this.fd, w, got, w.length - got, this.position + got);
        if (k === 0) break;
        got += k;
      }
      this.window = w.subarray(0, got);
      this.windowAt = this.position;
      if (got < n) throw new InvalidParameter('unexpected end of archive');
      return this.window.subarray(0, n);
    }
    return this.window.subarray(at, at + n);
  }

  override async peek(n: number): Promise<Buffer> {
    return this.pread(Math.min(n, this.left()));
  }

  override async read(n: number): Promise<Buffer | null> {
    if (this.left() === 0 && n > 0) return null;
    if (this.left() < n) throw new InvalidParameter('unexpected end of archive');
    const b = this.preadHeader(n);
    this.position += n;
    this.consumed = this.position - this.start;
    return b;
  }

  override async *stream(n: number): AsyncGenerator<Buffer> {
    if (this.left() < n) throw new InvalidParameter('unexpected end of archive');
    for (let done = 0; done < n; ) {
      const k = Math.min(1 << 20, n - done);
      const b = this.pread(k);
      this.position += k;
      this.consumed = this.position - this.start;
      done += k;
      yield b;
    }
  }

  override async skip(n: number): Promise<void> {
    if (this.left() < n) throw new InvalidParameter('unexpected end of archive');
    this.position += n;
    this.consumed = this.position - this.start;
  }

  override async *rest(): AsyncGenerator<Buffer> {
    yield* this.stream(this.left());
  }

  override async drain(): Promise<void> {
    this.position = Math.max(this.position, this.size);
    this.consumed = this.position - this.start;
  }
}

async function* hashing(source: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

export interface OpenedStream {
  /** Decompressed bytes. */
  reader: ByteReader;
  /** sha256 of the decompressed bytes, complete once `reader` is drained. */
  digest(): string;
  compressed: 'gzip' | 'none';
}

/**
 * Wraps a byte stream: detects gzip by magic, decompresses, and hashes the
 * decompressed bytes (a layer's diff_id is the sha256 of the uncompressed tar).
 */
export async function openMaybeCompressed(source: AsyncIterable<Buffer | string | Uint8Array>): Promise<OpenedStream> {
  const raw = new ByteReader(source);
  const magic = await raw.peek(6);
  const hash = createHash('sha256');
  let compressed: 'gzip' | 'none' = 'none';
  let plain: AsyncIterable<Buffer>;
  const rawChunks = (): AsyncGenerator<Buffer> => raw.rest();
  if (magic.length >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
    compressed = 'gzip';
    const gunzip = createGunzip();
    const src = Readable.from(rawChunks());
    src.on('error', (e) => gunzip.destroy(e));
    src.pipe(gunzip);
    plain = (async function* () {
      try {
        for await (const c of gunzip) yield c as Buffer;
      } catch (e) {
        // zlib failures mean bad input; anything else (the source failing) passes through.
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (code.startsWith('Z_')) throw new InvalidParameter(`invalid gzip stream: ${(e as Error).message}`, { cause: e });
        throw e;
      }
    })();
  } else if (magic.length >= 3 && magic[0] === 0x42 && magic[1] === 0x5a && magic[2] === 0x68) {
    throw new InvalidParameter('unsupported compression: bzip2 (use a plain or gzip tar)');
  } else if (magic.length >= 6 && magic.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw new InvalidParameter('unsupported compression: xz (use a plain or gzip tar)');
  } else if (magic.length >= 4 && magic.readUInt32LE(0) === 0xfd2fb528) {
    throw new InvalidParameter('unsupported compression: zstd (use a plain or gzip tar)');
  } else {
    plain = rawChunks();
  }
  return {
    reader: new ByteReader(hashing(plain, hash)),
    digest: () => 'sha256:' + hash.copy().digest('hex'),
    compressed,
  };
}

function cbytes(buf: Buffer, start: number, len: number): Buffer {
  const slice = buf.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return Buffer.from(nul === -1 ? slice : slice.subarray(0, nul));
}

/** A PAX time ("1700000000.123456789", maybe negative) in nanoseconds; undefined when malformed. */
export function parsePaxTime(s: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return undefined;
  const frac = (m[3] ?? '').slice(0, 9).padEnd(9, '0');
  const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt(frac);
  return m[1] ? -ns : ns;
}

/** Reads the sparse map at the start of a PAX 1.0 sparse member's data; returns it and the bytes it took (whole blocks). */
async function readSparseMap(reader: ByteReader, path: string): Promise<{ map: Array<{ offset: number; length: number }>; consumed: number }> {
  let text = '';
  let consumed = 0;
  const numbers: number[] = [];
  let count = -1;
  while (count < 0 || numbers.length < 2 * count) {
    const block = await reader.read(BLOCK);
    if (block === null) throw new InvalidParameter('unexpected end of archive');
    consumed += BLOCK;
    text += block.toString('latin1');
    const lines = text.split('\n');
    text = lines.pop()!;
    for (const line of lines) {
      if (!/^\d+$/.test(line)) throw new InvalidParameter(`invalid sparse map for tar entry ${path}`);
      if (count < 0) count = Number(line);
      else numbers.push(Number(line));
      if (count >= 0 && numbers.length >= 2 * count) break;
    }
    if (consumed > MAX_META) throw new InvalidParameter(`sparse map too large for tar entry ${path}`);
  }
  return { map: pairs(numbers, path), consumed };
}

function pairs(numbers: number[], path: string): Array<{ offset: number; length: number }> {
  const map: Array<{ offset: number; length: number }> = [];
  let end = 0;
  for (let i = 0; i + 1 < numbers.length; i += 2) {
    const offset = numbers[i]!;
    const length = numbers[i + 1]!;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < end) {
      throw new InvalidParameter(`invalid sparse map for tar entry ${path}`);
    }
    map.push({ offset, length });
    end = offset + length;
  }
  return map;
}

function numeric(buf: Buffer, start: number, len: number): number {
  const f = buf.subarray(start, start + len);
  if (f[0]! & 0x80) {
    // base-256 (GNU): big-endian two's complement with the top bit as marker.
    let v = 0;
    const negative = (f[0]! & 0x40) !== 0;
    for (let i = 0; i < f.length; i++) {
      let byte = f[i]!;
      if (i === 0) byte &= 0x7f;
      if (negative) byte = ~byte & 0xff;
      v = v * 256 + byte;
    }
    if (negative) v = -(v + 1);
    if (!Number.isSafeInteger(v)) throw new InvalidParameter('tar numeric field out of range');
    return v;
  }
  // The usual field: octal digits, then NUL or spaces up to a NUL or the end.
  let v = 0;
  let i = 0;
  for (; i < f.length; i++) {
    const c = f[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  let j = i;
  while (j < f.length && f[j] === 0x20) j++;
  if (j === f.length || f[j] === 0) return v;
  const s = f.toString('latin1').replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new InvalidParameter(`invalid tar numeric field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function checksumOk(block: Buffer): boolean {
  let stored: number;
  try {
    stored = numeric(block, 148, 8);
  } catch {
    return false; // not even a number: not a header
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b >= 0x80 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Parses PAX records ("<len> <key>=<value>\n"); values stay raw bytes. */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const sp = data.indexOf(0x20, pos);
    if (sp === -1) throw new InvalidParameter('invalid PAX header');
    const len = Number(data.subarray(pos, sp).toString('latin1'));
    if (!Number.isInteger(len) || len <= sp - pos || pos + len > data.length) {
      throw new InvalidParameter('invalid PAX header record length');
    }
    const rec = data.subarray(sp + 1, pos + len);
    const eq = rec.indexOf(0x3d);
    if (eq === -1 || rec[rec.length - 1] !== 0x0a) throw new InvalidParameter('invalid PAX header record');
    const key = rec.subarray(0, eq).toString('utf8');
    const value = rec.subarray(eq + 1, rec.length - 1);
    out.set(key, Buffer.from(value));
    pos += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'directory',
  '6': 'fifo',
};

export interface TarEntry {
  header: TarHeader;
  /** The entry's content (regular files); must be consumed before the next entry or it is skipped. */
  body(): AsyncGenerator<Buffer>;
  /** With a FileByteReader: where the content lies in the archive file (read it there instead of through body()). */
  dataAt?: { fd: number; offset: number };
}

const MAX_META = 16 * 1024 * 1024;
const NO_RECORDS: ReadonlyMap<string, Buffer> = new Map();

/**
 * Iterates the entries of a tar stream. Stops at the end-of-archive marker; the
 * caller should `reader.drain()` afterwards if it needs the whole stream hashed.
 */
export async function* readTar(reader: ByteReader, opts: { requireEnd?: boolean } = {}): AsyncGenerator<TarEntry> {
  let globalPax = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | null = null;
  let gnuLongPath: Buffer | null = null;
  let gnuLongLink: Buffer | null = null;
  let first = true;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block === null) {
      if (first) throw new InvalidParameter('empty archive');
      // EOF without the end marker: GNU tar accepts it; an import must not, a cut at a member boundary looks whole.
      if (opts.requireEnd) throw new InvalidParameter('unexpected end of archive: no end-of-archive marker (truncated?)');
      return;
    }
    first = false;
    if (block.every((b) => b === 0)) return;
    if (!checksumOk(block)) throw new InvalidParameter('invalid tar header (bad checksum): archive is corrupt or not a tar');
    const typeflag = String.fromCharCode(block[156]!);
    let size = numeric(block, 124, 12);
    const magic = block.subarray(257, 263).toString('latin1');
    const isUstar = magic === 'ustar\0';

    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META) throw new InvalidParameter('tar metadata header too large');
      const data = (await reader.read(size)) ?? Buffer.alloc(0);
      if (data.length < size) throw new InvalidParameter('unexpected end of archive');
      await reader.skip((BLOCK - (size % BLOCK)) % BLOCK);
      if (typeflag === 'x') pax = parsePax(data);
      else if (typeflag === 'g') globalPax = new Map([...globalPax, ...parsePax(data)]);
      else {
        const nul = data.indexOf(0);
        const s = Buffer.from(nul === -1 ? data : data.subarray(0, nul));
        if (typeflag === 'L') gnuLongPath = s;
        else gnuLongLink = s;
      }
      continue;
    }

    const type = TYPES[typeflag];
    let pathBytes = cbytes(block, 0, 100);
    if (isUstar) {
      const prefix = cbytes(block, 345, 155);
      if (prefix.length > 0) pathBytes = Buffer.concat([prefix, Buffer.from('/'), pathBytes]);
    }
    let linkpathBytes = cbytes(block, 157, 100);
    let uid = numeric(block, 108, 8);
    let gid = numeric(block, 116, 8);
    let mtimeNs = BigInt(numeric(block, 136, 12)) * 1_000_000_000n;
    const xattrs = new Map<string, Buffer>();
    let acls: { access?: string; default?: string } | undefined;
    if (gnuLongPath !== null) pathBytes = gnuLongPath;
    if (gnuLongLink !== null) linkpathBytes = gnuLongLink;
    const records = globalPax.size === 0 ? (pax ?? NO_RECORDS) : new Map([...globalPax, ...(pax ?? [])]);
    let sparseMajor: string | undefined;
    let sparseMinor: string | undefined;
    let sparseName: Buffer | undefined;
    let sparseRealSize: number | undefined;
    let sparseMap01: string | undefined;
    for (const [k, v] of records) {
      const s = (): string => v.toString('utf8');
      if (k === 'path') pathBytes = v;
      else if (k === 'linkpath') linkpathBytes = v;
      else if (k === 'size') size = Number(s());
      else if (k === 'uid') uid = Number(s());
      else if (k === 'gid') gid = Number(s());
      else if (k === 'mtime') mtimeNs = parsePaxTime(s()) ?? mtimeNs;
      else if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
      else if (k.startsWith('LIBARCHIVE.xattr.')) {
        xattrs.set(decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(s(), 'base64'));
      } else if (k === 'SCHILY.acl.access') (acls ??= {}).access = s();
      else if (k === 'SCHILY.acl.default') (acls ??= {}).default = s();
      else if (k === 'GNU.sparse.major') sparseMajor = s();
      else if (k === 'GNU.sparse.minor') sparseMinor = s();
      else if (k === 'GNU.sparse.name') sparseName = v;
      else if (k === 'GNU.sparse.realsize' || k === 'GNU.sparse.size') sparseRealSize = Number(s());
      else if (k === 'GNU.sparse.map') sparseMap01 = s();
    }
    pax = null;
    const path = pathBytes.toString('utf8');
    const linkpath = linkpathBytes.toString('utf8');
    let sparse: Array<{ offset: number; length: number }> | undefined;
    let sparseMapBytes = 0;
    if (type === 'file' && (sparseMajor !== undefined || sparseMap01 !== undefined)) {
      if (sparseRealSize === undefined || !Number.isSafeInteger(sparseRealSize) || sparseRealSize < 0) {
        throw new InvalidParameter(`invalid sparse size for tar entry ${path}`);
      }
      if (sparseMajor === '1' && sparseMinor === '0') {
        const read = await readSparseMap(reader, path);
        sparse = read.map;
        sparseMapBytes = read.consumed;
      } else if (sparseMap01 !== undefined) {
        sparse = pairs(sparseMap01 === '' ? [] : sparseMap01.split(',').map(Number), path);
      } else {
        throw new InvalidParameter(`unsupported GNU sparse format ${sparseMajor}.${sparseMinor ?? '?'} for tar entry ${path}`);
      }
      const last = sparse[sparse.length - 1];
      if (last && last.offset + last.length > sparseRealSize) throw new InvalidParameter(`invalid sparse map for tar entry ${path}`);
      if (sparseName !== undefined) pathBytes = sparseName;
    }
    gnuLongPath = null;
    gnuLongLink = null;
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidParameter(`invalid size for tar entry ${path}`);
    if (!Number.isSafeInteger(uid) || uid < 0 || !Number.isSafeInteger(gid) || gid < 0) {
      throw new InvalidParameter(`invalid owner for tar entry ${path}`);
    }
    const mtime = new Date(Number(mtimeNs / 1_000_000n));

    if (type === undefined) {
      throw new InvalidParameter(`unsupported tar entry type ${JSON.stringify(typeflag)} for ${path}`);
    }
    const storedData = type === 'file' || type === 'hardlink' || type === 'symlink' || type === 'directory' ? size - sparseMapBytes : 0;
    if (storedData < 0) throw new InvalidParameter(`invalid sparse map for tar entry ${path}`);
    if (sparse && sparse.reduce((n, e) => n + e.length, 0) !== storedData) {
      throw new InvalidParameter(`sparse map does not match the data of tar entry ${path}`);
    }
    const header: TarHeader = {
      path: sparse ? pathBytes.toString('utf8') : path,
      type,
      typeflag,
      mode: numeric(block, 100, 8) & 0o7777,
      uid,
      gid,
      // Links, devices, dirs and fifos carry no data even if size is set (hardlinks in some writers do).
      size: sparse ? sparseRealSize! : size,
      mtime,
      linkpath,
      devmajor: numeric(block, 329, 8),
      devminor: numeric(block, 337, 8),
      xattrs,
      pathBytes,
      linkpathBytes,
      mtimeNs,
      ...(sparse ? { sparse } : {}),
      ...(acls ? { acls } : {}),
    };
    const dataSize = storedData;
    let consumed = false;
    let started = false;
    const body = async function* (): AsyncGenerator<Buffer> {
      if (started) throw new Error('tar entry body read twice');
      started = true;
      yield* reader.stream(dataSize);
      consumed = true;
    };
    yield reader instanceof FileByteReader ? { header, body, dataAt: { fd: reader.fd, offset: reader.offset } } : { header, body };
    if (!consumed) {
      if (started) throw new Error('tar entry body abandoned mid-stream');
      await reader.skip(dataSize);
    }
    await reader.skip((BLOCK - (dataSize % BLOCK)) % BLOCK);
  }
}
