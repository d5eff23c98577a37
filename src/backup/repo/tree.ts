// Tree blobs (docs/backup-format.md, "Trees"): one directory's entries with
// all the metadata a restore needs, in a binary encoding whose decoder
// refuses anything a restore could be misled by (names with '/', '..',
// unsorted or repeated names, extents outside the file).
import type { Extent } from '../../fs/extents.js';
import { ByteReader, ByteWriter } from './binary.js';
import { ID_BYTES } from './blob.js';

const TREE_VERSION = 1;
const KIND_BYTE = { directory: 0, root: 1 } as const;
export type TreeKind = keyof typeof KIND_BYTE;

export type NodeType = 'directory' | 'file' | 'symlink' | 'fifo' | 'chardev' | 'blockdev';
const TYPE_BYTE: Record<NodeType, number> = { directory: 1, file: 2, symlink: 3, fifo: 4, chardev: 5, blockdev: 6 };
const TYPES = Object.keys(TYPE_BYTE) as NodeType[];

export type FileChunking = { kind: 'cdc' } | { kind: 'fixed'; block: number };

export interface NodeBase {
  /** The entry's name (bytes); empty only for the root. */
  name: Buffer;
  /** Permission bits with setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  inode: bigint;
  links: number;
  /** Every xattr, sorted by name; values as bytes. */
  xattrs: Map<string, Buffer>;
}

export type DirectoryNode = NodeBase & { type: 'directory'; subtree: Buffer };
export type FileNode = NodeBase & {
  type: 'file';
  size: number;
  chunking: FileChunking;
  /** The data extents when the file has holes (none at all for a file that is one hole); undefined: one extent over the whole file. */
  extents?: Extent[];
  /** Blob IDs of the data, in order. */
  content: Buffer[];
};
export type SymlinkNode = NodeBase & { type: 'symlink'; target: Buffer };
export type FifoNode = NodeBase & { type: 'fifo' };
export type DeviceNode = NodeBase & { type: 'chardev' | 'blockdev'; major: number; minor: number };
export type TreeNode = DirectoryNode | FileNode | SymlinkNode | FifoNode | DeviceNode;

export interface Tree {
  kind: TreeKind;
  nodes: TreeNode[];
}

const MAX_NAME = 4096;
const MAX_XATTR_NAME = 255;
const MAX_XATTR_VALUE = 1 << 16;
const MAX_U32 = 0xffffffff;

/** The data extents of a file node: its holes left out. */
export function dataExtentsOf(n: FileNode): Extent[] {
  return n.extents ?? (n.size > 0 ? [{ offset: 0, length: n.size }] : []);
}

export function encodeTree(t: Tree): Buffer {
  const w = new ByteWriter(1024);
  w.u8(TREE_VERSION).u8(KIND_BYTE[t.kind]).uvarint(t.nodes.length);
  for (const n of t.nodes) {
    w.lengthPrefixed(n.name).u8(TYPE_BYTE[n.type]).uvarint(n.mode).uvarint(n.uid).uvarint(n.gid);
    w.svarint(n.mtimeNs).svarint(n.ctimeNs).uvarint(n.inode).uvarint(n.links);
    w.uvarint(n.xattrs.size);
    for (const [name, value] of n.xattrs) w.lengthPrefixed(Buffer.from(name, 'utf8')).lengthPrefixed(value);
    switch (n.type) {
      case 'directory':
        w.bytes(n.subtree);
        break;
      case 'file':
        w.uvarint(n.size).u8(n.chunking.kind === 'fixed' ? 1 : 0);
        if (n.chunking.kind === 'fixed') w.uvarint(n.chunking.block);
        w.u8(n.extents ? 1 : 0);
        if (n.extents) {
          w.uvarint(n.extents.length);
          for (const x of n.extents) w.uvarint(x.offset).uvarint(x.length);
        }
        w.uvarint(n.content.length);
        for (const id of n.content) w.bytes(id);
        break;
      case 'symlink':
        w.lengthPrefixed(n.target);
        break;
      case 'chardev':
      case 'blockdev':
        w.uvarint(n.major).uvarint(n.minor);
        break;
      case 'fifo':
        break;
    }
  }
  return w.finish();
}

/** Whether `name` may name a directory entry: not empty, ".", "..", no '/' or NUL. */
function isEntryName(name: Buffer): boolean {
  if (name.length === 0 || name.includes(0x2f) || name.includes(0)) return false;
  return !(name.length <= 2 && name.every((b) => b === 0x2e));
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function readXattrs(r: ByteReader): Map<string, Buffer> {
  const count = r.count(2, 'xattr count');
  const out = new Map<string, Buffer>();
  let previous: string | undefined;
  for (let i = 0; i < count; i++) {
    const raw = r.lengthPrefixed(MAX_XATTR_NAME, 'xattr name');
    let name: string;
    try {
      name = decoder.decode(raw);
    } catch {
      r.fail('an xattr name is not UTF-8');
    }
    if (name.length === 0 || name.includes('\0')) r.fail('an xattr name is empty or has NUL');
    if (previous !== undefined && !(previous < name)) r.fail('xattrs are not sorted by name');
    previous = name;
    out.set(name, Buffer.from(r.lengthPrefixed(MAX_XATTR_VALUE, 'xattr value')));
  }
  return out;
}

function readFile(r: ByteReader, base: NodeBase): FileNode {
  const size = r.uvarint(Number.MAX_SAFE_INTEGER, 'file size');
  const chunkingByte = r.u8();
  let chunking: FileChunking;
  if (chunkingByte === 0) chunking = CDC;
  else if (chunkingByte === 1) {
    const block = r.uvarint(1 << 30, 'block size');
    if (block < 1) r.fail('block size 0');
    chunking = { kind: 'fixed', block };
  } else r.fail(`unknown chunking ${chunkingByte}`);
  const sparse = r.u8();
  if (sparse > 1) r.fail(`unknown sparse flag ${sparse}`);
  let extents: Extent[] | undefined;
  if (sparse === 1) {
    const extentCount = r.count(2, 'extent count');
    extents = [];
    let end = 0;
    for (let i = 0; i < extentCount; i++) {
      const offset = r.uvarint(Number.MAX_SAFE_INTEGER, 'extent offset');
      const length = r.uvarint(Number.MAX_SAFE_INTEGER, 'extent length');
      if (length === 0 || offset < end || offset + length > size) r.fail('extents overlap, are empty or lie outside the file');
      extents.push({ offset, length });
      end = offset + length;
    }
  }
  const blobCount = r.count(ID_BYTES, 'blob count');
  const content: Buffer[] = new Array<Buffer>(blobCount);
  for (let i = 0; i < blobCount; i++) content[i] = Buffer.from(r.bytes(ID_BYTES));
  const dataLength = extents ? extents.reduce((n, x) => n + x.length, 0) : size;
  if (dataLength > 0 && content.length === 0) r.fail('a file with data has no blobs');
  const node = base as FileNode;
  node.type = 'file';
  node.size = size;
  node.chunking = chunking!;
  if (extents) node.extents = extents;
  node.content = content;
  return node;
}

const CDC: FileChunking = Object.freeze({ kind: 'cdc' });

/** A tree blob's content; RepositoryCorrupt naming `what` when it is not a valid tree. */
export function decodeTree(blob: Buffer, what: string): Tree {
  const r = new ByteReader(blob, what);
  const version = r.u8();
  if (version !== TREE_VERSION) r.fail(`tree version ${version} is not known`);
  const kindByte = r.u8();
  const kind = kindByte === KIND_BYTE.directory ? 'directory' : kindByte === KIND_BYTE.root ? 'root' : r.fail(`unknown tree kind ${kindByte}`);
  const count = r.count(12, 'node count');
  if (kind === 'root' && count !== 1) r.fail('a root tree must hold exactly one node');
  const nodes: TreeNode[] = [];
  let previous: Buffer | undefined;
  for (let i = 0; i < count; i++) {
    const name = Buffer.from(r.lengthPrefixed(MAX_NAME, 'name'));
    if (kind === 'root' ? name.length !== 0 : !isEntryName(name)) r.fail(`node name ${JSON.stringify(name.toString('latin1'))} is not allowed here`);
    if (previous && Buffer.compare(previous, name) >= 0) r.fail('names are not sorted or repeat');
    previous = name;
    const type = TYPES[r.u8() - 1];
    if (!type) r.fail('unknown node type');
    if (kind === 'root' && type !== 'directory') r.fail('the root node is not a directory');
    const base: NodeBase = {
      name,
      mode: r.uvarint(0o7777, 'mode'),
      uid: r.uvarint(MAX_U32, 'uid'),
      gid: r.uvarint(MAX_U32, 'gid'),
      mtimeNs: r.svarint(),
      ctimeNs: r.svarint(),
      inode: r.uvarintBig(),
      links: r.uvarint(MAX_U32, 'links'),
      xattrs: readXattrs(r),
    };
    // The node is the base object completed in place (no copies: a tree of thousands of nodes is decoded per directory walked).
    const n = base as TreeNode & Record<string, unknown>;
    switch (type) {
      case 'directory':
        n.type = type;
        n.subtree = Buffer.from(r.bytes(ID_BYTES));
        break;
      case 'file':
        readFile(r, base);
        break;
      case 'symlink': {
        const target = Buffer.from(r.lengthPrefixed(MAX_NAME, 'link target'));
        if (target.length === 0 || target.includes(0)) r.fail('a link target is empty or has NUL');
        n.type = type;
        n.target = target;
        break;
      }
      case 'chardev':
      case 'blockdev':
        n.type = type;
        n.major = r.uvarint(MAX_U32, 'major');
        n.minor = r.uvarint(MAX_U32, 'minor');
        break;
      case 'fifo':
        n.type = type;
        break;
    }
    nodes.push(n);
  }
  r.end();
  return { kind, nodes };
}
