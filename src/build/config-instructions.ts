// The Dockerfile instructions that only change the image config, as moby's
// dispatchers apply them, and the variable expansion every instruction
// gets first. Both the builder and `--change` (docker import/commit, which
// dockerd runs through the same dispatchers) use them.
import { constants } from 'node:os';
import { posix } from 'node:path';
import { InvalidParameter } from '../errors.js';
import { copyDict } from '../util/dict.js';
import type { Instruction } from './dockerfile/instructions.js';
import type { EnvLookup, ShellLex } from './dockerfile/shell-lex.js';
import { goList, goQuoteHealthcheck, goQuoteList, shellOf, type RunConfig } from './run-config.js';

/** What a stage's config-only instructions change. */
export interface ConfigState {
  runConfig: RunConfig;
  /** A CMD was given in this stage (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** MAINTAINER's text, the author of the images that follow. */
  maintainer: string;
}

/** The instructions `applyConfigInstruction` handles. */
export type ConfigInstruction = Extract<Instruction, { kind: 'env' | 'maintainer' | 'label' | 'onbuild' | 'cmd' | 'entrypoint' | 'healthcheck' | 'expose' | 'user' | 'volume' | 'stopsignal' | 'shell' }>;

export function isConfigInstruction(i: Instruction): i is ConfigInstruction {
  return ['env', 'maintainer', 'label', 'onbuild', 'cmd', 'entrypoint', 'healthcheck', 'expose', 'user', 'volume', 'stopsignal', 'shell'].includes(i.kind);
}

/**
 * The instruction with its words expanded against `env`, for those that
 * take expansion (ENV, LABEL, ADD, COPY, WORKDIR, USER, VOLUME, STOPSIGNAL,
 * ARG; EXPOSE splits words as it applies).
 */
export function expandInstruction(i: Instruction, lex: ShellLex, env: EnvLookup): Instruction {
  const w = (s: string): string => lex.processWord(s, env);
  switch (i.kind) {
    case 'env':
      return { ...i, env: i.env.map((kv) => ({ ...kv, key: w(kv.key), value: w(kv.value) })) };
    case 'label':
      return i.noExpand ? i : { ...i, labels: i.labels.map((kv) => ({ ...kv, key: w(kv.key), value: w(kv.value) })) };
    case 'add':
      return { ...i, chown: w(i.chown), chmod: w(i.chmod), checksum: w(i.checksum), sources: i.sources.map(w), dest: w(i.dest) };
    case 'copy':
      return { ...i, chown: w(i.chown), chmod: w(i.chmod), sources: i.sources.map(w), dest: w(i.dest) };
    case 'workdir':
      return { ...i, path: w(i.path) };
    case 'user':
      return { ...i, user: w(i.user) };
    case 'volume':
      return { ...i, volumes: i.volumes.map(w) };
    case 'stopsignal':
      return { ...i, signal: w(i.signal) };
    case 'arg':
      return { ...i, args: i.args.map((a) => ({ key: w(a.key), ...(a.value !== undefined ? { value: w(a.value) } : {}) })) };
    default:
      return i;
  }
}

/** The command of RUN, CMD or ENTRYPOINT: the shell form behind the stage's SHELL (moby's resolveCmdLine). */
export function resolveCmdLine(cmdLine: string[], prependShell: boolean, c: RunConfig): string[] {
  return prependShell && cmdLine.length > 0 ? [...shellOf(c), ...cmdLine] : cmdLine;
}

/** WORKDIR's path against the current one (moby's normalizeWorkdir). */
export function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw new InvalidParameter('cannot normalize nothing');
  const p = requested.startsWith('/') ? posix.normalize(requested) : posix.join('/', current, requested);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

/** EXPOSE's port specs as exposed-port keys (go-connections' ParsePortSpecs, container side). */
export function parseExposedPorts(specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of specs) {
    const slash = raw.lastIndexOf('/');
    const proto = slash === -1 || slash === raw.length - 1 ? 'tcp' : raw.slice(slash + 1);
    const hostAndPort = slash === -1 ? raw : raw.slice(0, slash);
    const containerPort = hostAndPort.slice(hostAndPort.lastIndexOf(':') + 1);
    if (containerPort === '') throw new InvalidParameter(`no port specified: ${raw}<empty>`);
    const m = /^(\d+)(?:-(\d+))?$/.exec(containerPort);
    const start = m ? Number(m[1]) : NaN;
    const end = m?.[2] !== undefined ? Number(m[2]) : start;
    if (!m || start > 65535 || end > 65535 || end < start) throw new InvalidParameter(`invalid containerPort: ${containerPort}`);
    if (!PROTOCOLS.has(proto.toLowerCase())) throw new InvalidParameter(`invalid proto: ${proto}`);
    for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

/** moby/sys/signal's ParseSignal: a number other than 0, or a signal name with or without SIG. */
export function checkSignal(raw: string): void {
  if (/^[+-]?\d+$/.test(raw)) {
    if (Number(raw) === 0) throw new InvalidParameter(`Invalid signal: ${raw}`);
    return;
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTM(IN|AX)(?:([+-])(\d+))?$/.exec(name);
  if (rt !== null ? Number(rt[3] ?? 0) <= 15 && !(rt[1] === 'IN' && rt[2] === '-') && !(rt[1] === 'AX' && rt[2] === '+') : `SIG${name}` in constants.signals) return;
  throw new InvalidParameter(`Invalid signal: ${raw}`);
}

/**
 * Applies a config-only instruction (already expanded) to `state` and
 * returns the text its step is recorded with ("ENV A=1", `CMD ["sh"]`);
 * `note` hears what moby prints on the way.
 */
export function applyConfigInstruction(state: ConfigState, i: ConfigInstruction, lex: ShellLex, env: EnvLookup, note: (text: string) => void): string {
  const c = state.runConfig;
  switch (i.kind) {
    case 'env': {
      const list = [...(c.Env ?? [])];
      for (const kv of i.env) {
        const at = list.findIndex((e) => e.split('=')[0] === kv.key);
        if (at === -1) list.push(`${kv.key}=${kv.value}`);
        else list[at] = `${kv.key}=${kv.value}`;
      }
      c.Env = list;
      return `ENV ${i.env.map((kv) => `${kv.key}=${kv.value}`).join(' ')}`;
    }
    case 'maintainer':
      state.maintainer = i.maintainer;
      return `MAINTAINER ${i.maintainer}`;
    case 'label': {
      c.Labels = copyDict(c.Labels ?? {});
      for (const kv of i.labels) c.Labels[kv.key] = kv.value;
      return `LABEL ${i.labels.map((kv) => `${kv.key}=${kv.value}`).join(' ')}`;
    }
    case 'onbuild':
      c.OnBuild = [...(c.OnBuild ?? []), i.expression];
      return `ONBUILD ${i.expression}`;
    case 'cmd': {
      c.Cmd = resolveCmdLine(i.cmdLine, i.prependShell, c);
      // ArgsEscaped is Windows' (and false, which Go's JSON leaves out).
      delete c.ArgsEscaped;
      if (i.cmdLine.length !== 0) state.cmdSet = true;
      return `CMD ${goQuoteList(c.Cmd)}`;
    }
    case 'entrypoint': {
      const cmd = resolveCmdLine(i.cmdLine, i.prependShell, c);
      c.Entrypoint = cmd.length > 0 ? cmd : null;
      delete c.ArgsEscaped;
      if (!state.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${goQuoteList(c.Entrypoint)}`;
    }
    case 'healthcheck': {
      const old = c.Healthcheck?.Test;
      if (old !== undefined && old.length > 0 && old[0] !== 'NONE') note(`Note: overriding previous HEALTHCHECK: ${goList(old)}\n`);
      c.Healthcheck = i.health;
      return `HEALTHCHECK ${goQuoteHealthcheck(i.health)}`;
    }
    case 'expose': {
      const ports = i.ports.flatMap((p) => lex.processWords(p, env));
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of parseExposedPorts(ports)) c.ExposedPorts[p] = {};
      return `EXPOSE ${ports.join(' ')}`;
    }
    case 'user':
      c.User = i.user;
      return `USER ${i.user}`;
    case 'volume': {
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of i.volumes) {
        if (v === '') throw new InvalidParameter('VOLUME specified can not be an empty string');
        c.Volumes[v] = {};
      }
      return `VOLUME ${goList(i.volumes)}`;
    }
    case 'stopsignal':
      checkSignal(i.signal);
      c.StopSignal = i.signal;
      return `STOPSIGNAL ${i.signal}`;
    case 'shell':
      c.Shell = [...i.shell];
      return `SHELL ${goList(c.Shell)}`;
  }
}
