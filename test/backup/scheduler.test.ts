// The Scheduler on a fake clock: each policy at its next time (with its
// jitter), recomputed after each run, never overlapping itself, one catch-up
// run at start for missed times, policies added and removed, failures
// recorded, and far times reached through several timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Scheduler, type RunOutcome } from '../../src/backup/scheduler.js';
import { jitterOffset } from '../../src/backup/cron.js';
import type { Policy, PolicyRun } from '../../src/backup/policies.js';
import { FakeClock, settle } from '../helpers/fake-clock.js';

const log = pino({ level: 'silent' });
const at = (iso: string): number => Date.parse(iso);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function policy(id: string, schedule: string, extra: Partial<Policy> = {}): Policy {
  return {
    id: id.repeat(64).slice(0, 64),
    name: `policy-${id}`,
    selector: { volumes: ['data'] },
    schedule,
    jitterMs: 0,
    retention: { keepLast: 3 },
    repository: '/backups',
    consistency: 'freeze',
    tags: [],
    credentials: { kind: 'stored' },
    created: at('2026-05-01T00:00:00Z'),
    ...extra,
  };
}

/** An in-memory policy store, and a run callback whose runs the test finishes. */
function harness(start: string, policies: Policy[], runs: PolicyRun[] = []) {
  const clock = new FakeClock(at(start));
  const recorded = [...runs];
  const calls: Array<{ policy: string; at: number; finish: (o?: Partial<RunOutcome>) => void; fail: (e: Error) => void }> = [];
  const scheduler = new Scheduler({
    clock,
    log,
    tz: 'UTC',
    store: {
      list: () => policies,
      lastRuns: (id, limit = 50) => recorded.filter((r) => r.policyId === id).sort((a, b) => b.started - a.started).slice(0, limit),
      recordRun: (r) => {
        if (!policies.some((p) => p.id === r.policyId)) throw new Error('no such policy');
        recorded.push(r);
      },
    },
    run: (p) =>
      new Promise<RunOutcome>((resolve, reject) => {
        calls.push({
          policy: p.name,
          at: clock.now(),
          finish: (o = {}) => resolve({ snapshots: ['s1'], bytesAdded: 10, freezeMs: 5, ...o }),
          fail: reject,
        });
      }),
  });
  /** Finishes the run in progress and lets the scheduler record it and rearm. */
  const finish = async (o?: Partial<RunOutcome>): Promise<void> => {
    calls.at(-1)!.finish(o);
    await scheduler.whenIdle();
    await settle();
  };
  return { clock, scheduler, calls, recorded, finish };
}

test('a policy runs at each scheduled time; the next time is computed after each run', async () => {
  const p = policy('a', '@hourly');
  const h = harness('2026-05-04T10:20:00Z', [p], [{ policyId: p.id, started: at('2026-05-04T10:00:00Z'), durationMs: 1, snapshots: [], bytesAdded: 0, freezeMs: null, error: null }]);
  h.scheduler.start();
  assert.equal(h.scheduler.nextRunOf(p.id), at('2026-05-04T11:00:00Z'));
  await h.clock.advanceTo(at('2026-05-04T10:59:59.999Z'));
  assert.equal(h.calls.length, 0);
  await h.clock.advanceTo(at('2026-05-04T11:00:00Z'));
  assert.deepEqual(h.calls.map((c) => [c.policy, c.at]), [['policy-a', at('2026-05-04T11:00:00Z')]]);
  assert.equal(h.scheduler.nextRunOf(p.id), undefined, 'no next time while it runs');
  await h.clock.advanceBy(90_000);
  await h.finish();
  assert.deepEqual(h.recorded.at(-1), { policyId: p.id, started: at('2026-05-04T11:00:00Z'), durationMs: 90_000, snapshots: ['s1'], bytesAdded: 10, freezeMs: 5, error: null });
  assert.equal(h.scheduler.nextRunOf(p.id), at('2026-05-04T12:00:00Z'));
  await h.clock.advanceTo(at('2026-05-04T12:00:00Z'));
  assert.equal(h.calls.length, 2);
});

test("the jitter delays every run by the policy's own fixed offset", async () => {
  const p = policy('b', '@daily', { jitterMs: 2 * HOUR });
  const offset = jitterOffset(p.id, p.jitterMs);
  assert.ok(offset > 0 && offset < 2 * HOUR);
  const h = harness('2026-05-04T10:00:00Z', [p], [{ policyId: p.id, started: at('2026-05-04T00:00:00Z') + offset, durationMs: 1, snapshots: [], bytesAdded: 0, freezeMs: null, error: null }]);
  h.scheduler.start();
  assert.equal(h.scheduler.nextRunOf(p.id), at('2026-05-05T00:00:00Z') + offset);
  await h.clock.advanceTo(at('2026-05-05T00:00:00Z') + offset - 1);
  assert.equal(h.calls.length, 0);
  await h.clock.advanceBy(1);
  assert.equal(h.calls.length, 1);
  await h.finish();
  assert.equal(h.scheduler.nextRunOf(p.id), at('2026-05-06T00:00:00Z') + offset);
});

test('a run never overlaps itself: times that pass while it runs are skipped, not queued', async () => {
  const p = policy('c', '*/30 * * * *', { created: at('2026-05-04T10:00:00Z') });
  const h = harness('2026-05-04T10:10:00Z', [p]);
  h.scheduler.start();
  await h.clock.advanceTo(at('2026-05-04T10:30:00Z'));
  assert.equal(h.calls.length, 1);
  // The run takes two hours: 11:00, 11:30, 12:00 pass meanwhile.
  await h.clock.advanceTo(at('2026-05-04T12:29:00Z'));
  assert.equal(h.calls.length, 1);
  assert.deepEqual(h.clock.pending(), [], 'no timer while it runs');
  await h.finish();
  assert.equal(h.scheduler.nextRunOf(p.id), at('2026-05-04T12:30:00Z'));
  await h.clock.advanceTo(at('2026-05-04T12:30:00Z'));
  assert.equal(h.calls.length, 2);
});

test('missed times while berthd was down are caught up with one run at start, delayed by the jitter', async () => {
  const hourly = policy('d', '@hourly');
  const daily = policy('e', '@daily', { jitterMs: 30 * MINUTE, created: at('2026-05-01T12:00:00Z') });
  const current = policy('f', '@hourly');
  const h = harness('2026-05-04T11:20:00Z', [hourly, daily, current], [
    // Last ran at 08:00: 09:00, 10:00 and 11:00 were missed.
    { policyId: hourly.id, started: at('2026-05-04T08:00:00Z'), durationMs: 1, snapshots: [], bytesAdded: 0, freezeMs: null, error: null },
    // Ran at 11:00: nothing missed.
    { policyId: current.id, started: at('2026-05-04T11:00:05Z'), durationMs: 1, snapshots: [], bytesAdded: 0, freezeMs: null, error: null },
  ]);
  h.scheduler.start();
  const dailyOffset = jitterOffset(daily.id, daily.jitterMs);
  assert.equal(h.scheduler.nextRunOf(hourly.id), at('2026-05-04T11:20:00Z'), 'at once');
  assert.equal(h.scheduler.nextRunOf(daily.id), at('2026-05-04T11:20:00Z') + dailyOffset, 'never ran since its creation three days ago');
  assert.equal(h.scheduler.nextRunOf(current.id), at('2026-05-04T12:00:00Z'));

  await h.clock.advanceBy(0);
  assert.deepEqual(h.calls.map((c) => c.policy), ['policy-d'], 'one run, however many times were missed');
  await h.finish();
  assert.equal(h.scheduler.nextRunOf(hourly.id), at('2026-05-04T12:00:00Z'));
  await h.clock.advanceBy(dailyOffset);
  assert.deepEqual(h.calls.map((c) => c.policy), ['policy-d', 'policy-e']);
  await h.finish();
  assert.equal(h.scheduler.nextRunOf(daily.id), at('2026-05-05T00:00:00Z') + dailyOffset);
});

test('added policies start at their next time; removed ones stop, and a run in flight is not rescheduled', async () => {
  const policies: Policy[] = [];
  const h = harness('2026-05-04T10:20:00Z', policies);
  h.scheduler.start();
  const p = policy('g', '@hourly', { created: at('2026-04-01T00:00:00Z') });
  policies.push(p);
  h.scheduler.policyAdded(p);
  assert.equal(h.scheduler.nextRunOf(p.id), at('2026-05-04T11:00:00Z'), 'an added policy is not caught up');
  const q = policy('h', '@hourly');
  policies.push(q);
  h.scheduler.policyAdded(q);
  h.scheduler.policyRemoved(q.id);
  policies.pop();
  assert.equal(h.scheduler.nextRunOf(q.id), undefined);

  await h.clock.advanceTo(at('2026-05-04T11:00:00Z'));
  assert.deepEqual(h.calls.map((c) => c.policy), ['policy-g']);
  h.scheduler.policyRemoved(p.id);
  policies.pop();
  await h.finish();
  assert.equal(h.recorded.length, 0, 'the run of a removed policy is not recorded');
  assert.deepEqual(h.clock.pending(), []);
  await h.clock.advanceTo(at('2026-05-04T14:00:00Z'));
  assert.equal(h.calls.length, 1);
});

test('a failed run is recorded with its error and the schedule goes on', async () => {
  const p = policy('i', '@hourly');
  const h = harness('2026-05-04T10:59:00Z', [p], [{ policyId: p.id, started: at('2026-05-04T10:00:00Z'), durationMs: 1, snapshots: [], bytesAdded: 0, freezeMs: null, error: null }]);
  h.scheduler.start();
  await h.clock.advanceTo(at('2026-05-04T11:00:00Z'));
  await h.clock.advanceBy(5000);
  h.calls[0]!.fail(new Error('repository is locked'));
  await h.scheduler.whenIdle();
  await settle();
  assert.deepEqual(h.recorded.at(-1), { policyId: p.id, started: at('2026-05-04T11:00:00Z'), durationMs: 5000, snapshots: [], bytesAdded: 0, freezeMs: null, error: 'repository is locked' });
  assert.equal(h.scheduler.nextRunOf(p.id), at('2026-05-04T12:00:00Z'));
});

test('stop clears the timers; a run in flight finishes and is recorded, nothing new starts', async () => {
  const p = policy('j', '@hourly');
  const other = policy('k', '@daily');
  const h = harness('2026-05-04T10:59:00Z', [p, other], [
    { policyId: p.id, started: at('2026-05-04T10:00:00Z'), durationMs: 1, snapshots: [], bytesAdded: 0, freezeMs: null, error: null },
    { policyId: other.id, started: at('2026-05-04T00:00:00Z'), durationMs: 1, snapshots: [], bytesAdded: 0, freezeMs: null, error: null },
  ]);
  h.scheduler.start();
  await h.clock.advanceTo(at('2026-05-04T11:00:00Z'));
  h.scheduler.stop();
  assert.deepEqual(h.clock.pending(), []);
  await h.finish();
  assert.equal(h.recorded.length, 3);
  assert.deepEqual(h.clock.pending(), []);
  h.scheduler.policyAdded(policy('l', '@hourly'));
  assert.deepEqual(h.clock.pending(), [], 'a stopped scheduler takes no new policy');
});

test('a time further away than one timer can wait is reached through several, and runs exactly then', async () => {
  const p = policy('m', '@yearly');
  const h = harness('2026-02-01T00:00:00Z', [p], [{ policyId: p.id, started: at('2026-01-01T00:00:00Z'), durationMs: 1, snapshots: [], bytesAdded: 0, freezeMs: null, error: null }]);
  h.scheduler.start();
  const due = at('2027-01-01T00:00:00Z');
  assert.equal(h.scheduler.nextRunOf(p.id), due);
  assert.deepEqual(h.clock.pending(), [at('2026-02-01T00:00:00Z') + 2 ** 31 - 1]);
  await h.clock.advanceTo(due - 1);
  assert.equal(h.calls.length, 0);
  assert.ok(h.clock.pending().length === 1 && h.clock.pending()[0]! <= due);
  await h.clock.advanceTo(due);
  assert.deepEqual(h.calls.map((c) => c.at), [due]);
});
