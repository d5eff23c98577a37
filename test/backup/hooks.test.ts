// Backup hooks over stand-in container and exec services: labels read and
// checked, order, fail versus continue in each phase, exec refusals, and the
// messages that name container and command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackupHookFailed, hookOf, runBackupHooks, type HookContainer, type HookServices } from '../../src/backup/hooks.js';
import type { CapturedExec } from '../../src/containers/exec.js';
import { Conflict, InvalidParameter } from '../../src/errors.js';

/** Containers by ID; each command answers from `answers` (exit 0, no output by default). */
function services(containers: HookContainer[], answers: Record<string, CapturedExec | Error> = {}) {
  const ran: Array<{ container: string; cmd: string[]; timeoutMs: number }> = [];
  const s: HookServices = {
    container: (id) => containers.find((c) => c.id === id)!,
    exec: async (id, cmd, opts) => {
      ran.push({ container: id, cmd, timeoutMs: opts.timeoutMs });
      const answer = answers[cmd[2]!] ?? { exitCode: 0, output: '', timedOut: false };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { services: s, ran };
}

const box = (name: string, labels: Record<string, string>): HookContainer => ({ id: `${name}-id`, name, labels });

test('labels: the command, a Go-duration timeout (30s by default) and on-error (fail by default)', () => {
  assert.deepEqual(hookOf(box('db', { 'berth.backup.pre': 'pg_dump x' }), 'pre'), { container: box('db', { 'berth.backup.pre': 'pg_dump x' }), phase: 'pre', command: 'pg_dump x', timeoutMs: 30_000, onError: 'fail' });
  const c = box('db', { 'berth.backup.post': 'unlock', 'berth.backup.timeout': '1m30s', 'berth.backup.on-error': 'continue' });
  assert.deepEqual(hookOf(c, 'post'), { container: c, phase: 'post', command: 'unlock', timeoutMs: 90_000, onError: 'continue' });
  assert.equal(hookOf(c, 'pre'), undefined, 'no pre label, no pre hook');
  assert.equal(hookOf(box('db', { 'berth.backup.pre': '   ' }), 'pre'), undefined, 'a blank command is no hook');
  assert.equal(hookOf(box('db', { 'berth.backup.pre': 'x', 'berth.backup.timeout': '250ms' }), 'pre')!.timeoutMs, 250);
  const refusals: Array<[Record<string, string>, string]> = [
    [{ 'berth.backup.timeout': '30' }, 'container "db": label berth.backup.timeout: time: missing unit in duration "30"'],
    [{ 'berth.backup.timeout': '0s' }, 'container "db": label berth.backup.timeout must be a positive duration, not "0s"'],
    [{ 'berth.backup.timeout': '-5s' }, 'container "db": label berth.backup.timeout must be a positive duration, not "-5s"'],
    [{ 'berth.backup.on-error': 'Fail' }, 'container "db": label berth.backup.on-error must be "fail" or "continue", not "Fail"'],
  ];
  for (const [labels, message] of refusals) {
    assert.throws(() => hookOf(box('db', { 'berth.backup.pre': 'x', ...labels }), 'pre'), (e: Error) => e instanceof InvalidParameter && e.message === message, message);
  }
});

test('hooks run as sh -c in the order given, with their timeouts; results and warnings are reported', async () => {
  const cs = [box('web', { 'berth.backup.pre': 'flush', 'berth.backup.on-error': 'continue', 'berth.backup.timeout': '5s' }), box('plain', {}), box('db', { 'berth.backup.pre': 'lock' })];
  const { services: s, ran } = services(cs, { flush: { exitCode: 1, output: 'cache busy\nretry later\n', timedOut: false }, lock: { exitCode: 0, output: 'locked\n', timedOut: false } });
  const report = await runBackupHooks('pre', cs.map((c) => c.id), s);
  assert.deepEqual(ran, [
    { container: 'web-id', cmd: ['sh', '-c', 'flush'], timeoutMs: 5000 },
    { container: 'db-id', cmd: ['sh', '-c', 'lock'], timeoutMs: 30_000 },
  ]);
  assert.deepEqual(report.warnings, ['backup pre hook in container "web" (sh -c "flush") exited with code 1: retry later (on-error=continue)']);
  assert.deepEqual(
    report.results.map((r) => [r.container, r.exitCode, r.output, r.failure !== undefined]),
    [
      ['web', 1, 'cache busy\nretry later\n', true],
      ['db', 0, 'locked\n', false],
    ],
  );
  assert.ok(report.results.every((r) => r.durationMs >= 0));
});

test('a failing pre hook stops at once; failing post hooks are all run, then reported together', async () => {
  const cs = [box('a', { 'berth.backup.pre': 'pa', 'berth.backup.post': 'qa' }), box('b', { 'berth.backup.pre': 'pb', 'berth.backup.post': 'qb' }), box('c', { 'berth.backup.pre': 'pc', 'berth.backup.post': 'qc' })];
  const answers = {
    pb: { exitCode: 2, output: '', timedOut: false },
    qa: { exitCode: 137, output: 'partial', timedOut: true },
    qb: new Conflict('Container b-id is paused, unpause the container before exec'),
  };
  const pre = services(cs, answers);
  await assert.rejects(runBackupHooks('pre', cs.map((c) => c.id), pre.services), (e: Error) => {
    assert.ok(e instanceof BackupHookFailed);
    assert.equal(e.message, 'backup pre hook in container "b" (sh -c "pb") exited with code 2');
    assert.deepEqual(e.results.map((r) => r.container), ['a', 'b']);
    return true;
  });
  assert.deepEqual(pre.ran.map((r) => r.container), ['a-id', 'b-id'], 'c\'s pre hook never ran');

  const post = services(cs, answers);
  await assert.rejects(runBackupHooks('post', cs.map((c) => c.id), post.services), (e: Error) => {
    assert.ok(e instanceof BackupHookFailed);
    assert.equal(
      e.message,
      'backup post hook in container "a" (sh -c "qa") timed out after 30s and was killed; ' +
        'backup post hook in container "b" (sh -c "qb") could not run: Container b-id is paused, unpause the container before exec',
    );
    assert.deepEqual(e.results.map((r) => [r.container, r.exitCode]), [['a', 137], ['b', undefined], ['c', 0]]);
    return true;
  });
  assert.deepEqual(post.ran.map((r) => r.container), ['a-id', 'b-id', 'c-id']);
});

test('every label is checked before the first hook runs', async () => {
  const cs = [box('ok', { 'berth.backup.pre': 'fine' }), box('bad', { 'berth.backup.pre': 'x', 'berth.backup.timeout': 'soon' })];
  const { services: s, ran } = services(cs);
  await assert.rejects(runBackupHooks('pre', cs.map((c) => c.id), s), (e: Error) => e instanceof InvalidParameter && e.message === 'container "bad": label berth.backup.timeout: time: invalid duration "soon"');
  assert.deepEqual(ran, []);
});
