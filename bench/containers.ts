// Containers against berthd, bare `runc run` of the same bundle as the floor,
// and dockerd when DOCKER_REFERENCE_HOST is set (issue 10 targets: a run at
// most half of dockerd's and within 2x of bare runc, at most 3 MB resident
// per running container):
//  - `docker run --rm busybox true` wall times, the tools taking turns in
//    each round (in a shuffled order) so that they share the machine's noise;
//  - the resident memory of what supervises each of 10 sleeping containers:
//    the parent of the container's init, conmon for berth (berth keeps no
//    other process per container), containerd-shim-runc-v2 for dockerd;
//  - the other scenarios (volumes, binds, copy-up, docker cp), tool by tool.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildBusyboxRootfs } from '../test/helpers/busybox.js';
import { buildSpec, writeSpec } from '../src/containers/runtime/oci-spec.js';
import { checkHostConfig, probeHost, specOptions } from '../src/containers/host-config.js';
import { fmt, percentile, startBerthd } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const DOCKER = process.env.DOCKER_CLI ?? '/usr/local/bin/docker';

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Fisher-Yates. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function median(samples: number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 50);
}

function docker(host: string, args: string[]): string {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** VmRSS of a process, in kB (0 when it is gone). */
function residentKb(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const MEMORY_CONTAINERS = 10;

/**
 * The resident memory (kB) of the process that supervises each of 10
 * sleeping containers: the parent of the container's init (the init itself,
 * the container's own process, is not counted).
 */
function monitorMemory(host: string): { perContainerKb: number; monitor: string } {
  const names = Array.from({ length: MEMORY_CONTAINERS }, (_, i) => `bench-mem-${process.pid}-${i}`);
  try {
    for (const name of names) docker(host, ['run', '-d', '--name', name, 'bench-busybox', 'sleep', '3600']);
    let total = 0;
    let monitor = '';
    for (const name of names) {
      const pid = Number(docker(host, ['inspect', '-f', '{{.State.Pid}}', name]).trim());
      const parent = parentPid(pid);
      monitor = readFileSync(`/proc/${parent}/comm`, 'utf8').trim();
      total += residentKb(parent);
    }
    return { perContainerKb: total / names.length, monitor };
  } finally {
    docker(host, ['rm', '-f', ...names]);
  }
}

/**
 * `runc run` of a busybox `true` bundle, the floor a run cannot go below:
 * with the spec berth gives a container by default (the default seccomp
 * profile, capabilities, masked paths: what dockerd applies too), or a
 * minimal one (runc's defaults, no seccomp).
 */
function bareRuncRunner(work: string, spec: 'berth' | 'minimal'): () => void {
  const bundle = join(work, `bundle-${spec}`);
  const rootfs = buildBusyboxRootfs(join(bundle, 'rootfs'));
  const host = probeHost();
  const options = spec === 'berth' ? specOptions(checkHostConfig({}, host).hostConfig, host) : {};
  writeSpec(bundle, buildSpec({ rootfs, args: ['true'], ...options }));
  const root = join(work, 'runc-root');
  let i = 0;
  return () => {
    const r = spawnSync('runc', ['--root', root, 'run', '--bundle', bundle, `bench-${process.pid}-${spec}-${i++}`], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error('runc run failed');
  };
}

interface RunFigures {
  berth: number;
  /** Bare `runc run` of berth's default spec. */
  runc: number;
  /** Bare `runc run` of a minimal spec (no seccomp). */
  runcMinimal: number;
  dockerd?: number;
}

/** `docker run --rm busybox true` on berthd, bare runc and dockerd, taking turns in each round; medians in ms. */
function interleavedRuns(berthHost: string, refHost: string | undefined, work: string): RunFigures {
  const runc = bareRuncRunner(work, 'berth');
  const runcMinimal = bareRuncRunner(work, 'minimal');
  const samples = { berth: [] as number[], runc: [] as number[], runcMinimal: [] as number[], dockerd: [] as number[] };
  const run = (host: string) => () => void docker(host, ['run', '--rm', 'bench-busybox', 'true']);
  const tools: Array<[keyof typeof samples, () => void]> = [
    ['berth', run(berthHost)],
    ['runc', runc],
    ['runcMinimal', runcMinimal],
    ...(refHost ? [['dockerd', run(refHost)] as [keyof typeof samples, () => void]] : []),
  ];
  for (let i = 0; i <= RUNS; i++) {
    // A new order each round: a daemon's work after its answer (dockerd's and
    // berthd's cleanup) slows whichever tool comes next, and a fixed order would
    // always hand that to the same one.
    const order = shuffled(tools);
    const round = { berth: 0, runc: 0, runcMinimal: 0, dockerd: 0 };
    for (const [name, fn] of order) round[name] = time(fn);
    // The first round warms every tool up.
    if (i === 0) continue;
    samples.berth.push(round.berth);
    samples.runc.push(round.runc);
    samples.runcMinimal.push(round.runcMinimal);
    if (refHost) samples.dockerd.push(round.dockerd);
  }
  return {
    berth: median(samples.berth),
    runc: median(samples.runc),
    runcMinimal: median(samples.runcMinimal),
    ...(refHost ? { dockerd: median(samples.dockerd) } : {}),
  };
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

export async function benchContainers(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-c-'));
  const hostDir = join(work, 'host');
  mkdirSync(hostDir);
  const { small, big } = buildImages(work);
  const refHost = process.env.DOCKER_REFERENCE_HOST;
  if (refHost) {
    docker(refHost, ['import', small, 'bench-busybox']);
    docker(refHost, ['import', big, 'bench-big']);
  }
  const d = await startBerthd();
  const host = `unix://${d.socket}`;
  let berth: Map<string, number>;
  let runs: RunFigures;
  let memory: { perContainerKb: number; monitor: string };
  try {
    docker(host, ['import', small, 'bench-busybox']);
    docker(host, ['import', big, 'bench-big']);
    runs = interleavedRuns(host, refHost, work);
    memory = monitorMemory(host);
    berth = runScenarios(host, hostDir);
  } finally {
    spawnSync('sh', ['-c', `runc --root ${join(d.dir, 'root', 'runtime')} list -q | xargs -r -n1 runc --root ${join(d.dir, 'root', 'runtime')} delete -f`]);
    await d.stop();
  }
  let ref: Map<string, number> | undefined;
  let refMemory: { perContainerKb: number; monitor: string } | undefined;
  if (refHost) {
    refMemory = monitorMemory(refHost);
    ref = runScenarios(refHost, hostDir);
  }
  rmSync(work, { recursive: true, force: true });
  console.log(`containers: docker run --rm busybox true, the tools taking turns (median of ${RUNS} rounds):`);
  console.log(
    `  berthd                       ${fmt(runs.berth).padStart(8)} ms  ${(runs.berth / runs.runc).toFixed(2)}x runc (berth's spec)  ${(runs.berth / runs.runcMinimal).toFixed(2)}x runc (minimal)` +
      (runs.dockerd !== undefined ? `  ${(runs.berth / runs.dockerd).toFixed(2)}x dockerd` : ''),
  );
  console.log(`  bare runc run, berth's spec  ${fmt(runs.runc).padStart(8)} ms  (seccomp, capabilities, masked paths)`);
  console.log(`  bare runc run, minimal spec  ${fmt(runs.runcMinimal).padStart(8)} ms  (no seccomp)`);
  if (runs.dockerd !== undefined) console.log(`  dockerd                      ${fmt(runs.dockerd).padStart(8)} ms`);
  console.log(`resident memory per running container (${MEMORY_CONTAINERS} sleeping containers, VmRSS of the parent of each init):`);
  console.log(`  berth (${memory.monitor})`.padEnd(31) + `${(memory.perContainerKb / 1024).toFixed(2).padStart(8)} MB`);
  if (refMemory) console.log(`  dockerd (${refMemory.monitor})`.padEnd(31) + `${(refMemory.perContainerKb / 1024).toFixed(2).padStart(8)} MB`);
  console.log(`containers (median of ${RUNS} runs, wall time of the docker CLI command, tool by tool):`);
  for (const [name, ms] of berth) {
    const r = ref?.get(name);
    console.log(
      `  ${name.padEnd(28)} ${fmt(ms).padStart(8)} ms  ${(ms / runs.runc).toFixed(2)}x runc` + (r !== undefined ? `   | dockerd ${fmt(r)} ms  ratio ${(ms / r).toFixed(2)}` : ''),
    );
  }
}
