// HostConfig's security and resource options against a real berthd and runc:
// each honoured one is checked from inside the container (/proc/self/status,
// the container's cgroup files), each refused one gets a 400 naming it, and a
// create with a field of the wrong type is refused with dockerd's message and
// leaves nothing behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { docker as runDocker, type RunResult, dockerOk } from '../helpers/run.js';
import { api } from '../helpers/http.js';
import { importTestImages } from '../helpers/images.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
const docker = (...args: string[]): Promise<RunResult> => runDocker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);
const cgroup2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

/** A capability mask from /proc/<pid>/status. */
function capsOf(status: string, field = 'CapEff'): bigint {
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status);
  assert.ok(m, `no ${field} in ${status}`);
  return BigInt(`0x${m[1]}`);
}

async function containerCount(): Promise<number> {
  const r = await api(d.socket, 'GET', '/containers/json?all=1');
  assert.equal(r.status, 200);
  return (r.json as unknown[]).length;
}

function containerDirs(): string[] {
  const dir = join(d.dataRoot, 'containers');
  return existsSync(dir) ? readdirSync(dir) : [];
}

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
});
after(async () => {
  await d.cleanup();
});

test('create: fields of the wrong type get 400 with dockerd\'s message; nothing is stored, so inspect and start never break', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ Privileged: 'yes' }, 'invalid JSON: json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Privileged of type bool'],
    [{ Binds: 'x' }, 'invalid JSON: json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Binds of type []string'],
    [{ Memory: '1g' }, 'invalid JSON: json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64'],
    [{ Mounts: {} }, 'invalid JSON: json: cannot unmarshal object into Go struct field HostConfig.HostConfig.Mounts of type []mount.Mount'],
    [{ PortBindings: { '80/tcp': { HostPort: '8080' } } }, 'invalid JSON: json: cannot unmarshal object into Go struct field HostConfig.HostConfig.PortBindings of type []nat.PortBinding'],
    [{ PortBindings: ['80:80'] }, 'invalid JSON: json: cannot unmarshal array into Go struct field HostConfig.HostConfig.PortBindings of type nat.PortMap'],
    [{ CapAdd: { NET_ADMIN: true } }, 'invalid JSON: json: cannot unmarshal object into Go struct field HostConfig.HostConfig.CapAdd of type string'],
    [{ PidsLimit: 1.5 }, 'invalid JSON: json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.PidsLimit of type int64'],
    [{ SecurityOpt: 'no-new-privileges' }, 'invalid JSON: json: cannot unmarshal string into Go struct field HostConfig.HostConfig.SecurityOpt of type []string'],
    [{ privileged: 1 }, 'invalid JSON: json: cannot unmarshal number into Go struct field HostConfig.HostConfig.Privileged of type bool'],
  ];
  for (const [hostConfig, message] of cases) {
    const r = await api(d.socket, 'POST', '/containers/create?name=typed', { Image: 'busybox', Cmd: ['true'], HostConfig: hostConfig });
    assert.equal(r.status, 400, `${JSON.stringify(hostConfig)}: ${r.text}`);
    assert.deepEqual(r.json, { message });
  }
  const config = await api(d.socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], Env: 'A=1' });
  assert.equal(config.status, 400);
  assert.equal(config.json.message, 'invalid JSON: json: cannot unmarshal string into Go struct field CreateRequest.Env of type []string');
  assert.equal(await containerCount(), 0);
  assert.deepEqual(containerDirs(), []);
  assert.equal((await api(d.socket, 'GET', '/containers/typed/json')).status, 404);

  // Docker's CapAdd is a string-or-list: a single name is a list of one, and it works.
  const one = await api(d.socket, 'POST', '/containers/create?name=single-cap', { Image: 'busybox', Cmd: ['grep', 'CapEff', '/proc/self/status'], HostConfig: { CapAdd: 'NET_ADMIN', capdrop: ['ALL'] } });
  assert.equal(one.status, 201, one.text);
  try {
    const inspect = await api(d.socket, 'GET', '/containers/single-cap/json');
    assert.deepEqual(inspect.json.HostConfig.CapAdd, ['NET_ADMIN']);
    assert.deepEqual(inspect.json.HostConfig.CapDrop, ['ALL']);
    await ok('start', '-a', 'single-cap');
    assert.equal(capsOf(await ok('logs', 'single-cap')), 1n << 12n, 'only CAP_NET_ADMIN');
  } finally {
    await docker('rm', '-f', 'single-cap');
  }
});

test('capabilities: --cap-add/--cap-drop in any case, with or without CAP_, and ALL; unknown and unavailable ones refused', async () => {
  const eff = async (...flags: string[]) => capsOf(await ok('run', '--rm', ...flags, 'busybox', 'cat', '/proc/self/status'));
  const defaults = await eff();
  assert.equal(defaults & 1n, 1n, 'CAP_CHOWN by default');
  assert.equal(defaults & (1n << 12n), 0n, 'no CAP_NET_ADMIN by default');
  assert.equal(await eff('--cap-drop', 'ALL', '--cap-add', 'net_admin'), 1n << 12n);
  assert.equal(await eff('--cap-drop', 'chown'), defaults & ~1n);
  assert.equal(await eff('--cap-add', 'CAP_SYS_PTRACE'), defaults | (1n << 19n));
  const daemonCaps = capsOf(readFileSync(`/proc/${d.process.pid}/status`, 'utf8'));
  assert.equal(await eff('--cap-add', 'ALL', '--cap-drop', 'Cap_Chown'), daemonCaps & ~1n, 'ALL is what berthd holds, minus the drop');
  const unknown = await docker('run', '--rm', '--cap-add', 'FOO', 'busybox', 'true');
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /invalid CapAdd: unknown capability: "CAP_FOO"/);
  const badDrop = await api(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { CapDrop: ['NOPE'] } });
  assert.equal(badDrop.status, 400);
  assert.equal(badDrop.json.message, 'invalid CapDrop: unknown capability: "CAP_NOPE"');
  const missing = [...Array(41).keys()].find((bit) => !(daemonCaps & (1n << BigInt(bit))));
  if (missing !== undefined) {
    // A capability berthd lacks (CAP_SYS_RESOURCE on some hosts) cannot be granted: refused at create.
    const names = ['CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE'];
    const r = await docker('run', '--rm', '--cap-add', names[missing]!, 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`capability not supported by your kernel or not available in the current environment: "CAP_${names[missing]}"`));
  }
  assert.equal(await containerCount(), 0);
});

test('--privileged: every capability berthd has, no masked or read-only /proc paths (/proc/keys, /proc/sys), the host\'s devices, no seccomp; exec --privileged', async (t) => {
  t.after(() => docker('rm', '-f', 'plain-for-exec'));
  const daemonCaps = capsOf(readFileSync(`/proc/${d.process.pid}/status`, 'utf8'));
  const out = await ok('run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'cat /proc/self/status; echo ---; cat /proc/self/mountinfo; echo ---; ls /dev');
  const [status, mountinfo, dev] = out.split('---\n') as [string, string, string];
  assert.equal(capsOf(status), daemonCaps);
  assert.equal(capsOf(status, 'CapBnd'), daemonCaps);
  assert.match(status, /^Seccomp:\s+0$/m);
  assert.doesNotMatch(mountinfo, / \/proc\/keys /, '/proc/keys is not masked');
  assert.doesNotMatch(mountinfo, / \/proc\/sys /, '/proc/sys is not remounted read-only');
  const hostOnly = readdirSync('/dev').filter((n) => /^(loop\d+|loop-control|fuse|kmsg|vda|tty1)$/.test(n));
  assert.ok(hostOnly.length > 0, 'this host has devices a default container does not get');
  for (const n of hostOnly) assert.ok(dev.split('\n').includes(n), `/dev/${n} in the privileged container`);
  const plainDev = (await ok('run', '--rm', 'busybox', 'ls', '/dev')).split('\n');
  for (const n of hostOnly) assert.ok(!plainDev.includes(n), `/dev/${n} not in a default container`);
  const plain = await ok('run', '--rm', 'busybox', 'grep', '-c', ' /proc/keys ', '/proc/self/mountinfo');
  assert.equal(plain.trim(), '1', 'a default container has /proc/keys masked');

  await ok('run', '-d', '--name', 'plain-for-exec', 'busybox', 'sleep', '300');
  const execDefault = capsOf(await ok('exec', 'plain-for-exec', 'cat', '/proc/self/status'));
  assert.equal(execDefault & (1n << 21n), 0n, 'no CAP_SYS_ADMIN in a plain exec');
  assert.equal(capsOf(await ok('exec', '--privileged', 'plain-for-exec', 'cat', '/proc/self/status')), daemonCaps);
});

test('--security-opt: no-new-privileges (default off, as Docker), seccomp=unconfined, apparmor/label off accepted; other AppArmor/SELinux settings refused', async () => {
  const nnp = async (...flags: string[]) => /^NoNewPrivs:\s+(\d)$/m.exec(await ok('run', '--rm', ...flags, 'busybox', 'cat', '/proc/self/status'))![1];
  assert.equal(await nnp(), '0');
  assert.equal(await nnp('--security-opt', 'no-new-privileges'), '1');
  assert.equal(await nnp('--security-opt', 'no-new-privileges=true'), '1');
  assert.equal(await nnp('--security-opt', 'no-new-privileges=false'), '0');
  assert.equal(await nnp('--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--security-opt', 'label=disable'), '0');
  const refused: Array<[string[], RegExp]> = [
    [['no-new-privileges=maybe'], /invalid --security-opt 2: "no-new-privileges=maybe"/],
    [['seccomp=not-json'], /^decoding seccomp profile failed: /],
    [['apparmor=docker-default'], /apparmor=docker-default.*not supported/],
    [['label=level:s0'], /label=level:s0.*not supported/],
    [['bogus'], /invalid --security-opt 1: "bogus"/],
  ];
  for (const [opts, re] of refused) {
    const r = await api(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: opts } });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.message, re);
  }
  assert.equal(await containerCount(), 0);
});

test('seccomp: the default profile filters every container; unconfined, --privileged and a custom profile file as Docker has them', async (t) => {
  const mode = async (...flags: string[]) => /^Seccomp:\s+(\d)$/m.exec(await ok('run', '--rm', ...flags, 'busybox', 'cat', '/proc/self/status'))![1];
  assert.equal(await mode(), '2', 'filtered by default');
  assert.equal(await mode('--security-opt', 'seccomp=builtin'), '2');
  assert.equal(await mode('--security-opt', 'seccomp=unconfined'), '0');
  assert.equal(await mode('--privileged'), '0');
  // Docker's profile: no user namespaces without CAP_SYS_ADMIN (EPERM, as the default action), with it they work.
  const userns = await docker('run', '--rm', 'busybox', 'unshare', '-U', 'true');
  assert.notEqual(userns.code, 0);
  assert.match(userns.stderr, /Operation not permitted/);
  assert.equal((await docker('run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'unshare', '-U', 'true')).code, 0);
  // A profile file (the docker CLI sends its content inline) is what filters: mkdir refused with EPERM.
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const profile = join(dir, 'no-mkdir.json');
  writeFileSync(
    profile,
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    }),
  );
  const r = await docker('run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'mkdir /tmp/x; echo rc=$?');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /Operation not permitted/);
  assert.match(r.stdout, /rc=1/);
  const info = JSON.parse(await ok('info', '--format', '{{json .SecurityOptions}}')) as string[];
  assert.ok(info.includes('name=seccomp,profile=builtin'), JSON.stringify(info));
});

/** Prints the first existing cgroup file of each group (v1 path, v2 path) inside the container. */
const CG = 'cg() { for f in "$@"; do if [ -e "/sys/fs/cgroup/$f" ]; then cat "/sys/fs/cgroup/$f"; return; fi; done; echo missing; };';

test('memory, swap, reservation, pids, cpus, cpu shares, cpuset, cpu quota/period are set in the container\'s cgroup; a memory hog is OOM-killed', async () => {
  const out = await ok(
    'run', '--rm', '-m', '64m', '--memory-reservation', '32m', '--pids-limit', '50', '--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0',
    'busybox', 'sh', '-c',
    `${CG} cg memory/memory.limit_in_bytes memory.max; cg memory/memory.memsw.limit_in_bytes memory.swap.max; cg memory/memory.soft_limit_in_bytes memory.low; cg pids/pids.max pids.max; cg cpu/cpu.cfs_quota_us cpu.max; cg cpu/cpu.cfs_period_us cpu.max; cg cpuset/cpuset.cpus cpuset.cpus; cg cpu/cpu.shares cpu.weight`,
  );
  const [mem, swap, low, pids, quota, period, cpuset, shares] = out.trim().split('\n');
  assert.equal(mem, String(64 << 20));
  assert.equal(swap, cgroup2 ? String(64 << 20) : String(128 << 20), 'swap defaults to as much as memory (dockerd)');
  assert.equal(low, String(32 << 20));
  assert.equal(pids, '50');
  if (cgroup2) {
    assert.equal(quota, '150000 100000');
  } else {
    assert.equal(quota, '150000');
    assert.equal(period, '100000');
    assert.equal(shares, '512');
  }
  assert.equal(cpuset, '0');

  const explicit = await ok('run', '--rm', '-m', '64m', '--memory-swap', '96m', '--cpu-quota', '20000', '--cpu-period', '50000', 'busybox', 'sh', '-c', `${CG} cg memory/memory.memsw.limit_in_bytes memory.swap.max; cg cpu/cpu.cfs_quota_us cpu.max`);
  assert.deepEqual(explicit.trim().split('\n'), cgroup2 ? [String(32 << 20), '20000 50000'] : [String(96 << 20), '20000']);

  const inspectId = (await ok('create', '-m', '64m', '--pids-limit', '0', 'busybox', 'true')).trim();
  const hc = JSON.parse(await ok('inspect', '-f', '{{json .HostConfig}}', inspectId));
  assert.equal(hc.Memory, 64 << 20);
  assert.equal(hc.MemorySwap, 128 << 20);
  assert.equal(hc.PidsLimit, null);
  await ok('rm', inspectId);

  // The limit is enforced: a 100 MB buffer in a 32 MB container is killed.
  const hog = await docker('run', '--rm', '-m', '32m', '--memory-swap', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1');
  assert.equal(hog.code, 137, hog.stderr);
  // So is the pids limit. (Not a tiny one: runc's init, a Go program, counts its threads against it until it execs.)
  const forks = await docker('run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c', 'for i in $(seq 30); do sleep 30 & done; echo started');
  assert.notEqual(forks.code, 0);
  assert.match(forks.stderr, /can't fork/);

  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ Memory: 1 << 20 }, /^Minimum memory limit allowed is 6MB$/],
    [{ Memory: 64 << 20, MemorySwap: 32 << 20 }, /^Minimum memoryswap limit should be larger than memory limit, see usage$/],
    [{ NanoCpus: 1000e9 }, /^Range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available$/],
    [{ NanoCpus: 1e9, CpuPeriod: 100000 }, /^Conflicting options: Nano CPUs and CPU Period cannot both be set$/],
    [{ CpusetCpus: '999' }, /^Requested CPUs are not available - requested 999, available: /],
  ];
  for (const [hostConfig, re] of bad) {
    const r = await api(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: hostConfig });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.message, re);
  }
  assert.equal(await containerCount(), 0);
});

test('--group-add, --shm-size and --oom-score-adj reach the process; lowering the OOM score without CAP_SYS_RESOURCE is refused', async () => {
  const out = await ok('run', '--rm', '--group-add', '10', '--group-add', 'user', '--shm-size', '1m', '--oom-score-adj', '300', 'busybox', 'sh', '-c', 'id -G; cat /proc/self/oom_score_adj; df -k /dev/shm | tail -1');
  const [groups, oom, shm] = out.trim().split('\n') as [string, string, string];
  assert.deepEqual(groups.split(' ').sort(), ['0', '10', '1000']);
  assert.equal(oom, '300');
  assert.match(shm, /^shm\s+1024\s/);
  const daemonStatus = readFileSync(`/proc/${d.process.pid}/status`, 'utf8');
  if (!(capsOf(daemonStatus) & (1n << 24n))) {
    const r = await docker('run', '--rm', '--oom-score-adj', '-500', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /HostConfig\.OomScoreAdj \(--oom-score-adj\) -500 is below berthd's own .*CAP_SYS_RESOURCE/);
  } else {
    assert.equal((await ok('run', '--rm', '--oom-score-adj', '-500', 'busybox', 'cat', '/proc/self/oom_score_adj')).trim(), '-500');
  }
});

test("signals: a container's process and an exec start with none ignored or blocked, as under dockerd (berthd itself ignores SIGPIPE)", async (t) => {
  const signals = (out: string): string[] => out.trim().split('\n').sort();
  const clean = ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000'];
  assert.deepEqual(signals(await ok('run', '--rm', 'busybox', 'grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status')), clean);
  const id = (await ok('run', '-d', 'busybox', 'sleep', '60')).trim();
  t.after(() => docker('rm', '-f', id));
  assert.deepEqual(signals(await ok('exec', id, 'grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status')), clean);
});

test('--cgroupns private gives the container its own cgroup namespace; Annotations reach the OCI spec', async (t) => {
  const own = await ok('run', '--rm', '--cgroupns', 'private', 'busybox', 'cat', '/proc/self/cgroup');
  for (const line of own.trim().split('\n')) assert.match(line, /:\/$/, `a private cgroup namespace shows its root: ${line}`);
  const r = await api(d.socket, 'POST', '/containers/create?name=annotated', { Image: 'busybox', Cmd: ['true'], HostConfig: { Annotations: { 'org.example.note': 'kept' } } });
  assert.equal(r.status, 201, r.text);
  t.after(() => docker('rm', '-f', 'annotated'));
  await ok('start', '-a', 'annotated');
  const spec = JSON.parse(readFileSync(join(d.dataRoot, 'containers', r.json.Id, 'config.json'), 'utf8'));
  assert.equal(spec.annotations['org.example.note'], 'kept');
  const empty = await api(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { Annotations: { '': 'x' } } });
  assert.equal(empty.status, 400);
  assert.equal(empty.json.message, 'invalid Annotations: the empty string is not permitted as an annotation key');
});

test('options berth cannot honour are refused over the API with a 400 naming them; nothing is stored', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }] }, 'HostConfig.Devices (--device)'],
    [{ DeviceCgroupRules: ['c 10:229 rwm'] }, 'HostConfig.DeviceCgroupRules (--device-cgroup-rule)'],
    [{ DeviceRequests: [{ Driver: 'nvidia', Count: -1 }] }, 'HostConfig.DeviceRequests (--gpus)'],
    [{ Sysctls: { 'net.ipv4.ip_forward': '1' } }, 'HostConfig.Sysctls (--sysctl)'],
    [{ Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }] }, 'HostConfig.Ulimits (--ulimit)'],
    [{ CgroupParent: 'mine' }, 'HostConfig.CgroupParent (--cgroup-parent)'],
    [{ IpcMode: 'host' }, 'HostConfig.IpcMode (--ipc)'],
    [{ PidMode: 'host' }, 'HostConfig.PidMode (--pid)'],
    [{ UTSMode: 'host' }, 'HostConfig.UTSMode (--uts)'],
    [{ UsernsMode: 'private' }, 'HostConfig.UsernsMode (--userns)'],
    [{ Init: true }, 'HostConfig.Init (--init)'],
    [{ BlkioWeight: 500 }, 'HostConfig.BlkioWeight (--blkio-weight)'],
    [{ BlkioDeviceWriteBps: [{ Path: '/dev/vda', Rate: 1024 }] }, 'HostConfig.BlkioDeviceWriteBps (--device-write-bps)'],
    [{ CpuRealtimeRuntime: 950000 }, 'HostConfig.CpuRealtimeRuntime (--cpu-rt-runtime)'],
    [{ KernelMemory: 64 << 20 }, 'HostConfig.KernelMemory (--kernel-memory)'],
    [{ StorageOpt: { size: '10G' } }, 'HostConfig.StorageOpt (--storage-opt)'],
    [{ CpuCount: 2 }, 'HostConfig.CpuCount (--cpu-count)'],
  ];
  for (const [hostConfig, name] of cases) {
    const r = await api(d.socket, 'POST', '/containers/create?name=refused', { Image: 'busybox', Cmd: ['true'], HostConfig: hostConfig });
    assert.equal(r.status, 400, `${JSON.stringify(hostConfig)}: ${r.text}`);
    assert.ok(r.json.message.startsWith(`${name} is not supported by berth yet`), r.json.message);
  }
  // The defaults the docker CLI sends for each of them are fine.
  const defaults = await api(d.socket, 'POST', '/containers/create', {
    Image: 'busybox', Cmd: ['true'],
    HostConfig: { Devices: [], DeviceCgroupRules: null, Ulimits: [], CgroupParent: '', IpcMode: '', PidMode: '', UTSMode: '', UsernsMode: '', Init: false, BlkioWeight: 0, KernelMemory: 0, MemorySwappiness: -1, OomKillDisable: false, PidsLimit: 0 },
  });
  assert.equal(defaults.status, 201, defaults.text);
  await ok('rm', defaults.json.Id);
  // The CLI path gives the same refusal.
  const cli = await docker('run', '--rm', '--ulimit', 'nofile=100:200', 'busybox', 'true');
  assert.equal(cli.code, 125);
  assert.match(cli.stderr, /HostConfig\.Ulimits \(--ulimit\) is not supported by berth yet/);
  assert.equal(await containerCount(), 0);
  assert.deepEqual(containerDirs(), []);
});
