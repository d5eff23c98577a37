// Stats samples from cgroup files, for both cgroup versions, on fixture
// trees laid out as the kernel lays them out; and the CLI's figures from a
// sample (stats_helpers.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { totalmem } from 'node:os';
import { cgroupPaths, emptyStats, readStats, systemCpuUsage } from '../../src/containers/stats.js';
import { statsEntry } from '../../src/cli/commands/container-resources.js';
import type { MountInfo } from '../../src/util/mount.js';

function tree(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-cgroup-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const mount = (mountPoint: string, fsType: string, superOptions: string): MountInfo => ({ mountPoint, root: '/', fsType, source: fsType, options: 'rw', superOptions });

test('cgroup v2: usage, limit, oom count, io.stat, cpu.stat and pids from the unified hierarchy', (t) => {
  const c = '/berth/abc';
  const root = tree(t, {
    [`${c}/cgroup.controllers`]: 'cpuset cpu io memory pids\n',
    [`${c}/memory.current`]: '4194304\n',
    [`${c}/memory.max`]: '67108864\n',
    [`${c}/memory.events`]: 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n',
    [`${c}/memory.stat`]: 'anon 1000\nfile 2000\ninactive_file 1048576\nactive_file 5\nnot_docker 9\n',
    [`${c}/cpu.stat`]: 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
    [`${c}/io.stat`]: '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n',
    [`${c}/pids.current`]: '3\n',
    [`${c}/pids.max`]: 'max\n',
  });
  const paths = cgroupPaths(`0::${c}\n`, [mount(root, 'cgroup2', 'rw,nsdelegate')]);
  assert.deepEqual(paths.memory, { dir: join(root, c), v2: true });
  const s = readStats(paths, undefined, new Date(0));
  assert.equal(s.memory_stats.usage, 4194304);
  assert.equal(s.memory_stats.limit, 67108864);
  assert.equal(s.memory_stats.failcnt, 2);
  assert.equal(s.memory_stats.max_usage, undefined, 'v2 has no max usage');
  assert.equal(s.memory_stats.stats!.inactive_file, 1048576);
  assert.equal(s.memory_stats.stats!.total_inactive_file, undefined, 'v2 keys only: the CLI tells the versions apart by them');
  assert.equal(s.memory_stats.stats!.not_docker, undefined);
  assert.equal(s.memory_stats.stats!.pgfault, 0, 'every key dockerd reports, zero when the kernel has none');
  assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 1_500_000, usage_in_kernelmode: 500_000, usage_in_usermode: 1_000_000 });
  assert.deepEqual(s.cpu_stats.throttling_data, { periods: 4, throttled_periods: 1, throttled_time: 20_000 });
  assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'read', value: 4096 },
    { major: 8, minor: 0, op: 'write', value: 8192 },
    { major: 253, minor: 1, op: 'read', value: 1 },
    { major: 253, minor: 1, op: 'write', value: 2 },
  ]);
  assert.deepEqual(s.pids_stats, { current: 3 }, 'no limit: none reported');
  // The CLI's figures: usage without the inactive file cache.
  const e = statsEntry('abc', s);
  assert.equal(e.memory, 4194304 - 1048576);
  assert.equal(e.memoryPercentage, (3 * 1048576 * 100) / 67108864);
  assert.deepEqual([e.blockRead, e.blockWrite], [4097, 8194]);
});

test('cgroup v1 (and a hybrid host): each controller from its own hierarchy, CFQ files first, an unlimited limit capped at the machine', (t) => {
  const c = '/berth/def';
  const root = tree(t, {
    [`memory${c}/memory.usage_in_bytes`]: '8388608\n',
    [`memory${c}/memory.max_usage_in_bytes`]: '9000000\n',
    [`memory${c}/memory.limit_in_bytes`]: '9223372036854771712\n',
    [`memory${c}/memory.failcnt`]: '0\n',
    [`memory${c}/memory.stat`]: 'cache 100\nrss 200\ntotal_inactive_file 4194304\ninactive_file 7\n',
    [`cpu,cpuacct${c}/cpuacct.usage`]: '123456789\n',
    [`cpu,cpuacct${c}/cpuacct.usage_percpu`]: '100000000 23456789 \n',
    [`cpu,cpuacct${c}/cpuacct.stat`]: 'user 7\nsystem 3\n',
    [`cpu,cpuacct${c}/cpu.stat`]: 'nr_periods 10\nnr_throttled 2\nthrottled_time 3000\n',
    [`blkio${c}/blkio.io_service_bytes_recursive`]: '',
    [`blkio${c}/blkio.throttle.io_service_bytes_recursive`]: '8:0 Read 512\n8:0 Write 1024\n8:0 Sync 0\n8:0 Total 1536\nTotal 1536\n',
    [`pids${c}/pids.current`]: '1\n',
    [`pids${c}/pids.max`]: '50\n',
    [`unified${c}/cgroup.controllers`]: '',
  });
  const procCgroup = [`12:pids:${c}`, `9:blkio:${c}`, `5:cpu,cpuacct:${c}`, `4:memory:${c}`, `1:name=systemd:${c}`, `0::${c}`].join('\n');
  const mounts = [
    mount(join(root, 'memory'), 'cgroup', 'rw,memory'),
    mount(join(root, 'cpu,cpuacct'), 'cgroup', 'rw,cpu,cpuacct'),
    mount(join(root, 'blkio'), 'cgroup', 'rw,blkio'),
    mount(join(root, 'pids'), 'cgroup', 'rw,pids'),
    mount(join(root, 'unified'), 'cgroup2', 'rw'),
  ];
  const paths = cgroupPaths(procCgroup, mounts);
  assert.deepEqual(paths.cpuacct, { dir: join(root, 'cpu,cpuacct', c), v2: false });
  const s = readStats(paths, { lo: { rx_bytes: 10, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 10, tx_packets: 1, tx_errors: 0, tx_dropped: 0 } });
  assert.equal(s.memory_stats.usage, 8388608);
  assert.equal(s.memory_stats.max_usage, 9000000);
  assert.equal(s.memory_stats.limit, totalmem());
  assert.equal(s.memory_stats.failcnt, undefined);
  assert.equal(s.memory_stats.stats!.total_inactive_file, 4194304);
  assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 123456789, percpu_usage: [100000000, 23456789], usage_in_kernelmode: 30_000_000, usage_in_usermode: 70_000_000 });
  assert.deepEqual(s.cpu_stats.throttling_data, { periods: 10, throttled_periods: 2, throttled_time: 3000 });
  assert.deepEqual(s.blkio_stats.io_service_bytes_recursive?.map((e) => e.op), ['Read', 'Write', 'Sync', 'Total']);
  assert.deepEqual(s.pids_stats, { current: 1, limit: 50 });
  assert.deepEqual(Object.keys(s.networks ?? {}), ['lo']);
  const e = statsEntry('def', s);
  assert.equal(e.memory, 8388608 - 4194304, 'v1: the usage without total_inactive_file');
  assert.deepEqual([e.blockRead, e.blockWrite, e.networkRx, e.networkTx, e.pidsCurrent], [512, 1024, 10, 10, 1]);
});

test("the host's CPU time and CPUs as dockerd reads /proc/stat; a CPU percentage from two samples", () => {
  const stat = 'cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 3 0 0\ncpu1 50 0 25 500 5 0 3 4 0 0\nintr 1\n';
  // Seven fields (user..softirq), in ticks of 1/100 s.
  assert.deepEqual(systemCpuUsage(stat), { usage: 1165 * 10_000_000, cpus: 2 });
  const e = statsEntry('x', {
    cpu_stats: { cpu_usage: { total_usage: 3e9 }, system_cpu_usage: 20e9, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1e9 }, system_cpu_usage: 10e9 },
  });
  assert.equal(e.cpuPercentage, 40);
  assert.equal(statsEntry('x', emptyStats()).cpuPercentage, 0);
});
