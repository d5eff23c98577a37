// CLI failures and their exit codes, docker's way: daemon errors exit 1,
// flag errors 125 (spec 4, 5.7).
import { ConnectionError, DaemonError } from './client.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** An error that should be followed by the command's usage text. */
export class UsageError extends CliError {
  constructor(
    message: string,
    readonly usage: string,
    readonly commandPath: string,
    exitCode = 125,
    readonly hint: 'run' | 'see' | 'srun' = 'run',
  ) {
    super(message, exitCode);
  }
}

/** Exit status for an error, with docker run's 126/127 rules when `runRules` is set. */
export function exitCodeFor(e: unknown, runRules = false): number {
  if (e instanceof CliError) return e.exitCode;
  if (runRules && e instanceof DaemonError) {
    const m = e.message;
    if (m.includes('executable file not found') || m.includes('no such file or directory')) return 127;
    if (m.includes('permission denied') || m.includes('is a directory')) return 126;
    return 125;
  }
  return 1;
}

export function formatError(e: unknown): string {
  if (e instanceof UsageError) {
    const hint =
      e.hint === 'see'
        ? `See '${e.commandPath} --help' for more information`
        : // docker: CLI 28.2's RequiresMaxArgs really prints "SRun '...'"; scripts may match it.
          `${e.hint === 'srun' ? 'S' : ''}Run '${e.commandPath} --help' for more information`;
    return `${e.message}\n\nUsage:  ${e.usage}\n\n${hint}\n`;
  }
  if (e instanceof DaemonError) return `Error response from daemon: ${e.message}\n`;
  if (e instanceof ConnectionError || e instanceof CliError) return `${e.message}\n`;
  if (e instanceof Error) return `${e.message}\n`;
  return `${String(e)}\n`;
}
