// Backup hooks from container labels (docs/backups.md): a shell command run
// with exec in a container before a backup reads its volumes (berth.backup.pre)
// and after the thaw (berth.backup.post), bounded by berth.backup.timeout;
// berth.backup.on-error says whether a failure stops the backup.
import { performance } from 'node:perf_hooks';
import { BerthError, InvalidParameter, errorText } from '../errors.js';
import { formatDuration, parseDuration, NS_PER_MS } from '../go/time.js';
import { quote } from '../go/strconv.js';
import type { CapturedExec } from '../containers/exec.js';

export const HOOK_LABELS = {
  pre: 'berth.backup.pre',
  post: 'berth.backup.post',
  timeout: 'berth.backup.timeout',
  onError: 'berth.backup.on-error',
} as const;

export const DEFAULT_HOOK_TIMEOUT_MS = 30_000;

export type HookPhase = 'pre' | 'post';
export type HookErrorPolicy = 'fail' | 'continue';

/** What a hook needs to know of a container. */
export interface HookContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
}

/** The narrow view of the container and exec services the hooks run through. */
export interface HookServices {
  /** The container by ID (ContainerService.resolve); NotFound when it is gone. */
  container(id: string): HookContainer;
  /** Runs a command in the container and collects its output (ExecService.runCaptured). */
  exec(containerId: string, cmd: string[], opts: { timeoutMs: number }): Promise<CapturedExec>;
}

/** One container's hook for one phase, read from its labels. */
export interface Hook {
  container: HookContainer;
  phase: HookPhase;
  /** The shell command, run as `sh -c COMMAND`. */
  command: string;
  timeoutMs: number;
  onError: HookErrorPolicy;
}

export interface HookResult {
  containerId: string;
  container: string;
  phase: HookPhase;
  command: string;
  /** The exit code; undefined when the exec itself could not be made (container gone, paused). */
  exitCode?: number;
  output: string;
  timedOut: boolean;
  durationMs: number;
  /** Why the hook failed; undefined when it exited 0. */
  failure?: string;
}

export interface HookReport {
  results: HookResult[];
  /** Failures of hooks labelled on-error=continue, one sentence each. */
  warnings: string[];
}

/** A hook labelled on-error=fail failed: the backup does not go on. */
export class BackupHookFailed extends BerthError {
  constructor(
    message: string,
    readonly results: HookResult[],
  ) {
    super('system', message);
  }
}

/**
 * The container's hook for `phase`, or undefined when it has none. Labels
 * that cannot be honoured are an InvalidParameter naming container and label.
 */
export function hookOf(container: HookContainer, phase: HookPhase): Hook | undefined {
  const labels = container.labels;
  const command = labels[HOOK_LABELS[phase]];
  if (command === undefined || command.trim() === '') return undefined;
  const where = `container ${quote(container.name)}`;
  let timeoutMs = DEFAULT_HOOK_TIMEOUT_MS;
  const timeout = labels[HOOK_LABELS.timeout];
  if (timeout !== undefined) {
    let ns: number;
    try {
      ns = parseDuration(timeout);
    } catch (e) {
      throw new InvalidParameter(`${where}: label ${HOOK_LABELS.timeout}: ${errorText(e)}`);
    }
    if (ns <= 0) throw new InvalidParameter(`${where}: label ${HOOK_LABELS.timeout} must be a positive duration, not ${quote(timeout)}`);
    timeoutMs = Math.max(1, Math.round(ns / NS_PER_MS));
  }
  const onError = labels[HOOK_LABELS.onError] ?? 'fail';
  if (onError !== 'fail' && onError !== 'continue') {
    throw new InvalidParameter(`${where}: label ${HOOK_LABELS.onError} must be "fail" or "continue", not ${quote(onError)}`);
  }
  return { container, phase, command, timeoutMs, onError };
}

/** The last non-empty line of the output, shortened: enough to say why in a message. */
function lastLine(output: string): string {
  const line = output.trimEnd().split('\n').at(-1)?.trim() ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function describeFailure(hook: Hook, r: { exitCode?: number; output: string; timedOut: boolean }, execError?: unknown): string {
  const what = `backup ${hook.phase} hook in container ${quote(hook.container.name)} (sh -c ${quote(hook.command)})`;
  if (execError !== undefined) return `${what} could not run: ${errorText(execError)}`;
  if (r.timedOut) return `${what} timed out after ${formatDuration(hook.timeoutMs * NS_PER_MS)} and was killed`;
  const tail = lastLine(r.output);
  return `${what} exited with code ${r.exitCode}${tail ? `: ${tail}` : ''}`;
}

async function runHook(hook: Hook, services: HookServices): Promise<HookResult> {
  const started = performance.now();
  const base = { containerId: hook.container.id, container: hook.container.name, phase: hook.phase, command: hook.command };
  try {
    const r = await services.exec(hook.container.id, ['sh', '-c', hook.command], { timeoutMs: hook.timeoutMs });
    const durationMs = performance.now() - started;
    const failed = r.timedOut || r.exitCode !== 0;
    return { ...base, exitCode: r.exitCode, output: r.output, timedOut: r.timedOut, durationMs, failure: failed ? describeFailure(hook, r) : undefined };
  } catch (e) {
    const durationMs = performance.now() - started;
    return { ...base, output: '', timedOut: false, durationMs, failure: describeFailure(hook, { output: '', timedOut: false }, e) };
  }
}

/**
 * Runs the `phase` hooks of `containerIds`, one container after another in
 * the order given. Every label is checked before any hook runs. A failed
 * hook labelled on-error=continue becomes a warning; one labelled fail
 * (the default) throws BackupHookFailed: for `pre` at once (the backup must
 * not start), for `post` once every post hook has run (they undo what the
 * pre hooks did, so each gets its chance).
 */
export async function runBackupHooks(phase: HookPhase, containerIds: string[], services: HookServices): Promise<HookReport> {
  const hooks = containerIds.map((id) => hookOf(services.container(id), phase)).filter((h): h is Hook => h !== undefined);
  const results: HookResult[] = [];
  const warnings: string[] = [];
  const failures: string[] = [];
  for (const hook of hooks) {
    const result = await runHook(hook, services);
    results.push(result);
    if (result.failure === undefined) continue;
    if (hook.onError === 'continue') {
      warnings.push(`${result.failure} (on-error=continue)`);
      continue;
    }
    failures.push(result.failure);
    if (phase === 'pre') break;
  }
  if (failures.length > 0) throw new BackupHookFailed(failures.join('; '), results);
  return { results, warnings };
}
