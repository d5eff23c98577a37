// docker top's ps output parsing (dockerd's parsePSOutput).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePsOutput } from '../../src/containers/top.js';

test('rows of the given pids only; a command with spaces stays one column; thread lines follow a kept row', () => {
  const out = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root           1       0  0 10:00 ?        00:00:01 /sbin/init splash',
    'root        4242    4240  0 10:01 ?        00:00:00 sleep 300',
    'root           -       -  0 10:01 ?        00:00:00 -',
    'root        4243    4240  0 10:01 ?        00:00:00 sh -c echo a b',
    '',
  ].join('\n');
  const r = parsePsOutput(out, new Set([4242, 4243]));
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '4242', '4240', '0', '10:01', '?', '00:00:00', 'sleep 300'],
    ['root', '-', '-', '0', '10:01', '?', '00:00:00', '-'],
    ['root', '4243', '4240', '0', '10:01', '?', '00:00:00', 'sh -c echo a b'],
  ]);
  assert.throws(() => parsePsOutput('UID CMD\nroot x\n', new Set([1])), /Couldn't find PID field in ps output/);
  assert.throws(() => parsePsOutput('PID CMD\nx y\n', new Set([1])), /Unexpected pid 'x'/);
});
