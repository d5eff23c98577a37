// Tar member headers in the POSIX (PAX) format, as GNU tar 1.34 writes with
// --format=posix --xattrs --acls --numeric-owner -S: a ustar header,
// preceded by an 'x' extended header whenever a field does not fit ustar
// (long or non-ASCII names, large ids or sizes, nanosecond mtimes, xattrs
// with binary values, ACLs, sparse maps). Names stay bytes end to end.
// The writer only encodes; callers stream the data and the padding.
import { isUtf8 as validUtf8 } from 'node:buffer';
import type { TarEntryType } from './reader.js';

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

export interface TarMember {
  /** The member name as bytes, e.g. "./dir/file" (directories without the trailing slash). */
  path: Buffer;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow (files; 0 for everything else). For a sparse file: its real size. */
  size: number;
  mtimeNs: bigint;
  linkpath?: Buffer;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
  acls?: { access?: string; default?: string };
  /** Data extents of a sparse file (PAX sparse 1.0): only these bytes follow, in order. */
  sparse?: Array<{ offset: number; length: number }>;
}

const TYPEFLAGS: Record<TarEntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  blockdev: '4',
  directory: '5',
  fifo: '6',
};

const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1');
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

export function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function isPlainAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function isUtf8(b: Buffer): boolean {
  return b.length === 0 || validUtf8(b);
}

/** One PAX record: "<length> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.byteLength(key) + value.length + 3;
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function paxTime(ns: bigint): string {
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const sec = abs / 1_000_000_000n;
  const frac = abs % 1_000_000_000n;
  const s = frac === 0n ? String(sec) : `${sec}.${String(frac).padStart(9, '0').replace(/0+$/, '')}`;
  return neg ? `-${s}` : s;
}

/** `value` as width-1 octal digits and a NUL (callers keep it in range). */
function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  let v = Math.max(0, value);
  block[offset + width - 1] = 0;
  for (let i = offset + width - 2; i >= offset; i--) {
    block[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

/** Splits a name into ustar prefix/name fields; undefined when it does not fit. */
function ustarSplit(path: Buffer): { prefix: Buffer; name: Buffer } | undefined {
  if (path.length <= 100) return { prefix: Buffer.alloc(0), name: path };
  for (let i = Math.min(path.length - 1, 155); i > 0; i--) {
    if (path[i] === 0x2f && path.length - i - 1 <= 100 && path.length - i - 1 > 0) {
      return { prefix: path.subarray(0, i), name: path.subarray(i + 1) };
    }
  }
  return undefined;
}

function basename(path: Buffer): Buffer {
  const i = path.lastIndexOf(0x2f, path.length - 2);
  return path.subarray(i + 1);
}

function dirnameOf(path: Buffer): Buffer {
  const i = path.lastIndexOf(0x2f, path.length - 2);
  return i <= 0 ? Buffer.from('.') : path.subarray(0, i);
}

function ustarHeader(fields: {
  name: Buffer;
  prefix: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  typeflag: string;
  linkname: Buffer;
  devmajor: number;
  devminor: number;
}): Buffer {
  // From the pool (a zero-filled alloc() would be a buffer of its own each time).
  const b = Buffer.allocUnsafe(BLOCK).fill(0);
  fields.name.copy(b, 0, 0, Math.min(100, fields.name.length));
  writeOctal(b, 100, 8, fields.mode & 0o7777);
  writeOctal(b, 108, 8, fields.uid > MAX_OCTAL_8 ? 0 : fields.uid);
  writeOctal(b, 116, 8, fields.gid > MAX_OCTAL_8 ? 0 : fields.gid);
  writeOctal(b, 124, 12, fields.size > MAX_OCTAL_12 ? 0 : fields.size);
  writeOctal(b, 136, 12, fields.mtimeSec > MAX_OCTAL_12 || fields.mtimeSec < 0 ? 0 : fields.mtimeSec);
  b[156] = fields.typeflag.charCodeAt(0);
  fields.linkname.copy(b, 157, 0, Math.min(100, fields.linkname.length));
  USTAR_MAGIC.copy(b, 257);
  writeOctal(b, 329, 8, fields.devmajor);
  writeOctal(b, 337, 8, fields.devminor);
  fields.prefix.copy(b, 345, 0, Math.min(155, fields.prefix.length));
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  writeOctal(b, 148, 7, sum);
  b[155] = 0x20;
  return b;
}

/** The sparse map as PAX sparse 1.0 stores it before the data: decimal lines, padded to whole blocks. */
function sparseMapBlocks(map: Array<{ offset: number; length: number }>): Buffer {
  const text = [String(map.length), ...map.flatMap((e) => [String(e.offset), String(e.length)])].join('\n') + '\n';
  const out = Buffer.alloc(text.length + paddingFor(text.length));
  out.write(text, 0, 'latin1');
  return out;
}

/** A regular file with at least this much data gets it aligned (encodeMember's `at`). */
export const ALIGN_DATA_FROM = 1 << 20;
/** The filesystem block size that reflinks (FICLONERANGE, copy_file_range) need both offsets aligned to. */
const DATA_ALIGNMENT = 4096;
/** The shortest record that pads: "12 comment=\n". */
const MIN_PADDING_RECORD = 12;

/** A "comment" record (POSIX: "ignored by pax") of exactly `total` bytes. */
function paddingRecord(total: number): Buffer {
  const value = total - String(total).length - ' comment=\n'.length;
  return Buffer.from(`${total} comment=${'aligns the data below to 4 KiB'.padEnd(value).slice(0, value)}\n`, 'latin1');
}

/** Rounds up to whole blocks. */
const blocks = (n: number): number => n + paddingFor(n);

/**
 * The header blocks of one member: an optional PAX 'x' header with its
 * records, the ustar header, and for a sparse file its map. The member's
 * data (`dataLength(member)` bytes) and `paddingFor` that length follow.
 *
 * With `at`, the member's offset in the archive: the data of a regular
 * (not sparse) file of ALIGN_DATA_FROM bytes or more is made to start on a
 * 4 KiB boundary, by a PAX comment record of the right length, so that
 * copying it between an archive file and a file on a filesystem with
 * reflinks shares the blocks instead of copying them (export and import on
 * XFS or btrfs). Readers ignore the record (GNU tar, bsdtar, Go's
 * archive/tar, this codec).
 */
export function encodeMember(m: TarMember, at?: number): Buffer {
  const records: Buffer[] = [];
  const isDir = m.type === 'directory';
  let name = isDir && m.path[m.path.length - 1] !== 0x2f ? Buffer.concat([m.path, Buffer.from('/')]) : m.path;
  const linkname = m.linkpath ?? Buffer.alloc(0);
  const sparseMap = m.type === 'file' && m.sparse ? sparseMapBlocks(m.sparse) : undefined;
  const stored = dataLength(m);
  const headerSize = sparseMap ? sparseMap.length + stored : stored;

  if (sparseMap) {
    records.push(paxRecord('GNU.sparse.major', Buffer.from('1')));
    records.push(paxRecord('GNU.sparse.minor', Buffer.from('0')));
    records.push(paxRecord('GNU.sparse.name', m.path));
    records.push(paxRecord('GNU.sparse.realsize', Buffer.from(String(m.size))));
    // Readers without sparse support extract the raw member under this name, as with GNU tar.
    name = Buffer.concat([dirnameOf(m.path), Buffer.from('/GNUSparseFile.0/'), basename(m.path)]);
  }
  let split = isPlainAscii(name) ? ustarSplit(name) : undefined;
  if (!split) {
    if (!sparseMap) records.push(paxRecord('path', m.path));
    split = { prefix: Buffer.alloc(0), name: name.subarray(0, 100) };
  }
  if (linkname.length > 100 || !isPlainAscii(linkname)) records.push(paxRecord('linkpath', linkname));
  // POSIX: names that are not UTF-8 are flagged, so readers (bsdtar) take them as bytes instead of failing to convert.
  if (!isUtf8(m.path) || !isUtf8(linkname)) records.unshift(paxRecord('hdrcharset', Buffer.from('BINARY')));
  if (m.uid > MAX_OCTAL_8) records.push(paxRecord('uid', Buffer.from(String(m.uid))));
  if (m.gid > MAX_OCTAL_8) records.push(paxRecord('gid', Buffer.from(String(m.gid))));
  if (headerSize > MAX_OCTAL_12) records.push(paxRecord('size', Buffer.from(String(headerSize))));
  const mtimeSec = Number(m.mtimeNs / 1_000_000_000n);
  if (m.mtimeNs % 1_000_000_000n !== 0n || m.mtimeNs < 0n || mtimeSec > MAX_OCTAL_12) {
    records.push(paxRecord('mtime', Buffer.from(paxTime(m.mtimeNs))));
  }
  if (m.acls?.access !== undefined) records.push(paxRecord('SCHILY.acl.access', Buffer.from(m.acls.access)));
  if (m.acls?.default !== undefined) records.push(paxRecord('SCHILY.acl.default', Buffer.from(m.acls.default)));
  for (const [k, v] of m.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${k}`, v));

  const ustar = ustarHeader({
    name: split.name,
    prefix: split.prefix,
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
    size: headerSize,
    mtimeSec,
    typeflag: TYPEFLAGS[m.type],
    linkname: linkname.subarray(0, 100),
    devmajor: m.devmajor ?? 0,
    devminor: m.devminor ?? 0,
  });
  if (at !== undefined && m.type === 'file' && !sparseMap && stored >= ALIGN_DATA_FROM) {
    const dataAt = (paxBytes: number): number => at + (paxBytes > 0 ? BLOCK + blocks(paxBytes) : 0) + BLOCK;
    let length = records.reduce((n, r) => n + r.length, 0);
    if (dataAt(length) % DATA_ALIGNMENT !== 0) {
      let padded = blocks(length + MIN_PADDING_RECORD);
      while (dataAt(padded) % DATA_ALIGNMENT !== 0) padded += BLOCK;
      records.push(paddingRecord(padded - length));
      length = padded;
    }
  }
  const parts: Buffer[] = [];
  if (records.length > 0) {
    const data = Buffer.concat(records);
    const paxName = Buffer.concat([Buffer.from('./PaxHeaders/'), basename(m.path)]).subarray(0, 100);
    parts.push(
      ustarHeader({
        name: isPlainAscii(paxName) ? paxName : Buffer.from('./PaxHeaders/entry'),
        prefix: Buffer.alloc(0),
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: data.length,
        mtimeSec: Math.max(0, Math.min(mtimeSec, MAX_OCTAL_12)),
        typeflag: 'x',
        linkname: Buffer.alloc(0),
        devmajor: 0,
        devminor: 0,
      }),
      data,
      Buffer.alloc(paddingFor(data.length)),
    );
  }
  parts.push(ustar);
  if (sparseMap) parts.push(sparseMap);
  return Buffer.concat(parts);
}

/** Bytes of data that follow a member's header: a file's content, or a sparse file's data extents. */
export function dataLength(m: TarMember): number {
  if (m.type !== 'file') return 0;
  return m.sparse ? m.sparse.reduce((n, e) => n + e.length, 0) : m.size;
}

/** The padding after a member's data, so the next header starts on a block. */
export function memberPadding(m: TarMember): number {
  // The sparse map is itself whole blocks, so only the data decides.
  return paddingFor(dataLength(m));
}
