// Security and resource flags of run/create: the body must be what the real
// docker CLI 28.2.2 sent for the same flags (captured from a recording fake
// daemon) so berthd sees the same request from either CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCreateBody, FlagValueError, ContainerParseError, parseCpus, type BuildContext } from '../../../src/cli/commands/container-opts.js';

const ctx: BuildContext = { cwd: '/tmp/mock', env: {}, command: 'create', readFile: () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); } };

// docker create --cap-add net_admin --cap-add CAP_SYS_TIME --cap-drop chown --cap-drop NET_ADMIN
//   --security-opt no-new-privileges --security-opt seccomp=unconfined --security-opt systempaths=unconfined
//   -m 64m --memory-swap 128m --memory-reservation 32m --memory-swappiness 10 --oom-kill-disable --oom-score-adj 100
//   --pids-limit 50 --cpus 1.5 --cpu-shares 512 --cpuset-cpus 0 --cpuset-mems 0 --shm-size 1m --group-add 10
//   --group-add users --ipc host --pid host --uts host --userns host --cgroupns private --cgroup-parent foo busybox true
const SECURITY_BODY = "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"true\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":[\"CAP_NET_ADMIN\",\"CAP_SYS_TIME\"],\"CapDrop\":[\"CAP_CHOWN\",\"CAP_NET_ADMIN\"],\"CgroupnsMode\":\"private\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":[\"10\",\"users\"],\"IpcMode\":\"host\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":100,\"PidMode\":\"host\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":[\"no-new-privileges\",\"seccomp=unconfined\"],\"UTSMode\":\"host\",\"UsernsMode\":\"host\",\"ShmSize\":1048576,\"Isolation\":\"\",\"CpuShares\":512,\"Memory\":67108864,\"NanoCpus\":1500000000,\"CgroupParent\":\"foo\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"0\",\"CpusetMems\":\"0\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":33554432,\"MemorySwap\":134217728,\"MemorySwappiness\":10,\"OomKillDisable\":true,\"PidsLimit\":50,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":[],\"ReadonlyPaths\":[]},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}";
// docker create --cpu-quota 50000 --cpu-period 100000 --memory-swap -1 -m 1g busybox true
const CPU_BODY = "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"true\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":1073741824,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":100000,\"CpuQuota\":50000,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":-1,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}";

test('create body: capabilities, security options, memory, pids, cpu, namespaces as the docker CLI sends them', () => {
  const req = buildCreateBody(
    {
      capAdd: ['net_admin', 'CAP_SYS_TIME'],
      capDrop: ['chown', 'NET_ADMIN'],
      securityOpt: ['no-new-privileges', 'seccomp=unconfined', 'systempaths=unconfined'],
      memory: '64m',
      memorySwap: '128m',
      memoryReservation: '32m',
      memorySwappiness: '10',
      oomKillDisable: true,
      oomScoreAdj: '100',
      pidsLimit: '50',
      cpus: '1.5',
      cpuShares: '512',
      cpusetCpus: '0',
      cpusetMems: '0',
      shmSize: '1m',
      groupAdd: ['10', 'users'],
      ipc: 'host',
      pid: 'host',
      uts: 'host',
      userns: 'host',
      cgroupns: 'private',
      cgroupParent: 'foo',
    },
    'busybox',
    ['true'],
    ctx,
  );
  assert.deepEqual(JSON.parse(JSON.stringify(req.body)), JSON.parse(SECURITY_BODY));
  const cpu = buildCreateBody({ cpuQuota: '50000', cpuPeriod: '100000', memorySwap: '-1', memory: '1g' }, 'busybox', ['true'], ctx);
  assert.deepEqual(JSON.parse(JSON.stringify(cpu.body)), JSON.parse(CPU_BODY));
});

test('security and resource flags: the docker CLI\'s value errors', () => {
  assert.equal(parseCpus('0.5'), 500_000_000);
  assert.equal(parseCpus('2'), 2_000_000_000);
  assert.throws(() => buildCreateBody({ cpus: 'abc' }, 'busybox', [], ctx), (e: unknown) => e instanceof FlagValueError && e.message === 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number');
  assert.throws(() => buildCreateBody({ cpus: '0.0000000001' }, 'busybox', [], ctx), /value is too precise/);
  assert.throws(() => buildCreateBody({ memory: 'lots' }, 'busybox', [], ctx), (e: unknown) => e instanceof FlagValueError && e.flag === '-m, --memory');
  assert.throws(() => buildCreateBody({ pidsLimit: 'x' }, 'busybox', [], ctx), /invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax/);
  assert.throws(() => buildCreateBody({ memorySwappiness: '101' }, 'busybox', [], ctx), (e: unknown) => e instanceof ContainerParseError && e.message === 'invalid value: 101. Valid memory swappiness range is 0-100');
  assert.throws(() => buildCreateBody({ securityOpt: ['foo'] }, 'busybox', [], ctx), (e: unknown) => e instanceof ContainerParseError && e.message === 'Invalid --security-opt: "foo"');
  assert.throws(() => buildCreateBody({ securityOpt: ['seccomp=/nonexist'] }, 'busybox', [], ctx), /opening seccomp profile \(\/nonexist\) failed: open \/nonexist: no such file or directory/);
  const profile = buildCreateBody({ securityOpt: ['seccomp=p.json'] }, 'busybox', [], { ...ctx, readFile: () => '{ "defaultAction": "SCMP_ACT_ALLOW" }\n' });
  assert.deepEqual(profile.body.HostConfig.SecurityOpt, ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']);
  // Without any of these flags nothing changes from the defaults.
  const plain = buildCreateBody({}, 'busybox', [], ctx).body.HostConfig;
  assert.equal(plain.CapAdd, null);
  assert.equal(plain.SecurityOpt, null);
  assert.equal(plain.MemorySwappiness, -1);
  assert.equal(plain.MaskedPaths, null);
});
