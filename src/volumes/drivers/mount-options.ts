// How the local driver's `o=` option maps to mount(2) flags, the
// filesystem's data string and propagation (spec 3.2), as mount(8) and
// moby's mount package parse it; also Docker's error text ("flags: 0x1000").

const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_SYNCHRONOUS = 0x10;
const MS_REMOUNT = 0x20;
const MS_MANDLOCK = 0x40;
const MS_DIRSYNC = 0x80;
const MS_NOATIME = 0x400;
const MS_NODIRATIME = 0x800;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_RELATIME = 0x200000;
const MS_STRICTATIME = 0x1000000;

const FLAGS: Record<string, { clear: boolean; flag: number }> = {
  defaults: { clear: false, flag: 0 },
  ro: { clear: false, flag: MS_RDONLY },
  rw: { clear: true, flag: MS_RDONLY },
  suid: { clear: true, flag: MS_NOSUID },
  nosuid: { clear: false, flag: MS_NOSUID },
  dev: { clear: true, flag: MS_NODEV },
  nodev: { clear: false, flag: MS_NODEV },
  exec: { clear: true, flag: MS_NOEXEC },
  noexec: { clear: false, flag: MS_NOEXEC },
  sync: { clear: false, flag: MS_SYNCHRONOUS },
  async: { clear: true, flag: MS_SYNCHRONOUS },
  dirsync: { clear: false, flag: MS_DIRSYNC },
  remount: { clear: false, flag: MS_REMOUNT },
  mand: { clear: false, flag: MS_MANDLOCK },
  nomand: { clear: true, flag: MS_MANDLOCK },
  atime: { clear: true, flag: MS_NOATIME },
  noatime: { clear: false, flag: MS_NOATIME },
  diratime: { clear: true, flag: MS_NODIRATIME },
  nodiratime: { clear: false, flag: MS_NODIRATIME },
  bind: { clear: false, flag: MS_BIND },
  rbind: { clear: false, flag: MS_BIND | MS_REC },
  relatime: { clear: false, flag: MS_RELATIME },
  norelatime: { clear: true, flag: MS_RELATIME },
  strictatime: { clear: false, flag: MS_STRICTATIME },
  nostrictatime: { clear: true, flag: MS_STRICTATIME },
};

const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);

export interface ParsedMountOptions {
  flags: number;
  /** Tokens that are not flags: passed to the filesystem as its data string. */
  data: string;
  propagation: string[];
}

export function parseMountOptions(o: string): ParsedMountOptions {
  let flags = 0;
  const data: string[] = [];
  const propagation: string[] = [];
  for (const token of o.split(',')) {
    if (token === '') continue;
    const f = FLAGS[token];
    if (f) {
      flags = f.clear ? flags & ~f.flag : flags | f.flag;
    } else if (PROPAGATION.has(token)) {
      propagation.push(token);
    } else {
      data.push(token);
    }
  }
  return { flags, data: data.join(','), propagation };
}

/** moby/sys/mount's error text: "mount SRC:TARGET, flags: 0x..., data: ...: <errno text>". */
export function mountErrorText(source: string, target: string, parsed: ParsedMountOptions, cause: string): string {
  let out = 'mount ' + (source !== '' ? `${source}:${target}` : target);
  if (parsed.flags !== 0) out += `, flags: 0x${parsed.flags.toString(16)}`;
  if (parsed.data !== '') out += `, data: ${parsed.data}`;
  return `${out}: ${cause}`;
}
