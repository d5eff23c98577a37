// Backup hooks from container labels, run with exec in real runc containers
// (runBackupHooks over ExecService.runCaptured, in a berthd of its own):
// output and exit codes, on-error fail and continue, the timeout that kills
// the hook with everything it started, and labels checked before any hook.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { docker, dockerOk } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { startFreezeDriver, type FreezeDriver } from '../helpers/freeze-driver-client.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let driver: FreezeDriver;
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
  driver = await startFreezeDriver(d);
});
after(async () => {
  await driver?.stop();
  await d.cleanup();
});

/** A long-running container with `labels`; returns its ID. */
async function labelled(name: string, labels: Record<string, string>): Promise<string> {
  const args = ['run', '-d', '--name', name];
  for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
  return (await ok(...args, 'busybox', 'sleep', '600')).trim();
}

async function hooks(phase: 'pre' | 'post', ids: string[]): Promise<Record<string, any>> {
  driver.send({ op: 'hooks', phase, ids });
  return driver.next();
}

test('pre hooks run in order with sh -c; output and exit codes are collected; on-error=continue warns', async (t) => {
  t.after(() => docker(d.env, 'rm', '-f', 'h-pass', 'h-continue', 'h-plain'));
  const pass = await labelled('h-pass', { 'berth.backup.pre': 'echo pre-out; echo pre-err >&2; touch /tmp/pre-ran', 'berth.backup.post': 'rm /tmp/pre-ran' });
  const cont = await labelled('h-continue', { 'berth.backup.pre': 'echo half-done; exit 4', 'berth.backup.on-error': 'continue' });
  const plain = await labelled('h-plain', {});

  const pre = await hooks('pre', [pass, cont, plain]);
  assert.equal(pre.error, undefined, pre.error);
  const results = pre.report.results as Array<Record<string, any>>;
  assert.deepEqual(
    results.map((r) => [r.container, r.phase, r.command, r.exitCode, r.timedOut]),
    [
      ['h-pass', 'pre', 'echo pre-out; echo pre-err >&2; touch /tmp/pre-ran', 0, false],
      ['h-continue', 'pre', 'echo half-done; exit 4', 4, false],
    ],
    'a container without hook labels has no hook',
  );
  assert.deepEqual(results[0]!.output.split('\n').sort(), ['', 'pre-err', 'pre-out']);
  assert.equal(results[0]!.failure, undefined);
  assert.equal(results[1]!.output, 'half-done\n');
  assert.deepEqual(pre.report.warnings, ['backup pre hook in container "h-continue" (sh -c "echo half-done; exit 4") exited with code 4: half-done (on-error=continue)']);
  assert.equal(await ok('exec', 'h-pass', 'ls', '/tmp/pre-ran'), '/tmp/pre-ran\n');

  const post = await hooks('post', [pass, cont, plain]);
  assert.deepEqual(post.report, { results: [{ ...post.report.results[0], container: 'h-pass', exitCode: 0 }], warnings: [] });
  assert.equal((await docker(d.env, 'exec', 'h-pass', 'ls', '/tmp/pre-ran')).code, 1, 'the post hook ran');
});

test('a failing pre hook stops the backup with an error naming container and command; post hooks all run', async (t) => {
  t.after(() => docker(d.env, 'rm', '-f', 'h-fail', 'h-after'));
  const fail = await labelled('h-fail', { 'berth.backup.pre': 'echo broken >&2; exit 3', 'berth.backup.post': 'exit 5' });
  const after = await labelled('h-after', { 'berth.backup.pre': 'touch /tmp/ran', 'berth.backup.post': 'touch /tmp/post-ran' });

  const pre = await hooks('pre', [fail, after]);
  assert.equal(pre.name, 'BackupHookFailed');
  assert.equal(pre.error, 'backup pre hook in container "h-fail" (sh -c "echo broken >&2; exit 3") exited with code 3: broken');
  assert.equal(pre.results.length, 1, 'no pre hook runs after one failed');
  assert.equal((await docker(d.env, 'exec', 'h-after', 'ls', '/tmp/ran')).code, 1);

  const post = await hooks('post', [fail, after]);
  assert.equal(post.name, 'BackupHookFailed');
  assert.equal(post.error, 'backup post hook in container "h-fail" (sh -c "exit 5") exited with code 5');
  assert.equal(post.results.length, 2, 'every post hook runs');
  assert.equal(await ok('exec', 'h-after', 'ls', '/tmp/post-ran'), '/tmp/post-ran\n');
});

test('a hook past its timeout is killed with the processes it started', async (t) => {
  t.after(() => docker(d.env, 'rm', '-f', 'h-slow'));
  const slow = await labelled('h-slow', { 'berth.backup.pre': 'sleep 300 & sleep 301; echo never', 'berth.backup.timeout': '1s' });
  const pre = await hooks('pre', [slow]);
  assert.equal(pre.name, 'BackupHookFailed');
  assert.equal(pre.error, 'backup pre hook in container "h-slow" (sh -c "sleep 300 & sleep 301; echo never") timed out after 1s and was killed');
  assert.equal(pre.results[0].timedOut, true);
  assert.equal(pre.results[0].exitCode, 137);
  assert.equal(pre.results[0].output, '');
  const ps = await ok('exec', 'h-slow', 'ps', '-o', 'args');
  assert.doesNotMatch(ps, /sleep 30[01]/, 'the background sleep went with the hook');
});

test('hook labels are checked before any hook runs', async (t) => {
  t.after(() => docker(d.env, 'rm', '-f', 'h-first', 'h-bad', 'h-worse'));
  const first = await labelled('h-first', { 'berth.backup.pre': 'touch /tmp/ran' });
  const bad = await labelled('h-bad', { 'berth.backup.pre': 'true', 'berth.backup.timeout': 'soon' });
  const worse = await labelled('h-worse', { 'berth.backup.pre': 'true', 'berth.backup.on-error': 'ignore' });
  assert.deepEqual(await hooks('pre', [first, bad]), { name: 'InvalidParameter', error: 'container "h-bad": label berth.backup.timeout: time: invalid duration "soon"' });
  assert.deepEqual(await hooks('pre', [worse]), { name: 'InvalidParameter', error: 'container "h-worse": label berth.backup.on-error must be "fail" or "continue", not "ignore"' });
  assert.equal((await docker(d.env, 'exec', 'h-first', 'ls', '/tmp/ran')).code, 1);
});
