// Create-request type decoding (dockerd's encoding/json messages) and the
// HostConfig security/resource checks, with made-up host facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCreateRequest } from '../../src/api/decode/create-request.js';
import { checkHostConfig, parseCpuList, specResources, type HostFacts } from '../../src/containers/host-config.js';
import { ALL_CAPABILITIES } from '../../src/containers/runtime/oci-spec.js';
import { InvalidParameter } from '../../src/errors.js';

function typeErrorOf(body: Record<string, unknown>): string {
  try {
    decodeCreateRequest(body);
  } catch (e) {
    assert.ok(e instanceof InvalidParameter, String(e));
    return e.message;
  }
  assert.fail(`no error for ${JSON.stringify(body)}`);
}

test('a value of the wrong JSON type gets dockerd\'s message, with Go\'s struct and field path', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ HostConfig: { Privileged: 'yes' } }, 'Go struct field HostConfig.HostConfig.Privileged of type bool'],
    [{ HostConfig: { Binds: 'x' } }, 'cannot unmarshal string into Go struct field HostConfig.HostConfig.Binds of type []string'],
    [{ HostConfig: { Memory: '1g' } }, 'cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64'],
    [{ HostConfig: { Memory: 1.5 } }, 'cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64'],
    [{ HostConfig: { BlkioWeight: -1 } }, 'cannot unmarshal number -1 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16'],
    [{ HostConfig: { Mounts: {} } }, 'cannot unmarshal object into Go struct field HostConfig.HostConfig.Mounts of type []mount.Mount'],
    [{ HostConfig: { Mounts: [{ Type: 1 }] } }, 'cannot unmarshal number into Go struct field Mount.HostConfig.Mounts.Type of type mount.Type'],
    [{ HostConfig: { PortBindings: { '80/tcp': '8080' } } }, 'cannot unmarshal string into Go struct field HostConfig.HostConfig.PortBindings of type []nat.PortBinding'],
    [{ HostConfig: { PortBindings: [] } }, 'cannot unmarshal array into Go struct field HostConfig.HostConfig.PortBindings of type nat.PortMap'],
    [{ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 8080 }] } } }, 'cannot unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string'],
    [{ HostConfig: { CapAdd: 5 } }, 'cannot unmarshal number into Go struct field HostConfig.HostConfig.CapAdd of type string'],
    [{ HostConfig: { PidsLimit: 'x' } }, 'cannot unmarshal string into Go struct field HostConfig.HostConfig.PidsLimit of type int64'],
    [{ HostConfig: { RestartPolicy: 'always' } }, 'cannot unmarshal string into Go struct field HostConfig.HostConfig.RestartPolicy of type container.RestartPolicy'],
    [{ HostConfig: 'x' }, 'cannot unmarshal string into Go struct field CreateRequest.HostConfig of type container.HostConfig'],
    [{ Env: 'A=1' }, 'cannot unmarshal string into Go struct field CreateRequest.Env of type []string'],
    [{ Tty: 1 }, 'cannot unmarshal number into Go struct field CreateRequest.Tty of type bool'],
    [{ Labels: { a: 1 } }, 'cannot unmarshal number into Go struct field CreateRequest.Labels of type string'],
    [{ NetworkingConfig: { EndpointsConfig: { n: { Aliases: 'a' } } } }, 'Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases of type []string'],
  ];
  for (const [body, expected] of cases) {
    const msg = typeErrorOf(body);
    assert.ok(msg.startsWith('invalid JSON: json: cannot unmarshal '), msg);
    assert.ok(msg.endsWith(expected), `${JSON.stringify(body)}: ${msg}`);
  }
});

test('decoding: case-insensitive field names come back as Docker spells them; string-or-list fields become lists; null is unset', () => {
  const out = decodeCreateRequest({
    image: 'busybox',
    cmd: 'true',
    hostconfig: { privileged: true, capadd: 'NET_ADMIN', memory: 1 << 26, Binds: null, consolesize: [24] },
    Labels: JSON.parse('{"a":null,"__proto__":"x"}'),
    Unknown: 1,
  }) as Record<string, any>;
  assert.equal(out.Image, 'busybox');
  assert.deepEqual(out.Cmd, ['true']);
  assert.deepEqual(out.HostConfig, { Privileged: true, CapAdd: ['NET_ADMIN'], Memory: 1 << 26, Binds: null, ConsoleSize: [24, 0] });
  assert.equal(out.Labels.a, '');
  assert.equal(out.Labels.__proto__, 'x');
  assert.equal(out.Unknown, 1);
  assert.equal(typeErrorOf({ hostconfig: { privileged: 'yes' } }).endsWith('HostConfig.HostConfig.Privileged of type bool'), true);
});

const facts: HostFacts = {
  capabilities: ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE'),
  cpus: 2,
  cpusetCpus: new Set([0, 1]),
  cpusetMems: new Set([0]),
  cgroup2: false,
  controllers: { memory: true, swap: true, swappiness: true, pids: true, cpuCfs: true, cpuShares: true, cpuset: true },
  oomScoreAdj: 0,
  seccompProfile: 'builtin',
};

function refusal(hc: Record<string, unknown>, host: HostFacts = facts): string {
  try {
    checkHostConfig(hc, host);
  } catch (e) {
    assert.ok(e instanceof InvalidParameter, String(e));
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(hc)}`);
}

test('checkHostConfig: capabilities and security options with dockerd\'s messages', () => {
  assert.equal(refusal({ CapAdd: ['FOO'] }), 'invalid CapAdd: unknown capability: "CAP_FOO"');
  assert.equal(refusal({ CapDrop: ['sys_resource'] }), 'invalid CapDrop: capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"');
  assert.equal(refusal({ SecurityOpt: ['unknown'] }), 'invalid --security-opt 1: "unknown"');
  assert.equal(refusal({ SecurityOpt: ['unknown=x'] }), 'invalid --security-opt 2: "unknown=x"');
  assert.equal(refusal({ SecurityOpt: ['no-new-privileges=maybe'] }), 'invalid --security-opt 2: "no-new-privileges=maybe"');
  assert.match(refusal({ SecurityOpt: ['seccomp=/etc/profile.json'] }), /^decoding seccomp profile failed: /);
  assert.match(refusal({ SecurityOpt: ['seccomp={"syscalls":[]}'] }), /^decoding seccomp profile failed: defaultAction: /);
  assert.equal(
    refusal({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}'] }),
    "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
  );
  assert.match(refusal({ SecurityOpt: ['apparmor=docker-default'] }), /apparmor=docker-default/);
  assert.match(refusal({ SecurityOpt: ['label=type:svirt_t'] }), /label=type:svirt_t/);
  for (const ok of [['no-new-privileges'], ['no-new-privileges=false'], ['seccomp=unconfined'], ['seccomp=builtin'], ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'], ['apparmor=unconfined'], ['label=disable'], ['label:disable']]) {
    assert.doesNotThrow(() => checkHostConfig({ SecurityOpt: ok, CapAdd: ['all'], CapDrop: ['chown'] }, facts), ok.join());
  }
});

test('checkHostConfig: every option berth cannot honour is refused by name', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }] }, /HostConfig\.Devices \(--device\)/],
    [{ DeviceCgroupRules: ['c 1:3 rwm'] }, /HostConfig\.DeviceCgroupRules \(--device-cgroup-rule\)/],
    [{ DeviceRequests: [{ Count: -1 }] }, /HostConfig\.DeviceRequests \(--gpus\)/],
    [{ Sysctls: { 'net.ipv4.ip_forward': '1' } }, /HostConfig\.Sysctls \(--sysctl\)/],
    [{ Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 1 }] }, /HostConfig\.Ulimits \(--ulimit\).*no rlimits/],
    [{ CgroupParent: 'x' }, /HostConfig\.CgroupParent/],
    [{ BlkioWeight: 300 }, /HostConfig\.BlkioWeight \(--blkio-weight\)/],
    [{ BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: 1 }] }, /HostConfig\.BlkioDeviceReadBps/],
    [{ CpuRealtimeRuntime: 1 }, /HostConfig\.CpuRealtimeRuntime/],
    [{ KernelMemory: 1 << 30 }, /HostConfig\.KernelMemory/],
    [{ Init: true }, /HostConfig\.Init \(--init\).*no init binary/],
    [{ StorageOpt: { size: '1G' } }, /HostConfig\.StorageOpt/],
    [{ IpcMode: 'host' }, /HostConfig\.IpcMode \(--ipc\)/],
    [{ IpcMode: 'bogus' }, /^invalid IPC mode: bogus$/],
    [{ PidMode: 'host' }, /HostConfig\.PidMode \(--pid\)/],
    [{ PidMode: 'container:x' }, /HostConfig\.PidMode/],
    [{ UTSMode: 'host' }, /HostConfig\.UTSMode \(--uts\)/],
    [{ UsernsMode: 'private' }, /HostConfig\.UsernsMode \(--userns\)/],
    [{ CgroupnsMode: 'x' }, /^invalid cgroup namespace mode: x$/],
    [{ Runtime: 'crun' }, /^unknown or invalid runtime name: crun$/],
    [{ Isolation: 'hyperv' }, /^invalid isolation \(hyperv\): linux only supports 'default'$/],
    [{ IOMaximumBandwidth: 1 }, /QoS maximum bandwidth/],
    [{ OomScoreAdj: 1001 }, /^Invalid value 1001, range for oom score adj is \[-1000, 1000\]$/],
    [{ OomScoreAdj: -5 }, /HostConfig\.OomScoreAdj \(--oom-score-adj\) -5 .*CAP_SYS_RESOURCE/],
    [{ ShmSize: -1 }, /^SHM size can not be less than 0$/],
    [{ Memory: 1024 }, /^Minimum memory limit allowed is 6MB$/],
    [{ Memory: 64 << 20, MemorySwap: 32 << 20 }, /^Minimum memoryswap limit should be larger than memory limit, see usage$/],
    [{ MemorySwap: 64 << 20 }, /^You should always set the Memory limit when using Memoryswap limit, see usage$/],
    [{ MemorySwappiness: 101 }, /^Invalid value: 101, valid memory swappiness range is 0-100$/],
    [{ Memory: 16 << 20, MemoryReservation: 32 << 20 }, /^Minimum memory limit can not be less than memory reservation limit, see usage$/],
    [{ NanoCpus: 1e9, CpuQuota: 50000 }, /^Conflicting options: Nano CPUs and CPU Quota cannot both be set$/],
    [{ NanoCpus: 3e9 }, /^Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/],
    [{ CpuPeriod: 10 }, /^CPU cfs period can not be less than 1ms/],
    [{ CpuQuota: 10 }, /^CPU cfs quota can not be less than 1ms/],
    [{ CpuShares: -1 }, /^invalid CPU shares \(-1\)/],
    [{ CpusetCpus: '5' }, /^Requested CPUs are not available - requested 5, available: 0-1$/],
    [{ CpusetCpus: 'a' }, /^Invalid value a for cpuset cpus/],
    [{ CpusetMems: '1' }, /^Requested memory nodes are not available - requested 1, available: 0$/],
  ];
  for (const [hc, re] of cases) assert.match(refusal(hc), re, JSON.stringify(hc));
  // What the host cannot enforce is refused, not discarded.
  const bare: HostFacts = { ...facts, cgroup2: true, controllers: { memory: false, swap: false, swappiness: false, pids: false, cpuCfs: false, cpuShares: false, cpuset: false } };
  assert.match(refusal({ Memory: 64 << 20 }, bare), /HostConfig\.Memory \(--memory\).*no memory cgroup/);
  assert.match(refusal({ PidsLimit: 10 }, bare), /HostConfig\.PidsLimit \(--pids-limit\)/);
  assert.match(refusal({ CpuShares: 512 }, bare), /HostConfig\.CpuShares \(--cpu-shares\)/);
  assert.match(refusal({ CpusetCpus: '0' }, bare), /HostConfig\.CpusetCpus \(--cpuset-cpus\)/);
  assert.match(refusal({ NanoCpus: 1e9 }, bare), /NanoCPUs can not be set/);
  assert.match(refusal({ Memory: 64 << 20, MemorySwap: 128 << 20 }, { ...bare, controllers: { ...bare.controllers, memory: true } }), /HostConfig\.MemorySwap \(--memory-swap\)/);
  assert.match(refusal({ OomKillDisable: true, Memory: 64 << 20 }, { ...bare, controllers: { ...bare.controllers, memory: true } }), /HostConfig\.OomKillDisable/);
});

test('checkHostConfig: dockerd\'s defaults as stored, and the OCI resources they give', () => {
  const { hostConfig, warnings } = checkHostConfig({ Memory: 64 << 20, MemorySwap: 0, MemorySwappiness: -1, PidsLimit: 0, ShmSize: 0, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0-1' }, facts);
  assert.equal(hostConfig.MemorySwap, 128 << 20);
  assert.equal(hostConfig.MemorySwappiness, null);
  assert.equal(hostConfig.PidsLimit, null);
  assert.equal(hostConfig.OomKillDisable, false);
  assert.equal(hostConfig.ShmSize, 64 << 20);
  assert.deepEqual(warnings, []);
  assert.deepEqual(specResources(hostConfig), {
    memory: { limit: 64 << 20, swap: 128 << 20 },
    cpu: { shares: 512, cpus: '0-1', period: 100000, quota: 150000 },
  });
  assert.deepEqual(specResources(checkHostConfig({ PidsLimit: 50, MemoryReservation: 32 << 20, CpuPeriod: 50000, CpuQuota: 25000, MemorySwappiness: 0 }, facts).hostConfig), {
    memory: { reservation: 32 << 20, swappiness: 0 },
    cpu: { period: 50000, quota: 25000 },
    pids: { limit: 50 },
  });
  assert.equal(checkHostConfig({ Memory: 64 << 20, MemorySwap: -1 }, facts).hostConfig.MemorySwap, -1);
  const noSwap = checkHostConfig({ Memory: 64 << 20 }, { ...facts, controllers: { ...facts.controllers, swap: false } });
  assert.equal(noSwap.hostConfig.MemorySwap, -1);
  assert.match(noSwap.warnings[0]!, /Memory limited without swap/);
  assert.deepEqual([...parseCpuList('0-2,5')!], [0, 1, 2, 5]);
  assert.equal(parseCpuList('2-1'), null);
});
