// A thin layer over commander that gives every berth command docker's
// argument-count messages, flag-error texts and exit codes.
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from './errors.js';

export interface CommandSpec {
  name: string;
  aliases?: string[];
  /** Docker's usage line without the program name, e.g. `volume inspect [OPTIONS] VOLUME [VOLUME...]`. */
  usage: string;
  description: string;
  minArgs?: number;
  maxArgs?: number;
  /** `docker volume prune` says "accepts no arguments". */
}

export const PROGRAM = 'berth';

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function arityMessage(path: string, spec: CommandSpec, got: number): string | undefined {
  const min = spec.minArgs ?? 0;
  const max = spec.maxArgs ?? Infinity;
  const who = `${PROGRAM}: '${path}'`;
  if (max === 0 && got > 0) return `${who} accepts no arguments`;
  if (min === max && got !== min) return `${who} requires exactly ${min} argument${min === 1 ? '' : 's'}`;
  if (got < min) return `${who} requires at least ${min} argument${min === 1 ? '' : 's'}`;
  if (got > max) return `${who} requires at most ${max} argument${max === 1 ? '' : 's'}`;
  return undefined;
}

/**
 * Adds a subcommand. The action gets the positional args and the parsed
 * options; arity is checked first with docker's wording (exit 1).
 */
export function defineCommand<O>(
  parent: Command,
  spec: CommandSpec,
  configure: (cmd: Command) => void,
  action: (args: string[], opts: O, cmd: Command) => Promise<void>,
): Command {
  // spec.usage starts with the command path below the program ("volume ls ..."): keep what follows it.
  const depth = commandPath(parent).split(' ').length;
  const cmd = parent.command(spec.name).description(spec.description).usage(spec.usage.split(' ').slice(depth).join(' '));
  for (const a of spec.aliases ?? []) cmd.alias(a);
  cmd.argument('[args...]');
  cmd.allowExcessArguments(true);
  configure(cmd);
  installErrorHandling(cmd);
  cmd.action(async (args: string[], opts: O, c: Command) => {
    const path = commandPath(c);
    const msg = arityMessage(path, spec, args.length);
    // docker's wording differs: "accepts no arguments" says Run, the others See.
    if (msg) {
      const hint = msg.endsWith('accepts no arguments') ? 'run' : msg.includes('requires at most') ? 'srun' : 'see';
      throw new UsageError(msg, `${PROGRAM} ${spec.usage}`, path, 1, hint);
    }
    await action(args, opts, c);
  });
  return cmd;
}

/** Repeatable option collector (`--label a --label b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function installErrorHandling(cmd: Command): void {
  cmd.exitOverride((err: CommanderError) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      throw new UsageExit(0);
    }
    const path = commandPath(cmd);
    let message = err.message.replace(/^error: /, '');
    const unknown = /^unknown option '([^']+)'/.exec(message);
    if (unknown) message = `unknown flag: ${unknown[1]}`;
    const missing = /^option '([^']+)' argument missing/.exec(message);
    if (missing) message = `flag needs an argument: ${missing[1]!.split(/[ ,]+/).pop()}`;
    const usage = cmd.usage() ? `${path} ${cmd.usage()}` : path;
    throw new UsageError(message, usage, path, 125, 'run');
  });
  cmd.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
}

export class UsageExit extends Error {
  constructor(readonly code: number) {
    super('exit');
  }
}

export function hiddenOption(flags: string, description: string): Option {
  return new Option(flags, description).hideHelp();
}
