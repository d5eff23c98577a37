// Seccomp profiles in Docker's format (the one `--security-opt seccomp=FILE`
// and berthd's --seccomp-profile take; the built-in default is Docker's own,
// docker-seccomp.ts), turned into the OCI runtime spec's linux.seccomp for
// one container: the rules are filtered by this machine's architecture, the
// container's capabilities and the kernel version, as dockerd does when it
// builds a spec.
import { readFileSync } from 'node:fs';
import { arch as hostArch, release } from 'node:os';
import { z } from 'zod';
import { InvalidParameter } from '../../errors.js';
import { dockerDefaultProfile } from './docker-seccomp.js';

const Arg = z.object({
  index: z.number().int().min(0),
  value: z.number().int().min(0),
  valueTwo: z.number().int().min(0).optional(),
  op: z.string(),
});

const Filter = z
  .object({
    caps: z.array(z.string()).nullish(),
    arches: z.array(z.string()).nullish(),
    minKernel: z.string().nullish(),
  })
  .nullish();

const Rule = z.object({
  name: z.string().nullish(),
  names: z.array(z.string()).nullish(),
  action: z.string(),
  args: z.array(Arg).nullish(),
  errnoRet: z.number().int().nullish(),
  includes: Filter,
  excludes: Filter,
  comment: z.string().nullish(),
});

const Profile = z.object({
  defaultAction: z.string(),
  defaultErrnoRet: z.number().int().nullish(),
  architectures: z.array(z.string()).nullish(),
  archMap: z.array(z.object({ architecture: z.string(), subArchitectures: z.array(z.string()).nullish() })).nullish(),
  flags: z.array(z.string()).nullish(),
  listenerPath: z.string().nullish(),
  listenerMetadata: z.string().nullish(),
  syscalls: z.array(Rule).nullish(),
});

export type SeccompProfile = z.infer<typeof Profile>;

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: Array<{ names: string[]; action: string; args?: Array<z.infer<typeof Arg>>; errnoRet?: number }>;
}

/** A profile from its JSON text, checked; the error says what is wrong, as dockerd's does. */
export function parseSeccompProfile(json: string): SeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new InvalidParameter(`decoding seccomp profile failed: ${(e as Error).message}`);
  }
  const parsed = Profile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidParameter(`decoding seccomp profile failed: ${issue.path.join('.') || 'profile'}: ${issue.message}`);
  }
  const p = parsed.data;
  if ((p.architectures?.length ?? 0) > 0 && (p.archMap?.length ?? 0) > 0) {
    throw new InvalidParameter("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  for (const r of p.syscalls ?? []) {
    if (r.name && (r.names?.length ?? 0) > 0) {
      throw new InvalidParameter("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    }
  }
  return p;
}

let builtin: SeccompProfile | undefined;

/** berth's built-in default: Docker's profile. */
export function builtinSeccompProfile(): SeccompProfile {
  return (builtin ??= dockerDefaultProfile());
}

let defaultProfile: { path: string; profile: SeccompProfile } | undefined;

/** A daemon-wide default profile from a file (berthd --seccomp-profile), read once; a clear error when it cannot be read. */
export function loadDefaultSeccompProfile(path: string): SeccompProfile {
  if (defaultProfile?.path === path) return defaultProfile.profile;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidParameter(
      `the default seccomp profile ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): start berthd with another --seccomp-profile (or none: Docker's built-in one), or run the container with --security-opt seccomp=unconfined`,
    );
  }
  const profile = parseSeccompProfile(text);
  defaultProfile = { path, profile };
  return profile;
}

/** Go's name for this machine's architecture, which profiles use in includes/excludes.arches. */
export function goArch(nodeArch: string = hostArch()): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[nodeArch] ?? nodeArch;
}

/** libseccomp's name for a Go architecture, which archMap uses. */
function seccompArch(arch: string): string {
  const names: Record<string, string> = {
    amd64: 'SCMP_ARCH_X86_64',
    '386': 'SCMP_ARCH_X86',
    arm64: 'SCMP_ARCH_AARCH64',
    arm: 'SCMP_ARCH_ARM',
    ppc64le: 'SCMP_ARCH_PPC64LE',
    s390x: 'SCMP_ARCH_S390X',
    riscv64: 'SCMP_ARCH_RISCV64',
  };
  return names[arch] ?? `SCMP_ARCH_${arch.toUpperCase()}`;
}

/** "major.minor" of a kernel release string ("6.1.0-18-amd64" -> [6, 1]). */
function kernelVersion(text: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function kernelAtLeast(have: string, want: string): boolean {
  const [a, b] = kernelVersion(have);
  const [c, d] = kernelVersion(want);
  return a > c || (a === c && b >= d);
}

export interface SeccompContext {
  /** The container's capabilities ("CAP_..."). */
  capabilities: readonly string[];
  /** Go architecture name, e.g. "amd64" (default: this machine's). */
  arch?: string;
  /** Kernel release (default: this machine's). */
  kernel?: string;
}

/** The OCI linux.seccomp a profile gives a container with these capabilities on this machine. */
export function ociSeccomp(profile: SeccompProfile, ctx: SeccompContext): OciSeccomp {
  const arch = ctx.arch ?? goArch();
  const native = seccompArch(arch);
  const kernel = ctx.kernel ?? release();
  const caps = new Set(ctx.capabilities);
  const out: OciSeccomp = { defaultAction: profile.defaultAction, syscalls: [] };
  if (profile.defaultErrnoRet != null) out.defaultErrnoRet = profile.defaultErrnoRet;
  if ((profile.architectures?.length ?? 0) > 0) out.architectures = [...profile.architectures!];
  for (const m of profile.archMap ?? []) {
    if (m.architecture === native) out.architectures = [m.architecture, ...(m.subArchitectures ?? [])];
  }
  if ((profile.flags?.length ?? 0) > 0) out.flags = [...profile.flags!];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  for (const r of profile.syscalls ?? []) {
    const ex = r.excludes;
    const inc = r.includes;
    if (ex?.arches?.includes(arch)) continue;
    if (ex?.caps?.some((c) => caps.has(c))) continue;
    if (ex?.minKernel && kernelAtLeast(kernel, ex.minKernel)) continue;
    if ((inc?.arches?.length ?? 0) > 0 && !inc!.arches!.includes(arch)) continue;
    if ((inc?.caps?.length ?? 0) > 0 && !inc!.caps!.every((c) => caps.has(c))) continue;
    if (inc?.minKernel && !kernelAtLeast(kernel, inc.minKernel)) continue;
    const names = r.name ? [r.name] : [...(r.names ?? [])];
    if (names.length === 0) continue;
    const rule: OciSeccomp['syscalls'][number] = { names, action: r.action };
    if ((r.args?.length ?? 0) > 0) rule.args = r.args!.map((a) => ({ ...a }));
    if (r.errnoRet != null) rule.errnoRet = r.errnoRet;
    out.syscalls.push(rule);
  }
  return out;
}
