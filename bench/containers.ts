// Wall time of `docker run --rm ...` against berthd (issue 3 targets: median
// at most half of dockerd's and within 2x of bare runc), bare `runc run` of
// the same bundle as the floor, and dockerd when DOCKER_REFERENCE_HOST is set.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildBusyboxRootfs } from '../test/helpers/busybox.js';
import { buildSpec, writeSpec } from '../src/containers/runtime/oci-spec.js';
import { fmt, percentile, startBerthd } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const DOCKER = process.env.DOCKER_CLI ?? '/usr/local/bin/docker';

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(samples: number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 50);
}

function docker(host: string, args: string[]): void {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
}

/** Builds the image tars: busybox, and busybox with 100 MB under /big. */
function buildImages(work: string): { small: string; big: string } {
  const root = buildBusyboxRootfs(join(work, 'rootfs'));
  const small = join(work, 'small.tar');
  execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', small, '.']);
  mkdirSync(join(root, 'big'));
  for (let i = 0; i < 100; i++) writeFileSync(join(root, 'big', `f${i}`), randomBytes(1024 * 1024));
  const big = join(work, 'big.tar');
  execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', big, '.']);
  return { small, big };
}

function scenarios(hostDir: string): Array<{ name: string; args: (i: number) => string[] }> {
  const small = join(hostDir, 'cp-small');
  const tenVolumes = Array.from({ length: 10 }, (_, k) => ['-v', `bench-ten-${k}:/v${k}`]).flat();
  return [
    { name: 'run --rm -v vol:/data', args: () => ['run', '--rm', '-v', 'bench-vol:/data', 'bench-busybox', 'true'] },
    { name: 'run --rm bind mount', args: () => ['run', '--rm', '-v', `${hostDir}:/h`, 'bench-busybox', 'true'] },
    { name: 'run --rm --tmpfs', args: () => ['run', '--rm', '--tmpfs', '/t', 'bench-busybox', 'true'] },
    { name: 'run --rm 10 volumes', args: () => ['run', '--rm', ...tenVolumes, 'bench-busybox', 'true'] },
    { name: 'copy-up 100 MB', args: (i) => ['run', '--rm', '-v', `bench-copyup-${i}-${process.pid}:/big`, 'bench-big', 'true'] },
    // docker cp runs confined to the container's view (a chrooted helper in berth).
    { name: 'cp into running', args: () => ['cp', small, 'bench-cp-running:/tmp/f'] },
    { name: 'cp out of running', args: () => ['cp', 'bench-cp-running:/bin/busybox', join(hostDir, 'cp-out')] },
    { name: 'cp into stopped', args: () => ['cp', small, 'bench-cp-stopped:/tmp/f'] },
  ];
}

function runScenarios(host: string, hostDir: string): Map<string, number> {
  const out = new Map<string, number>();
  writeFileSync(join(hostDir, 'cp-small'), randomBytes(4096));
  docker(host, ['run', '-d', '--name', 'bench-cp-running', 'bench-busybox', 'sleep', '3600']);
  docker(host, ['create', '--name', 'bench-cp-stopped', 'bench-busybox', 'true']);
  try {
    measureScenarios(host, hostDir, out);
  } finally {
    docker(host, ['rm', '-f', 'bench-cp-running', 'bench-cp-stopped']);
  }
  return out;
}

function measureScenarios(host: string, hostDir: string, out: Map<string, number>): void {
  for (const s of scenarios(hostDir)) {
    docker(host, s.args(-1)); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(time(() => docker(host, s.args(i))));
    out.set(s.name, median(samples));
  }
}

function bareRunc(work: string): number {
  const bundle = join(work, 'bundle');
  const rootfs = buildBusyboxRootfs(join(bundle, 'rootfs'));
  writeSpec(bundle, buildSpec({ rootfs, args: ['true'] }));
  const root = join(work, 'runc-root');
  const samples: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const id = `bench-${process.pid}-${i}`;
    const ms = time(() => {
      const r = spawnSync('runc', ['--root', root, 'run', '--bundle', bundle, id], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error('runc run failed');
    });
    if (i > 0) samples.push(ms);
  }
  return median(samples);
}

export async function benchContainers(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-c-'));
  const hostDir = join(work, 'host');
  mkdirSync(hostDir);
  const { small, big } = buildImages(work);
  const d = await startBerthd();
  const host = `unix://${d.socket}`;
  let berth: Map<string, number>;
  try {
    docker(host, ['import', small, 'bench-busybox']);
    docker(host, ['import', big, 'bench-big']);
    berth = runScenarios(host, hostDir);
  } finally {
    spawnSync('sh', ['-c', `runc --root ${join(d.dir, 'root', 'runtime')} list -q | xargs -r -n1 runc --root ${join(d.dir, 'root', 'runtime')} delete -f`]);
    await d.stop();
  }
  const floor = bareRunc(work);
  let ref: Map<string, number> | undefined;
  const refHost = process.env.DOCKER_REFERENCE_HOST;
  if (refHost) {
    docker(refHost, ['import', small, 'bench-busybox']);
    docker(refHost, ['import', big, 'bench-big']);
    ref = runScenarios(refHost, hostDir);
  }
  rmSync(work, { recursive: true, force: true });
  console.log(`containers (median of ${RUNS} runs, wall time of the docker CLI command):`);
  console.log(`  bare runc run (floor)        ${fmt(floor).padStart(8)} ms`);
  for (const [name, ms] of berth) {
    const r = ref?.get(name);
    console.log(
      `  ${name.padEnd(28)} ${fmt(ms).padStart(8)} ms  ${(ms / floor).toFixed(2)}x runc` + (r !== undefined ? `   | dockerd ${fmt(r)} ms  ratio ${(ms / r).toFixed(2)}` : ''),
    );
  }
}
