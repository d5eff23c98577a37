// Wall time of one `busybox true` container: through a shim (spawnShim +
// start + wait) versus a bare `runc run` of the same bundle. Not a test:
//   node dist/test/containers/runtime/bench-startup.js [runs=20]
import { spawn } from 'node:child_process';
import { spawnShim } from '../../../src/containers/runtime/shim-client.js';
import { RuntimeFixture, runtimeSkipReason, uniqueId } from './helpers.js';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 20);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const skip = runtimeSkipReason();
  if (skip) {
    console.log(`skipped: ${skip}`);
    return;
  }
  const fx = new RuntimeFixture();
  const cleanups: Array<() => void> = [];
  const t = { after: (fn: () => void) => cleanups.push(fn) } as unknown as import('node:test').TestContext;
  try {
    const c = fx.container(t, { args: ['true'], cgroupsPath: undefined });
    const shim: number[] = [];
    const spawnMs: number[] = [];
    const startMs: number[] = [];
    const waitMs: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      // Bare runc run, foreground, output discarded.
      const id1 = uniqueId('bench');
      const b0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const p = spawn(fx.runc.binary, ['--root', fx.runc.root, 'run', '--bundle', c.bundle, id1], { stdio: 'ignore' });
        p.once('error', reject);
        p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc exited ${code}`))));
      });
      const b1 = performance.now();

      // Through a shim: spawn (socket ready), start (pid), wait (exit.json).
      const id2 = uniqueId('bench');
      const s0 = performance.now();
      const h = await spawnShim({ id: id2, stateDir: join(c.dir, 'states', id2), bundle: c.bundle, runtime: fx.runc });
      const s1 = performance.now();
      await h.start();
      const s2 = performance.now();
      const exit = await h.wait();
      const s3 = performance.now();
      if (exit.exitCode !== 0) throw new Error(`exit ${exit.exitCode}`);
      if (i < 2) continue; // warm-up
      bare.push(b1 - b0);
      shim.push(s3 - s0);
      spawnMs.push(s1 - s0);
      startMs.push(s2 - s1);
      waitMs.push(s3 - s2);
    }
    const f = (x: number): string => `${x.toFixed(1)} ms`;
    console.log(`runs: ${runs} (after 2 warm-up), interleaved`);
    console.log(`bare runc run:            median ${f(median(bare))}  (min ${f(Math.min(...bare))}, max ${f(Math.max(...bare))})`);
    console.log(`through the shim (total): median ${f(median(shim))}  (min ${f(Math.min(...shim))}, max ${f(Math.max(...shim))})`);
    console.log(`  spawnShim until ready:  median ${f(median(spawnMs))}`);
    console.log(`  start until pid:        median ${f(median(startMs))}`);
    console.log(`  wait until exit.json:   median ${f(median(waitMs))}`);
    const left = fx.leftovers();
    if (left.length) console.log(`leftover runc containers: ${left.join(', ')}`);
  } finally {
    for (const fn of cleanups) fn();
    fx.dispose();
  }
}

await main();
