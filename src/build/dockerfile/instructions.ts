// Dockerfile instructions from parsed nodes (BuildKit's
// frontend/dockerfile/instructions as dockerd's classic builder uses it):
// typed commands with their `--flags`, build stages (FROM ... AS name), the
// ARGs before the first FROM, and the errors with BuildKit's wording
// ("dockerfile parse error on line 3: unknown instruction: RUNN (did you
// mean RUN?)").
import { InvalidParameter } from '../../errors.js';
import { parseDuration } from '../../go/time.js';
import type { HealthConfig } from '../../containers/types.js';
import { parseDockerfile, type DockerfileNode } from './parser.js';

export interface KeyValue {
  key: string;
  value: string;
  /** The legacy `ENV KEY value` form. */
  noDelim: boolean;
}

export interface ArgDefinition {
  key: string;
  /** undefined: `ARG NAME` without a default. */
  value?: string;
}

/** RUN, CMD, ENTRYPOINT: the command line and whether the shell goes in front (shell form). */
export interface CommandLine {
  cmdLine: string[];
  prependShell: boolean;
}

interface Base {
  /** The keyword as written. */
  name: string;
  /** The instruction's text as written (what "Step N/M : ..." shows). */
  code: string;
  line: number;
}

export interface SourcesAndDest {
  sources: string[];
  dest: string;
}

export type Instruction =
  | (Base & { kind: 'env'; env: KeyValue[] })
  | (Base & { kind: 'maintainer'; maintainer: string })
  | (Base & { kind: 'label'; labels: KeyValue[]; noExpand: boolean })
  | (Base & SourcesAndDest & { kind: 'add'; chown: string; chmod: string; link: boolean; checksum: string })
  | (Base & SourcesAndDest & { kind: 'copy'; from: string; chown: string; chmod: string; link: boolean })
  | (Base & { kind: 'onbuild'; expression: string })
  | (Base & { kind: 'workdir'; path: string })
  | (Base & CommandLine & { kind: 'run'; flagsUsed: string[] })
  | (Base & CommandLine & { kind: 'cmd' })
  | (Base & CommandLine & { kind: 'entrypoint' })
  | (Base & { kind: 'healthcheck'; health: HealthConfig })
  | (Base & { kind: 'expose'; ports: string[] })
  | (Base & { kind: 'user'; user: string })
  | (Base & { kind: 'volume'; volumes: string[] })
  | (Base & { kind: 'stopsignal'; signal: string })
  | (Base & { kind: 'arg'; args: ArgDefinition[] })
  | (Base & { kind: 'shell'; shell: string[] });

export type InstructionKind = Instruction['kind'];

export interface Stage {
  /** Lower-cased `AS` name, "" without one. */
  name: string;
  /** The image (or earlier stage) to start from, before ARG expansion. */
  baseName: string;
  /** --platform, before ARG expansion. */
  platform: string;
  /** The FROM line as written. */
  sourceCode: string;
  commands: Instruction[];
}

export interface ParsedStages {
  stages: Stage[];
  /** ARGs before the first FROM. */
  metaArgs: Array<Extract<Instruction, { kind: 'arg' }>>;
}

const INSTRUCTION_NAMES = ['add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label', 'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir'];

/** Levenshtein distance, for BuildKit's "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** BuildKit's suggest.WrapError: " (did you mean X?)" for an option less than 3 edits away. */
function withSuggestion(message: string, value: string, options: readonly string[], caseSensitive: boolean): string {
  const v = caseSensitive ? value : value.toLowerCase();
  let match = '';
  let min = 3;
  for (const option of options) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === v) return message;
    const dist = distance(v, o);
    if (dist < min) {
      min = dist;
      match = caseSensitive ? o : value === value.toLowerCase() ? o.toLowerCase() : value === value.toUpperCase() ? o.toUpperCase() : o;
    }
  }
  return match === '' ? message : `${message} (did you mean ${match}?)`;
}

type FlagType = 'bool' | 'string' | 'strings';

/** BuildKit's BFlags: the `--name=value` flags an instruction takes. */
class InstructionFlags {
  private readonly defined = new Map<string, { type: FlagType; value: string; values: string[] }>();
  readonly used: string[] = [];

  constructor(private readonly args: readonly string[]) {}

  add(name: string, type: FlagType, def = ''): void {
    this.defined.set(name, { type, value: type === 'bool' ? 'false' : def, values: [] });
  }

  value(name: string): string {
    return this.defined.get(name)?.value ?? '';
  }

  parse(): void {
    for (const a of this.args) {
      if (a === '--') return;
      if (!a.startsWith('--')) throw new InvalidParameter(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const flagName = eq === -1 ? a : a.slice(0, eq);
      const value = eq === -1 ? '' : a.slice(eq + 1);
      const name = flagName.slice(2);
      const flag = this.defined.get(name);
      if (flag === undefined) throw new InvalidParameter(withSuggestion(`unknown flag: ${flagName}`, name, [...this.defined.keys()], true));
      if (this.used.includes(name) && flag.type !== 'strings') throw new InvalidParameter(`duplicate flag specified: ${flagName}`);
      if (!this.used.includes(name)) this.used.push(name);
      switch (flag.type) {
        case 'bool':
          if (eq !== -1 && value === '') throw new InvalidParameter(`missing a value on flag: ${flagName}`);
          if (value.toLowerCase() === 'true' || value === '') flag.value = 'true';
          else if (value.toLowerCase() === 'false') flag.value = 'false';
          else throw new InvalidParameter(`expecting boolean value for flag ${flagName}, not: ${value}`);
          break;
        case 'string':
          if (eq === -1) throw new InvalidParameter(`missing a value on flag: ${flagName}`);
          flag.value = value;
          break;
        case 'strings':
          if (eq === -1) throw new InvalidParameter(`missing a value on flag: ${flagName}`);
          flag.values.push(value);
          break;
      }
    }
  }
}

/** A node's arguments; ONBUILD's are its instruction's keyword and arguments. */
function nodeArgs(node: DockerfileNode): string[] {
  return node.child ? [node.child.value, ...nodeArgs(node.child)] : node.args;
}

/** CMD/RUN/ENTRYPOINT/SHELL arguments: exec form as is, shell form joined into one string. */
function jsonArgs(args: string[], json: boolean): string[] {
  if (args.length === 0) return [];
  return json ? args : [args.join(' ')];
}

const atLeastOne = (cmd: string): InvalidParameter => new InvalidParameter(`${cmd} requires at least one argument`);
const exactlyOne = (cmd: string): InvalidParameter => new InvalidParameter(`${cmd} requires exactly one argument`);
const noDestination = (cmd: string): InvalidParameter =>
  new InvalidParameter(`${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);

function keyValues(args: string[], cmd: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(cmd);
  if (args.length % 3 !== 0) throw new InvalidParameter(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValue[] = [];
  for (let j = 0; j < args.length; j += 3) {
    if (args[j]!.length === 0) throw new InvalidParameter(`${cmd} names can not be blank`);
    out.push({ key: args[j]!, value: args[j + 1]!, noDelim: args[j + 2] === '' });
  }
  return out;
}

/** A HEALTHCHECK interval flag: a Go duration, 0 or at least 1ms. */
function interval(name: string, value: string): number {
  if (value === '') return 0;
  const ns = parseDuration(value);
  if (ns === 0) return 0;
  if (ns < 1e6) throw new InvalidParameter(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return ns;
}

function parseHealthcheck(args: string[], json: boolean, flags: InstructionFlags): HealthConfig {
  if (args.length === 0) throw atLeastOne('HEALTHCHECK');
  const type = args[0]!.toUpperCase();
  const rest = args.slice(1);
  if (type === 'NONE') {
    if (rest.length !== 0) throw new InvalidParameter('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  for (const f of ['interval', 'timeout', 'start-period', 'start-interval', 'retries']) flags.add(f, 'string');
  flags.parse();
  if (type !== 'CMD') throw new InvalidParameter(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const cmd = jsonArgs(rest, json);
  if (cmd.length === 0) throw new InvalidParameter('Missing command after HEALTHCHECK CMD');
  const health: HealthConfig = { Test: [json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  const parseInterval = (flag: string): number => {
    try {
      return interval(flag, flags.value(flag));
    } catch (e) {
      if (e instanceof InvalidParameter) throw e;
      throw new InvalidParameter((e as Error).message);
    }
  };
  // Zero values are left out, as Go's JSON of a HealthConfig leaves them.
  const set = (key: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval', flag: string): void => {
    const ns = parseInterval(flag);
    if (ns !== 0) health[key] = ns;
  };
  set('Interval', 'interval');
  set('Timeout', 'timeout');
  set('StartPeriod', 'start-period');
  set('StartInterval', 'start-interval');
  const retries = flags.value('retries');
  if (retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      throw new InvalidParameter(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: ${/^[+-]?\d+$/.test(retries) ? 'value out of range' : 'invalid syntax'}`);
    }
    if (Number(retries) < 0) throw new InvalidParameter(`--retries cannot be negative (${Number(retries)})`);
    if (Number(retries) !== 0) health.Retries = Number(retries);
  }
  return health;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** FROM's stage name: "" without AS. */
function stageName(args: string[]): string {
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    const name = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(name)) throw new InvalidParameter(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
    return name;
  }
  if (args.length !== 1) throw new InvalidParameter('FROM requires either one or three arguments');
  return '';
}

/** One instruction, or a FROM as a new stage. */
export function parseInstruction(node: DockerfileNode): Instruction | Stage {
  const args = nodeArgs(node);
  const flags = new InstructionFlags(node.flags);
  const base: Base = { name: node.value, code: node.original.trim(), line: node.startLine };
  const keyword = node.value.toLowerCase();
  switch (keyword) {
    case 'env':
      flags.parse();
      return { ...base, kind: 'env', env: keyValues(args, 'ENV') };
    case 'maintainer':
      if (args.length !== 1) throw exactlyOne('MAINTAINER');
      flags.parse();
      return { ...base, kind: 'maintainer', maintainer: args[0]! };
    case 'label':
      flags.parse();
      return { ...base, kind: 'label', labels: keyValues(args, 'LABEL'), noExpand: false };
    case 'add':
    case 'copy': {
      const upper = keyword.toUpperCase();
      if (args.length < 2) throw noDestination(upper);
      flags.add('chown', 'string');
      if (keyword === 'copy') flags.add('from', 'string');
      flags.add('chmod', 'string');
      flags.add('link', 'bool');
      if (keyword === 'add') {
        flags.add('keep-git-dir', 'bool');
        flags.add('checksum', 'string');
      }
      flags.parse();
      const files = { sources: args.slice(0, -1), dest: args[args.length - 1]! };
      const common = { chown: flags.value('chown'), chmod: flags.value('chmod'), link: flags.value('link') === 'true' };
      return keyword === 'add'
        ? { ...base, ...files, ...common, kind: 'add', checksum: flags.value('checksum') }
        : { ...base, ...files, ...common, kind: 'copy', from: flags.value('from') };
    }
    case 'from': {
      const name = stageName(args);
      flags.add('platform', 'string');
      flags.parse();
      return { name, baseName: args[0]!, platform: flags.value('platform'), sourceCode: node.original.trim(), commands: [] };
    }
    case 'onbuild': {
      if (args.length === 0) throw atLeastOne('ONBUILD');
      flags.parse();
      const trigger = args[0]!.trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new InvalidParameter("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new InvalidParameter(`${trigger} isn't allowed as an ONBUILD trigger`);
      return { ...base, kind: 'onbuild', expression: node.original.replace(/^\s*ONBUILD\s*/i, '') };
    }
    case 'workdir':
      if (args.length !== 1) throw exactlyOne('WORKDIR');
      flags.parse();
      return { ...base, kind: 'workdir', path: args[0]! };
    case 'run': {
      // The classic builder refuses these with "requires BuildKit"; they must still parse.
      flags.add('mount', 'strings');
      flags.add('network', 'string', 'default');
      flags.add('device', 'strings');
      flags.parse();
      return { ...base, kind: 'run', cmdLine: jsonArgs(args, node.json), prependShell: !node.json, flagsUsed: [...flags.used] };
    }
    case 'cmd':
      flags.parse();
      return { ...base, kind: 'cmd', cmdLine: jsonArgs(args, node.json), prependShell: !node.json };
    case 'entrypoint':
      flags.parse();
      return { ...base, kind: 'entrypoint', cmdLine: jsonArgs(args, node.json), prependShell: !node.json };
    case 'healthcheck':
      return { ...base, kind: 'healthcheck', health: parseHealthcheck(args, node.json, flags) };
    case 'expose':
      if (args.length === 0) throw atLeastOne('EXPOSE');
      flags.parse();
      return { ...base, kind: 'expose', ports: [...args].sort() };
    case 'user':
      if (args.length !== 1) throw exactlyOne('USER');
      flags.parse();
      return { ...base, kind: 'user', user: args[0]! };
    case 'volume': {
      if (args.length === 0) throw atLeastOne('VOLUME');
      flags.parse();
      const volumes = args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) throw new InvalidParameter('VOLUME specified can not be an empty string');
      return { ...base, kind: 'volume', volumes };
    }
    case 'stopsignal':
      if (args.length !== 1) throw exactlyOne('STOPSIGNAL');
      return { ...base, kind: 'stopsignal', signal: args[0]! };
    case 'arg':
      if (args.length === 0) throw atLeastOne('ARG');
      return {
        ...base,
        kind: 'arg',
        args: args.map((a) => {
          const eq = a.indexOf('=');
          if (eq === -1) return { key: a };
          if (eq === 0) throw new InvalidParameter('ARG names can not be blank');
          return { key: a.slice(0, eq), value: a.slice(eq + 1) };
        }),
      };
    case 'shell': {
      flags.parse();
      const shell = jsonArgs(args, node.json);
      if (shell.length === 0) throw atLeastOne('SHELL');
      if (!node.json) throw new InvalidParameter(`SHELL requires the arguments to be in JSON form`);
      return { ...base, kind: 'shell', shell };
    }
    default:
      throw new InvalidParameter(withSuggestion(`unknown instruction: ${node.value}`, node.value, INSTRUCTION_NAMES.map((n) => n.toUpperCase()), false));
  }
}

function isStage(i: Instruction | Stage): i is Stage {
  return !('kind' in i);
}

/** The stages and meta ARGs of parsed nodes; errors say the line as BuildKit's do. */
export function parseStages(nodes: readonly DockerfileNode[]): ParsedStages {
  const stages: Stage[] = [];
  const metaArgs: ParsedStages['metaArgs'] = [];
  for (const node of nodes) {
    let parsed: Instruction | Stage;
    try {
      parsed = parseInstruction(node);
    } catch (e) {
      throw new InvalidParameter(`dockerfile parse error on line ${node.startLine}: ${(e as Error).message}`, { cause: e });
    }
    if (isStage(parsed)) {
      stages.push(parsed);
    } else if (stages.length === 0 && parsed.kind === 'arg') {
      metaArgs.push(parsed);
    } else {
      const stage = stages[stages.length - 1];
      if (stage === undefined) throw new InvalidParameter('no build stage in current context');
      stage.commands.push(parsed);
    }
  }
  return { stages, metaArgs };
}

/** A single instruction's text (an ONBUILD trigger, a `--change`) as an instruction. */
export function parseSingleInstruction(text: string): Instruction {
  const { nodes } = parseDockerfile(text);
  if (nodes.length !== 1) throw new InvalidParameter('onbuild trigger should be a single expression');
  const parsed = parseInstruction(nodes[0]!);
  if (isStage(parsed)) throw new InvalidParameter(`FROM isn't allowed as an ONBUILD trigger`);
  return parsed;
}
