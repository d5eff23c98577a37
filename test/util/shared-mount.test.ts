// The data root as a shared mount: a process started in a slave mount
// namespace (as docker cp's archive helpers are) sees mounts made under it
// afterwards, and their unmounts; berthd's own bind goes at release unless
// something is still mounted below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mount, readMountInfo, unmount } from '../../src/util/mount.js';
import { SharedMount } from '../../src/util/shared-mount.js';

function scratch(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-shared-'));
  t.after(async () => {
    for (const m of readMountInfo().filter((x) => x.mountPoint === dir || x.mountPoint.startsWith(`${dir}/`)).reverse()) await unmount(m.mountPoint, { lazy: true });
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A process in a mount namespace of its own, slave of ours; resolves once it is in it. */
async function slaveProcess(t: import('node:test').TestContext): Promise<number> {
  const child = spawn('unshare', ['--mount', '--propagation', 'slave', '--', 'sleep', '600'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid!;
  const ours = readlinkSync('/proc/self/ns/mnt');
  // unshare(1) execs sleep once the namespace is made.
  for (;;) {
    let comm = '';
    try {
      if (readlinkSync(`/proc/${pid}/ns/mnt`) !== ours) comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      // not started yet
    }
    if (comm === 'sleep') return pid;
    if (child.exitCode !== null) throw new Error(`unshare exited with ${child.exitCode}`);
    await new Promise((r) => setImmediate(r));
  }
}

const mountedIn = (pid: number, path: string) => readMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')).some((m) => m.mountPoint === path);

test('a slave namespace started before a mount under the shared root receives it, and its unmount', async (t) => {
  const dir = scratch(t);
  const shared = SharedMount.share(dir);
  const pid = await slaveProcess(t);
  const sub = join(dir, 'containers', 'abc', 'merged');
  mkdirSync(sub, { recursive: true });
  await mount('tmpfs', sub, 'tmpfs', 0, 'size=1m');
  assert.equal(mountedIn(pid, sub), true, 'the later mount reached the slave');
  await unmount(sub);
  assert.equal(mountedIn(pid, sub), false, 'the unmount reached the slave');
  shared.release();
  assert.equal(readMountInfo().some((m) => m.mountPoint === dir), false, 'the self-bind is gone');
});

test('a private directory does not propagate (the behaviour the shared root exists for)', async (t) => {
  const dir = scratch(t);
  // Private whatever the host's root is (systemd makes it shared).
  await mount(dir, dir, '', 0x1000, '', ['private']);
  const pid = await slaveProcess(t);
  const sub = join(dir, 'm');
  mkdirSync(sub);
  await mount('tmpfs', sub, 'tmpfs', 0, 'size=1m');
  assert.equal(mountedIn(pid, sub), false);
});

test('release keeps the bind while something is mounted below; a later share takes it over', async (t) => {
  const dir = scratch(t);
  const first = SharedMount.share(dir);
  const sub = join(dir, 'm');
  mkdirSync(sub);
  await mount('tmpfs', sub, 'tmpfs', 0, 'size=1m');
  first.release();
  const binds = () => readMountInfo().filter((m) => m.mountPoint === dir).length;
  assert.equal(binds(), 1, 'kept: a container rootfs is still mounted below');
  const second = SharedMount.share(dir);
  assert.equal(binds(), 1, 'taken over, not bound again');
  await unmount(sub);
  second.release();
  assert.equal(binds(), 0);
});
