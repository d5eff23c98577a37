// docker update's rules on a stored HostConfig (dockerd's UpdateContainer):
// zero changes nothing, conflicts with what is set, the restart policy,
// and what berth refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateHostConfig } from '../../src/containers/update.js';
import type { HostFacts } from '../../src/containers/host-config.js';
import { Conflict, InvalidParameter } from '../../src/errors.js';

const host: HostFacts = {
  capabilities: ['CAP_CHOWN'],
  cpus: 4,
  cpusetCpus: new Set([0, 1, 2, 3]),
  cpusetMems: new Set([0]),
  cgroup2: false,
  controllers: { memory: true, swap: true, swappiness: true, pids: true, cpuCfs: true, cpuShares: true, cpuset: true },
  oomScoreAdj: 0,
  seccompProfile: 'builtin',
};
const MiB = 1024 * 1024;
const created = { Memory: 64 * MiB, MemorySwap: 128 * MiB, NanoCpus: 0, CpuPeriod: 0, CpuQuota: 0, PidsLimit: null, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false };
// What the docker CLI sends for `docker update --cpus 2`: every Resources field, zero when not given.
const cliBody = { BlkioWeight: 0, CpuShares: 0, Memory: 0, MemoryReservation: 0, MemorySwap: 0, KernelMemory: 0, CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, NanoCpus: 0, CpusetCpus: '', CpusetMems: '', RestartPolicy: { Name: '', MaximumRetryCount: 0 } };

test('zero values change nothing; given ones replace what is stored; the policy alone changes no limits', () => {
  const r = updateHostConfig(created, { ...cliBody, NanoCpus: 2e9, PidsLimit: 30 }, host);
  assert.equal(r.hostConfig.NanoCpus, 2e9);
  assert.equal(r.hostConfig.PidsLimit, 30);
  assert.equal(r.hostConfig.Memory, 64 * MiB);
  assert.equal(r.hostConfig.MemorySwap, 128 * MiB);
  assert.equal(r.resourcesChanged, true);
  assert.equal(r.restartPolicy, undefined);
  const policy = updateHostConfig(created, { ...cliBody, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }, host);
  assert.deepEqual(policy.restartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(policy.hostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(policy.resourcesChanged, false);
  // -1 pids: unlimited again.
  assert.equal(updateHostConfig({ ...created, PidsLimit: 30 }, { PidsLimit: -1 }, host).hostConfig.PidsLimit, null);
});

test("dockerd's conflicts: memory above the swap already set, CPU period/quota against NanoCpus and back", () => {
  const conflict = (current: object, body: object, message: string) =>
    assert.throws(() => updateHostConfig({ ...created, ...current }, { ...cliBody, ...body }, host), (e: unknown) => e instanceof Conflict && e.message === message);
  conflict({}, { Memory: 256 * MiB }, 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  assert.equal(updateHostConfig(created, { ...cliBody, Memory: 256 * MiB, MemorySwap: 512 * MiB }, host).hostConfig.Memory, 256 * MiB);
  conflict({ CpuPeriod: 50_000 }, { NanoCpus: 1e9 }, 'Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  conflict({ CpuQuota: 50_000 }, { NanoCpus: 1e9 }, 'Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  conflict({ NanoCpus: 1e9 }, { CpuPeriod: 50_000 }, 'Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  conflict({ NanoCpus: 1e9 }, { CpuQuota: 50_000 }, 'Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  conflict({ AutoRemove: true }, { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }, 'Restart policy cannot be updated because AutoRemove is enabled for the container');
});

test('checked as a create: minimums and ranges; what berth cannot change on a container is refused by name', () => {
  assert.throws(() => updateHostConfig(created, { ...cliBody, Memory: MiB, MemorySwap: 2 * MiB }, host), (e: unknown) => e instanceof InvalidParameter && e.message === 'Minimum memory limit allowed is 6MB');
  assert.throws(() => updateHostConfig(created, { ...cliBody, NanoCpus: 8e9 }, host), /Range of CPUs is from 0.01 to 4.00/);
  assert.throws(() => updateHostConfig(created, { ...cliBody, RestartPolicy: { Name: 'sometimes', MaximumRetryCount: 0 } }, host), /unknown policy 'sometimes'/);
  for (const [field, flag, value] of [
    ['BlkioWeight', '--blkio-weight', 300],
    ['KernelMemory', '--kernel-memory', 8 * MiB],
    ['CpuRealtimePeriod', '--cpu-rt-period', 1000],
    ['CpuRealtimeRuntime', '--cpu-rt-runtime', 1000],
    ['Devices', '--device', [{ PathOnHost: '/dev/null' }]],
  ] as const) {
    assert.throws(
      () => updateHostConfig(created, { ...cliBody, [field]: value }, host),
      (e: unknown) => e instanceof InvalidParameter && e.message === `HostConfig.${field} (${flag}) cannot be updated by berth`,
    );
  }
});
