// Backup schedules: cron expressions and macros, @every, the fixed jitter,
// and the errors for what is not a schedule. Properties (fast-check) check
// next times against a minute-by-minute oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidParameter } from '../../src/errors.js';
import { jitterOffset, nextRun, parseSchedule } from '../../src/backup/cron.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const utc = (iso: string): Date => new Date(iso);
const next = (expr: string, after: string, tz = 'UTC'): string => parseSchedule(expr, { tz }).next(utc(after)).toISOString();

test('5-field expressions and macros give their next time, strictly after the given one', () => {
  assert.equal(next('*/15 * * * *', '2026-05-04T10:07:31Z'), '2026-05-04T10:15:00.000Z');
  assert.equal(next('*/15 * * * *', '2026-05-04T10:15:00Z'), '2026-05-04T10:30:00.000Z');
  assert.equal(next('0 3 * * 1', '2026-05-04T03:00:00Z'), '2026-05-11T03:00:00.000Z', '2026-05-04 is a Monday');
  assert.equal(next('30 2 1 * *', '2026-01-31T12:00:00Z'), '2026-02-01T02:30:00.000Z');
  assert.equal(next('0 0 * * sun', '2026-05-04T00:00:00Z'), '2026-05-10T00:00:00.000Z');
  assert.equal(next('@hourly', '2026-05-04T10:59:59.999Z'), '2026-05-04T11:00:00.000Z');
  assert.equal(next('@daily', '2026-05-04T10:00:00Z'), '2026-05-05T00:00:00.000Z');
  assert.equal(next('@weekly', '2026-05-04T10:00:00Z'), '2026-05-10T00:00:00.000Z');
  assert.equal(next('@monthly', '2026-05-04T10:00:00Z'), '2026-06-01T00:00:00.000Z');
  assert.equal(next('@yearly', '2026-05-04T10:00:00Z'), '2027-01-01T00:00:00.000Z');
  assert.equal(next('@annually', '2026-05-04T10:00:00Z'), '2027-01-01T00:00:00.000Z');
  assert.equal(next('  0 4 * * *  ', '2026-05-04T10:00:00Z'), '2026-05-05T04:00:00.000Z', 'surrounding blanks');
});

test('cron fields are in the given time zone, across daylight saving changes', () => {
  assert.equal(next('0 3 * * *', '2026-05-04T12:00:00Z', 'Europe/Berlin'), '2026-05-05T01:00:00.000Z');
  assert.equal(next('0 3 * * *', '2026-01-04T12:00:00Z', 'Europe/Berlin'), '2026-01-05T02:00:00.000Z');
  // 02:30 does not exist on 2026-03-29 in Berlin: the run is not lost.
  const spring = parseSchedule('30 2 * * *', { tz: 'Europe/Berlin' });
  const t = spring.next(utc('2026-03-28T12:00:00Z'));
  assert.ok(t.getTime() > utc('2026-03-28T12:00:00Z').getTime() && t.getTime() < utc('2026-03-30T00:00:00Z').getTime(), t.toISOString());
});

test('@every counts whole intervals from its anchor', () => {
  const anchor = utc('2026-05-04T10:00:00Z');
  const every = parseSchedule('@every 6h', { anchor });
  assert.equal(every.next(utc('2026-05-04T10:00:00Z')).toISOString(), '2026-05-04T16:00:00.000Z');
  assert.equal(every.next(utc('2026-05-04T15:59:59Z')).toISOString(), '2026-05-04T16:00:00.000Z');
  assert.equal(every.next(utc('2026-05-06T01:00:00Z')).toISOString(), '2026-05-06T04:00:00.000Z');
  assert.equal(every.next(utc('2026-05-04T09:00:00Z')).toISOString(), '2026-05-04T10:00:00.000Z', 'before the anchor too');
  assert.equal(parseSchedule('@every 1h30m').next(new Date(0)).toISOString(), '1970-01-01T01:30:00.000Z');
});

test('what is not a schedule is refused with the reason', () => {
  const refusals: Array<[string, string]> = [
    ['', 'invalid schedule "": it is empty'],
    ['* * *', 'invalid schedule "* * *": a cron expression has 5 fields (minute hour day-of-month month day-of-week), not 3'],
    ['0 * * * * *', 'invalid schedule "0 * * * * *": a cron expression has 5 fields (minute hour day-of-month month day-of-week), not 6'],
    ['61 * * * *', 'invalid schedule "61 * * * *": Constraint error, got value 61 expected range 0-59'],
    ['0 0 31 2 *', 'invalid schedule "0 0 31 2 *": Invalid explicit day of month definition'],
    ['H * * * *', 'invalid schedule "H * * * *": H (hashed values) is not supported: give the policy a jitter instead'],
    ['@reboot', 'invalid schedule "@reboot": use 5 cron fields, @hourly, @daily, @weekly, @monthly, @yearly or @every <duration>'],
    ['@daily 3', 'invalid schedule "@daily 3": use 5 cron fields, @hourly, @daily, @weekly, @monthly, @yearly or @every <duration>'],
    ['@every', 'invalid schedule "@every": @every takes one duration, e.g. "@every 6h"'],
    ['@every 1d', 'invalid schedule "@every 1d": time: unknown unit "d" in duration "1d"'],
    ['@every 30s', 'invalid schedule "@every 30s": @every needs an interval of at least 1m0s'],
    ['@every -1h', 'invalid schedule "@every -1h": @every needs an interval of at least 1m0s'],
  ];
  for (const [expr, message] of refusals) {
    assert.throws(() => parseSchedule(expr), (e: Error) => e instanceof InvalidParameter && e.message === message, JSON.stringify(expr));
  }
  assert.doesNotThrow(() => parseSchedule('0 0 * * THU'), 'day names are not hashed values');
});

/** Standard cron matching for the generated subset: '*', a value, or '*' + '/' + step per field. */
function fieldMatches(field: string, value: number): boolean {
  if (field === '*') return true;
  if (field.startsWith('*/')) return value % Number(field.slice(2)) === 0;
  return Number(field) === value;
}

function oracleMatches(fields: string[], t: Date): boolean {
  const [min, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (!fieldMatches(min, t.getUTCMinutes()) || !fieldMatches(hour, t.getUTCHours()) || !fieldMatches(month, t.getUTCMonth() + 1)) return false;
  const domOk = fieldMatches(dom, t.getUTCDate());
  const dowOk = fieldMatches(dow, t.getUTCDay());
  // Vixie cron: with both day fields restricted, either one will do.
  if (dom !== '*' && dow !== '*') return domOk || dowOk;
  return domOk && dowOk;
}

const field = (max: number, min = 0): fc.Arbitrary<string> =>
  fc.oneof(fc.constant('*'), fc.integer({ min, max }).map(String), fc.integer({ min: 2, max: Math.max(2, Math.floor(max / 2)) }).map((s) => `*/${s}`));
const expressions = fc.tuple(field(59), field(23), fc.oneof(fc.constant('*'), fc.integer({ min: 1, max: 28 }).map(String)), fc.constant('*'), fc.oneof(fc.constant('*'), fc.integer({ min: 0, max: 6 }).map(String)));
const instants = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2090, 0, 1) }).map((ms) => new Date(ms));

test('property: the next time is the first minute after the given time that matches (minute-by-minute oracle)', () => {
  fc.assert(
    fc.property(expressions, instants, (fields, after) => {
      const t = parseSchedule(fields.join(' '), { tz: 'UTC' }).next(after);
      assert.ok(t.getTime() > after.getTime());
      assert.equal(t.getTime() % MINUTE, 0);
      assert.ok(oracleMatches(fields, t), `${fields.join(' ')} at ${t.toISOString()}`);
      // No matching minute between `after` and t.
      for (let m = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE; m < t.getTime(); m += MINUTE) {
        if (oracleMatches(fields, new Date(m))) assert.fail(`${fields.join(' ')}: ${new Date(m).toISOString()} matches before ${t.toISOString()}`);
      }
    }),
    { numRuns: 60 },
  );
});

test('property: next times only move forward, and each is the next of any moment before it', () => {
  const macros = fc.constantFrom('@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@every 90m', '@every 7h', '*/7 * * * *', '15 4 * * 1-5');
  fc.assert(
    fc.property(macros, instants, fc.integer({ min: 1, max: 365 * DAY }), (expr, after, step) => {
      const s = parseSchedule(expr, { tz: 'UTC', anchor: utc('2026-01-01T00:00:00Z') });
      const t = s.next(after);
      assert.ok(t > after);
      const later = new Date(after.getTime() + step);
      assert.ok(s.next(later) >= t, 'monotone');
      if (later < t) assert.equal(s.next(later).getTime(), t.getTime());
      assert.equal(s.next(new Date(t.getTime() - 1)).getTime(), t.getTime());
    }),
    { numRuns: 200 },
  );
});

test('jitter: fixed per policy ID, within [0, jitter), spread across IDs', () => {
  const ids = fc.stringMatching(/^[0-9a-f]{64}$/);
  fc.assert(
    fc.property(ids, fc.integer({ min: 1, max: 7 * DAY }), (id, jitter) => {
      const offset = jitterOffset(id, jitter);
      assert.ok(Number.isInteger(offset) && offset >= 0 && offset < jitter);
      assert.equal(jitterOffset(id, jitter), offset, 'the same after a restart');
    }),
  );
  assert.equal(jitterOffset('a'.repeat(64), 0), 0);
  const offsets = new Set(Array.from({ length: 200 }, (_, i) => jitterOffset(i.toString(16).padStart(64, '0'), HOUR)));
  assert.ok(offsets.size > 190, `200 policies share ${200 - offsets.size} offsets`);
});

test('property: a jittered run is the first scheduled time plus the offset that comes after the given time', () => {
  // Schedules with a fixed period in UTC, so the time before each is known.
  const periodic = fc.constantFrom<[string, number]>(['@hourly', HOUR], ['@daily', DAY], ['0 */6 * * *', 6 * HOUR], ['@every 45m', 45 * MINUTE]);
  fc.assert(
    fc.property(periodic, instants, fc.integer({ min: 0, max: 3 * HOUR }), ([expr, period], after, offset) => {
      const s = parseSchedule(expr, { tz: 'UTC' });
      const run = nextRun(s, after, offset);
      assert.ok(run > after);
      const scheduled = run.getTime() - offset;
      assert.equal(s.next(new Date(scheduled - 1)).getTime(), scheduled, 'a scheduled time');
      assert.ok(scheduled - period + offset <= after.getTime(), 'the scheduled time before it would not have been after `after`');
    }),
  );
});
