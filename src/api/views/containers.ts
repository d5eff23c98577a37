// Container records as GET /containers/{id}/json and GET /containers/json show them.
import { join } from 'node:path';
import { isRunningOrRestarting, type ContainerPaths, type ContainerRecord } from '../../containers/types.js';
import type { MountPoint } from '../../mounts/types.js';
import { humanDuration } from '../../util/duration.js';
import type { ApiContainerSummary, ApiMountPoint } from '../types/index.js';

/** docker inspect's Mounts entry (spec 6.4): Name and Driver only for volumes. */
export function toApiMount(m: MountPoint): ApiMountPoint {
  if (m.type === 'volume') {
    return { Type: 'volume', Name: m.name, Source: m.source, Destination: m.destination, Driver: m.driver, Mode: m.mode, RW: m.rw, Propagation: m.propagation };
  }
  return { Type: m.type, Source: m.source, Destination: m.destination, Mode: m.mode, RW: m.rw, Propagation: m.propagation };
}

function statusText(c: ContainerRecord, now = Date.now()): string {
  switch (c.state.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(c.state.startedAt))}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(c.state.startedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${c.state.exitCode}) ${humanDuration(now - Date.parse(c.state.finishedAt))} ago`;
    case 'exited':
    case 'dead':
      if (c.state.finishedAt.startsWith('0001-')) return 'Created';
      return `Exited (${c.state.exitCode}) ${humanDuration(now - Date.parse(c.state.finishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    default:
      return 'Created';
  }
}

export function toContainerSummary(c: ContainerRecord): ApiContainerSummary {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.config.Image,
    ImageID: c.imageId,
    Command: [c.path, ...c.args].join(' '),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: [],
    Labels: c.config.Labels ?? {},
    State: c.state.status,
    Status: statusText(c),
    HostConfig: { NetworkMode: String(c.hostConfig.NetworkMode ?? 'bridge') },
    NetworkSettings: { Networks: {} },
    Mounts: c.mounts.map(toApiMount),
  };
}

export function toContainerInspect(c: ContainerRecord, dirs: ContainerPaths): Record<string, unknown> {
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: c.state.status,
      Running: isRunningOrRestarting(c.state),
      Paused: c.state.status === 'paused',
      Restarting: c.state.status === 'restarting',
      OOMKilled: c.state.oomKilled,
      Dead: c.state.status === 'dead',
      Pid: c.state.pid,
      ExitCode: c.state.exitCode,
      Error: c.state.error,
      StartedAt: c.state.startedAt,
      FinishedAt: c.state.finishedAt,
    },
    Image: c.imageId,
    ResolvConfPath: join(dirs.containerDir, 'resolv.conf'),
    HostnamePath: join(dirs.containerDir, 'hostname'),
    HostsPath: join(dirs.containerDir, 'hosts'),
    LogPath: dirs.logPath,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: c.hostConfig,
    GraphDriver: {
      Data: { MergedDir: join(dirs.fsDir, 'rootfs'), UpperDir: join(dirs.fsDir, 'upper'), WorkDir: join(dirs.fsDir, 'work') },
      Name: 'overlay2',
    },
    Mounts: c.mounts.map(toApiMount),
    Config: c.config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: '',
      Ports: {},
      Networks: {},
    },
  };
}
