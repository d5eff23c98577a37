// The classic builder's run config (a container.Config): what each step
// changes, the "#(nop)" command a step that runs nothing is recorded with,
// and moby's compare() of two configs, which decides a cache hit.
import { fullContainerConfig } from '../images/config-file.js';
import type { ContainerConfig, HealthConfig } from '../containers/types.js';
import type { ImageRuntimeConfig } from '../images/types.js';
import { formatDuration } from '../go/time.js';
import { quote, quoteRune } from '../go/strconv.js';

export type RunConfig = ImageRuntimeConfig;

/** Linux's default shell for the shell form of RUN, CMD and ENTRYPOINT. */
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** The PATH a stage gets when its image sets none (oci.DefaultPathEnv for linux). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function copyRunConfig(c: RunConfig, changes: Partial<RunConfig> = {}): RunConfig {
  return { ...structuredClone(c), ...changes };
}

export function shellOf(c: RunConfig): string[] {
  return c.Shell && c.Shell.length > 0 ? [...c.Shell] : [...DEFAULT_SHELL];
}

/** A step's recorded command: the shell, "#(nop) " and the instruction (withCmdComment). */
export function nopCommand(c: RunConfig, comment: string): string[] {
  return [...shellOf(c), '#(nop) ', comment];
}

/** The one-argument form WORKDIR, COPY and ADD are recorded with (withCmdCommentString). */
export function nopCommandString(c: RunConfig, comment: string): string[] {
  return [...shellOf(c), `#(nop) ${comment}`];
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map((s) => quote(s)).join(' ')}]`;
}

/** Go's %v of a []string: `[a b]`. */
export function goList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).join(' ')}]`;
}

/** Go's %q of a *HealthConfig, as HEALTHCHECK's record shows it: durations quoted, the retry count as a quoted rune. */
export function goQuoteHealthcheck(h: HealthConfig): string {
  const d = (ns: number | undefined): string => quote(formatDuration(ns ?? 0));
  return `&{${goQuoteList(h.Test)} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${d(h.StartInterval)} ${quoteRune(h.Retries ?? 0)}}`;
}

function sameList(a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function keysOf(m: Record<string, unknown> | null | undefined): string[] {
  return Object.keys(m ?? {});
}

/** moby's image/cache compare(): whether a cached step's container config is the config of this step. */
export function sameRunConfig(cached: RunConfig, wanted: RunConfig): boolean {
  const a: ContainerConfig = fullContainerConfig(cached);
  const b: ContainerConfig = fullContainerConfig(wanted);
  if (!sameList(a.Env, b.Env) || !sameList(a.Cmd, b.Cmd) || !sameList(a.Entrypoint, b.Entrypoint) || !sameList(a.Shell, b.Shell) || !sameList(a.OnBuild, b.OnBuild)) return false;
  const ports = keysOf(a.ExposedPorts);
  if (ports.length !== keysOf(b.ExposedPorts).length || !ports.every((p) => p in (b.ExposedPorts ?? {}))) return false;
  const volumes = keysOf(a.Volumes);
  if (volumes.length !== keysOf(b.Volumes).length || !volumes.every((v) => v in (b.Volumes ?? {}))) return false;
  const labels = a.Labels ?? {};
  if (keysOf(labels).length !== keysOf(b.Labels).length || !Object.entries(labels).every(([k, v]) => (b.Labels ?? {})[k] === v)) return false;
  if (a.AttachStdin !== b.AttachStdin || a.AttachStdout !== b.AttachStdout || a.AttachStderr !== b.AttachStderr) return false;
  if ((a.NetworkDisabled ?? false) !== (b.NetworkDisabled ?? false) || a.Tty !== b.Tty || a.OpenStdin !== b.OpenStdin || a.StdinOnce !== b.StdinOnce) return false;
  if ((a.ArgsEscaped ?? false) !== (b.ArgsEscaped ?? false) || a.User !== b.User || a.WorkingDir !== b.WorkingDir || (a.StopSignal ?? '') !== (b.StopSignal ?? '')) return false;
  if (a.StopTimeout !== b.StopTimeout) return false;
  const ha = a.Healthcheck;
  const hb = b.Healthcheck;
  if ((ha === undefined) !== (hb === undefined)) return false;
  if (ha !== undefined && hb !== undefined) {
    const same = (x: number | undefined, y: number | undefined): boolean => (x ?? 0) === (y ?? 0);
    if (!same(ha.Interval, hb.Interval) || !same(ha.StartInterval, hb.StartInterval) || !same(ha.StartPeriod, hb.StartPeriod) || !same(ha.Timeout, hb.Timeout) || !same(ha.Retries, hb.Retries)) return false;
    if (!sameList(ha.Test, hb.Test)) return false;
  }
  return true;
}
