// The freeze a consistent backup takes (docs/backups.md): pause the running
// users of the volumes, do the short work that needs them still, thaw. A
// freeze always thaws what it paused: when the work succeeds, fails or runs
// past its limit, and (through the journal) after berthd was killed.
import type { Logger } from 'pino';
import { performance } from 'node:perf_hooks';
import { BerthError, Conflict, NotFound, SystemError, errorText } from '../errors.js';
import { formatDuration, NS_PER_MS } from '../go/time.js';
import type { FreezeJournal } from './freeze-journal.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import type { ContainerStatus } from './types.js';

/** What a freeze needs of the container service. */
export interface FreezeTarget {
  /** The container's status, undefined when there is no such container. */
  statusOf(id: string): ContainerStatus | undefined;
  /** `docker pause`: Conflict when the container is not running or already paused. */
  pause(id: string): Promise<void>;
  /** `docker unpause`: an error when the container is not paused. */
  unpause(id: string): Promise<void>;
}

export interface FreezeOptions {
  /** The longest the work may keep the containers frozen, in milliseconds. */
  maxMs: number;
}

export interface FreezeResult<T> {
  result: T;
  /** From the start of the pauses to the end of the thaws, in milliseconds; 0 when it paused nothing. */
  frozenMs: number;
}

/** How often a pause is tried when runc reports that the cgroup would not freeze. */
const PAUSE_ATTEMPTS = 3;

/** The work ran past the freeze's limit; the containers were thawed. */
export class FreezeTimeout extends SystemError {
  constructor(maxMs: number, ids: string[]) {
    const limit = `the freeze ran past its limit of ${formatDuration(maxMs * NS_PER_MS)}`;
    const thawed = ids.length === 0 ? '' : `; thawed ${ids.length === 1 ? 'container' : 'containers'} ${ids.map((id) => id.slice(0, 12)).join(', ')}`;
    super(limit + thawed);
  }
}

export class Freezer {
  /**
   * Containers some freeze paused, with the number of freezes that need them
   * frozen: overlapping freezes share a container, and only the last one to
   * finish thaws it.
   */
  private readonly holds = new Map<string, number>();
  /** Containers being paused right now (in the journal before the pause). */
  private readonly pausing = new Set<string>();
  /** Holding and releasing take turns, so a thaw in flight is never shared by a new freeze. */
  private readonly steps = new KeyedMutex();

  constructor(
    private readonly deps: {
      target: FreezeTarget;
      journal: FreezeJournal;
      log: Logger;
    },
  ) {}

  /**
   * Pauses every container in `ids` that is running (already paused ones
   * stay as they are, and are not thawed afterwards), runs `work`, and thaws
   * what it paused. The work gets a signal that aborts when it runs past
   * `maxMs`; the freeze then thaws and fails with FreezeTimeout.
   */
  async freeze<T>(ids: string[], work: (signal: AbortSignal) => Promise<T>, opts: FreezeOptions): Promise<FreezeResult<T>> {
    if (!(opts.maxMs > 0)) throw new SystemError(`a freeze needs a positive limit, not ${opts.maxMs} ms`);
    let started = 0;
    const held = await this.steps.run('step', () => {
      started = performance.now();
      return this.hold([...new Set(ids)]);
    });
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await this.runBounded(work, opts.maxMs, held) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const thawError = await this.steps.run('step', () => this.release(held));
    const frozenMs = held.length > 0 ? performance.now() - started : 0;
    if (!outcome.ok) {
      if (thawError) this.deps.log.error({ err: errorText(thawError) }, 'freeze: thaw failed after the work failed');
      throw outcome.error;
    }
    if (thawError) throw thawError;
    return { result: outcome.value, frozenMs };
  }

  /**
   * After a restart: thaws the containers a killed berthd's freezes left
   * paused. Returns the IDs it thawed; ones it could not stay in the journal.
   */
  async recover(): Promise<string[]> {
    const { target, journal, log } = this.deps;
    const thawed: string[] = [];
    const left: string[] = [];
    for (const id of journal.read()) {
      if (target.statusOf(id) !== 'paused') continue;
      try {
        await target.unpause(id);
        thawed.push(id);
      } catch (e) {
        log.error({ container: id, err: errorText(e) }, 'could not thaw a container a freeze left paused');
        left.push(id);
      }
    }
    journal.write(left);
    return thawed;
  }

  /** Takes a hold on the running ones among `ids`, pausing those no freeze holds yet (in parallel, so they stop close together). */
  private async hold(ids: string[]): Promise<string[]> {
    const { target } = this.deps;
    const shared = ids.filter((id) => this.holds.has(id));
    const toPause = ids.filter((id) => !this.holds.has(id) && target.statusOf(id) === 'running');
    if (toPause.length > 0) {
      // Recorded before pausing, or a berthd killed between the pause and the
      // record would leave the container paused for good: no record, no freeze.
      for (const id of toPause) this.pausing.add(id);
      try {
        this.deps.journal.write(this.journalled());
      } catch (e) {
        for (const id of toPause) this.pausing.delete(id);
        throw new SystemError(`freeze: cannot record the containers it pauses: ${errorText(e)}`, { cause: e });
      }
    }
    for (const id of shared) this.holds.set(id, this.holds.get(id)! + 1);
    const held = [...shared];
    const results = await Promise.allSettled(toPause.map((id) => this.pause(id)));
    let failure: unknown;
    results.forEach((r, i) => {
      const id = toPause[i]!;
      this.pausing.delete(id);
      if (r.status === 'fulfilled') {
        this.holds.set(id, 1);
        held.push(id);
      } else if (!(r.reason instanceof Conflict) && !(r.reason instanceof NotFound)) {
        // A Conflict means it stopped, or someone paused it, meanwhile: not ours to freeze.
        failure ??= r.reason;
      }
    });
    this.writeJournal();
    if (failure !== undefined) {
      const thawError = await this.release(held);
      if (thawError) this.deps.log.error({ err: errorText(thawError) }, 'freeze: thaw failed after a pause failed');
      throw new SystemError(`freeze: ${errorText(failure)}`, { cause: failure });
    }
    return held;
  }

  /**
   * Pauses one container, trying again when runc gave up on a cgroup that
   * stayed FREEZING (a task in uninterruptible I/O on a loaded host): the
   * next try usually freezes it.
   */
  private async pause(id: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.target.pause(id);
        return;
      } catch (e) {
        if (attempt >= PAUSE_ATTEMPTS || !/unable to freeze/.test(errorText(e))) throw e;
        this.deps.log.warn({ container: id, attempt }, 'freeze: the container did not freeze; trying again');
      }
    }
  }

  private async runBounded<T>(work: (signal: AbortSignal) => Promise<T>, maxMs: number, held: string[]): Promise<T> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new FreezeTimeout(maxMs, held));
      }, maxMs);
    });
    const running = work(abort.signal);
    // The work may still settle after the limit: nobody waits for it then.
    running.catch(() => undefined);
    try {
      return await Promise.race([running, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Drops a hold on each of `ids` and thaws those no other freeze holds.
   * Returns an error naming the containers that could not be thawed (they
   * stay held, and in the journal for the next start), or undefined.
   */
  private async release(ids: string[]): Promise<BerthError | undefined> {
    const { target, log } = this.deps;
    const toThaw: string[] = [];
    for (const id of ids) {
      const n = (this.holds.get(id) ?? 1) - 1;
      if (n > 0) this.holds.set(id, n);
      else toThaw.push(id);
    }
    if (toThaw.length === 0) return undefined;
    const results = await Promise.allSettled(toThaw.map((id) => target.unpause(id)));
    const messages: string[] = [];
    results.forEach((r, i) => {
      const id = toThaw[i]!;
      if (r.status === 'fulfilled' || target.statusOf(id) !== 'paused') {
        // Thawed, or thawed some other way meanwhile (unpaused by hand, stopped, removed).
        this.holds.delete(id);
        return;
      }
      log.error({ container: id, err: errorText(r.reason) }, 'freeze: could not thaw container');
      messages.push(`${id.slice(0, 12)}: ${errorText(r.reason)}`);
    });
    this.writeJournal();
    return messages.length > 0 ? new SystemError(`freeze: could not thaw ${messages.join('; ')}`) : undefined;
  }

  private journalled(): string[] {
    return [...this.holds.keys(), ...this.pausing];
  }

  /** After a change that only shrinks what is paused: a failed write leaves extra entries, which recovery skips. */
  private writeJournal(): void {
    try {
      this.deps.journal.write(this.journalled());
    } catch (e) {
      this.deps.log.error({ err: errorText(e) }, 'freeze: could not write the freeze journal');
    }
  }
}
