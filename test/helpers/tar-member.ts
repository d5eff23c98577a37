// Hand-made tar members for tests that need archives no tool would write
// (hostile names, links out of the archive, members in a chosen order).
import { encodeMember, paddingFor, type TarMember } from '../../src/archive/tar/writer.js';

/** One member with its data and padding: a regular file 0644 owned 0:0 at mtime 0 unless `m` says otherwise. */
export function member(m: Omit<Partial<TarMember>, 'path'> & { path: string }, data = Buffer.alloc(0)): Buffer {
  const full: TarMember = { type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtimeNs: 0n, ...m, path: Buffer.from(m.path) };
  return Buffer.concat([encodeMember(full), data, Buffer.alloc(paddingFor(data.length))]);
}

/** A symlink or hard-link member. */
export function link(path: string, target: string, type: 'symlink' | 'hardlink' = 'symlink'): Buffer {
  return member({ path, type, linkpath: Buffer.from(target), size: 0 });
}
