// unmount(): every mount stacked on a path goes, umount2 alone telling when
// none is left; a path that is not mounted (or missing) is no error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmount } from '../../src/images/overlay.js';
import * as libc from '../../src/util/libc.js';

const mountsAt = (p: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === p).length;

for (const inBackground of [false, true]) {
  test(`unmount${inBackground ? ' (first unmount on the thread pool)' : ''} takes off stacked mounts and is a no-op after`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-unmount-'));
    const target = join(dir, 'rootfs');
    mkdirSync(target);
    t.after(() => {
      for (let i = 0; i < 4 && mountsAt(target) > 0; i++) libc.umount2(target, libc.MNT_DETACH);
      rmSync(dir, { recursive: true, force: true });
    });
    libc.mount('tmpfs', target, 'tmpfs', 0, 'size=1m');
    libc.mount('tmpfs', target, 'tmpfs', 0, 'size=1m');
    assert.equal(mountsAt(target), 2);
    await unmount(target, { inBackground });
    assert.equal(mountsAt(target), 0);
    await unmount(target, { inBackground });
    await unmount(join(dir, 'missing'), { inBackground });
  });
}
