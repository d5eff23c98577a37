// Seccomp profiles in Docker's format to the OCI spec: rules kept or dropped
// by architecture, capabilities and kernel version as dockerd does, and the
// built-in default: Docker's profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { builtinSeccompProfile, loadDefaultSeccompProfile, ociSeccomp, parseSeccompProfile } from '../../../src/containers/runtime/seccomp.js';
import { DEFAULT_CAPABILITIES, ALL_CAPABILITIES } from '../../../src/containers/runtime/oci-spec.js';

const profile = parseSeccompProfile(
  JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { name: 'personality', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['chroot'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_CHROOT'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
      { names: ['not_on_x86'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
      { names: ['new_call'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.5' } },
      { names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  }),
);

const names = (s: ReturnType<typeof ociSeccomp>) => s.syscalls.flatMap((r) => r.names);

test('rules follow the container\'s capabilities, the architecture and the kernel', () => {
  const plain = ociSeccomp(profile, { capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.1.0-18-amd64' });
  assert.equal(plain.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(plain.defaultErrnoRet, 1);
  assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  // mount needs CAP_SYS_ADMIN; chroot's rule is for containers without CAP_SYS_CHROOT; new_call needs 6.5.
  assert.deepEqual(names(plain), ['read', 'write', 'personality', 'arch_prctl', 'clone']);
  assert.deepEqual(plain.syscalls.find((r) => r.names[0] === 'personality')!.args, [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }]);
  assert.equal(plain.syscalls.find((r) => r.names[0] === 'clone')!.errnoRet, 38);

  const admin = ociSeccomp(profile, { capabilities: ['CAP_SYS_ADMIN'], arch: 'arm64', kernel: '6.18.0' });
  assert.deepEqual(admin.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(names(admin), ['read', 'write', 'personality', 'mount', 'chroot', 'not_on_x86', 'new_call', 'clone']);
});

test('malformed profiles are refused with dockerd\'s messages', () => {
  const message = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('no error');
  };
  assert.match(message(() => parseSeccompProfile('{')), /^decoding seccomp profile failed: /);
  assert.throws(() => parseSeccompProfile('{"syscalls":[]}'), /decoding seccomp profile failed: defaultAction/);
  assert.throws(
    () => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]}'),
    /'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'/,
  );
  assert.throws(() => loadDefaultSeccompProfile('/nonexistent/seccomp.json'), /the default seccomp profile \/nonexistent\/seccomp.json cannot be read \(ENOENT\)/);
});

test("the built-in default is Docker's profile: an EPERM allowlist, capability-gated calls, clone without namespaces, clone3 ENOSYS, no vsock", () => {
  const def = builtinSeccompProfile();
  const amd64 = { arch: 'amd64', kernel: '6.1.0' };
  const plain = ociSeccomp(def, { capabilities: DEFAULT_CAPABILITIES, ...amd64 });
  const all = ociSeccomp(def, { capabilities: ALL_CAPABILITIES, ...amd64 });
  assert.equal(plain.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(plain.defaultErrnoRet, 1);
  assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  for (const n of ['read', 'execve', 'arch_prctl', 'chroot', 'ptrace']) assert.ok(names(plain).includes(n), n);
  // Not namespaced, or a namespace maker: out of reach without the capability.
  for (const n of ['unshare', 'mount', 'setns', 'keyctl', 'add_key', 'request_key', 'io_uring_setup', 'userfaultfd', 'reboot', 'bpf', 'kcmp']) {
    assert.ok(!plain.syscalls.some((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes(n)), n);
  }
  for (const n of ['unshare', 'mount', 'setns', 'reboot', 'bpf', 'kcmp', 'clone3']) assert.ok(names(all).includes(n), n);
  const clone = plain.syscalls.filter((r) => r.names.includes('clone'));
  assert.deepEqual(clone, [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] }]);
  assert.deepEqual(plain.syscalls.find((r) => r.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  assert.ok(!all.syscalls.some((r) => r.action !== 'SCMP_ACT_ALLOW'), 'CAP_SYS_ADMIN lifts the clone3 refusal');
  assert.deepEqual(plain.syscalls.find((r) => r.names.includes('socket')), { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] });
  assert.ok(!names(ociSeccomp(def, { capabilities: DEFAULT_CAPABILITIES, arch: 'arm64', kernel: '6.1.0' })).includes('arch_prctl'));
  assert.ok(names(all).length >= names(plain).length, 'more capabilities never allow fewer calls');
});
