// Containers under conmon with real runc: stdio, the log, exit codes,
// signals, stdin, TTY, attach semantics, OOM kills, a full data disk,
// surviving the death of their spawner, and reaping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLogs } from '../../../src/containers/runtime/container-log.js';
import { RuntimeStartError } from '../../../src/containers/runtime/conmon.js';
import { ContainerMonitor } from '../../../src/containers/monitor.js';
import { isProcessRunning } from '../../../src/util/proc.js';
import { Conflict, InvalidParameter } from '../../../src/errors.js';
import { RuntimeFixture, runtimeSkipReason, useRuntimeFixture, Output, readLog } from './helpers.js';
import { waitFor } from '../../helpers/wait.js';

const skip = runtimeSkipReason() ?? false;
let fx: RuntimeFixture;

useRuntimeFixture(skip, (f) => (fx = f));

const logText = (entries: Array<{ stream: string; log: string }>, stream: string) => entries.filter((e) => e.stream === stream).map((e) => e.log);

test('stdout and stderr reach attach clients and the log with their stream; the attach socket goes with the monitor', { skip }, async (t) => {
  const r = await fx.run(t, { args: ['sh', '-c', 'echo to-out; echo to-err >&2; printf partial'] });
  assert.equal(r.exit.exitCode, 0);
  assert.equal(r.stdout, 'to-out\npartial');
  assert.equal(r.stderr, 'to-err\n');
  assert.deepEqual(logText(r.logs, 'stdout'), ['to-out\n', 'partial']);
  assert.deepEqual(logText(r.logs, 'stderr'), ['to-err\n']);
  await waitFor(() => !isProcessRunning(r.m.conmonPid), 'conmon to exit');
  assert.equal(existsSync(join(r.c.bundle, 'attach')), false);
});

test('the exit code is propagated (sh -c "exit 3" -> 3) and lands in the exit dir', { skip }, async (t) => {
  const r = await fx.run(t, { args: ['sh', '-c', 'exit 3'] });
  assert.equal(r.exit.exitCode, 3);
  assert.equal(r.exit.oomKilled, false);
  assert.match(r.exit.finishedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
  assert.equal(fx.exits.read(r.c.id)?.exitCode, 3);
});

test('a container killed with SIGKILL exits 137; its monitor is reaped (no zombie)', { skip }, async (t) => {
  const { c, m } = await fx.monitor(t, { args: ['sleep', '100'] });
  await m.start();
  const st = await fx.runc.state(c.id);
  assert.equal(st.status, 'running');
  assert.equal(st.pid, m.pid);
  await fx.runc.kill(c.id, 'SIGKILL');
  assert.equal((await m.exited).exitCode, 137);
  await waitFor(() => !existsSync(`/proc/${m.conmonPid}`), 'conmon to be reaped');
});

test('start: the init runs its command the moment it is let go; an init killed while created fails the start (Conflict), it does not hang', { skip }, async (t) => {
  const { c, m } = await fx.monitor(t, { args: ['sh', '-c', 'exit 4'] });
  await m.start();
  assert.equal((await m.exited).exitCode, 4);
  assert.equal(existsSync(join(fx.runcRoot, c.id, 'exec.fifo')), false, 'the fifo goes with the start');

  const dead = await fx.monitor(t, { args: ['true'] });
  process.kill(dead.m.pid, 'SIGKILL');
  await assert.rejects(dead.m.start(), (e: Error) => e instanceof Conflict && /container process is already dead/.test(e.message));
  await dead.m.exited;
});

test('bulk output: every line reaches the log and the attach client, in order', { skip }, async (t) => {
  const r = await fx.run(t, { args: ['seq', '1', '200000'] });
  assert.equal(r.exit.exitCode, 0);
  const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
  assert.equal(r.stdout.length, expected.length);
  assert.ok(r.stdout === expected, 'attach output matches');
  assert.equal(r.logs.length, 200000);
  assert.equal(r.logs[0]!.log, '1\n');
  assert.equal(r.logs.at(-1)!.log, '200000\n');
});

test('stdin from an attach client reaches the container; closing it (StdinOnce) closes the container stdin', { skip }, async (t) => {
  const { c, m } = await fx.monitor(t, { args: ['sh', '-c', 'cat; echo cat-done'] }, { openStdin: true, stdinOnce: true });
  m.hub.holdStdin();
  const a = m.hub.attach({ stdin: true, stdout: true, stderr: true });
  const out = new Output(a);
  await m.start();
  a.stdin!.write('hello\n');
  await out.waitFor(/hello\n/);
  a.stdin!.write('world\n');
  a.stdin!.end();
  assert.equal((await m.exited).exitCode, 0);
  assert.equal((await out.done).stdout, 'hello\nworld\ncat-done\n');
  assert.deepEqual(logText(await readLog(c.logPath), 'stdout'), ['hello\n', 'world\n', 'cat-done\n']);
});

test('StdinOnce: a client attached without stdin leaves without closing the container stdin', { skip }, async (t) => {
  const { m } = await fx.monitor(t, { args: ['sh', '-c', 'while read l; do echo "line $l"; done; echo closed'] }, { openStdin: true, stdinOnce: true });
  m.hub.holdStdin();
  await m.start();
  const watcher = m.hub.attach({ stdin: false, stdout: true, stderr: true });
  const w = new Output(watcher);
  const writer = m.hub.attach({ stdin: true, stdout: true, stderr: false });
  const o = new Output(writer);
  writer.stdin!.write('a\n');
  await w.waitFor(/line a\n/);
  watcher.close();
  writer.stdin!.write('b\n');
  await o.waitFor(/line b\n/);
  writer.stdin!.end();
  assert.equal((await m.exited).exitCode, 0);
  assert.equal((await o.done).stdout, 'line a\nline b\nclosed\n');
});

test('without OpenStdin the container reads EOF at once; without StdinOnce a detaching client leaves stdin open', { skip }, async (t) => {
  const noStdin = await fx.run(t, { args: ['sh', '-c', 'cat; echo eof'] });
  assert.equal(noStdin.stdout, 'eof\n');

  const { c, m } = await fx.monitor(t, { args: ['sh', '-c', 'while read l; do echo "line $l"; done; echo closed'] }, { openStdin: true });
  const first = m.hub.attach({ stdin: true, stdout: true, stderr: true });
  const o1 = new Output(first);
  await m.start();
  first.stdin!.write('a\n');
  await o1.waitFor(/line a/);
  first.stdin!.end(); // not StdinOnce: the container's stdin stays open
  first.close();
  const second = m.hub.attach({ stdin: true, stdout: true, stderr: true });
  const o2 = new Output(second);
  second.stdin!.write('b\n');
  await o2.waitFor(/line b/);
  // The container is still reading: it is killed, not ended by an EOF.
  await fx.runc.kill(c.id, 'SIGKILL');
  assert.equal((await m.exited).exitCode, 137);
  assert.equal((await o2.done).stdout, 'line b\n');
});

test('tty: the container gets a pty, output is raw (no frames), resize reaches stty, logs say stdout', { skip }, async (t) => {
  const { c, m } = await fx.monitor(t, { args: ['sh'], tty: true, consoleSize: { height: 30, width: 100 } }, { openStdin: true, stdinOnce: true });
  m.hub.holdStdin();
  const a = m.hub.attach({ stdin: true, stdout: true, stderr: true });
  assert.equal(a.tty, true);
  const out = new Output(a);
  a.stdin!.write('tty; stty size; echo err-line >&2\r');
  await m.start();
  await out.waitFor(/\/dev\/pts\/\d+\r\n/);
  await out.waitFor(/30 100\r\n/);
  await out.waitFor(/err-line/);
  assert.equal(out.stderr, '', 'a tty merges stderr into stdout');
  m.resize(40, 120);
  a.stdin!.write('stty size\r');
  await out.waitFor(/40 120\r\n/);
  a.stdin!.write('exit 5\r');
  assert.equal((await m.exited).exitCode, 5);
  const logs = await readLog(c.logPath);
  assert.ok(logs.length > 0);
  assert.ok(logs.every((l) => l.stream === 'stdout'));
  assert.ok(logs.some((l) => /\/dev\/pts\/\d+\r\n/.test(l.log)));
});

test('tty without stdin: output with \\r\\n and the exit code', { skip }, async (t) => {
  const r = await fx.run(t, { args: ['sh', '-c', 'echo one; echo two; exit 7'], tty: true });
  assert.equal(r.exit.exitCode, 7);
  assert.equal(r.stdout, 'one\r\ntwo\r\n');
  assert.deepEqual(r.logs.map((l) => l.log), ['one\r\n', 'two\r\n']);
});

test('a client attached before start sees all output; several clients, joining and leaving', { skip }, async (t) => {
  const { m } = await fx.monitor(t, { args: ['sh', '-c', 'echo first; read go; echo second; echo err >&2'] }, { openStdin: true });
  const early = new Output(m.hub.attach({ stdin: false, stdout: true, stderr: true }));
  const onlyErr = new Output(m.hub.attach({ stdin: false, stdout: false, stderr: true }));
  const leaver = m.hub.attach({ stdin: false, stdout: true, stderr: true });
  const leaverOut = new Output(leaver);
  const writer = m.hub.attach({ stdin: true, stdout: false, stderr: false });
  await m.start();
  await early.waitFor(/first\n/);
  await leaverOut.waitFor(/first\n/);
  leaver.close();
  const late = new Output(m.hub.attach({ stdin: false, stdout: true, stderr: true }));
  writer.stdin!.write('go\n');
  await m.exited;
  assert.deepEqual(await early.done, { stdout: 'first\nsecond\n', stderr: 'err\n' });
  assert.deepEqual(await onlyErr.done, { stdout: '', stderr: 'err\n' });
  assert.deepEqual(await late.done, { stdout: 'second\n', stderr: 'err\n' });
  assert.equal(leaverOut.stdout, 'first\n');
});

test("attach output without a TTY is Docker's 8-byte multiplexed frames", { skip }, async (t) => {
  const { m } = await fx.monitor(t, { args: ['sh', '-c', 'echo out; echo err >&2'] });
  const a = m.hub.attach({ stdin: false, stdout: true, stderr: true });
  const chunks: Buffer[] = [];
  a.output.on('data', (d: Buffer) => chunks.push(d));
  await m.start();
  await m.exited;
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

test('a command that does not exist fails the create with exit 127; runtime errors stay out of the log', { skip }, async (t) => {
  const c = fx.container(t, { args: ['/no/such/binary'] });
  await assert.rejects(ContainerMonitor.create(fx.deps, fx.settings(c, {})), (e: unknown) => {
    assert.ok(e instanceof RuntimeStartError);
    assert.equal(e.exitCode, 127);
    assert.ok(e.apiError instanceof InvalidParameter);
    assert.match(e.message, /no such file or directory/);
    return true;
  });
  assert.deepEqual(await readLog(c.logPath), []);
  assert.deepEqual(fx.leftovers(), []);
});

test('an OOM kill is reported: 137 and oomKilled', { skip }, async (t) => {
  // 8 MiB of memory, no swap; the shell grows a string far past that.
  const r = await fx.run(t, {
    args: ['sh', '-c', 'x=0123456789abcdef; while true; do x="$x$x"; done'],
    resources: { memory: { limit: 8 * 1024 * 1024, swap: 8 * 1024 * 1024 } },
  });
  assert.equal(r.exit.exitCode, 137);
  assert.equal(r.exit.oomKilled, true);
});

test('the monitor outlives its spawner (SIGKILLed); adopt() follows it and reattaches', { skip }, async (t) => {
  const c = fx.container(t, { args: ['sh', '-c', 'echo started; while read l; do echo "got $l"; done; exit 4'] });
  const helper = join(dirname(fileURLToPath(import.meta.url)), 'spawn-monitor.js');
  const settings = fx.settings(c, {}, { openStdin: true });
  const child = spawn(process.execPath, [helper, JSON.stringify({ settings, runcRoot: fx.runcRoot, exitDir: fx.exits.dir })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let line = '';
  child.stdout.on('data', (d: Buffer) => (line += d.toString()));
  const sig = await new Promise<NodeJS.Signals | null>((r) => child.once('close', (_code, s) => r(s)));
  assert.equal(sig, 'SIGKILL', 'the spawner died');
  const { conmonPid, pid } = JSON.parse(line) as { conmonPid: number; pid: number };
  assert.ok(isProcessRunning(conmonPid), 'conmon is still running');
  assert.equal((await fx.runc.state(c.id)).status, 'running');

  const m = ContainerMonitor.adopt(fx.deps, settings);
  assert.ok(m);
  assert.equal(m.pid, pid);
  const a = m.hub.attach({ stdin: true, stdout: true, stderr: true });
  const out = new Output(a);
  a.stdin!.write('ping\n');
  await out.waitFor(/got ping\n/);
  await fx.runc.kill(c.id, 'SIGKILL');
  assert.equal((await m.exited).exitCode, 137);
  assert.deepEqual(logText(await readLog(c.logPath), 'stdout'), ['started\n', 'got ping\n']);
  // Gone: nothing to adopt any more; the exit stays in the exit dir.
  assert.equal(ContainerMonitor.adopt(fx.deps, settings), null);
  assert.equal(fx.exits.read(c.id)?.exitCode, 137);
});

test('docker logs: follow until exit, tail, stream filter, timestamps', { skip }, async (t) => {
  const { c, m } = await fx.monitor(t, { args: ['sh', '-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done'] });
  await m.start();
  const followed: string[] = [];
  for await (const e of readLogs(c.logPath, { follow: true, pollMs: 50, finished: () => fx.exits.read(c.id) !== null })) followed.push(`${e.stream}:${e.log}`);
  // stdout and stderr are separate pipes: ordered within a stream, not across.
  assert.deepEqual(followed.filter((l) => l.startsWith('stdout:')), ['stdout:out1\n', 'stdout:out2\n', 'stdout:out3\n']);
  assert.deepEqual(followed.filter((l) => l.startsWith('stderr:')), ['stderr:err1\n', 'stderr:err2\n', 'stderr:err3\n']);
  assert.equal((await m.exited).exitCode, 0);

  const tail: string[] = [];
  for await (const e of readLogs(c.logPath, { tail: 2, stderr: false, finished: () => true })) tail.push(e.line);
  assert.deepEqual(tail, ['out2\n', 'out3\n']);

  const stamped: string[] = [];
  for await (const e of readLogs(c.logPath, { timestamps: true, stdout: false, finished: () => true })) stamped.push(e.line);
  assert.equal(stamped.length, 3);
  for (const s of stamped) assert.match(s, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z err\d\n$/);
});

test('a bundle whose attach socket path exceeds sun_path still works', { skip }, async (t) => {
  const c = fx.container(t, { args: ['sh', '-c', 'echo long'] }, { bundleName: join('x'.repeat(60), 'y'.repeat(60)) });
  assert.ok(join(c.bundle, 'attach').length > 108);
  const m = await ContainerMonitor.create(fx.deps, fx.settings(c, {}));
  const out = new Output(m.hub.attach({ stdin: false, stdout: true, stderr: true }));
  await m.start();
  assert.equal((await m.exited).exitCode, 0);
  assert.equal((await out.done).stdout, 'long\n');
});

test('a full data disk: the exit code is still recorded (the exit dir is elsewhere) and the output that fit is logged', { skip, timeout: 120_000 }, async (t) => {
  let data = '';
  // Registered first so it runs before the fixture deletes the container's directory.
  t.after(() => {
    if (data) execFileSync('umount', ['-l', data]);
  });
  const c = fx.container(t, { args: ['sh', '-c', 'echo before; read go; echo after-full; exit 6'] });
  // The bundle and log on a filesystem of their own, to be filled.
  data = join(c.dir, 'data');
  mkdirSync(data);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', data]);
  writeFileSync(join(data, 'config.json'), readFileSync(join(c.bundle, 'config.json')));
  const settings = { ...fx.settings(c, {}, { openStdin: true }), bundle: data, logPath: join(data, 'container.log') };
  const m = await ContainerMonitor.create(fx.deps, settings);
  const a = m.hub.attach({ stdin: true, stdout: true, stderr: true });
  const out = new Output(a);
  await m.start();
  await out.waitFor(/before\n/);
  try {
    writeFileSync(join(data, 'filler'), Buffer.alloc(2 * 1024 * 1024));
  } catch {
    // ENOSPC: full, as wanted
  }
  a.stdin!.write('go\n');
  assert.equal((await m.exited).exitCode, 6);
  assert.match((await out.done).stdout, /before\nafter-full\n/, 'attach clients get the output the log could not take');
  assert.deepEqual(logText(await readLog(settings.logPath), 'stdout').slice(0, 1), ['before\n']);
  rmSync(join(data, 'filler'));
});
