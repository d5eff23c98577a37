// buildSpec / resolveUser without running anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  buildSpec,
  writeSpec,
  resolveUser,
  resolveInRoot,
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH_ENV,
  DEFAULT_MASKED_PATHS,
  ALL_CAPABILITIES,
  hostDevices,
  type SpecInput,
} from '../../../src/containers/runtime/oci-spec.js';
import { InvalidParameter, NotFound } from '../../../src/errors.js';

const base: SpecInput = { rootfs: '/var/lib/berth/rootfs/abc', args: ['sh'], hostname: 'abc123' };

test('process: Docker defaults, no rlimits, capabilities only in bounding/effective/permitted', () => {
  const s = buildSpec(base);
  assert.equal(s.ociVersion, '1.0.2');
  assert.equal(s.process.terminal, false);
  assert.deepEqual(s.process.user, { uid: 0, gid: 0 });
  assert.deepEqual(s.process.args, ['sh']);
  assert.equal(s.process.cwd, '/');
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.process.oomScoreAdj, 0);
  assert.equal('rlimits' in s.process, false);
  assert.deepEqual(s.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(s.process.capabilities.effective, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(s.process.capabilities.permitted, [...DEFAULT_CAPABILITIES]);
  assert.equal(s.process.capabilities.inheritable, undefined);
  assert.equal(s.process.capabilities.ambient, undefined);
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(s.root, { path: base.rootfs, readonly: false });
  assert.equal(s.hostname, 'abc123');
  assert.equal(s.linux.seccomp, undefined);
  // The JSON a runtime reads has no rlimits anywhere.
  assert.doesNotMatch(JSON.stringify(s), /rlimit/i);
});

test('env: PATH and HOSTNAME first, TERM=xterm with a tty, container env replaces or appends', () => {
  assert.deepEqual(buildSpec(base).process.env, [`PATH=${DEFAULT_PATH_ENV}`, 'HOSTNAME=abc123']);
  const s = buildSpec({ ...base, tty: true, env: ['PATH=/opt/bin:/bin', 'A=1', 'TERM=vt100', 'B=x=y', 'NOVALUE'] });
  assert.deepEqual(s.process.env, ['PATH=/opt/bin:/bin', 'HOSTNAME=abc123', 'TERM=vt100', 'A=1', 'B=x=y']);
  assert.equal(s.process.terminal, true);
  assert.deepEqual(buildSpec({ ...base, tty: true }).process.env.at(-1), 'TERM=xterm');
  const sized = buildSpec({ ...base, tty: true, consoleSize: { height: 40, width: 100 } });
  assert.deepEqual(sized.process.consoleSize, { height: 40, width: 100 });
});

test('user and additional gids', () => {
  const s = buildSpec({ ...base, user: { uid: 1000, gid: 100, additionalGids: [10, 20], home: '/home/u' } });
  assert.deepEqual(s.process.user, { uid: 1000, gid: 100, additionalGids: [10, 20] });
});

test("mounts: Docker's defaults in order, shm sized, then user mounts by depth, then /etc files", () => {
  const s = buildSpec({
    ...base,
    mounts: [
      { type: 'bind', source: '/host/deep', destination: '/data/sub/deep' },
      { type: 'bind', source: '/host/data', destination: '/data', readonly: true },
      { type: 'tmpfs', destination: '/run', size: '8m', options: ['exec'] },
      { type: 'bind', source: '/host/x', destination: '/x', recursive: false, propagation: 'rshared' },
    ],
    etcFiles: { hostname: '/c/hostname', hosts: '/c/hosts', resolvConf: '/c/resolv.conf' },
  });
  const dests = s.mounts.map((m) => m.destination);
  assert.deepEqual(dests, [
    '/proc',
    '/dev',
    '/dev/pts',
    '/sys',
    '/sys/fs/cgroup',
    '/dev/mqueue',
    '/dev/shm',
    '/data',
    '/run',
    '/x',
    '/etc/hostname',
    '/etc/hosts',
    '/etc/resolv.conf',
    '/data/sub/deep',
  ]);
  const by = (d: string) => s.mounts.find((m) => m.destination === d)!;
  assert.deepEqual(by('/proc'), { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
  assert.deepEqual(by('/dev/shm').options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']);
  assert.deepEqual(by('/sys').options, ['nosuid', 'noexec', 'nodev', 'ro']);
  assert.deepEqual(by('/sys/fs/cgroup').options, ['ro', 'nosuid', 'noexec', 'nodev']);
  assert.deepEqual(by('/dev/pts').options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.deepEqual(by('/data'), { destination: '/data', type: 'bind', source: '/host/data', options: ['rbind', 'ro', 'rprivate'] });
  assert.deepEqual(by('/data/sub/deep').options, ['rbind', 'rprivate']);
  assert.deepEqual(by('/x').options, ['bind', 'rshared']);
  assert.deepEqual(by('/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=8m', 'exec'] });
  assert.deepEqual(by('/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: '/c/hosts', options: ['rbind', 'rprivate'] });
});

test('user mounts replace the defaults they cover; a /dev mount replaces every /dev default', () => {
  const shm = buildSpec({ ...base, shmSize: 1 << 20, mounts: [{ type: 'tmpfs', destination: '/dev/shm', size: 2 << 20 }] });
  const shms = shm.mounts.filter((m) => m.destination === '/dev/shm');
  assert.equal(shms.length, 1);
  assert.ok(shms[0]!.options!.includes('size=2048k'));
  const dev = buildSpec({ ...base, mounts: [{ type: 'bind', source: '/dev', destination: '/dev' }] });
  assert.deepEqual(
    dev.mounts.map((m) => m.destination),
    ['/proc', '/sys', '/sys/fs/cgroup', '/dev'],
  );
  const sized = buildSpec({ ...base, shmSize: 128 * 1024 * 1024 });
  assert.ok(sized.mounts.find((m) => m.destination === '/dev/shm')!.options!.includes('size=131072k'));
});

test('read-only rootfs: root readonly, /etc binds and sysfs/cgroup ro; /proc and /dev stay as they are', () => {
  const s = buildSpec({ ...base, readonlyRootfs: true, etcFiles: { hosts: '/c/hosts' } });
  assert.equal(s.root.readonly, true);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/etc/hosts')!.options, ['rbind', 'rprivate', 'ro']);
  assert.ok(!s.mounts.find((m) => m.destination === '/proc')!.options!.includes('ro'));
  assert.ok(!s.mounts.find((m) => m.destination === '/dev/shm')!.options!.includes('ro'));
  assert.ok(s.mounts.find((m) => m.destination === '/dev/mqueue')!.options!.every((o) => o !== 'ro'));
});

test('namespaces: private network by default, none for host; cgroup namespace on request', () => {
  const types = (i: Partial<SpecInput>) => buildSpec({ ...base, ...i }).linux.namespaces.map((n) => n.type);
  assert.deepEqual(types({ cgroupns: 'host' }), ['mount', 'network', 'uts', 'pid', 'ipc']);
  assert.deepEqual(types({ networkMode: 'none', cgroupns: 'host' }), ['mount', 'network', 'uts', 'pid', 'ipc']);
  assert.deepEqual(types({ networkMode: 'host', cgroupns: 'host' }), ['mount', 'uts', 'pid', 'ipc']);
  assert.deepEqual(types({ cgroupns: 'private' }), ['mount', 'network', 'uts', 'pid', 'ipc', 'cgroup']);
  const host = buildSpec({ ...base, hostname: undefined, networkMode: 'host' });
  assert.ok(host.hostname && host.hostname.length > 0, 'host network takes the host name');
  assert.equal(host.linux.sysctl, undefined);
  assert.deepEqual(buildSpec(base).linux.sysctl, {
    'net.ipv4.ip_unprivileged_port_start': '0',
    'net.ipv4.ping_group_range': '0 2147483647',
  });
});

test("linux: Docker's masked and read-only paths, devices, device cgroup rules, cgroups path", () => {
  const s = buildSpec({ ...base, cgroupsPath: '/berth/abc' });
  assert.ok(s.linux.maskedPaths.includes('/proc/kcore'));
  for (const p of ['/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/proc/acpi', '/proc/scsi']) {
    assert.ok(s.linux.maskedPaths.includes(p), p);
  }
  assert.deepEqual(s.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.deepEqual(
    s.linux.devices.map((d) => `${d.path} ${d.type} ${d.major}:${d.minor}`),
    ['/dev/null c 1:3', '/dev/zero c 1:5', '/dev/full c 1:7', '/dev/random c 1:8', '/dev/urandom c 1:9', '/dev/tty c 5:0'],
  );
  const rules = s.linux.resources.devices;
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  assert.ok(rules.some((r) => r.allow && r.type === 'c' && r.major === 5 && r.minor === 1), '/dev/console');
  assert.deepEqual(rules.at(-1), { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' });
  assert.equal(s.linux.cgroupsPath, '/berth/abc');
});

test('capAdd / capDrop', () => {
  const s = buildSpec({ ...base, capAdd: ['net_admin', 'CAP_SYS_PTRACE'], capDrop: ['MKNOD', 'CAP_NET_RAW'] });
  const caps = s.process.capabilities.bounding;
  assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_SYS_PTRACE'));
  assert.ok(!caps.includes('CAP_MKNOD') && !caps.includes('CAP_NET_RAW'));
  assert.deepEqual(buildSpec({ ...base, capDrop: ['ALL'], capAdd: ['CHOWN'] }).process.capabilities.bounding, ['CAP_CHOWN']);
  assert.equal(buildSpec({ ...base, capAdd: ['ALL'] }).process.capabilities.bounding.length, 41);
  assert.throws(() => buildSpec({ ...base, capAdd: ['NOPE'] }), InvalidParameter);
});

test('invalid input is rejected', () => {
  assert.throws(() => buildSpec({ ...base, args: [] }), InvalidParameter);
  assert.throws(() => buildSpec({ ...base, cwd: 'relative' }), InvalidParameter);
  assert.throws(() => buildSpec({ ...base, rootfs: 'rootfs' }), InvalidParameter);
  assert.throws(() => buildSpec({ ...base, mounts: [{ type: 'bind', source: 'rel', destination: '/x' }] }), InvalidParameter);
  assert.throws(() => buildSpec({ ...base, mounts: [{ type: 'tmpfs', destination: 'x' }] }), InvalidParameter);
});

test('writeSpec writes config.json into the bundle', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-spec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = writeSpec(dir, buildSpec(base));
  assert.equal(path, join(dir, 'config.json'));
  assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { ociVersion: string }).ociVersion, '1.0.2');
});

function rootfsWithUsers(t: { after(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-users-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  writeFileSync(
    join(root, 'etc', 'passwd'),
    [
      'root:x:0:0:root:/root:/bin/sh',
      '# a comment',
      'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
      'user:x:1000:1000:user:/home/user:/bin/sh',
      'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(root, 'etc', 'group'),
    ['root:x:0:', 'daemon:x:1:', 'wheel:x:10:user,daemon', 'audio:x:29:user', 'user:x:1000:', 'nogroup:x:65534:', ''].join('\n'),
  );
  return root;
}

test('resolveUser: the forms Docker accepts', (t) => {
  const root = rootfsWithUsers(t);
  assert.deepEqual(resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(resolveUser(root, undefined), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(resolveUser(root, 'user'), { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/user' });
  assert.deepEqual(resolveUser(root, '1000'), { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/user' });
  assert.deepEqual(resolveUser(root, 'user:audio'), { uid: 1000, gid: 29, additionalGids: [], home: '/home/user' });
  assert.deepEqual(resolveUser(root, '1000:65534'), { uid: 1000, gid: 65534, additionalGids: [], home: '/home/user' });
  assert.deepEqual(resolveUser(root, 'daemon:4242'), { uid: 1, gid: 4242, additionalGids: [], home: '/usr/sbin' });
  // A numeric uid without an entry: uid as given, gid 0, home "/".
  assert.deepEqual(resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser(root, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser(root, 'nobody', ['audio', '5000']), {
    uid: 65534,
    gid: 65534,
    additionalGids: [29, 5000],
    home: '/nonexistent',
  });
});

test('resolveUser: unknown names fail as Docker says', (t) => {
  const root = rootfsWithUsers(t);
  assert.throws(
    () => resolveUser(root, 'ghost'),
    (e: unknown) => e instanceof NotFound && e.message === 'unable to find user ghost: no matching entries in passwd file',
  );
  assert.throws(
    () => resolveUser(root, 'user:ghosts'),
    (e: unknown) => e instanceof NotFound && e.message === 'unable to find group ghosts: no matching entries in group file',
  );
  assert.throws(() => resolveUser(root, 'user', ['ghosts']), NotFound);
  const empty = mkdtempSync(join(tmpdir(), 'berth-nousers-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  assert.throws(() => resolveUser(empty, 'someone'), /unable to find user someone: no matching entries in passwd file/);
  assert.deepEqual(resolveUser(empty, '123'), { uid: 123, gid: 0, additionalGids: [], home: '/' });
});

test('resolveUser reads /etc/passwd through symlinks without leaving the rootfs', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-symroot-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'real'));
  writeFileSync(join(root, 'real', 'passwd'), 'app:x:777:777::/app:/bin/sh\n');
  // An absolute link is resolved inside the rootfs, not on the host.
  symlinkSync('/real/passwd', join(root, 'etc', 'passwd'));
  symlinkSync('../../../../../../etc/shadow-does-not-matter', join(root, 'etc', 'group'));
  assert.deepEqual(resolveUser(root, 'app'), { uid: 777, gid: 777, additionalGids: [], home: '/app' });
  assert.equal(resolveInRoot(root, '/etc/passwd'), join(root, 'real', 'passwd'));
  assert.equal(resolveInRoot(root, '/etc/group'), join(root, 'etc', 'shadow-does-not-matter'));
});

test('capabilities as Docker tweaks them: ALL minus drops, ALL dropped keeps only adds, unavailable ones refused', () => {
  const caps = (input: Partial<SpecInput>) => buildSpec({ ...base, ...input }).process.capabilities.bounding;
  const all = caps({ capAdd: ['ALL'], capDrop: ['chown'] });
  assert.equal(all.length, ALL_CAPABILITIES.length - 1);
  assert.ok(!all.includes('CAP_CHOWN'));
  assert.deepEqual(caps({ capDrop: ['all'], capAdd: ['net_admin', 'CAP_NET_ADMIN'] }), ['CAP_NET_ADMIN']);
  // An add wins over a drop of the same capability (dockerd: basics minus drops, plus adds).
  assert.ok(caps({ capAdd: ['NET_ADMIN'], capDrop: ['NET_ADMIN'] }).includes('CAP_NET_ADMIN'));
  const available = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
  assert.ok(!caps({ capAdd: ['ALL'], availableCapabilities: available }).includes('CAP_SYS_RESOURCE'));
  assert.throws(() => caps({ capAdd: ['SYS_RESOURCE'], availableCapabilities: available }), /capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"/);
  assert.throws(() => caps({ capAdd: ['BOGUS'] }), /unknown capability: "CAP_BOGUS"/);
});

test('privileged: every available capability, no masked or read-only paths, writable /sys, host devices, all devices allowed', () => {
  const available = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
  const devices = hostDevices();
  const s = buildSpec({ ...base, privileged: true, availableCapabilities: available, devices, capDrop: ['ALL'] });
  assert.deepEqual(s.process.capabilities.effective, available);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.ok(!s.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.ok(!s.mounts.find((m) => m.destination === '/sys/fs/cgroup')!.options!.includes('ro'));
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.equal(s.linux.seccomp, undefined);
  assert.ok(devices.some((d) => d.path === '/dev/null' && d.type === 'c' && d.major === 1 && d.minor === 3));
  assert.ok(!devices.some((d) => d.path.startsWith('/dev/pts/') || d.path === '/dev/console'));
  assert.equal(s.linux.devices.filter((d) => d.path === '/dev/null').length, 1);
  // Not privileged: the defaults.
  const plain = buildSpec(base);
  assert.deepEqual(plain.linux.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  assert.ok(plain.mounts.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.equal(plain.process.noNewPrivileges, false, "Docker's default");
});

test('noNewPrivileges, oomScoreAdj, cgroup resources and masked/read-only path overrides reach the spec', () => {
  const s = buildSpec({
    ...base,
    noNewPrivileges: true,
    oomScoreAdj: 300,
    resources: { memory: { limit: 1 << 26, swap: 1 << 27 }, cpu: { quota: 50000, period: 100000, cpus: '0' }, pids: { limit: 20 } },
    maskedPaths: ['/proc/x'],
    readonlyPaths: [],
  });
  assert.equal(s.process.noNewPrivileges, true);
  assert.equal(s.process.oomScoreAdj, 300);
  assert.deepEqual(s.linux.resources.memory, { limit: 1 << 26, swap: 1 << 27 });
  assert.deepEqual(s.linux.resources.cpu, { quota: 50000, period: 100000, cpus: '0' });
  assert.deepEqual(s.linux.resources.pids, { limit: 20 });
  assert.ok(s.linux.resources.devices.length > 1, 'the device rules stay');
  assert.deepEqual(s.linux.maskedPaths, ['/proc/x']);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.equal((s.process as unknown as Record<string, unknown>).rlimits, undefined);
});
