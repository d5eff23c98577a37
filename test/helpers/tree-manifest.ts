// A full manifest of a directory tree for exact comparisons: type, mode, ids,
// size, mtime in ns, xattrs (hex, via getfattr), hard-link groups, allocated
// size class for sparse files, and a content hash.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type Stats, chownSync, closeSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { dataExtents } from '../../src/fs/extents.js';
import { join } from 'node:path';

export interface Entry {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: string;
  xattrs: Record<string, string>;
  /** The first path (in walk order) of this entry's hard-link group, for files with nlink > 1. */
  linkGroup?: string;
  /** Whether the file has fewer allocated blocks than its size: a sparse file. */
  sparse?: boolean;
  content?: string;
  rdev?: string;
}

function typeOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

/** getfattr's dump of every xattr (all namespaces, links not followed), by path relative to root. */
function xattrDump(root: string): Map<string, Record<string, string>> {
  const out = execFileSync('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '.'], { cwd: root, encoding: 'latin1', maxBuffer: 1 << 28 });
  const byPath = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = {};
      byPath.set(line.slice(8), current);
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=');
      current[line.slice(0, eq)] = line.slice(eq + 1);
    } else if (current && line.trim() !== '') current[line.trim()] = '';
  }
  return byPath;
}

/** getfattr prints names with octal escapes for bytes outside printable ASCII. */
function getfattrName(rel: Buffer): string {
  let s = '';
  for (const b of rel) s += b >= 0x21 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
  return s;
}

export function manifest(root: string): Entry[] {
  const xattrs = xattrDump(root);
  const entries: Entry[] = [];
  const groups = new Map<string, string>();
  const walk = (rel: Buffer): void => {
    const abs = rel.length === 0 ? Buffer.from(root) : Buffer.concat([Buffer.from(`${root}/`), rel]);
    const st = lstatSync(abs, { bigint: true });
    const path = rel.length === 0 ? '.' : rel.toString('latin1');
    const type = typeOf(lstatSync(abs));
    const e: Entry = {
      path,
      type,
      mode: (st.mode & 0o7777n).toString(8),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: type === 'dir' ? 0 : Number(st.size),
      mtimeNs: st.mtimeNs.toString(),
      xattrs: xattrs.get(rel.length === 0 ? '.' : getfattrName(rel)) ?? {},
    };
    if (type === 'file') {
      e.content = createHash('sha256').update(readFileSync(abs)).digest('hex');
      e.sparse = st.blocks * 512n < st.size;
      if (st.nlink > 1n) {
        const key = st.ino.toString();
        if (!groups.has(key)) groups.set(key, path);
        e.linkGroup = groups.get(key);
      }
    }
    if (type === 'symlink') e.content = readlinkSync(abs, { encoding: 'buffer' }).toString('latin1');
    if (type === 'char' || type === 'block') e.rdev = st.rdev.toString();
    entries.push(e);
    if (type === 'dir') {
      const names = readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare);
      for (const n of names) walk(rel.length === 0 ? n : Buffer.concat([rel, Buffer.from('/'), n]));
    }
  };
  walk(Buffer.alloc(0));
  return entries;
}

/** The manifest plus each file's data extents (where its holes are). */
export function fullManifest(root: string): Array<Entry & { extents?: string }> {
  return manifest(root).map((e) => {
    if (e.type !== 'file') return e;
    const abs = e.path === '.' ? root : Buffer.concat([Buffer.from(`${root}/`), Buffer.from(e.path, 'latin1')]);
    const fd = openSync(abs, 'r');
    try {
      return { ...e, extents: JSON.stringify(dataExtents(fd, e.size)) };
    } finally {
      closeSync(fd);
    }
  });
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * Builds the fidelity fixture (needs root): every file type, setuid/setgid/sticky,
 * ids above 65535, xattrs of every namespace with binary and empty values, an ACL,
 * a capability, two hard-link groups with equal content, a sparse file, a
 * non-UTF-8 name and link target, long names and a deep path, ns mtimes.
 */
export function buildFixture(root: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'plain'), 'plain content\n');
  writeFileSync(join(root, 'suid'), '#!/bin/sh\n');
  chmodSync(join(root, 'suid'), 0o4755);
  chownSync(join(root, 'suid'), 70000, 70001);
  mkdirSync(join(root, 'sgid-dir'));
  chmodSync(join(root, 'sgid-dir'), 0o2775);
  mkdirSync(join(root, 'sticky'));
  chmodSync(join(root, 'sticky'), 0o1777);
  for (const g of ['a', 'b']) {
    writeFileSync(join(root, `group-${g}-1`), 'same content in both groups\n');
    linkSync(join(root, `group-${g}-1`), join(root, `group-${g}-2`));
  }
  symlinkSync('/nonexistent/target', join(root, 'dangling'));
  symlinkSync(Buffer.from([0x74, 0xff, 0xfe]).toString('latin1'), join(root, 'odd-link'));
  sh('mkfifo', [join(root, 'fifo')]);
  sh('mknod', [join(root, 'null-dev'), 'c', '1', '3']);
  sh('mknod', [join(root, 'blk-dev'), 'b', '7', '200']);
  sh('truncate', ['-s', '64M', join(root, 'sparse')]);
  sh('dd', ['if=/dev/urandom', `of=${join(root, 'sparse')}`, 'bs=4096', 'count=2', 'seek=256', 'conv=notrunc', 'status=none']);
  writeFileSync(Buffer.from(`${root}/name-\xff\xfe-latin1`, 'latin1'), 'not utf-8\n');
  let deep = root;
  for (let i = 0; i < 12; i++) deep = join(deep, `level-${i}-${'x'.repeat(40)}`);
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, `${'long-name-'.repeat(20)}.txt`), 'deep\n');
  writeFileSync(join(root, 'xattrs'), 'x\n');
  sh('setfattr', ['-n', 'user.empty', join(root, 'xattrs')]);
  sh('setfattr', ['-n', 'user.binary', '-v', '0x00ff10ff00', join(root, 'xattrs')]);
  sh('setfattr', ['-n', 'trusted.berth', '-v', 'trusted-value', join(root, 'xattrs')]);
  sh('setfacl', ['-m', 'u:1000:rwx,g:2000:r-x', join(root, 'xattrs')]);
  sh('setfacl', ['-d', '-m', 'u:1000:rwx', join(root, 'sgid-dir')]);
  sh('setcap', ['cap_net_raw+ep', join(root, 'plain')]);
  sh('setfattr', ['-n', 'user.root', '-v', 'root-attr', root]);
  chownSync(root, 1234, 5678);
  chmodSync(root, 0o750);
  // Mtimes last, deepest first, so no later change bumps them.
  const stamp = (p: string, ns: string) => sh('touch', ['-h', '-d', `2021-03-04 05:06:07.${ns}`, p]);
  stamp(join(root, 'dangling'), '111111111');
  stamp(join(root, 'plain'), '123456789');
  for (let p = deep; p.length > root.length; p = join(p, '..')) stamp(p, '222222222');
  stamp(root, '987654321');
}
