// Test images come from Debian's busybox-static: nothing is pulled from a
// registry. buildBusyboxRootfs() lays out a minimal root filesystem and
// busyboxTar() packs it the way `docker export` would.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, symlinkSync, copyFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const BUSYBOX = '/bin/busybox';

export function requireBusybox(): void {
  if (!existsSync(BUSYBOX)) {
    throw new Error(`${BUSYBOX} missing: install Debian's busybox-static (apt-get install busybox-static)`);
  }
}

/** Builds a busybox root filesystem into `dir` (created if missing). */
export function buildBusyboxRootfs(dir: string): string {
  requireBusybox();
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var', 'home', 'data']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'busybox') continue;
    const link = join(dir, 'bin', applet);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\nuser:x:1000:1000:user:/home:/bin/sh\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\nuser:x:1000:\n');
  writeFileSync(join(dir, 'data', 'image-file'), 'from the image\n');
  return dir;
}

/** A tar of a busybox rootfs (as `docker export` writes), at a fresh temp path. */
export function busyboxTar(outDir?: string): string {
  const work = mkdtempSync(join(tmpdir(), 'berth-busybox-'));
  try {
    const root = buildBusyboxRootfs(join(work, 'rootfs'));
    const out = join(outDir ?? mkdtempSync(join(tmpdir(), 'berth-busybox-tar-')), 'busybox.tar');
    execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', out, '.']);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
