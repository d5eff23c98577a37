// `docker import --change` / `docker commit --change`: a subset of Dockerfile
// instructions applied to a container config. Docker joins the changes with
// newlines and parses them as a Dockerfile, so line continuations work and
// environment variables are expanded in ENV, LABEL, WORKDIR, USER, VOLUME,
// EXPOSE and STOPSIGNAL (against the environment before the instruction).
import { posix } from 'node:path';
import { InvalidParameter } from '../errors.js';
import { parseDuration } from '../go/time.js';
import type { HealthConfig } from '../containers/types.js';
import type { ImageRuntimeConfig } from './types.js';
import { copyDict } from '../util/dict.js';

const VALID = new Set(['cmd', 'entrypoint', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir', 'healthcheck']);

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Logical instructions from the joined text: continuation lines merged, comments and blanks dropped. */
function splitInstructions(text: string): string[] {
  const out: string[] = [];
  let current: string | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    const line: string = current === null ? rawLine.replace(/^\s+/, '') : rawLine;
    if (current === null && (line === '' || line.startsWith('#'))) continue;
    if (current !== null && /^\s*#/.test(line)) continue; // comments inside a continuation are dropped
    const cont = /\\[ \t]*$/.test(line);
    const body: string = cont ? line.replace(/\\[ \t]*$/, '') : line;
    const joined: string = current === null ? body : current + body;
    if (cont) {
      current = joined;
    } else {
      out.push(joined);
      current = null;
    }
  }
  if (current !== null && current.trim() !== '') out.push(current);
  return out;
}

type Env = Map<string, string>;

function envMap(list: string[] | null | undefined): Env {
  const m = new Map<string, string>();
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i === -1) m.set(kv, '');
    else m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return m;
}

/**
 * Shell-like processing of one word, as the Dockerfile lexer does: quote
 * removal, backslash escapes, and $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x} /
 * ${VAR-x} / ${VAR+x} / ${VAR:?msg} expansion. Whitespace is kept literally.
 */
export function processWord(word: string, env: Env): string {
  let i = 0;
  const n = word.length;
  const fail = (msg: string): never => {
    throw new InvalidParameter(msg);
  };

  const readName = (): string => {
    let name = '';
    while (i < n && /[A-Za-z0-9_]/.test(word[i]!)) name += word[i++];
    return name;
  };

  const expand = (): string => {
    // word[i] === '$'
    i++;
    if (i >= n) return '$';
    if (word[i] === '{') {
      i++;
      const name = readName();
      if (name === '') fail(`bad substitution in ${JSON.stringify(word)}`);
      if (word[i] === '}') {
        i++;
        return env.get(name) ?? '';
      }
      let op = '';
      if (word[i] === ':') {
        op = ':';
        i++;
      }
      const modifier = word[i];
      if (modifier !== '-' && modifier !== '+' && modifier !== '?') fail(`unsupported modifier in ${JSON.stringify(word)}`);
      op += modifier;
      i++;
      // The operand may itself contain quotes and expansions; find the matching brace.
      let depth = 1;
      let operand = '';
      while (i < n) {
        const c = word[i]!;
        if (c === '\\' && i + 1 < n) {
          operand += c + word[i + 1];
          i += 2;
          continue;
        }
        if (c === '{') depth++;
        if (c === '}' && --depth === 0) break;
        operand += c;
        i++;
      }
      if (i >= n) fail(`missing '}' in ${JSON.stringify(word)}`);
      i++; // '}'
      const set = env.has(name);
      const value = env.get(name) ?? '';
      const nonEmpty = value !== '';
      const present = op.startsWith(':') ? nonEmpty : set;
      switch (op.replace(':', '')) {
        case '-':
          return present ? value : processWord(operand, env);
        case '+':
          return present ? processWord(operand, env) : '';
        default:
          if (!present) fail(`${name}: ${operand ? processWord(operand, env) : 'is not allowed to be unset'}`);
          return value;
      }
    }
    const name = readName();
    if (name === '') return '$';
    return env.get(name) ?? '';
  };

  let out = '';
  while (i < n) {
    const c = word[i]!;
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end === -1) fail('unexpected end of statement while looking for matching single-quote');
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = word[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && ['"', '$', '\\'].includes(word[i + 1]!)) {
          out += word[i + 1];
          i += 2;
        } else if (d === '$') {
          out += expand();
        } else {
          out += d;
          i++;
        }
      }
      if (!closed) fail('unexpected end of statement while looking for matching double-quote');
    } else if (c === '\\') {
      if (i + 1 < n) {
        out += word[i + 1];
        i += 2;
      } else {
        out += c;
        i++;
      }
    } else if (c === '$') {
      out += expand();
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Splits on unquoted whitespace, keeping quotes and escapes in the words (Dockerfile parseWords). */
function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote === null && /\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && quote !== "'" && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
      continue;
    }
    if (quote === null && (c === '"' || c === "'")) quote = c;
    else if (quote === c) quote = null;
    cur += c;
  }
  if (inWord) words.push(cur);
  return words;
}

/** JSON exec form, or null when `rest` is not a JSON array of strings. */
function parseJsonArray(rest: string): string[] | null {
  if (!rest.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* shell form */
  }
  return null;
}

/** ENV/LABEL arguments: `k=v k2="v 2"` or the legacy `k value with spaces`. */
function parseNameValues(instr: string, rest: string, env: Env): Array<[string, string]> {
  const words = splitWords(rest);
  if (words.length === 0) throw new InvalidParameter(`${instr} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m || m[2]!.trim() === '') throw new InvalidParameter(`${instr} must have two arguments`);
    return [[processWord(m[1]!, env), processWord(m[2]!.trim(), env)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq === -1) {
      throw new InvalidParameter(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    }
    const key = processWord(w.slice(0, eq), env);
    if (key === '') throw new InvalidParameter(`${instr} names can not be blank`);
    return [key, processWord(w.slice(eq + 1), env)];
  });
}

function parsePorts(specs: string[]): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const [portPart, protoPart, extra] = spec.split('/');
    const proto = (protoPart ?? 'tcp').toLowerCase();
    if (extra !== undefined || !['tcp', 'udp', 'sctp'].includes(proto)) throw new InvalidParameter(`invalid proto: ${protoPart}`);
    const m = /^(\d+)(?:-(\d+))?$/.exec(portPart ?? '');
    if (!m) throw new InvalidParameter(`Invalid containerPort: ${portPart}`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (start < 1 || start > 65535 || end < start || end > 65535) throw new InvalidParameter(`Invalid containerPort: ${portPart}`);
    for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

/** Go's time.ParseDuration in nanoseconds; its error as an InvalidParameter. */
export function parseGoDuration(s: string): number {
  try {
    return parseDuration(s);
  } catch (e) {
    throw new InvalidParameter((e as Error).message);
  }
}

function parseHealthcheck(rest: string): HealthConfig {
  const flags = new Map<string, string>();
  let r = rest;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(r);
    if (!m) break;
    flags.set(m[1]!, m[2] ?? '');
    r = r.slice(m[0].length);
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(r.trim());
  const kind = m?.[1]?.toUpperCase();
  if (kind === 'NONE') {
    if (flags.size > 0 || (m?.[2] ?? '') !== '') throw new InvalidParameter('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD') throw new InvalidParameter(`Unknown type ${JSON.stringify(m?.[1] ?? '')} in HEALTHCHECK (try CMD)`);
  const cmdRest = m![2]!.trim();
  const json = parseJsonArray(cmdRest);
  const hc: HealthConfig = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', cmdRest] };
  for (const [k, v] of flags) {
    const dur = (name: string): number => {
      const d = parseGoDuration(v);
      if (d !== 0 && d < 1e6) throw new InvalidParameter(`${name} cannot be less than 1ms`);
      return d;
    };
    switch (k) {
      case 'interval':
        hc.Interval = dur('Interval');
        break;
      case 'timeout':
        hc.Timeout = dur('Timeout');
        break;
      case 'start-period':
        hc.StartPeriod = dur('StartPeriod');
        break;
      case 'start-interval':
        hc.StartInterval = dur('StartInterval');
        break;
      case 'retries': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidParameter('--retries must be a non-negative integer');
        hc.Retries = n;
        break;
      }
      default:
        throw new InvalidParameter(`Unknown flag: ${k}`);
    }
  }
  return hc;
}

/**
 * Applies `changes` (each a Dockerfile instruction, e.g. `CMD ["sh"]`,
 * `ENV A=1 B=2`) to a copy of `base` and returns it.
 */
export function applyChanges(changes: readonly string[], base: ImageRuntimeConfig = {}): ImageRuntimeConfig {
  const cfg: ImageRuntimeConfig = structuredClone(base);
  const instructions = splitInstructions(changes.join('\n'));
  const parsed = instructions.map((line) => {
    const m = /^\s*(\S+)(?:\s+([\s\S]*))?$/.exec(line)!;
    const instr = m[1]!;
    if (!VALID.has(instr.toLowerCase())) throw new InvalidParameter(`${instr} is not a valid change command`);
    return { instr, name: instr.toUpperCase(), rest: (m[2] ?? '').trim() };
  });
  let cmdSet = false;
  for (const { instr, name, rest } of parsed) {
    const env = envMap(cfg.Env);
    const shellForm = (s: string): string[] => [...(cfg.Shell ?? DEFAULT_SHELL), s];
    switch (name) {
      case 'CMD': {
        cfg.Cmd = parseJsonArray(rest) ?? shellForm(rest);
        cmdSet = true;
        break;
      }
      case 'ENTRYPOINT': {
        const json = parseJsonArray(rest);
        cfg.Entrypoint = json ? (json.length === 0 ? null : json) : shellForm(rest);
        if (!cmdSet) cfg.Cmd = null;
        break;
      }
      case 'ENV':
      case 'LABEL': {
        const pairs = parseNameValues(instr, rest, env);
        if (name === 'ENV') {
          const list = [...(cfg.Env ?? [])];
          for (const [k, v] of pairs) {
            const i = list.findIndex((kv) => kv === k || kv.startsWith(k + '='));
            if (i === -1) list.push(`${k}=${v}`);
            else list[i] = `${k}=${v}`;
          }
          cfg.Env = list;
        } else {
          cfg.Labels = copyDict(cfg.Labels ?? {});
          for (const [k, v] of pairs) cfg.Labels[k] = v;
        }
        break;
      }
      case 'WORKDIR': {
        const dir = processWord(rest, env);
        if (dir === '') throw new InvalidParameter('WORKDIR requires exactly one argument');
        let p = posix.isAbsolute(dir) ? dir : posix.join(cfg.WorkingDir || '/', dir);
        p = posix.normalize(p);
        if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
        cfg.WorkingDir = p;
        break;
      }
      case 'USER': {
        const user = processWord(rest, env);
        if (user === '') throw new InvalidParameter('USER requires exactly one argument');
        cfg.User = user;
        break;
      }
      case 'VOLUME': {
        const json = parseJsonArray(rest);
        const vols = json ?? splitWords(rest).map((w) => processWord(w, env));
        if (vols.length === 0) throw new InvalidParameter('VOLUME requires at least one argument');
        cfg.Volumes = { ...(cfg.Volumes ?? {}) };
        for (const v of vols) {
          const t = v.trim();
          if (t === '') throw new InvalidParameter('VOLUME specified can not be an empty string');
          cfg.Volumes[t] = {};
        }
        break;
      }
      case 'EXPOSE': {
        const specs = splitWords(rest).map((w) => processWord(w, env));
        if (specs.length === 0) throw new InvalidParameter('EXPOSE requires at least one argument');
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of parsePorts(specs)) cfg.ExposedPorts[p] = {};
        break;
      }
      case 'STOPSIGNAL': {
        const sig = processWord(rest, env);
        if (!/^(?:\d+|(?:SIG)?[A-Z][A-Z0-9]*(?:[+-]\d+)?)$/i.test(sig)) throw new InvalidParameter(`Invalid signal: ${sig}`);
        cfg.StopSignal = sig;
        break;
      }
      case 'ONBUILD': {
        const inner = /^(\S+)/.exec(rest)?.[1]?.toUpperCase();
        if (inner === undefined) throw new InvalidParameter('ONBUILD requires at least one argument');
        if (inner === 'ONBUILD') throw new InvalidParameter("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (inner === 'FROM' || inner === 'MAINTAINER') throw new InvalidParameter(`${inner} isn't allowed as an ONBUILD trigger`);
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
        break;
      }
      case 'HEALTHCHECK': {
        cfg.Healthcheck = parseHealthcheck(rest);
        break;
      }
    }
  }
  return cfg;
}
