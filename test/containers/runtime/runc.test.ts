// The runc wrapper against real containers: state/list/ps/kill/delete and
// exec (pipes, tty, detached, and under a shim).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnShim } from '../../../src/containers/runtime/shim-client.js';
import type { RuntimeProcess } from '../../../src/containers/runtime/process-io.js';
import { NotFound, Conflict } from '../../../src/errors.js';
import { RuntimeFixture, runtimeSkipReason, useRuntimeFixture, Output } from './helpers.js';

const skip = runtimeSkipReason() ?? false;
let fx: RuntimeFixture;

useRuntimeFixture(skip, (f) => (fx = f));

function drain(p: RuntimeProcess): Promise<{ stdout: string; stderr: string; code: number | null }> {
  let stdout = '';
  let stderr = '';
  p.onOutput((s, d) => {
    if (s === 'stdout') stdout += d.toString();
    else stderr += d.toString();
  });
  return p.exited.then((e) => ({ stdout, stderr, code: e.code }));
}

test('state, list, ps, kill --all and delete errors', { skip }, async (t) => {
  const { c, h } = await fx.shim(t, { args: ['sh', '-c', 'sleep 100 & sleep 100 & wait'] });
  const { pid } = await h.start();
  const st = await fx.runc.state(c.id);
  assert.equal(st.id, c.id);
  assert.equal(st.status, 'running');
  assert.equal(st.pid, pid);
  assert.equal(st.bundle, c.bundle);
  const list = await fx.runc.list();
  assert.ok(list.some((x) => x.id === c.id && x.status === 'running'));
  let pids: number[] = [];
  for (let i = 0; i < 50 && pids.length < 3; i++) {
    pids = await fx.runc.ps(c.id);
    if (pids.length < 3) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(pids.length, 3, `sh and two sleeps: ${pids.join(',')}`);
  assert.ok(pids.includes(pid));
  await assert.rejects(fx.runc.delete(c.id), Conflict);
  await fx.runc.kill(c.id, 'KILL', { all: true });
  assert.equal((await h.wait()).exitCode, 137);
  await assert.rejects(fx.runc.state(c.id), NotFound);
  await assert.rejects(fx.runc.kill(c.id, 'TERM'), NotFound);
  await assert.rejects(fx.runc.delete('berth-test-missing'), NotFound);
});

test('exec: pipes with stdin, a tty, detached, and a failing command', { skip }, async (t) => {
  const { c, h } = await fx.shim(t, { args: ['sleep', '100'] });
  await h.start();
  const base = { ...c.spec.process, terminal: false };

  const piped = await fx.runc.exec(c.id, { ...base, args: ['sh', '-c', 'cat; echo err >&2; exit 2'] });
  const pipedOut = drain(piped);
  piped.writeStdin(Buffer.from('via stdin\n'));
  piped.closeStdin();
  assert.deepEqual(await pipedOut, { stdout: 'via stdin\n', stderr: 'err\n', code: 2 });

  const tty = await fx.runc.exec(c.id, { ...base, terminal: true, args: ['sh', '-c', 'tty; stty size'] }, { height: 25, width: 90 });
  const ttyOut = await drain(tty);
  assert.equal(ttyOut.code, 0);
  assert.match(ttyOut.stdout, /^\/dev\/pts\/\d+\r\n25 90\r\n$/);

  const detached = await fx.runc.exec(c.id, { ...base, args: ['sleep', '50'] }, { detach: true });
  assert.ok(detached.pid > 0);
  assert.ok((await fx.runc.ps(c.id)).includes(detached.pid));

  const missing = await fx.runc.exec(c.id, { ...base, args: ['/nope'] });
  const missingOut = await drain(missing);
  assert.notEqual(missingOut.code, 0);

  await fx.runc.kill(c.id, 'KILL');
  assert.equal((await h.wait()).exitCode, 137);
  await assert.rejects(fx.runc.exec(c.id, { ...base, args: ['true'] }, { detach: true }), NotFound);
});

test('exec under a shim (docker exec -it): tty, stdin, resize, exit code', { skip }, async (t) => {
  const { c, h } = await fx.shim(t, { args: ['sleep', '100'] });
  await h.start();
  const execDir = join(c.stateDir, 'exec', 'e1');
  const ex = await spawnShim({
    id: c.id,
    mode: 'exec',
    stateDir: execDir,
    process: { ...c.spec.process, terminal: true, args: ['sh'], env: [...c.spec.process.env, 'TERM=xterm'] },
    runtime: fx.runc,
    tty: true,
    openStdin: true,
    consoleSize: { height: 20, width: 70 },
  });
  assert.equal(ex.logPath, null, 'exec output is not logged');
  const a = await ex.attach({ stdin: true });
  const out = new Output(a);
  const { pid } = await ex.start();
  assert.ok((await fx.runc.ps(c.id)).includes(pid));
  a.stdin!.write('stty size; echo $TERM\r');
  await out.waitFor(/20 70\r\nxterm\r\n/);
  await ex.resize(33, 99);
  for (let i = 0; i < 50 && !/33 99/.test(out.stdout); i++) {
    a.stdin!.write('stty size\r');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(out.stdout, /33 99\r\n/);
  a.stdin!.write('exit 9\r');
  assert.equal((await ex.wait()).exitCode, 9);
  // The container itself is unaffected.
  assert.equal((await fx.runc.state(c.id)).status, 'running');

  // An exec killed through its shim (the signal is forwarded by runc exec).
  const ex2 = await spawnShim({
    id: c.id,
    mode: 'exec',
    stateDir: join(c.stateDir, 'exec', 'e2'),
    process: { ...c.spec.process, args: ['sleep', '60'] },
    runtime: fx.runc,
  });
  await ex2.start();
  await ex2.kill('SIGKILL');
  assert.equal((await ex2.wait()).exitCode, 137);

  await fx.runc.kill(c.id, 'KILL');
  assert.equal((await h.wait()).exitCode, 137);
});
