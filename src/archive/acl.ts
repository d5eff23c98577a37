// POSIX ACLs travel in two forms: the kernel's binary xattr
// (system.posix_acl_access / _default, what berth restores) and the text
// form GNU tar and star also write (SCHILY.acl.access / .default, with
// numeric ids under --numeric-owner). berth writes both, as GNU tar does, so
// `tar --acls` restores them too, and reads the text form when an archive
// carries only that.
export const ACL_ACCESS_XATTR = 'system.posix_acl_access';
export const ACL_DEFAULT_XATTR = 'system.posix_acl_default';

const VERSION = 2;
const TAGS: Array<[number, string]> = [
  [0x01, 'user'], // ACL_USER_OBJ
  [0x02, 'user'], // ACL_USER
  [0x04, 'group'], // ACL_GROUP_OBJ
  [0x08, 'group'], // ACL_GROUP
  [0x10, 'mask'],
  [0x20, 'other'],
];
const UNDEFINED_ID = 0xffffffff;

function perms(p: number): string {
  return (p & 4 ? 'r' : '-') + (p & 2 ? 'w' : '-') + (p & 1 ? 'x' : '-');
}

/** The text form of a binary ACL xattr, one entry per line; undefined when the value is not an ACL. */
export function aclXattrToText(value: Buffer): string | undefined {
  if (value.length < 4 || (value.length - 4) % 8 !== 0 || value.readUInt32LE(0) !== VERSION) return undefined;
  let out = '';
  for (let pos = 4; pos < value.length; pos += 8) {
    const tag = value.readUInt16LE(pos);
    const perm = value.readUInt16LE(pos + 2);
    const id = value.readUInt32LE(pos + 4);
    const name = TAGS.find(([t]) => t === tag)?.[1];
    if (name === undefined) return undefined;
    const qualifier = tag === 0x02 || tag === 0x08 ? String(id) : '';
    out += `${name}:${qualifier}:${perms(perm)}\n`;
  }
  return out;
}

/**
 * The binary xattr for an ACL in text form (entries separated by newlines
 * or commas); undefined when it names users or groups by name, which berth
 * does not resolve (archives are numeric-owner).
 */
export function aclTextToXattr(text: string): Buffer | undefined {
  const entries = text.split(/[\n,]/).map((s) => s.replace(/#.*$/, '').trim()).filter((s) => s !== '');
  const out = Buffer.alloc(4 + entries.length * 8);
  out.writeUInt32LE(VERSION, 0);
  let pos = 4;
  for (const entry of entries) {
    const m = /^(user|u|group|g|mask|m|other|o):([^:]*):([rwx-]{1,3})$/.exec(entry);
    if (!m) return undefined;
    const kind = m[1]![0];
    const qualifier = m[2]!;
    if (qualifier !== '' && !/^\d+$/.test(qualifier)) return undefined;
    let tag: number;
    if (kind === 'u') tag = qualifier === '' ? 0x01 : 0x02;
    else if (kind === 'g') tag = qualifier === '' ? 0x04 : 0x08;
    else if (kind === 'm') tag = 0x10;
    else tag = 0x20;
    const p = m[3]!;
    const perm = (p.includes('r') ? 4 : 0) | (p.includes('w') ? 2 : 0) | (p.includes('x') ? 1 : 0);
    out.writeUInt16LE(tag, pos);
    out.writeUInt16LE(perm, pos + 2);
    out.writeUInt32LE(qualifier === '' ? UNDEFINED_ID : Number(qualifier), pos + 4);
    pos += 8;
  }
  return out;
}
