// Starting a process from berthd, as a container start starts conmon:
// Node's child_process.spawn (libuv forks, copying the page tables of the
// whole process) against posix_spawn (util/posix-spawn.ts: clone with
// CLONE_VM|CLONE_VFORK), from this process as it is and with 300 MB more
// resident, as a berthd with many containers and caches has. Both with
// three socket pairs (stdout, stderr, conmon's sync pipe), timed until the
// child has exec'd; medians in ms.
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { posixSpawn } from '../src/util/posix-spawn.js';
import { Reaper } from '../src/util/reaper.js';
import { fmt, percentile } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);

function median(samples: number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 50);
}

async function nodeSpawn(): Promise<number> {
  const t0 = process.hrtime.bigint();
  const child = spawn('/bin/true', [], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await new Promise((resolve) => child.once('close', resolve));
  return ms;
}

async function posix(reaper: Reaper): Promise<number> {
  const t0 = process.hrtime.bigint();
  const child = posixSpawn('/bin/true', [], { env: {}, cwd: '/', pipes: 3 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  for (const fd of child.fds) new Socket({ fd }).destroy();
  await reaper.watch(child.pid);
  return ms;
}

async function round(reaper: Reaper): Promise<{ node: number; posix: number }> {
  const node: number[] = [];
  const ps: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    node.push(await nodeSpawn());
    ps.push(await posix(reaper));
  }
  return { node: median(node), posix: median(ps) };
}

export async function benchSpawn(): Promise<void> {
  const reaper = new Reaper();
  // The reaper's SIGCHLD listener does not hold the event loop open.
  const alive = setInterval(() => undefined, 1000);
  try {
    const small = await round(reaper);
    const ballast = Array.from({ length: 300 }, () => Buffer.alloc(1 << 20, 1));
    const large = await round(reaper);
    ballast.length = 0;
    console.log(`process start, until exec (median of ${RUNS}):`);
    console.log(`  child_process.spawn         ${fmt(small.node).padStart(8)} ms   with 300 MB more resident ${fmt(large.node).padStart(8)} ms`);
    console.log(`  posix_spawn (berthd)        ${fmt(small.posix).padStart(8)} ms   with 300 MB more resident ${fmt(large.posix).padStart(8)} ms`);
  } finally {
    clearInterval(alive);
    reaper.close();
  }
}
