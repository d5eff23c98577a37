// What the generated OCI spec gives a real container under runc: mounts,
// networking, users, masked paths, devices, capabilities, environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveUser, defaultCgroupsPath } from '../../../src/containers/runtime/oci-spec.js';
import { RuntimeFixture, runtimeSkipReason, useRuntimeFixture, Output } from './helpers.js';

const skip = runtimeSkipReason() ?? false;
let fx: RuntimeFixture;

useRuntimeFixture(skip, (f) => (fx = f));

test('a bind mount is visible both ways while the container runs', { skip }, async (t) => {
  const host = join(fx.base, `bind-${Date.now()}`);
  mkdirSync(host);
  t.after(() => execFileSync('rm', ['-rf', host]));
  writeFileSync(join(host, 'from-host'), 'hello from host\n');
  const { m } = await fx.monitor(t, {
    args: [
      'sh',
      '-c',
      'cat /mnt/h/from-host; echo from-container > /mnt/h/from-container; ' +
        'while [ ! -f /mnt/h/late ]; do sleep 0.05; done; cat /mnt/h/late',
    ],
    mounts: [{ type: 'bind', source: host, destination: '/mnt/h' }],
  });
  const out = new Output(m.hub.attach({ stdin: false, stdout: true, stderr: true }));
  await m.start();
  await out.waitFor(/hello from host\n/);
  for (let i = 0; i < 100 && !existsSync(join(host, 'from-container')); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(readFileSync(join(host, 'from-container'), 'utf8'), 'from-container\n');
  writeFileSync(join(host, 'late'), 'written by the host after start\n');
  assert.equal((await m.exited).exitCode, 0);
  assert.equal((await out.done).stdout, 'hello from host\nwritten by the host after start\n');
});

test('a read-only bind refuses writes but can be read', { skip }, async (t) => {
  const host = join(fx.base, `robind-${Date.now()}`);
  mkdirSync(host);
  t.after(() => execFileSync('rm', ['-rf', host]));
  writeFileSync(join(host, 'f'), 'ro content\n');
  const r = await fx.run(t, {
    args: ['sh', '-c', 'cat /ro/f; echo x > /ro/new'],
    mounts: [{ type: 'bind', source: host, destination: '/ro', readonly: true }],
  });
  assert.equal(r.stdout, 'ro content\n');
  assert.notEqual(r.exit.exitCode, 0);
  assert.match(r.stderr, /Read-only file system/);
  assert.equal(existsSync(join(host, 'new')), false);
  assert.deepEqual(r.c.spec.mounts.find((m) => m.destination === '/ro')?.options, ['rbind', 'ro', 'rprivate']);
});

test('a tmpfs mount: writable, sized, not on the container rootfs', { skip }, async (t) => {
  const r = await fx.run(t, {
    args: ['sh', '-c', "grep ' /scratch ' /proc/mounts; echo data > /scratch/f && cat /scratch/f"],
    mounts: [{ type: 'tmpfs', destination: '/scratch', size: 1024 * 1024, mode: 0o755 }],
  });
  assert.equal(r.exit.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,.*size=1024k/m);
  assert.match(r.stdout, /mode=755/);
  assert.match(r.stdout, /^data$/m);
  assert.equal(existsSync(join(r.c.dir, 'upper', 'scratch', 'f')), false);
});

test("network none: only lo, and it is UP (runc brings loopback up); Docker's network sysctls", { skip }, async (t) => {
  const r = await fx.run(t, {
    args: [
      'sh',
      '-c',
      'ip -o link; cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range; ' +
        'nc -l -p 80 >/dev/null & sleep 0.3; echo hi | nc -w 1 127.0.0.1 80 && echo port80-ok; wait',
    ],
    networkMode: 'none',
    user: { uid: 1000, gid: 1000 },
  });
  assert.equal(r.exit.exitCode, 0, r.stderr);
  const links = r.stdout.split('\n').filter((l) => /^\d+:/.test(l));
  assert.equal(links.length, 1, r.stdout);
  assert.match(links[0]!, /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
  assert.match(r.stdout, /^0\n0\s+2147483647$/m);
  assert.match(r.stdout, /port80-ok/, 'uid 1000 could listen on port 80');
});

test('network host: the host interfaces are visible (no network namespace)', { skip }, async (t) => {
  const hostLinks = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  const r = await fx.run(t, { args: ['sh', '-c', 'ip -o link | wc -l'], networkMode: 'host' });
  assert.equal(r.exit.exitCode, 0, r.stderr);
  assert.equal(Number(r.stdout.trim()), hostLinks);
  assert.ok(!r.c.spec.linux.namespaces.some((n) => n.type === 'network'));
});

test('user switching: -u 1000 runs as uid 1000 (resolved from the image passwd)', { skip }, async (t) => {
  const c0 = fx.container(t, { args: ['true'] });
  const user = resolveUser(c0.rootfs, '1000');
  assert.deepEqual(user, { uid: 1000, gid: 1000, additionalGids: [], home: '/home' });
  const r = await fx.run(t, { args: ['sh', '-c', 'id -u; id -g; echo $HOME; touch /root/x'], user });
  assert.equal(r.stdout.split('\n').slice(0, 3).join(' '), '1000 1000 /home');
  assert.match(r.stderr, /Permission denied/);
  const nobody = await fx.run(t, { args: ['id'], user: resolveUser(c0.rootfs, 'nobody:user') });
  assert.match(nobody.stdout, /uid=65534\(nobody\) gid=1000\(user\)/);
});

test('masked and read-only paths: /proc/kcore (and co.) masked, /proc/sys read-only', { skip }, async (t) => {
  const masked = ['kcore', 'keys', 'timer_list', 'interrupts', 'acpi', 'scsi'];
  const r = await fx.run(t, {
    args: [
      'sh',
      '-c',
      `for f in ${masked.join(' ')}; do if [ -e /proc/$f ]; then stat -c "$f %F %t:%T" /proc/$f; else echo "$f absent"; fi; done; ` +
        'cat /proc/keys | wc -c; ls -A /sys/firmware | wc -l; ' +
        "grep -E ' /proc/(sys|bus) ' /proc/mounts | cut -d' ' -f2,4; echo 1 > /proc/sys/vm/overcommit_memory",
    ],
  });
  const lines = r.stdout.trim().split('\n');
  for (const [i, f] of masked.entries()) {
    const line = lines[i] ?? '';
    if (!existsSync(`/proc/${f}`)) {
      // e.g. no /proc/kcore on this kernel: nothing to mask, and nothing is created.
      assert.equal(line, `${f} absent`);
    } else if (f === 'acpi' || f === 'scsi') {
      assert.match(line, new RegExp(`^${f} directory `), `/proc/${f} is an empty read-only tmpfs`);
    } else {
      assert.equal(line, `${f} character special file 1:3`, `/proc/${f} is a bind of /dev/null`);
    }
  }
  assert.equal(lines[masked.length]?.trim(), '0', '/proc/keys reads empty');
  assert.equal(lines[masked.length + 1]?.trim(), '0', '/sys/firmware is an empty tmpfs');
  assert.match(r.stdout, /^\/proc\/sys ro,/m);
  assert.match(r.stdout, /^\/proc\/bus ro,/m);
  assert.match(r.stderr, /Read-only file system/);
});

test('read-only rootfs refuses writes, its /etc files binds too; volumes stay writable', { skip }, async (t) => {
  const etc = join(fx.base, `etc-${Date.now()}`);
  mkdirSync(etc);
  t.after(() => execFileSync('rm', ['-rf', etc]));
  writeFileSync(join(etc, 'hosts'), '127.0.0.1 localhost\n');
  const r = await fx.run(t, {
    args: ['sh', '-c', 'touch /x || echo root-ro; echo > /etc/hosts || echo hosts-ro; touch /w/ok && echo vol-rw'],
    readonlyRootfs: true,
    etcFiles: { hosts: join(etc, 'hosts') },
    mounts: [{ type: 'tmpfs', destination: '/w' }],
  });
  assert.equal(r.stdout, 'root-ro\nhosts-ro\nvol-rw\n');
});

test('hostname, /etc/hostname, /etc/hosts and /etc/resolv.conf come from the caller', { skip }, async (t) => {
  const etc = join(fx.base, `etc2-${Date.now()}`);
  mkdirSync(etc);
  t.after(() => execFileSync('rm', ['-rf', etc]));
  writeFileSync(join(etc, 'hostname'), 'box1\n');
  writeFileSync(join(etc, 'hosts'), '127.0.0.1 localhost\n172.17.0.2 box1\n');
  writeFileSync(join(etc, 'resolv.conf'), 'nameserver 192.0.2.53\n');
  const r = await fx.run(t, {
    args: ['sh', '-c', 'hostname; cat /etc/hostname /etc/hosts /etc/resolv.conf; echo "$HOSTNAME"'],
    hostname: 'box1',
    etcFiles: { hostname: join(etc, 'hostname'), hosts: join(etc, 'hosts'), resolvConf: join(etc, 'resolv.conf') },
  });
  assert.equal(r.stdout, 'box1\nbox1\n127.0.0.1 localhost\n172.17.0.2 box1\nnameserver 192.0.2.53\nbox1\n');
});

test("environment as Docker's: PATH, HOSTNAME, HOME from passwd, TERM only with a tty, overrides", { skip }, async (t) => {
  const r = await fx.run(t, { args: ['env'], hostname: 'envbox', env: ['FOO=bar', 'PATH=/bin'] });
  const env = r.stdout.trim().split('\n').sort();
  assert.deepEqual(env, ['FOO=bar', 'HOME=/root', 'HOSTNAME=envbox', 'PATH=/bin']);
  const tty = await fx.run(t, { args: ['sh', '-c', 'echo $TERM'], tty: true });
  assert.equal(tty.stdout, 'xterm\r\n');
});

test("Docker's default capabilities and cgroup path; no new privileges off; devices as Docker's", { skip }, async (t) => {
  const r = await fx.run(t, {
    args: [
      'sh',
      '-c',
      'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status; cat /proc/self/cgroup; ' +
        'ls /dev; mknod /tmp/sda b 8 0 && (head -c 1 /tmp/sda >/dev/null || echo blocked)',
    ],
  });
  assert.equal(r.exit.exitCode, 0, r.stderr);
  // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
  assert.match(r.stdout, /CapBnd:\s+00000000a80425fb/);
  assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
  assert.match(r.stdout, /CapPrm:\s+00000000a80425fb/);
  assert.match(r.stdout, /CapInh:\s+0000000000000000/);
  assert.match(r.stdout, /CapAmb:\s+0000000000000000/);
  assert.match(r.stdout, /NoNewPrivs:\s+0/);
  assert.ok(r.stdout.includes(defaultCgroupsPath(r.c.id)), r.stdout);
  for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'mqueue']) {
    assert.match(r.stdout, new RegExp(`^${d}$`, 'm'), `/dev/${d}`);
  }
  assert.match(r.stdout, /^blocked$/m, 'the device cgroup denies a block device');
});

test('a private cgroup namespace (Docker\'s default on cgroup v2) works here too', { skip }, async (t) => {
  const r = await fx.run(t, { args: ['cat', '/proc/self/cgroup'], cgroupns: 'private' });
  assert.equal(r.exit.exitCode, 0, r.stderr);
  const paths = r.stdout.trim().split('\n').map((l) => l.split(':').slice(2).join(':'));
  assert.ok(paths.length > 0 && paths.every((p) => p === '/'), r.stdout);
  assert.ok(r.c.spec.linux.namespaces.some((n) => n.type === 'cgroup'));
});

test('the cgroup of a finished container is removed with its runtime state', { skip }, async (t) => {
  const r = await fx.run(t, { args: ['true'] });
  assert.equal(r.exit.exitCode, 0);
  // Created by `runc create`, the container stays (stopped) until deleted, as berthd deletes it at the exit.
  await fx.runc.delete(r.c.id);
  const leftovers = readdirSync('/sys/fs/cgroup')
    .map((ctrl) => join('/sys/fs/cgroup', ctrl, 'berth', r.c.id))
    .filter((p) => existsSync(p));
  assert.deepEqual(leftovers, []);
});
