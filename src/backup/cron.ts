// When a backup policy runs: a 5-field cron expression or a macro (@hourly,
// @daily, @weekly, @monthly, @yearly, @every <Go duration>), plus a jitter
// that is fixed per policy, so schedules of many policies spread out and a
// restart of berthd does not move them.
import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { InvalidParameter, errorText } from '../errors.js';
import { quote } from '../go/strconv.js';
import { formatDuration, parseDuration, NS_PER_MS } from '../go/time.js';

export interface Schedule {
  /** The expression as given. */
  readonly expression: string;
  /** The first time the schedule fires strictly after `after`. */
  next(after: Date): Date;
}

export interface ScheduleOptions {
  /** IANA time zone of the cron fields; default: berthd's own (TZ). */
  tz?: string;
  /** Where `@every` intervals are counted from (a policy's creation); default: the Unix epoch. */
  anchor?: Date;
}

/** The shortest `@every` interval: a backup more often than once a minute is a mistake. */
export const MIN_EVERY_MS = 60_000;

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const FIELDS = 'minute hour day-of-month month day-of-week';

function invalid(expression: string, why: string): InvalidParameter {
  return new InvalidParameter(`invalid schedule ${quote(expression)}: ${why}`);
}

function everySchedule(expression: string, duration: string, anchor: number): Schedule {
  let ns: number;
  try {
    ns = parseDuration(duration);
  } catch (e) {
    throw invalid(expression, errorText(e));
  }
  const intervalMs = ns / NS_PER_MS;
  if (!(intervalMs >= MIN_EVERY_MS)) throw invalid(expression, `@every needs an interval of at least ${formatDuration(MIN_EVERY_MS * NS_PER_MS)}`);
  return {
    expression,
    next(after: Date): Date {
      const k = Math.floor((after.getTime() - anchor) / intervalMs) + 1;
      return new Date(anchor + k * intervalMs);
    },
  };
}

function cronSchedule(expression: string, fields: string, tz: string | undefined): Schedule {
  const count = fields.split(/\s+/).length;
  if (count !== 5) throw invalid(expression, `a cron expression has 5 fields (${FIELDS}), not ${count}`);
  // cron-parser would pick H's value at random: the policy's jitter is the way to spread runs.
  if (/(^|[\s,])H/i.test(fields)) {
    throw invalid(expression, 'H (hashed values) is not supported: give the policy a jitter instead');
  }
  const parse = (after: Date) => CronExpressionParser.parse(fields, { currentDate: after, ...(tz ? { tz } : {}) });
  try {
    // One parse now, so an impossible expression ("0 0 31 2 *") fails here, not at its first run.
    parse(new Date(0)).next();
  } catch (e) {
    throw invalid(expression, errorText(e));
  }
  return { expression, next: (after) => parse(after).next().toDate() };
}

/** Parses a policy's schedule; InvalidParameter with the reason when it is not one. */
export function parseSchedule(expression: string, opts: ScheduleOptions = {}): Schedule {
  const text = expression.trim();
  if (text === '') throw invalid(expression, 'it is empty');
  if (text.startsWith('@')) {
    const [macro, ...rest] = text.split(/\s+/);
    if (macro === '@every') {
      if (rest.length !== 1) throw invalid(expression, '@every takes one duration, e.g. "@every 6h"');
      return everySchedule(expression, rest[0]!, opts.anchor?.getTime() ?? 0);
    }
    const fields = MACROS[macro!];
    if (fields === undefined || rest.length > 0) {
      throw invalid(expression, 'use 5 cron fields, @hourly, @daily, @weekly, @monthly, @yearly or @every <duration>');
    }
    return cronSchedule(expression, fields, opts.tz);
  }
  return cronSchedule(expression, text, opts.tz);
}

/**
 * The policy's fixed delay in [0, jitterMs): derived from its ID, so it is
 * the same after every restart and different from other policies'.
 */
export function jitterOffset(policyId: string, jitterMs: number): number {
  if (!(jitterMs > 0)) return 0;
  const digest = createHash('sha256').update(`berth-backup-jitter\0${policyId}`).digest();
  const fraction = digest.readUIntBE(0, 6) / 2 ** 48;
  return Math.floor(fraction * jitterMs);
}

/** The first run strictly after `after` of a schedule shifted by `offsetMs`. */
export function nextRun(schedule: Schedule, after: Date, offsetMs: number): Date {
  return new Date(schedule.next(new Date(after.getTime() - offsetMs)).getTime() + offsetMs);
}
