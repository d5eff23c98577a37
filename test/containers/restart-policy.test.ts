// Restart policy decisions and delays as dockerd's restart manager makes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartManager, policyRestarts, validateRestartPolicy } from '../../src/containers/restart-policy.js';
import { InvalidParameter } from '../../src/errors.js';

test('which exits restart: always, unless-stopped (not after a manual stop), on-failure (failures, up to the count)', () => {
  const p = (Name: string, MaximumRetryCount = 0) => ({ Name, MaximumRetryCount });
  assert.equal(policyRestarts(p('no'), 1, false, 0), false);
  assert.equal(policyRestarts(p(''), 1, false, 0), false);
  assert.equal(policyRestarts(p('always'), 0, true, 99), true);
  assert.equal(policyRestarts(p('unless-stopped'), 0, false, 0), true);
  assert.equal(policyRestarts(p('unless-stopped'), 0, true, 0), false);
  assert.equal(policyRestarts(p('on-failure'), 0, false, 0), false);
  assert.equal(policyRestarts(p('on-failure'), 137, false, 1000), true, 'no count: no limit');
  assert.equal(policyRestarts(p('on-failure', 2), 1, false, 1), true);
  assert.equal(policyRestarts(p('on-failure', 2), 1, false, 2), false);
});

test('the delay starts at 100 ms and doubles up to a minute; a run of 10 s starts it over; the count of restarts is kept', () => {
  const rm = new RestartManager({ Name: 'always', MaximumRetryCount: 0 }, 0);
  const delays: Array<number | null> = [];
  for (let i = 0; i < 12; i++) delays.push(rm.next(1, false, 5));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  assert.equal(rm.next(1, false, 10_000), 100);
  const limited = new RestartManager({ Name: 'on-failure', MaximumRetryCount: 2 }, 1);
  assert.equal(limited.next(3, false, 0), 100);
  assert.equal(limited.next(3, false, 0), null, 'the count given at creation counts');
});

test('cancel ends restarting: a pending restart is dropped, later exits do not restart', async () => {
  const rm = new RestartManager({ Name: 'always', MaximumRetryCount: 0 }, 0);
  let restarted = false;
  rm.schedule(rm.next(1, false, 0)!, () => (restarted = true));
  assert.equal(rm.pending, true);
  assert.equal(rm.cancel(), true);
  assert.equal(rm.pending, false);
  assert.equal(rm.next(1, false, 0), null);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(restarted, false);
});

test("dockerd's validation messages", () => {
  const bad = (Name: string, MaximumRetryCount: number, message: string) =>
    assert.throws(() => validateRestartPolicy({ Name, MaximumRetryCount }), (e: unknown) => e instanceof InvalidParameter && e.message === message);
  bad('always', 1, "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  bad('no', -1, "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative");
  bad('on-failure', -1, 'invalid restart policy: maximum retry count cannot be negative');
  bad('never', 0, "invalid restart policy: unknown policy 'never'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
  for (const Name of ['', 'no', 'always', 'unless-stopped', 'on-failure']) validateRestartPolicy({ Name, MaximumRetryCount: 0 });
  validateRestartPolicy({ Name: '', MaximumRetryCount: 5 });
});
