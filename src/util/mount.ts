// mount(2)/umount(2) through util-linux: Node has no binding for them, and
// mount(8) parses the same option tokens the local driver accepts.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface MountInfo {
  mountPoint: string;
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

// Turn mount(8)'s prose back into the errno text Go would print.
function errnoFromMountOutput(out: string): string {
  const s = out.toLowerCase();
  if (s.includes('does not exist') || s.includes('no such file')) return 'no such file or directory';
  if (s.includes('unknown filesystem type')) return 'no such device';
  if (s.includes('permission denied')) return 'permission denied';
  if (s.includes('not a directory')) return 'not a directory';
  if (s.includes('must be superuser') || s.includes('operation not permitted')) return 'operation not permitted';
  if (s.includes('special device') && s.includes('does not exist')) return 'no such file or directory';
  if (s.includes('wrong fs type') || s.includes('bad option') || s.includes('bad superblock')) return 'invalid argument';
  return out.trim().replace(/^mount: /, '') || 'mount failed';
}

export async function mount(source: string, target: string, fsType: string, options: string): Promise<void> {
  const args = ['-n'];
  if (fsType !== '') args.push('-t', fsType);
  if (options !== '') args.push('-o', options);
  args.push(source, target);
  try {
    await execFileAsync('mount', args);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const text = errnoFromMountOutput(err.stderr ?? err.message);
    throw new MountError(text, text);
  }
}

export async function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  const args = ['-n'];
  if (opts.lazy) args.push('-l');
  args.push(target);
  try {
    await execFileAsync('umount', args);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const out = err.stderr ?? err.message;
    if (/not mounted|no mount point/i.test(out)) return;
    throw new MountError(`unmount ${target}: ${out.trim()}`, out.trim());
  }
}
