// The Freezer over a stand-in container service: overlapping freezes share
// a container and the last one thaws it; pause and thaw failures; the
// journal on disk at each step, and recovery from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { Freezer, FreezeTimeout, type FreezeTarget } from '../../src/containers/freeze.js';
import { FreezeJournal } from '../../src/containers/freeze-journal.js';
import { Conflict, SystemError } from '../../src/errors.js';
import type { ContainerStatus } from '../../src/containers/types.js';

/** Containers as statuses; pause/unpause behave as ContainerService's, failures on demand. */
class StandInContainers implements FreezeTarget {
  readonly calls: string[] = [];
  readonly failPause = new Map<string, Error>();
  readonly failUnpause = new Map<string, Error>();
  constructor(readonly statuses: Map<string, ContainerStatus>) {}
  statusOf(id: string): ContainerStatus | undefined {
    return this.statuses.get(id);
  }
  async pause(id: string): Promise<void> {
    this.calls.push(`pause ${id}`);
    const failure = this.failPause.get(id);
    if (failure) throw failure;
    if (this.statuses.get(id) !== 'running') throw new Conflict(`container ${id} is not running`);
    this.statuses.set(id, 'paused');
  }
  async unpause(id: string): Promise<void> {
    this.calls.push(`unpause ${id}`);
    const failure = this.failUnpause.get(id);
    if (failure) throw failure;
    if (this.statuses.get(id) !== 'paused') throw new SystemError(`Container ${id} is not paused`);
    this.statuses.set(id, 'running');
  }
}

function setup(t: TestContext, statuses: Record<string, ContainerStatus>) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-freeze-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const containers = new StandInContainers(new Map(Object.entries(statuses)));
  const journal = new FreezeJournal(join(dir, 'freeze.json'));
  const freezer = new Freezer({ target: containers, journal, log: pino({ level: 'silent' }) });
  const journalled = (): string[] | null => (existsSync(journal.path) ? (JSON.parse(readFileSync(journal.path, 'utf8')) as { containers: string[] }).containers : null);
  return { containers, journal, freezer, journalled };
}

/** A promise and its resolver, to hold a freeze's work open. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

test('overlapping freezes share a container: paused once, thawed by the last freeze to end', async (t) => {
  const { containers, freezer, journalled } = setup(t, { a: 'running', b: 'running' });
  const first = gate();
  const second = gate();
  const inFirst = gate();
  const one = freezer.freeze(['a'], async () => {
    inFirst.open();
    await first.opened;
    return 'one';
  }, { maxMs: 60_000 });
  await inFirst.opened;
  const two = freezer.freeze(['a', 'b'], async () => {
    assert.deepEqual(journalled(), ['a', 'b']);
    await second.opened;
    return 'two';
  }, { maxMs: 60_000 });
  first.open();
  assert.equal((await one).result, 'one');
  assert.equal(containers.statuses.get('a'), 'paused', 'the second freeze still needs it');
  assert.deepEqual(journalled(), ['a', 'b']);
  second.open();
  const done = await two;
  assert.equal(done.result, 'two');
  assert.ok(done.frozenMs > 0);
  assert.deepEqual(containers.calls, ['pause a', 'pause b', 'unpause a', 'unpause b']);
  assert.equal(journalled(), null, 'nothing frozen, no journal');
});

test('a container that stopped (or was paused by hand) meanwhile is skipped; nothing paused means 0 ms frozen', async (t) => {
  const { containers, freezer } = setup(t, { gone: 'running', mine: 'paused', off: 'exited' });
  containers.failPause.set('gone', new Conflict('container gone is not running'));
  const r = await freezer.freeze(['gone', 'mine', 'off', 'unknown'], async () => 'worked', { maxMs: 1000 });
  assert.deepEqual(r, { result: 'worked', frozenMs: 0 });
  assert.deepEqual(containers.calls, ['pause gone']);
  assert.equal(containers.statuses.get('mine'), 'paused');
});

test('a pause that fails otherwise thaws what was paused and fails the freeze before the work', async (t) => {
  const { containers, freezer, journalled } = setup(t, { a: 'running', b: 'running' });
  containers.failPause.set('b', new SystemError('cannot pause container b: runc broke'));
  let worked = false;
  await assert.rejects(
    freezer.freeze(['a', 'b'], async () => (worked = true), { maxMs: 1000 }),
    (e: Error) => e instanceof SystemError && e.message === 'freeze: cannot pause container b: runc broke',
  );
  assert.equal(worked, false);
  assert.equal(containers.statuses.get('a'), 'running');
  assert.equal(journalled(), null);
});

test('the work is abandoned at maxMs: its signal aborts, the containers thaw, the freeze fails', async (t) => {
  const { containers, freezer, journalled } = setup(t, { aaaaaaaaaaaaaaaa: 'running' });
  let aborted = false;
  await assert.rejects(
    freezer.freeze(['aaaaaaaaaaaaaaaa'], (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))), { maxMs: 20 }),
    (e: Error) => e instanceof FreezeTimeout && e.message === 'the freeze ran past its limit of 20ms; thawed container aaaaaaaaaaaa',
  );
  assert.equal(aborted, true);
  assert.equal(containers.statuses.get('aaaaaaaaaaaaaaaa'), 'running');
  assert.equal(journalled(), null);
  await assert.rejects(freezer.freeze(['x'], async () => 1, { maxMs: 0 }), /a freeze needs a positive limit/);
});

test('the work fails: thawed, and the work\'s error is what the caller gets', async (t) => {
  const { containers, freezer } = setup(t, { a: 'running' });
  await assert.rejects(freezer.freeze(['a'], async () => Promise.reject(new Error('recheck failed')), { maxMs: 1000 }), { message: 'recheck failed' });
  assert.deepEqual(containers.calls, ['pause a', 'unpause a']);
});

test('a container that cannot be thawed stays journalled, fails the freeze, and is thawed by recovery', async (t) => {
  const { containers, freezer, journal, journalled } = setup(t, { a: 'running', b: 'running' });
  containers.failUnpause.set('b', new SystemError('runc resume: device busy'));
  await assert.rejects(freezer.freeze(['a', 'b'], async () => 'x', { maxMs: 1000 }), (e: Error) => e.message === 'freeze: could not thaw b: runc resume: device busy');
  assert.deepEqual([containers.statuses.get('a'), containers.statuses.get('b')], ['running', 'paused']);
  assert.deepEqual(journalled(), ['b']);

  // The next berthd reads the journal: the container the freeze paused is thawed.
  containers.failUnpause.clear();
  const restarted = new Freezer({ target: containers, journal, log: pino({ level: 'silent' }) });
  assert.deepEqual(await restarted.recover(), ['b']);
  assert.equal(containers.statuses.get('b'), 'running');
  assert.equal(journalled(), null);
});

test('recovery thaws only journalled containers that are still paused, and keeps those it cannot thaw', async (t) => {
  const { containers, freezer, journal, journalled } = setup(t, { a: 'paused', b: 'running', c: 'exited', d: 'paused', e: 'paused' });
  journal.write(['a', 'b', 'c', 'd', 'gone']);
  containers.failUnpause.set('d', new SystemError('still stuck'));
  assert.deepEqual(await freezer.recover(), ['a']);
  assert.deepEqual(journalled(), ['d']);
  assert.equal(containers.statuses.get('e'), 'paused', 'not journalled: paused by someone else');
  assert.deepEqual(await new Freezer({ target: containers, journal, log: pino({ level: 'silent' }) }).recover(), []);
});

test('no freeze without its journal: a journal that cannot be written refuses the freeze before any pause', async (t) => {
  const { containers, freezer } = setup(t, { a: 'running' });
  const broken = new Freezer({ target: containers, journal: new FreezeJournal('/nonexistent-dir/freeze.json'), log: pino({ level: 'silent' }) });
  await assert.rejects(broken.freeze(['a'], async () => 1, { maxMs: 1000 }), /^SystemError: freeze: cannot record the containers it pauses: ENOENT/);
  assert.deepEqual(containers.calls, []);
  assert.deepEqual(await freezer.freeze(['a'], async () => 2, { maxMs: 1000 }).then((r) => r.result), 2);
});

test("a cgroup that would not freeze is tried again; it fails after three tries, and other failures at once", async (t) => {
  const { containers, freezer } = setup(t, { a: 'running', b: 'running' });
  const stuck = new SystemError('cannot pause container a: runc pause a failed: unable to freeze');
  let refusals = 2;
  const pause = containers.pause.bind(containers);
  containers.pause = async (id: string) => {
    if (id === 'a' && refusals > 0) {
      refusals--;
      containers.calls.push(`pause ${id}`);
      throw stuck;
    }
    return pause(id);
  };
  const done = await freezer.freeze(['a'], async () => containers.statuses.get('a'), { maxMs: 60_000 });
  assert.equal(done.result, 'paused', 'frozen at the third try');
  assert.deepEqual(containers.calls, ['pause a', 'pause a', 'pause a', 'unpause a']);

  containers.calls.length = 0;
  refusals = 3;
  await assert.rejects(freezer.freeze(['a'], async () => 'never', { maxMs: 60_000 }), /unable to freeze/);
  assert.deepEqual(containers.calls, ['pause a', 'pause a', 'pause a']);

  containers.calls.length = 0;
  containers.failPause.set('b', new SystemError('cannot pause container b: permission denied'));
  await assert.rejects(freezer.freeze(['b'], async () => 'never', { maxMs: 60_000 }), /permission denied/);
  assert.deepEqual(containers.calls, ['pause b']);
});
