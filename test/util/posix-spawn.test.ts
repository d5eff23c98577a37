import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { posixSpawn } from '../../src/util/posix-spawn.js';
import { Reaper } from '../../src/util/reaper.js';

/** Everything a child wrote on each of its descriptors 1..n, once it closed them. */
function readAll(fds: number[]): Promise<string[]> {
  return Promise.all(
    fds.map(
      (fd) =>
        new Promise<string>((resolve, reject) => {
          const s = new Socket({ fd, readable: true, writable: false });
          let text = '';
          s.on('data', (d: Buffer) => (text += d.toString()));
          s.on('error', reject);
          s.on('close', () => resolve(text));
        }),
    ),
  );
}

test('posixSpawn: stdin /dev/null, fds 1..n connected, cwd, env as given, signals at their defaults, nothing else inherited', async (t) => {
  const reaper = new Reaper();
  // The reaper's SIGCHLD listener does not hold the event loop open (berthd's server does).
  const alive = setInterval(() => undefined, 1000);
  t.after(() => {
    clearInterval(alive);
    reaper.close();
  });
  const cwd = mkdtempSync(join(tmpdir(), 'berth-spawn-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const script = [
    'read line; echo "stdin:$?"', // EOF at once: read fails
    'echo err >&2',
    'pwd >&3',
    'echo "$ONLY:${HOME:-unset}" >&3',
    // berthd ignores SIGPIPE (Node does): its children must not.
    'grep -E "^(SigIgn|SigBlk)" /proc/self/status >&3',
    'ls /proc/self/fd >&3',
    'exit 7',
  ].join('; ');
  const held = openSync(cwd, 'r');
  t.after(() => closeSync(held));
  const child = posixSpawn('sh', ['-c', script], { env: { PATH: '/usr/bin:/bin', ONLY: 'given' }, cwd, pipes: 3 });
  const exit = reaper.watch(child.pid);
  const [stdout, stderr, fd3] = await readAll(child.fds);
  assert.deepEqual(await exit, { code: 7 });
  assert.equal(stdout, 'stdin:1\n');
  assert.equal(stderr, 'err\n');
  const lines = fd3!.trim().split('\n');
  assert.equal(lines[0], cwd);
  assert.equal(lines[1], 'given:unset');
  assert.deepEqual(lines.slice(2, 4).sort(), ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000']);
  // 0-3 are the child's; berthd's own (its ends of the pairs, a file it has open) are not.
  const fds = new Set(lines.slice(4).map(Number));
  for (const fd of [0, 1, 2, 3]) assert.ok(fds.has(fd), `fd ${fd}`);
  for (const fd of [...child.fds, held]) assert.ok(!fds.has(fd), `berthd's fd ${fd} leaked into the child`);
});

test('posixSpawn: a program that is not there is ENOENT, and no descriptor is left open', () => {
  const before = readdirSync('/proc/self/fd').length;
  assert.throws(() => posixSpawn('berth-no-such-program', [], { env: {}, cwd: '/', pipes: 3 }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && /berth-no-such-program/.test(e.message));
  assert.throws(() => posixSpawn('/bin/true', [], { env: {}, cwd: '/no/such/dir', pipes: 1 }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  assert.equal(readdirSync('/proc/self/fd').length, before);
});
