// Test images imported into a test daemon from busybox-static tars.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxRootfs } from './busybox.js';
import { docker } from './run.js';

/**
 * Imports `busybox:latest` (VOLUME /data, with /data/image-file) and
 * `busybox:secret` (/secret mode 0750 owned 1000:1000 holding a file, and
 * /etc/app a file) into the daemon behind `env`.
 */
export async function importTestImages(env: NodeJS.ProcessEnv): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'berth-img-'));
  try {
    const root = buildBusyboxRootfs(join(work, 'rootfs'));
    mkdirSync(join(root, 'secret'));
    writeFileSync(join(root, 'secret', 'key'), 'image secret\n');
    chownSync(join(root, 'secret'), 1000, 1000);
    chmodSync(join(root, 'secret'), 0o750);
    writeFileSync(join(root, 'etc', 'app'), 'a file\n');
    const tarPath = join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', tarPath, '.']);
    for (const [ref, changes] of [
      ['busybox:latest', ['VOLUME /data', 'CMD ["sh"]']],
      ['busybox:secret', ['CMD ["sh"]']],
      ['busybox:filevol', ['VOLUME /etc/app', 'CMD ["sh"]']],
    ] as const) {
      const args = ['import'];
      for (const c of changes) args.push('-c', c);
      args.push(tarPath, ref);
      const r = await docker(env, ...args);
      if (r.code !== 0) throw new Error(`import ${ref} failed: ${r.stderr}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
