// The cgroup freezer written directly (what runc pause/resume do), on a real
// cgroup of the test's own with a real process in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { freeze, freezerOf, isFrozen, thaw, type Freezer } from '../../../src/containers/runtime/freezer.js';

test('freezerOf: the v1 freezer when runc names one (also in the hybrid layout), the unified cgroup on pure v2', () => {
  assert.deepEqual(freezerOf({ '': '/sys/fs/cgroup/unified/x', freezer: '/sys/fs/cgroup/freezer/x', pids: '/sys/fs/cgroup/pids/x' }), { version: 1, dir: '/sys/fs/cgroup/freezer/x' });
  assert.deepEqual(freezerOf({ '': '/sys/fs/cgroup/x' }), { version: 2, dir: '/sys/fs/cgroup/x' });
  assert.equal(freezerOf({ pids: '/sys/fs/cgroup/pids/x' }), null);
  assert.equal(freezerOf({}), null);
});

/** A cgroup of this test's own under the host's freezer (v1 if mounted, else v2). */
function testCgroup(): Freezer {
  const name = `berth-freezer-test-${process.pid}`;
  if (existsSync('/sys/fs/cgroup/freezer/freezer.state') || existsSync('/sys/fs/cgroup/freezer/cgroup.procs')) {
    const dir = join('/sys/fs/cgroup/freezer', name);
    mkdirSync(dir);
    return { version: 1, dir };
  }
  const dir = join('/sys/fs/cgroup', name);
  mkdirSync(dir);
  return { version: 2, dir };
}

test('freeze stops every process of the cgroup until thaw; a removed cgroup is an error', async (t) => {
  const f = testCgroup();
  // A busy process: the freezer has to stop it where it runs.
  const child = spawn('sh', ['-c', 'i=0; while :; do i=$((i+1)); echo $i > /dev/null; done'], { stdio: 'ignore' });
  t.after(async () => {
    if (isFrozen(f)) await thaw(f);
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    rmdirSync(f.dir);
  });
  await once(child, 'spawn');
  writeFileSync(join(f.dir, 'cgroup.procs'), String(child.pid));
  await freeze(f);
  // FROZEN (v1) or "frozen 1" (v2) is the kernel saying every task of the cgroup has stopped.
  assert.equal(isFrozen(f), true);
  await freeze(f);
  assert.equal(isFrozen(f), true, 'freezing a frozen cgroup is a no-op');
  await thaw(f);
  assert.equal(isFrozen(f), false);
  const missing: Freezer = { version: f.version, dir: `${f.dir}-missing` };
  await assert.rejects(freeze(missing), { code: 'ENOENT' });
});
