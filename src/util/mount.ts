// mount(2)/umount2(2) through libc (util/libc.ts), and /proc/self/mountinfo.
// No mount(8) process: the callers parse their option strings into flags
// and data themselves (volumes/drivers/mount-options.ts), as dockerd does.
import { readFileSync } from 'node:fs';
import * as libc from './libc.js';
import { goErrnoText } from './go-errno.js';

export interface MountInfo {
  mountPoint: string;
  /** The directory of the filesystem mounted there (a bind of a directory onto itself names it). */
  root: string;
  fsType: string;
  source: string;
  options: string;
  superOptions: string;
}

function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/self/mountinfo (or the given text). */
export function readMountInfo(text = readFileSync('/proc/self/mountinfo', 'utf8')): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    out.push({
      mountPoint: unescapeMountField(l[4] ?? ''),
      root: unescapeMountField(l[3] ?? ''),
      options: l[5] ?? '',
      fsType: r[0] ?? '',
      source: unescapeMountField(r[1] ?? ''),
      superOptions: r[2] ?? '',
    });
  }
  return out;
}

export function mountsUnder(prefix: string): MountInfo[] {
  const p = prefix.endsWith('/') ? prefix : prefix + '/';
  return readMountInfo().filter((m) => m.mountPoint === prefix || m.mountPoint.startsWith(p));
}

export function isMountPoint(path: string): boolean {
  return readMountInfo().some((m) => m.mountPoint === path);
}

export class MountError extends Error {
  constructor(
    message: string,
    readonly errnoText: string,
  ) {
    super(message);
  }
}

const MS_REMOUNT = 0x20;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const PROPAGATION_FLAGS: Record<string, number> = {
  private: 0x40000,
  rprivate: 0x40000 | MS_REC,
  slave: 0x80000,
  rslave: 0x80000 | MS_REC,
  shared: 0x100000,
  rshared: 0x100000 | MS_REC,
  unbindable: 0x20000,
  runbindable: 0x20000 | MS_REC,
};


/**
 * mount(2) of `source` on `target` with `flags` and the filesystem's `data`
 * string; a bind mount with other flags (read-only, nosuid...) is made and
 * then remounted with them, as mount(8) does; `propagation` tokens
 * ("rprivate"...) are applied afterwards. Throws MountError with the errno text.
 */
export async function mount(source: string, target: string, fsType: string, flags: number, data = '', propagation: readonly string[] = []): Promise<void> {
  try {
    if ((flags & MS_BIND) !== 0) {
      libc.mount(source, target, null, flags & (MS_BIND | MS_REC), null);
      const rest = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
      if (rest !== 0) libc.mount(null, target, null, MS_REMOUNT | MS_BIND | rest, null);
    } else {
      libc.mount(source, target, fsType === '' ? null : fsType, flags, data === '' ? null : data);
    }
    for (const p of propagation) libc.mount(null, target, null, PROPAGATION_FLAGS[p] ?? 0, null);
  } catch (e) {
    const text = goErrnoText(e);
    throw new MountError(text, text);
  }
}

/** umount2(2); lazy detaches a busy mount. Not being mounted is not an error. */
export async function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  try {
    libc.umount2(target, opts.lazy ? libc.MNT_DETACH : 0);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EINVAL' || code === 'ENOENT') return;
    const text = goErrnoText(e);
    throw new MountError(`unmount ${target}: ${text}`, text);
  }
}
