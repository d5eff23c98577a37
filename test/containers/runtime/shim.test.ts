// The shim with real runc containers: stdio, logs, exit codes, signals, stop,
// stdin, TTY, attach semantics, and surviving the death of its spawner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import {
  spawnShim,
  connectShim,
  readExitStatus,
  isShimAlive,
  stopContainer,
  type SpawnShimOptions,
} from '../../../src/containers/runtime/shim-client.js';
import { readLogs } from '../../../src/containers/runtime/json-log.js';
import type { SpecInput } from '../../../src/containers/runtime/oci-spec.js';
import { InvalidParameter, Conflict } from '../../../src/errors.js';
import { RuntimeFixture, runtimeSkipReason, useRuntimeFixture, Output, readLogFile } from './helpers.js';

const skip = runtimeSkipReason() ?? false;
let fx: RuntimeFixture;

useRuntimeFixture(skip, (f) => (fx = f));

const shimFor = (t: TestContext, input: Partial<SpecInput> & { args: string[] }, opts: Partial<SpawnShimOptions> = {}) =>
  fx.shim(t, input, opts);
const runToExit = (t: TestContext, input: Partial<SpecInput> & { args: string[] }, opts: Partial<SpawnShimOptions> = {}) =>
  fx.run(t, input, opts);

test('stdout and stderr reach attach clients and the json-file log with their stream', { skip }, async (t) => {
  const r = await runToExit(t, { args: ['sh', '-c', 'echo to-out; echo to-err >&2; printf partial'] });
  assert.equal(r.exit.exitCode, 0);
  assert.equal(r.stdout, 'to-out\npartial');
  assert.equal(r.stderr, 'to-err\n');
  const byStream = (s: string) => r.logs.filter((l) => l.stream === s).map((l) => l.log);
  assert.deepEqual(byStream('stdout'), ['to-out\n', 'partial']);
  assert.deepEqual(byStream('stderr'), ['to-err\n']);
  for (const l of r.logs) assert.match(l.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
  // The shim is gone after the exit, the socket removed, the runc container deleted by runc itself.
  assert.equal(await isShimAlive(r.c.stateDir), false);
  assert.equal(existsSync(join(r.c.stateDir, 'shim.sock')), false);
  assert.deepEqual(fx.leftovers(), []);
});

test('the exit code is propagated (sh -c "exit 3" -> 3) and exit.json is written', { skip }, async (t) => {
  const r = await runToExit(t, { args: ['sh', '-c', 'exit 3'] });
  assert.equal(r.exit.exitCode, 3);
  assert.equal(r.exit.oomKilled, false);
  assert.equal(r.exit.signal, undefined);
  assert.ok(r.exit.finishedAt && r.exit.startedAt && r.exit.pid);
  const onDisk = await readExitStatus(r.c.stateDir);
  assert.deepEqual(onDisk, r.exit);
});

test('a container killed with SIGKILL exits 137', { skip }, async (t) => {
  const { c, h } = await shimFor(t, { args: ['sleep', '100'] });
  const { pid } = await h.start();
  assert.ok(pid > 0);
  const st = await fx.runc.state(c.id);
  assert.equal(st.status, 'running');
  assert.equal(st.pid, pid);
  await fx.runc.kill(c.id, 'SIGKILL');
  const exit = await h.wait();
  assert.equal(exit.exitCode, 137);
  assert.equal(exit.signal, 'SIGKILL');
});

test('stop: SIGTERM honoured by a trap exits cleanly; an init ignoring it is killed after the timeout', { skip }, async (t) => {
  const trap = await shimFor(t, { args: ['sh', '-c', "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.1; done"] });
  const out = new Output(await trap.h.attach({}));
  await trap.h.start();
  await out.waitFor(/ready/);
  const e1 = await stopContainer(trap.h, fx.runc, { timeoutSec: 10 });
  assert.equal(e1.exitCode, 0);
  assert.match((await out.done).stdout, /bye/);

  // A container that notes SIGTERM and keeps running: stop sends SIGTERM
  // first and SIGKILL once the timeout has passed.
  const stubborn = await shimFor(t, { args: ['sh', '-c', "trap 'echo got-term' TERM; echo ready; while true; do sleep 0.1; done"] });
  const stubbornOut = new Output(await stubborn.h.attach({}));
  await stubborn.h.start();
  await stubbornOut.waitFor(/ready/);
  const e2 = await stopContainer(stubborn.h, fx.runc, { timeoutSec: 2 });
  assert.equal(e2.exitCode, 137);
  assert.match((await stubbornOut.done).stdout, /got-term/, 'SIGTERM came before SIGKILL');

  // Stopping an exited container just returns its status.
  const again = await stopContainer(stubborn.h, fx.runc, { timeoutSec: 1 });
  assert.equal(again.exitCode, 137);
});

test('SIGTERM to the shim is forwarded (through runc) to the container', { skip }, async (t) => {
  const { h } = await shimFor(t, { args: ['sh', '-c', "trap 'echo got-term; exit 0' TERM; echo ready; while true; do sleep 0.1; done"] });
  const out = new Output(await h.attach({}));
  await h.start();
  await out.waitFor(/ready/);
  process.kill(h.shimPid!, 'SIGTERM');
  assert.equal((await h.wait()).exitCode, 0);
  assert.match((await out.done).stdout, /got-term/);
});

test('bulk output: every line reaches the log and the attach client, in order', { skip }, async (t) => {
  const r = await runToExit(t, { args: ['seq', '1', '200000'] });
  assert.equal(r.exit.exitCode, 0);
  const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
  assert.equal(r.stdout.length, expected.length);
  assert.ok(r.stdout === expected, 'attach output matches');
  assert.equal(r.logs.length, 200000);
  assert.equal(r.logs[0]!.log, '1\n');
  assert.equal(r.logs.at(-1)!.log, '200000\n');
});

test('stdin from an attach client reaches the container; closing it (StdinOnce) closes the container stdin', { skip }, async (t) => {
  const { c, h } = await shimFor(t, { args: ['sh', '-c', 'cat; echo cat-done'] }, { openStdin: true, stdinOnce: true });
  const a = await h.attach({ stdin: true });
  const out = new Output(a);
  await h.start();
  a.stdin!.write('hello\n');
  await out.waitFor(/hello\n/);
  a.stdin!.write('world\n');
  a.stdin!.end();
  const exit = await h.wait();
  assert.equal(exit.exitCode, 0);
  assert.equal((await out.done).stdout, 'hello\nworld\ncat-done\n');
  const logs = readLogFile(join(c.stateDir, `${c.id}-json.log`)).map((l) => l.log);
  assert.deepEqual(logs, ['hello\n', 'world\n', 'cat-done\n']);
});

test('without OpenStdin the container reads EOF at once; without StdinOnce a detaching client leaves stdin open', { skip }, async (t) => {
  const noStdin = await runToExit(t, { args: ['sh', '-c', 'cat; echo eof'] });
  assert.equal(noStdin.stdout, 'eof\n');

  const { h } = await shimFor(t, { args: ['sh', '-c', 'while read l; do echo "line $l"; done; echo closed'] }, { openStdin: true });
  const first = await h.attach({ stdin: true });
  const o1 = new Output(first);
  await h.start();
  first.stdin!.write('a\n');
  await o1.waitFor(/line a/);
  first.stdin!.end(); // not StdinOnce: the container's stdin stays open
  first.close();
  const second = await h.attach({ stdin: true });
  const o2 = new Output(second);
  second.stdin!.write('b\n');
  await o2.waitFor(/line b/);
  await h.closeStdin();
  const exit = await h.wait();
  assert.equal(exit.exitCode, 0);
  assert.equal((await o2.done).stdout, 'line b\nclosed\n');
});

test('tty: the container gets a pty, output is raw (no frames), resize reaches stty, logs say stdout', { skip }, async (t) => {
  const { c, h } = await shimFor(
    t,
    { args: ['sh'], tty: true, consoleSize: { height: 30, width: 100 } },
    { openStdin: true, stdinOnce: true, consoleSize: { height: 30, width: 100 } },
  );
  const a = await h.attach({ stdin: true });
  assert.equal(a.tty, true);
  const out = new Output(a);
  a.stdin!.write('tty; stty size; echo err-line >&2\r');
  await h.start();
  await out.waitFor(/\/dev\/pts\/\d+\r\n/);
  await out.waitFor(/30 100\r\n/);
  await out.waitFor(/err-line/);
  assert.equal(out.stderr, '', 'a tty merges stderr into stdout');
  await h.resize(40, 120);
  // runc applies the size on SIGWINCH, asynchronously: ask until it shows.
  for (let i = 0; i < 50 && !/40 120/.test(out.stdout); i++) {
    a.stdin!.write('stty size\r');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(out.stdout, /40 120\r\n/);
  a.stdin!.write('exit 5\r');
  const exit = await h.wait();
  assert.equal(exit.exitCode, 5);
  const logs = readLogFile(join(c.stateDir, `${c.id}-json.log`));
  assert.ok(logs.length > 0);
  assert.ok(logs.every((l) => l.stream === 'stdout'));
  assert.ok(logs.some((l) => /\/dev\/pts\/\d+\r\n/.test(l.log)));
});

test('tty without stdin: output with \\r\\n and the exit code', { skip }, async (t) => {
  const r = await runToExit(t, { args: ['sh', '-c', 'echo one; echo two; exit 7'], tty: true }, { tty: true });
  assert.equal(r.exit.exitCode, 7);
  assert.equal(r.stdout, 'one\r\ntwo\r\n');
  assert.deepEqual(r.logs.map((l) => l.log), ['one\r\n', 'two\r\n']);
});

test('a client attached before start sees all output; several clients, joining and leaving', { skip }, async (t) => {
  const { h } = await shimFor(
    t,
    { args: ['sh', '-c', 'echo first; read go; echo second; echo err >&2'] },
    { openStdin: true },
  );
  const early = new Output(await h.attach({}));
  const onlyErr = new Output(await h.attach({ stdout: false, stderr: true }));
  const leaver = await h.attach({});
  const leaverOut = new Output(leaver);
  const writer = await h.attach({ stdin: true, stdout: false, stderr: false });
  await h.start();
  await early.waitFor(/first\n/);
  await leaverOut.waitFor(/first\n/);
  leaver.close();
  const late = new Output(await h.attach({}));
  writer.stdin!.write('go\n');
  await h.wait();
  assert.deepEqual(await early.done, { stdout: 'first\nsecond\n', stderr: 'err\n' });
  assert.deepEqual(await onlyErr.done, { stdout: '', stderr: 'err\n' });
  assert.deepEqual(await late.done, { stdout: 'second\n', stderr: 'err\n' });
  assert.equal(leaverOut.stdout, 'first\n');
});

test('raw attach gives Docker 8-byte multiplexed frames', { skip }, async (t) => {
  const { h } = await shimFor(t, { args: ['sh', '-c', 'echo out; echo err >&2'] });
  const a = await h.attach({ raw: true });
  const chunks: Buffer[] = [];
  a.socket.on('data', (d: Buffer) => chunks.push(d));
  a.socket.resume(); // handed back paused, so that nothing is lost before the caller pipes it
  await h.start();
  await h.wait();
  await a.done;
  const buf = Buffer.concat(chunks);
  const frames: Array<[number, string]> = [];
  for (let off = 0; off < buf.length; ) {
    const len = buf.readUInt32BE(off + 4);
    assert.deepEqual([...buf.subarray(off + 1, off + 4)], [0, 0, 0]);
    frames.push([buf[off]!, buf.subarray(off + 8, off + 8 + len).toString()]);
    off += 8 + len;
  }
  assert.deepEqual(frames.map((f) => f[0]).sort(), [1, 2]);
  assert.equal(frames.find((f) => f[0] === 1)?.[1], 'out\n');
  assert.equal(frames.find((f) => f[0] === 2)?.[1], 'err\n');
});

test('a command that does not exist fails the start with exit 127; runc errors stay out of the log', { skip }, async (t) => {
  const { c, h } = await shimFor(t, { args: ['/no/such/binary'] });
  await assert.rejects(h.start(), (e: unknown) => e instanceof InvalidParameter && /no such file|not found/.test(e.message));
  const exit = await h.wait();
  assert.equal(exit.exitCode, 127);
  assert.match(exit.error ?? '', /no such file|not found/);
  assert.deepEqual(readLogFile(join(c.stateDir, `${c.id}-json.log`)), []);
  assert.deepEqual(fx.leftovers(), []);
});

test('autoStart, status, and a shim shut down before its start', { skip }, async (t) => {
  const { h } = await shimFor(t, { args: ['sh', '-c', 'echo auto'] }, { autoStart: true });
  const exit = await h.wait();
  assert.equal(exit.exitCode, 0);

  const idle = await shimFor(t, { args: ['true'] });
  const st = await idle.h.status();
  assert.equal(st.state, 'created');
  assert.equal(statSync(join(idle.c.stateDir, 'shim.sock')).mode & 0o777, 0o600, 'the socket is root-only');
  assert.equal(st.id, idle.c.id);
  await idle.h.shutdown();
  for (let i = 0; i < 100 && (await isShimAlive(idle.c.stateDir)); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await isShimAlive(idle.c.stateDir), false);
  await assert.rejects(idle.h.start(), Conflict);
});

test('the shim outlives its spawner (SIGKILLed) and connectShim reattaches', { skip }, async (t) => {
  const c = fx.container(t, { args: ['sh', '-c', 'echo started; while read l; do echo "got $l"; done; exit 4'] });
  const helper = join(dirname(fileURLToPath(import.meta.url)), 'spawn-helper.js');
  const opts: SpawnShimOptions = {
    id: c.id,
    stateDir: c.stateDir,
    bundle: c.bundle,
    runtime: { binary: fx.runc.binary, root: fx.runc.root },
    openStdin: true,
    stdinOnce: true,
  };
  const child = spawn(process.execPath, [helper, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let line = '';
  child.stdout.on('data', (d: Buffer) => (line += d.toString()));
  const sig = await new Promise<NodeJS.Signals | null>((r) => child.once('close', (_code, s) => r(s)));
  assert.equal(sig, 'SIGKILL', 'the spawner died');
  const { shimPid, pid } = JSON.parse(line) as { shimPid: number; pid: number };
  assert.ok(pid > 0);
  process.kill(shimPid, 0); // the shim is still alive
  const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${shimPid}/status`, 'utf8'))?.[1]);
  assert.notEqual(ppid, child.pid);
  assert.equal((await fx.runc.state(c.id)).status, 'running');

  const h = await connectShim(c.stateDir);
  assert.equal(h.id, c.id);
  const st = await h.status();
  assert.equal(st.state, 'running');
  assert.equal(st.pid, pid);
  const a = await h.attach({ stdin: true });
  const out = new Output(a);
  a.stdin!.write('ping\n');
  await out.waitFor(/got ping\n/);
  a.stdin!.end();
  const exit = await h.wait();
  assert.equal(exit.exitCode, 4);
  const logs = readLogFile(join(c.stateDir, `${c.id}-json.log`)).map((l) => l.log);
  assert.deepEqual(logs, ['started\n', 'got ping\n']);
  // After the exit, connectShim still gives a handle whose wait() returns the status.
  const after = await connectShim(c.stateDir);
  assert.equal((await after.wait()).exitCode, 4);
});

test('docker logs: follow until exit, tail, stream filter, timestamps', { skip }, async (t) => {
  const { c, h } = await shimFor(t, {
    args: ['sh', '-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done'],
  });
  await h.start();
  const logPath = join(c.stateDir, `${c.id}-json.log`);
  const followed: string[] = [];
  for await (const e of readLogs(logPath, { follow: true, pollMs: 50 })) followed.push(`${e.stream}:${e.log}`);
  // stdout and stderr are separate pipes: ordered within a stream, not across.
  assert.deepEqual(followed.filter((l) => l.startsWith('stdout:')), ['stdout:out1\n', 'stdout:out2\n', 'stdout:out3\n']);
  assert.deepEqual(followed.filter((l) => l.startsWith('stderr:')), ['stderr:err1\n', 'stderr:err2\n', 'stderr:err3\n']);
  assert.equal((await h.wait()).exitCode, 0);

  const tail: string[] = [];
  for await (const e of readLogs(logPath, { tail: 2, stderr: false })) tail.push(e.line);
  assert.deepEqual(tail, ['out2\n', 'out3\n']);

  const stamped: string[] = [];
  for await (const e of readLogs(logPath, { timestamps: true, stdout: false })) stamped.push(e.line);
  assert.equal(stamped.length, 3);
  for (const s of stamped) assert.match(s, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z err\d\n$/);
});

test('a state dir whose socket path exceeds sun_path still works', { skip }, async (t) => {
  const c = fx.container(t, { args: ['sh', '-c', 'echo long'] });
  const deep = join(c.stateDir, 'x'.repeat(60), 'y'.repeat(60));
  mkdirSync(deep, { recursive: true });
  assert.ok(join(deep, 'shim.sock').length > 108);
  const h = await spawnShim({ id: c.id, stateDir: deep, bundle: c.bundle, runtime: fx.runc });
  const out = new Output(await h.attach({}));
  await h.start();
  assert.equal((await h.wait()).exitCode, 0);
  assert.equal((await out.done).stdout, 'long\n');
});
