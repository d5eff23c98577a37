// `docker update`: a new HostConfig from the stored one and an UpdateConfig
// (Resources fields inline, and RestartPolicy), by dockerd's rules
// (container_unix.go UpdateContainer): a zero value changes nothing, the CPU
// settings that conflict with ones already set are refused, and the result is
// checked as a create would be. What berth cannot apply to a container is
// refused with a 400 naming it.
import { Conflict, InvalidParameter } from '../errors.js';
import { checkHostConfig, type HostFacts } from './host-config.js';
import { isNoRestart, validateRestartPolicy, type RestartPolicy } from './restart-policy.js';

type Json = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** UpdateConfig fields berth cannot change on a container: any value but the zero one is refused. */
const NOT_UPDATABLE: Array<{ field: string; flag: string; isZero: (v: unknown) => boolean }> = [
  { field: 'BlkioWeight', flag: '--blkio-weight', isZero: (v) => num(v) === 0 },
  { field: 'KernelMemory', flag: '--kernel-memory', isZero: (v) => num(v) === 0 },
  { field: 'KernelMemoryTCP', flag: '--kernel-memory-tcp', isZero: (v) => num(v) === 0 },
  { field: 'CpuRealtimePeriod', flag: '--cpu-rt-period', isZero: (v) => num(v) === 0 },
  { field: 'CpuRealtimeRuntime', flag: '--cpu-rt-runtime', isZero: (v) => num(v) === 0 },
  { field: 'CpuCount', flag: '--cpu-count', isZero: (v) => num(v) === 0 },
  { field: 'CpuPercent', flag: '--cpu-percent', isZero: (v) => num(v) === 0 },
  { field: 'IOMaximumBandwidth', flag: '--io-maxbandwidth', isZero: (v) => num(v) === 0 },
  { field: 'IOMaximumIOps', flag: '--io-maxiops', isZero: (v) => num(v) === 0 },
  { field: 'CgroupParent', flag: '--cgroup-parent', isZero: (v) => text(v) === '' },
  { field: 'BlkioWeightDevice', flag: '--blkio-weight-device', isZero: (v) => !Array.isArray(v) || v.length === 0 },
  { field: 'BlkioDeviceReadBps', flag: '--device-read-bps', isZero: (v) => !Array.isArray(v) || v.length === 0 },
  { field: 'BlkioDeviceWriteBps', flag: '--device-write-bps', isZero: (v) => !Array.isArray(v) || v.length === 0 },
  { field: 'BlkioDeviceReadIOps', flag: '--device-read-iops', isZero: (v) => !Array.isArray(v) || v.length === 0 },
  { field: 'BlkioDeviceWriteIOps', flag: '--device-write-iops', isZero: (v) => !Array.isArray(v) || v.length === 0 },
  { field: 'Devices', flag: '--device', isZero: (v) => !Array.isArray(v) || v.length === 0 },
  { field: 'DeviceCgroupRules', flag: '--device-cgroup-rule', isZero: (v) => !Array.isArray(v) || v.length === 0 },
  { field: 'DeviceRequests', flag: '--gpus', isZero: (v) => !Array.isArray(v) || v.length === 0 },
  { field: 'Ulimits', flag: '--ulimit', isZero: (v) => !Array.isArray(v) || v.length === 0 },
];

export interface UpdateResult {
  hostConfig: Json;
  warnings: string[];
  /** The restart policy changed (the running container's restart manager takes it). */
  restartPolicy?: RestartPolicy;
  /** Limits changed: a running container needs `runc update`. */
  resourcesChanged: boolean;
}

/** The container's HostConfig after `update`, or the 400/409 dockerd gives. */
export function updateHostConfig(current: Json, update: Json, host: HostFacts): UpdateResult {
  for (const u of NOT_UPDATABLE) {
    if (!u.isZero(update[u.field])) throw new InvalidParameter(`HostConfig.${u.field} (${u.flag}) cannot be updated by berth`);
  }
  const next: Json = { ...current };
  const cur = (k: string) => num(current[k]);
  const upd = (k: string) => num(update[k]);

  // NanoCpus sets the period and quota: each excludes the others once set.
  if (upd('NanoCpus') > 0 && cur('CpuPeriod') > 0) throw new Conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (upd('NanoCpus') > 0 && cur('CpuQuota') > 0) throw new Conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (upd('CpuPeriod') > 0 && cur('NanoCpus') > 0) throw new Conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (upd('CpuQuota') > 0 && cur('NanoCpus') > 0) throw new Conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  if (upd('Memory') !== 0 && upd('Memory') > cur('MemorySwap') && upd('MemorySwap') === 0) {
    throw new Conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }

  let resourcesChanged = false;
  for (const k of ['CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'Memory', 'MemorySwap', 'MemoryReservation']) {
    if (upd(k) !== 0) {
      next[k] = upd(k);
      resourcesChanged = true;
    }
  }
  for (const k of ['CpusetCpus', 'CpusetMems']) {
    if (text(update[k]) !== '') {
      next[k] = text(update[k]);
      resourcesChanged = true;
    }
  }
  if (typeof update.PidsLimit === 'number') {
    next.PidsLimit = update.PidsLimit;
    resourcesChanged = true;
  }

  let restartPolicy: RestartPolicy | undefined;
  const rp = update.RestartPolicy as Partial<RestartPolicy> | undefined;
  if (rp && typeof rp.Name === 'string' && rp.Name !== '') {
    restartPolicy = { Name: rp.Name, MaximumRetryCount: num(rp.MaximumRetryCount) };
    validateRestartPolicy(restartPolicy);
    if (current.AutoRemove === true && !isNoRestart(restartPolicy)) {
      throw new Conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    next.RestartPolicy = restartPolicy;
  }
  const { hostConfig, warnings } = checkHostConfig(next, host);
  return { hostConfig, warnings, ...(restartPolicy ? { restartPolicy } : {}), resourcesChanged };
}
