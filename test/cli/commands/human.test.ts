process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerStatus, getTimestamp, goTimeString, parseGoDuration, timeAgo } from '../../../src/cli/commands/human.js';
import { humanDuration } from '../../../src/util/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test('go-units HumanDuration', () => {
  const cases: Array<[number, string]> = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * S, '1 second'],
    [2 * S, '2 seconds'],
    [59 * S, '59 seconds'],
    [60 * S, 'About a minute'],
    [119 * S, 'About a minute'],
    [2 * M, '2 minutes'],
    [59 * M, '59 minutes'],
    [60 * M, 'About an hour'],
    [89 * M, 'About an hour'],
    [90 * M, '2 hours'],
    [47 * H, '47 hours'],
    [48 * H, '2 days'],
    [13 * D, '13 days'],
    [14 * D, '2 weeks'],
    [59 * D, '8 weeks'],
    [60 * D, '2 months'],
    [729 * D, '24 months'],
    [730 * D, '2 years'],
    [3 * 365 * D, '3 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test('RunningFor / CreatedSince', () => {
  assert.equal(timeAgo(1000, 1000 * 1000 + 300 * S), '5 minutes ago');
});

test('container State.String()', () => {
  const now = Date.parse('2024-01-01T01:00:00Z');
  assert.equal(containerStatus({ Running: true, StartedAt: '2024-01-01T00:59:57Z' }, now), 'Up 3 seconds');
  assert.equal(containerStatus({ Running: true, Paused: true, StartedAt: '2024-01-01T00:00:00Z' }, now), 'Up About an hour (Paused)');
  assert.equal(
    containerStatus({ Running: true, Restarting: true, ExitCode: 1, StartedAt: '2024-01-01T00:00:00Z', FinishedAt: '2024-01-01T00:59:30Z' }, now),
    'Restarting (1) 30 seconds ago',
  );
  assert.equal(containerStatus({ Running: true, StartedAt: '2024-01-01T00:59:00Z', Health: { Status: 'starting' } }, now), 'Up About a minute (health: starting)');
  assert.equal(containerStatus({ StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' }, now), 'Created');
  assert.equal(containerStatus({ ExitCode: 0, StartedAt: '2024-01-01T00:00:00Z', FinishedAt: '2024-01-01T00:55:00Z' }, now), 'Exited (0) 5 minutes ago');
  assert.equal(containerStatus({ Dead: true, StartedAt: '2024-01-01T00:00:00Z' }, now), 'Dead');
  assert.equal(containerStatus({ RemovalInProgress: true }, now), 'Removal In Progress');
});

test("Go's time.Time.String() for CreatedAt", () => {
  assert.equal(goTimeString(1704067200), '2024-01-01 00:00:00 +0000 UTC');
});

test('Go durations', () => {
  assert.equal(parseGoDuration('10m'), 600e9);
  assert.equal(parseGoDuration('1h30m'), 5400e9);
  assert.equal(parseGoDuration('1.5s'), 1.5e9);
  assert.equal(parseGoDuration('-2h'), -7200e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('10'), undefined);
  assert.equal(parseGoDuration('abc'), undefined);
});

test('logs --since/--until timestamps (GetTimestamp)', () => {
  const now = Date.parse('2024-01-01T01:00:00Z');
  assert.equal(getTimestamp('10m', now), String(Date.parse('2024-01-01T00:50:00Z') / 1000));
  assert.equal(getTimestamp('2024-01-01T00:00:00Z', now), '1704067200.000000000');
  assert.equal(getTimestamp('2024-01-01', now), '1704067200.000000000');
  assert.equal(getTimestamp('2024-01-01T10:11:12.5+02:00', now), '1704096672.500000000');
  assert.equal(getTimestamp('1700000000', now), '1700000000');
  assert.equal(getTimestamp('1700000000.123', now), '1700000000.123');
  assert.throws(() => getTimestamp('garbage', now), /failed to parse value as time or duration: "garbage"/);
});
