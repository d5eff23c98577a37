// The shim on a full disk: an exit status it cannot write down is still
// reported to waiters, kept while it waits for room, and written then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnShim, connectShim, readExitStatus, isShimAlive } from '../../../src/containers/runtime/shim-client.js';
import { RuntimeFixture, runtimeSkipReason, useRuntimeFixture } from './helpers.js';

const skip = runtimeSkipReason() ?? false;
let fx: RuntimeFixture;

useRuntimeFixture(skip, (f) => (fx = f));

/** Waits until `cond` holds, checking every 50 ms; fails after `timeoutMs`. */
async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('an exit status the full disk refuses is still reported, survives reconnecting, and is written once there is room', { skip, timeout: 120_000 }, async (t) => {
  let stateDir = '';
  // Registered first so it runs before the fixture deletes the container's directory.
  t.after(() => {
    if (!stateDir) return;
    try {
      const pid = Number(readFileSync(join(stateDir, 'shim.pid'), 'utf8').trim());
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shim-main')) process.kill(pid, 'SIGKILL');
    } catch {
      /* not running */
    }
    execFileSync('umount', ['-l', stateDir]);
  });
  const c = fx.container(t, { args: ['sleep', '100'] });
  // The state dir on a filesystem of its own, to be filled.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', c.stateDir]);
  stateDir = c.stateDir;
  const h = await spawnShim({ id: c.id, stateDir: c.stateDir, bundle: c.bundle, runtime: fx.runc, logPath: null });
  await h.start();
  const filler = join(c.stateDir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));
  } catch {
    // ENOSPC: full, as wanted
  }
  await fx.runc.kill(c.id, 'SIGKILL');
  const exit = await h.wait();
  assert.equal(exit.exitCode, 137);
  assert.equal(await readExitStatus(c.stateDir), null, 'exit.json could not be written');
  const status = await h.status();
  assert.equal(status.state, 'exited');
  assert.equal(status.exit?.exitCode, 137);
  // As a restarted berthd finds it.
  const again = await connectShim(c.stateDir);
  assert.equal((await again.wait()).exitCode, 137);
  rmSync(filler);
  await waitFor(async () => (await readExitStatus(c.stateDir)) !== null && !(await isShimAlive(c.stateDir)), 'exit.json and the shim to finish');
  assert.equal((await readExitStatus(c.stateDir))?.exitCode, 137);
});
