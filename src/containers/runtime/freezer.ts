// The cgroup freezer, written directly: what `runc pause` and `runc resume`
// do, without starting runc (a Go process, 5 ms on an idle host and tens of
// milliseconds on a loaded one, twice in every backup's freeze). runc keeps
// no state of its own for a pause: it reads the freezer to say "paused", so
// a container frozen here is paused to runc too.
//
// cgroup v1 (also the hybrid layout, where runc uses the v1 freezer):
// freezer.state takes FROZEN or THAWED and reads FREEZING until every task
// stopped. cgroup v2: cgroup.freeze takes 1 or 0, and cgroup.events says
// "frozen 1" once done. A v1 cgroup can stay FREEZING while a task is in
// uninterruptible I/O; as runc does, the write is repeated, with a short
// thaw now and then, before giving up with runc's words, "unable to freeze".
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';

export type Freezer = { version: 1; dir: string } | { version: 2; dir: string };

/** The freezer of a container from runc's state.json `cgroup_paths`; null when it has none. */
export function freezerOf(cgroupPaths: Record<string, unknown>): Freezer | null {
  const v1 = cgroupPaths.freezer;
  if (typeof v1 === 'string' && v1 !== '') return { version: 1, dir: v1 };
  const unified = cgroupPaths[''];
  if (typeof unified === 'string' && unified !== '' && Object.keys(cgroupPaths).length === 1) return { version: 2, dir: unified };
  return null;
}

/** Tries (runc's numbers) before a v1 cgroup stuck in FREEZING is given up. */
const V1_TRIES = 1000;
/** How long a v2 cgroup may take to report itself frozen. */
const V2_LIMIT_MS = 10_000;

export async function freeze(f: Freezer): Promise<void> {
  if (f.version === 2) {
    writeFileSync(join(f.dir, 'cgroup.freeze'), '1');
    await waitForV2(f.dir, true);
    return;
  }
  const state = join(f.dir, 'freezer.state');
  for (let i = 0; i < V1_TRIES; i++) {
    if (i % 50 === 49) {
      // A thaw and a pause give the kernel a fresh start at tasks that keep slipping away.
      writeFileSync(state, 'THAWED');
      await sleep(10);
    }
    writeFileSync(state, 'FROZEN');
    if (i % 25 === 24) await yieldToLoop();
    const now = readFileSync(state, 'utf8').trim();
    if (now === 'FROZEN') return;
    if (now !== 'FREEZING') throw new Error(`unexpected freezer state "${now}"`);
  }
  writeFileSync(state, 'THAWED');
  throw new Error('unable to freeze');
}

export async function thaw(f: Freezer): Promise<void> {
  if (f.version === 2) {
    writeFileSync(join(f.dir, 'cgroup.freeze'), '0');
    await waitForV2(f.dir, false);
    return;
  }
  const state = join(f.dir, 'freezer.state');
  for (let i = 0; i < V1_TRIES; i++) {
    writeFileSync(state, 'THAWED');
    if (readFileSync(state, 'utf8').trim() === 'THAWED') return;
    if (i % 25 === 24) await yieldToLoop();
  }
  throw new Error('unable to thaw');
}

/** True when the container's cgroup is frozen (what runc calls paused). */
export function isFrozen(f: Freezer): boolean {
  if (f.version === 2) return /^frozen 1$/m.test(readFileSync(join(f.dir, 'cgroup.events'), 'utf8'));
  return readFileSync(join(f.dir, 'freezer.state'), 'utf8').trim() === 'FROZEN';
}

async function waitForV2(dir: string, frozen: boolean): Promise<void> {
  const want = frozen ? /^frozen 1$/m : /^frozen 0$/m;
  const until = performance.now() + V2_LIMIT_MS;
  for (let i = 0; ; i++) {
    if (want.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'))) return;
    if (performance.now() > until) {
      if (frozen) writeFileSync(join(dir, 'cgroup.freeze'), '0');
      throw new Error(frozen ? 'unable to freeze' : 'unable to thaw');
    }
    await (i < 50 ? yieldToLoop() : sleep(1));
  }
}
