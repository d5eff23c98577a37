// The one way berth declares its commands: a thin layer over commander with
// docker CLI 28.2's behaviour. Positional-argument checks (cli.NoArgs,
// RequiresMinArgs, RequiresMaxArgs, ExactArgs) keep their exact wording, and
// flags follow pflag: its error texts, `--rm=false` and `-e=V` forms, and
// "Run '<cmd> --help' for more information" with exit 125.
import { Command, CommanderError, Option } from 'commander';
import { parseBool } from '../go/strconv.js';
import { CliError, UsageError } from './errors.js';

const PROGRAM = 'berth';

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export type Arity =
  | { none: true }
  | { min: number }
  | { max: number }
  | { exact: number }
  | { range: [number, number] };

export interface CommandSpec {
  name: string;
  aliases?: string[];
  /** Usage after the command path, e.g. "[OPTIONS] IMAGE [COMMAND] [ARG...]". */
  use: string;
  /** Extra usage lines (docker cp has two). Each is the whole line after the program name. */
  extraUse?: string[];
  description: string;
  arity: Arity;
  /** docker's SetInterspersed(false): flags after the first argument belong to the container command. */
  stopAtFirstArg?: boolean;
  /** Replace `-h, --help` with `--help` only (run/create use -h for --hostname). */
  longHelpOnly?: boolean;
}

const plural = (n: number): string => (n === 1 ? 'argument' : 'arguments');

/** docker's arity error text (without the trailing newline). */
export function arityError(path: string, useLine: string, arity: Arity, got: number): string | undefined {
  const head = `${PROGRAM}: '${path}'`;
  const usage = `\n\nUsage:  ${useLine}\n\n`;
  if ('none' in arity) {
    if (got === 0) return undefined;
    return `${head} accepts no arguments${usage}Run '${path} --help' for more information`;
  }
  if ('range' in arity) {
    const [min, max] = arity.range;
    if (got >= min && got <= max) return undefined;
    return `${head} requires at least ${min} and at most ${max} ${plural(max)}${usage}Run '${path} --help' for more information`;
  }
  if ('min' in arity) {
    if (got >= arity.min) return undefined;
    return `${head} requires at least ${arity.min} ${plural(arity.min)}${usage}See '${path} --help' for more information`;
  }
  if ('max' in arity) {
    if (got <= arity.max) return undefined;
    // docker 28.2's RequiresMaxArgs really prints "SRun".
    return `${head} requires at most ${arity.max} ${plural(arity.max)}${usage}SRun '${path} --help' for more information`;
  }
  if (got === arity.exact) return undefined;
  return `${head} requires ${arity.exact} ${plural(arity.exact)}${usage}Run '${path} --help' for more information`;
}

function flagInArgv(long: string | undefined, short: string | undefined): 'long' | 'short' {
  if (!short) return 'long';
  for (let i = process.argv.length - 1; i >= 0; i--) {
    const a = process.argv[i]!;
    if (long && (a === long || a.startsWith(`${long}=`))) return 'long';
    if (a.startsWith('-') && !a.startsWith('--') && a.includes(short.slice(1))) return 'short';
  }
  return 'long';
}

/** Translates commander's parse errors into pflag's wording. */
function pflagMessage(cmd: Command, err: CommanderError): string {
  const message = err.message.replace(/^error: /, '');
  const unknown = /^unknown option '([^']+)'/.exec(message);
  if (unknown) {
    const flag = unknown[1]!.split('=')[0]!;
    if (flag.startsWith('--')) return `unknown flag: ${flag}`;
    return `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`;
  }
  const missing = /^option '([^']+)' argument missing/.exec(message);
  if (missing) {
    const opt = cmd.options.find((o) => o.flags === missing[1]);
    const long = opt?.long ?? undefined;
    const short = opt?.short ?? undefined;
    if (flagInArgv(long, short) === 'short' && short) return `flag needs an argument: '${short.slice(1)}' in ${short}`;
    return `flag needs an argument: ${long ?? short ?? missing[1]}`;
  }
  return message;
}

/** A flag value error as pflag reports it: `invalid argument "x" for "-t, --timeout" flag: ...`. */
export function flagValueError(cmd: Command, flag: string, value: string, detail: string): UsageError {
  const path = commandPath(cmd);
  return new UsageError(`invalid argument "${value}" for "${flag}" flag: ${detail}`, `${path} ${cmd.usage()}`, path, 125, 'run');
}

/** Go's strconv.ParseInt(s, 10, bits) for an int flag; throws the flag error. */
export function parseIntFlag(cmd: Command, flag: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw flagValueError(cmd, flag, value, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63) {
    throw flagValueError(cmd, flag, value, `strconv.ParseInt: parsing "${value}": value out of range`);
  }
  return n;
}

/**
 * pflag accepts `--rm=false`, `-d=true` for boolean flags; commander does not.
 * Rewrites those tokens (before the first argument when `stopAtFirstArg`):
 * `=true` becomes the bare flag, `=false` is dropped (every such flag defaults to false).
 */
export function normalizeBoolFlags(cmd: Command, args: readonly string[], stopAtFirstArg: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.push(a);
      if (stopAtFirstArg) {
        out.push(...args.slice(i + 1));
        break;
      }
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const opt = cmd.options.find((o) => o.long === name || o.short === name);
    if (opt && eq >= 0 && !opt.required && !opt.optional) {
      const v = a.slice(eq + 1);
      const b = parseBool(v);
      if (b === true) out.push(name);
      else if (b === false) {
        // A flag that defaults to true (build's --rm) has a hidden --no- twin to turn it off.
        const negated = cmd.options.find((o) => o.long === `--no-${name.replace(/^--/, '')}`);
        if (negated?.long !== undefined) out.push(negated.long);
      } else if (b === undefined) {
        const flag = opt.short && opt.long ? `${opt.short}, ${opt.long}` : (opt.long ?? opt.short ?? name);
        throw flagValueError(cmd, flag, v, `strconv.ParseBool: parsing "${v}": invalid syntax`);
      }
      continue;
    }
    if (opt && eq === 2 && !a.startsWith('--')) {
      // pflag reads `-e=FOO` as -e FOO
      out.push(name, a.slice(3));
      continue;
    }
    out.push(a);
    // A value-taking flag given without '=' consumes the next token.
    if (eq >= 0) continue;
    const takesValue = (o: (typeof cmd.options)[number] | undefined): boolean => !!o && (o.required || o.optional);
    if (a.startsWith('--')) {
      if (takesValue(opt) && i + 1 < args.length) out.push(args[++i]!);
      continue;
    }
    // A short cluster (-it, -ePATH): the first letter that takes a value takes the rest, or the next token.
    const letters = a.slice(1);
    for (let k = 0; k < letters.length; k++) {
      if (!takesValue(cmd.options.find((o) => o.short === `-${letters[k]}`))) continue;
      if (k === letters.length - 1 && i + 1 < args.length) out.push(args[++i]!);
      break;
    }
  }
  return out;
}

/**
 * Adds a subcommand of `parent`. Arity is checked first with docker's wording
 * (exit 1); `validate` runs before it, for flag checks docker makes earlier.
 */
export function defineCommand<O>(
  parent: Command,
  spec: CommandSpec,
  configure: (cmd: Command) => void,
  action: (args: string[], opts: O, cmd: Command) => Promise<void>,
  validate?: (opts: O, cmd: Command) => void,
): Command {
  const cmd = parent.command(spec.name).description(spec.description);
  for (const a of spec.aliases ?? []) cmd.alias(a);
  cmd.argument('[args...]');
  cmd.allowExcessArguments(true);
  if (spec.longHelpOnly) cmd.helpOption('--help', 'Print usage');
  if (spec.stopAtFirstArg) cmd.passThroughOptions();
  configure(cmd);
  cmd.usage([spec.use, ...(spec.extraUse ?? []).map((u) => `${PROGRAM} ${u}`)].join('\n\t'));
  cmd.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  cmd.action(async (args: string[], opts: O, c: Command) => {
    validate?.(opts, c);
    const path = commandPath(c);
    const msg = arityError(path, `${path} ${c.usage()}`, spec.arity, args.length);
    if (msg) throw new CliError(msg, 1);
    await action(args, opts, c);
  });
  const parseOptions = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (argv: string[]) => parseOptions(normalizeBoolFlags(cmd, argv, !!spec.stopAtFirstArg));
  cmd.exitOverride((err: CommanderError) => {
    if (isHelpOrVersion(err)) throw new UsageExit(0);
    const path = commandPath(cmd);
    throw new UsageError(pflagMessage(cmd, err), `${path} ${cmd.usage()}`, path, 125, 'run');
  });
  return cmd;
}

/** Repeatable option collector (`--label a --label b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function hiddenOption(flags: string, description: string): Option {
  return new Option(flags, description).hideHelp();
}

function isHelpOrVersion(err: CommanderError): boolean {
  return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
}

/** Error handling for the program and command groups (`volume`, `system`), which are not declared with defineCommand. */
export function installErrorHandling(cmd: Command): void {
  cmd.exitOverride((err: CommanderError) => {
    if (isHelpOrVersion(err)) throw new UsageExit(0);
    const path = commandPath(cmd);
    const usage = cmd.usage() ? `${path} ${cmd.usage()}` : path;
    throw new UsageError(pflagMessage(cmd, err), usage, path, 125, 'run');
  });
  cmd.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
}

/** Ends the CLI with `code` after commander printed help or the version. */
export class UsageExit extends Error {
  constructor(readonly code: number) {
    super('exit');
  }
}
