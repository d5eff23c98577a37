// An interpreter for Go's text/template as the docker CLI uses it for
// `--format`: Go's builtins plus docker's template functions (json, split,
// join, title, lower, upper, pad, truncate). Values follow the model in
// fmt.ts; a function-valued property is a method, so a context object can
// offer `{{.Label "k"}}` as `Label: (k) => ...`. A plain object acts as a Go
// map (a missing key is "<no value>"), a class instance as a Go struct (an
// unknown field is an error, as for docker's own contexts).
import { NIL_MAP, formatValue, isMapObject, kindOf, mapEntries, sprint, sprintf, sprintln, typeName } from './fmt.js';
import { marshalJSON } from './json.js';
import { compareGoStrings, isPrint, quote, utf8Bytes, utf8Decode, utf8Length } from './strconv.js';
import {
  type AnyNode, type ArgNode, type BranchNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode,
  type Node, type ParsedTemplate, type PipeNode, type TemplateNode, type VariableNode,
  TemplateParseError, nodeString, parseTemplate,
} from './template-parse.js';

export { NIL_MAP };

/**
 * Parameter types, as Go's reflection would check them: `any` is
 * interface{} (a missing value arrives as null), `value` is reflect.Value (a
 * missing value arrives as undefined), `strings` is []string.
 */
export type ParamType = 'any' | 'value' | 'string' | 'int' | 'bool' | 'strings';

export interface TemplateFunc {
  params: readonly ParamType[];
  /** Element type of a trailing variadic parameter. */
  variadic?: ParamType;
  /** Throwing reports Go's "error calling <name>: <message>". */
  fn: (...args: unknown[]) => unknown;
}

export type FuncMap = Readonly<Record<string, TemplateFunc>>;

export class TemplateExecError extends Error {
  /** What had been written before the error (Go writes as it goes). */
  partial = '';
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

// ---------------------------------------------------------------------------
// Truth and comparison (text/template's funcs.go semantics)

const indirectInterface = (v: unknown): unknown => (v === null ? undefined : v);

function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
    case 'nilmap':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
      return typeof v === 'bigint' ? v !== 0n : v !== 0;
    case 'float':
      return v !== 0;
    case 'string':
      return (v as string).length > 0;
    case 'array':
      return (v as unknown[]).length > 0;
    case 'map': {
      const proto: unknown = Object.getPrototypeOf(v);
      // A class instance stands for a struct, which is always true.
      if (proto !== Object.prototype && proto !== null) return true;
      return Object.keys(v as object).some((k) => (v as Record<string, unknown>)[k] !== undefined);
    }
    case 'func':
      return true;
  }
}

const truth = (v: unknown): boolean => isTrue(indirectInterface(v));

type BasicKind = 'bool' | 'number' | 'string' | 'invalid';

function basicKind(v: unknown): BasicKind {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'invalid';
  }
}

function isNilish(v: unknown): boolean {
  return v === undefined || v === null || v === NIL_MAP;
}

function eq(arg1: unknown, ...rest: unknown[]): boolean {
  arg1 = indirectInterface(arg1);
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (let arg of rest) {
    arg = indirectInterface(arg);
    const k2 = basicKind(arg);
    let t = false;
    if (k1 !== k2) {
      if (arg1 !== undefined && arg !== undefined) throw new Error('incompatible types for comparison');
    } else if (k1 === 'number') {
      // JS has one number type; compare ints and floats by value.
      t = typeof arg1 === typeof arg ? arg1 === arg : Number(arg1) === Number(arg);
    } else if (k1 !== 'invalid') {
      t = arg1 === arg;
    } else {
      const ka = kindOf(arg1);
      const kb = kindOf(arg);
      const sameKind = ka === kb || (ka === 'map' && kb === 'nilmap') || (ka === 'nilmap' && kb === 'map');
      if (!sameKind && ka !== 'invalid' && kb !== 'invalid') {
        throw new Error(`non-comparable types ${formatValue(arg1)}: ${typeName(arg1)}, ${typeName(arg)}: ${formatValue(arg)}`);
      }
      if (isNilish(arg1) || isNilish(arg)) t = isNilish(arg1) === isNilish(arg);
      else if (kb === 'array' || kb === 'map') throw new Error(`non-comparable type ${formatValue(arg)}: ${typeName(arg)}`);
      else t = arg1 === arg;
    }
    if (t) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  a = indirectInterface(a);
  b = indirectInterface(b);
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  if (k1 === 'bool') throw new Error('invalid type for comparison');
  if (k1 === 'string') return compareGoStrings(a as string, b as string) < 0;
  return (a as number) < (b as number);
}

// ---------------------------------------------------------------------------
// Builtins

function lengthOf(item: unknown): number {
  if (item === null) throw new Error('len of nil pointer');
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  switch (kindOf(item)) {
    case 'string':
      return utf8Length(item as string);
    case 'array':
      return (item as unknown[]).length;
    case 'nilmap':
      return 0;
    case 'map':
      return mapEntries(item as object).length;
    default:
      throw new Error(`len of type ${typeName(item)}`);
  }
}

function indexArg(index: unknown, cap: number): number {
  if (index === undefined) throw new Error('cannot index slice/array with nil');
  const k = kindOf(index);
  if (k !== 'int') throw new Error(`cannot index slice/array with type ${typeName(index)}`);
  const x = Number(index);
  if (x < 0 || x > cap) throw new Error(`index out of range: ${x}`);
  return x;
}

function mapKey(index: unknown): string {
  if (index === undefined) throw new Error('value is nil; should be of type string');
  if (typeof index !== 'string') throw new Error(`value has type ${typeName(index)}; should be string`);
  return index;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  item = indirectInterface(item);
  if (item === undefined) throw new Error('index of untyped nil');
  for (let idx of indexes) {
    idx = indirectInterface(idx);
    if (item === null) throw new Error('index of nil pointer');
    switch (kindOf(item)) {
      case 'array': {
        const a = item as unknown[];
        const x = indexArg(idx, a.length);
        if (x === a.length) throw new Error('reflect: slice index out of range');
        item = a[x] ?? null;
        break;
      }
      case 'string': {
        const b = utf8Bytes(item as string);
        const x = indexArg(idx, b.length);
        if (x === b.length) throw new Error('reflect: string index out of range');
        item = b[x];
        break;
      }
      case 'nilmap':
        mapKey(idx);
        item = null;
        break;
      case 'map': {
        const key = mapKey(idx);
        const own = Object.prototype.hasOwnProperty.call(item, key) ? (item as Record<string, unknown>)[key] : undefined;
        // A missing key yields the element's zero value: a nil interface.
        item = own === undefined ? null : own;
        break;
      }
      default:
        throw new Error(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  item = indirectInterface(item);
  if (item === undefined) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  let len: number;
  if (k === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    len = utf8Length(item as string);
  } else if (k === 'array') len = (item as unknown[]).length;
  else throw new Error(`can't slice item of type ${typeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(indirectInterface(x), len);
  });
  if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (k === 'string') return utf8Decode(utf8Bytes(item as string).slice(idx[0], idx[1]));
  return (item as unknown[]).slice(idx[0], idx[1]);
}

/** text/template's evalArgs: a lone string as is, else fmt.Sprint. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const special: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };
    if (special[ch]) out += special[ch];
    else if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp >= 0x80 && !isPrint(cp)) out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out;
}

function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const def = (params: readonly ParamType[], fn: (...args: never[]) => unknown, variadic?: ParamType): TemplateFunc => ({
  params,
  fn: fn as (...args: unknown[]) => unknown,
  ...(variadic ? { variadic } : {}),
});

const notCalled = (): never => {
  throw new Error('unreachable');
};

const BUILTINS: FuncMap = {
  and: def(['value'], notCalled, 'value'),
  or: def(['value'], notCalled, 'value'),
  call: def(['value'], notCalled, 'value'),
  not: def(['value'], (v: unknown) => !truth(v)),
  len: def(['value'], lengthOf),
  index: def(['value'], index, 'value'),
  slice: def(['value'], slice, 'value'),
  print: def([], (...a: unknown[]) => sprint(a), 'any'),
  printf: def(['string'], (f: string, ...a: unknown[]) => sprintf(f, a), 'any'),
  println: def([], (...a: unknown[]) => sprintln(a), 'any'),
  html: def([], (...a: unknown[]) => htmlEscape(evalArgs(a)), 'any'),
  js: def([], (...a: unknown[]) => jsEscape(evalArgs(a)), 'any'),
  urlquery: def([], (...a: unknown[]) => queryEscape(evalArgs(a)), 'any'),
  eq: def(['value'], eq, 'value'),
  ne: def(['value', 'value'], (a: unknown, b: unknown) => !eq(a, b)),
  lt: def(['value', 'value'], lt),
  le: def(['value', 'value'], (a: unknown, b: unknown) => lt(a, b) || eq(a, b)),
  gt: def(['value', 'value'], (a: unknown, b: unknown) => !(lt(a, b) || eq(a, b))),
  ge: def(['value', 'value'], (a: unknown, b: unknown) => !lt(a, b)),
};

// ---------------------------------------------------------------------------
// docker's template functions (github.com/docker/cli/templates)

/** unicode simple case mapping: keep characters whose mapping is not one code point. */
function mapCase(s: string, upper: boolean): string {
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    const cps = Array.from(m);
    if (cps.length === 1) out += m;
    else out += upper ? ch : cps[0]; // 'İ' lowers to "i̇"; Go's simple mapping gives 'i'
  }
  return out;
}

function isTitleSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

/** strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isTitleSeparator(prev) ? mapCase(ch, true) : ch;
    prev = ch;
  }
  return out;
}

/** strings.Split. */
function split(s: string, sep: string): string[] {
  if (sep === '') return Array.from(s);
  return s.split(sep);
}

function repeatSpaces(n: number): string {
  if (n < 0) throw new Error('strings: negative Repeat count');
  return ' '.repeat(n);
}

const DOCKER_FUNCS: FuncMap = {
  json: def(['any'], (v: unknown) => {
    try {
      return marshalJSON(v, { escapeHTML: false });
    } catch {
      return ''; // docker ignores the encoder's error and prints what it has: nothing
    }
  }),
  split: def(['string', 'string'], split),
  join: def(['strings', 'string'], (elems: string[], sep: string) => elems.join(sep)),
  title: def(['string'], title),
  lower: def(['string'], (s: string) => mapCase(s, false)),
  upper: def(['string'], (s: string) => mapCase(s, true)),
  pad: def(['string', 'int', 'int'], (s: string, prefix: number, suffix: number) =>
    s === '' ? s : repeatSpaces(prefix) + s + repeatSpaces(suffix)),
  // Byte-based, like docker's: a multi-byte character can be cut in half.
  truncate: def(['string', 'int'], (s: string, n: number) => {
    const b = utf8Bytes(s);
    if (b.length < n) return s;
    if (n < 0) throw new Error(`runtime error: slice bounds out of range [:${n}]`);
    return utf8Decode(b.slice(0, n));
  }),
};

/** docker's HeaderFunctions: leave table headers intact when rendering them. */
export const HEADER_FUNCS: FuncMap = {
  json: def(['string'], (v: string) => v),
  split: def(['string', 'string'], (v: string) => v),
  join: def(['string', 'string'], (v: string) => v),
  title: def(['string'], (v: string) => v),
  lower: def(['string'], (v: string) => v),
  upper: def(['string'], (v: string) => v),
  truncate: def(['string', 'int'], (v: string) => v),
};

const ALL_FUNCS: FuncMap = { ...BUILTINS, ...DOCKER_FUNCS };

function lookupFunc(m: FuncMap, name: string): TemplateFunc | undefined {
  return Object.prototype.hasOwnProperty.call(m, name) ? m[name] : undefined;
}
const FUNC_NAMES: ReadonlySet<string> = new Set(Object.keys(ALL_FUNCS));

// ---------------------------------------------------------------------------
// Execution

const MISSING = Symbol('missing'); // Go's missingVal: no piped-in final argument
type Final = unknown;

class BreakSignal {}
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();
const MAX_DEPTH = 1000;

const GO_TYPE: Record<ParamType, string> = {
  any: 'interface {}',
  value: 'reflect.Value',
  string: 'string',
  int: 'int',
  bool: 'bool',
  strings: '[]string',
};

function ownOrInherited(obj: object, name: string): { found: boolean; value: unknown } {
  for (let p: object | null = obj; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return { found: true, value: (obj as Record<string, unknown>)[name] };
  }
  return { found: false, value: undefined };
}

/** "*ClassName" for class instances (Go structs), null for plain objects (maps). */
function structName(obj: object): string | null {
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null) return null;
  const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
  return `*${typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'struct'}`;
}

class Execution {
  private vars: { name: string; value: unknown }[] = [];
  private node: AnyNode | null = null;
  private depth = 0;
  out = '';

  constructor(
    private readonly src: string,
    private readonly tree: ParsedTemplate,
    private readonly funcs: FuncMap,
  ) {}

  run(data: unknown): void {
    const dot = data === null ? undefined : data;
    this.vars = [{ name: '$', value: dot }];
    this.walk(dot, this.tree.root);
  }

  private at(n: AnyNode): void {
    this.node = n;
  }

  private errorf(msg: string): never {
    if (!this.node) throw new TemplateExecError(`template: : ${msg}`);
    const before = this.src.slice(0, this.node.pos);
    const nl = before.lastIndexOf('\n');
    const line = before.split('\n').length;
    const col = utf8Length(nl < 0 ? before : before.slice(nl + 1));
    throw new TemplateExecError(`template: :${line}:${col}: executing "" at <${nodeString(this.node)}>: ${msg}`);
  }

  // -- variables

  private mark(): number {
    return this.vars.length;
  }

  private pop(mark: number): void {
    this.vars.length = mark;
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  // -- walking

  private walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, v);
        return;
      }
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'if':
      case 'with':
        this.walkIfOrWith(dot, node);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'template':
        this.walkTemplate(dot, node);
        return;
    }
  }

  private printValue(node: AnyNode, v: unknown): void {
    this.at(node);
    if (v === undefined || v === null) {
      this.out += '<no value>';
      return;
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type ${typeName(v)}`);
    this.out += formatValue(v);
  }

  private walkIfOrWith(dot: unknown, node: BranchNode): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (truth(val)) this.walk(node.type === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: unknown, r: BranchNode): void {
    this.at(r);
    const mark0 = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const decl = r.pipe.decl;
      const one = (idx: unknown, elem: unknown): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? idx : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.setTopVar(2, idx);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.pop(mark);
        }
      };
      let ran = false;
      switch (kindOf(val)) {
        case 'array':
          for (const [i, e] of (val as unknown[]).entries()) {
            ran = true;
            one(i, e === undefined ? null : e);
          }
          break;
        case 'map':
          for (const [k, e] of mapEntries(val as object)) {
            ran = true;
            one(k, e);
          }
          break;
        case 'int': {
          if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
          const n = Number(val);
          for (let i = 0; i < n; i++) {
            ran = true;
            one(undefined, i);
          }
          break;
        }
        case 'invalid':
        case 'nil':
        case 'nilmap':
          break;
        default:
          this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.pop(mark0);
    }
  }

  private walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t);
    const body = this.tree.defs.get(t.name);
    if (!body) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const savedVars = this.vars;
    this.vars = [{ name: '$', value: newDot }];
    this.depth++;
    try {
      this.walk(newDot, body);
    } finally {
      this.depth--;
      this.vars = savedVars;
    }
  }

  // -- evaluation

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      if (value === null) value = undefined; // a nil interface{} becomes "no value"
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value);
      else this.vars.push({ name: v.ident[0]!, value });
    }
    return value;
  }

  private notAFunction(args: readonly AnyNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      // falls through (errorf never returns)
      case 'number':
        return first.value;
      case 'string':
        return first.text;
    }
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const recv = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, recv, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: unknown, receiver: unknown, node: AnyNode, ident: readonly string[], args: readonly ArgNode[] | null, final: Final,
  ): unknown {
    for (let i = 0; i < ident.length - 1; i++) receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver);
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, receiver);
  }

  private evalField(
    dot: unknown, name: string, node: AnyNode, args: readonly ArgNode[] | null, final: Final, receiver: unknown,
  ): unknown {
    if (receiver === undefined) return undefined;
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (receiver === NIL_MAP) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      return undefined;
    }
    if (isMapObject(receiver)) {
      const { found, value } = ownOrInherited(receiver, name);
      if (found && typeof value === 'function') {
        const method = value as (...a: unknown[]) => unknown;
        const params = new Array<ParamType>(method.length).fill('any');
        return this.evalCall(dot, { params, fn: (...a) => method.apply(receiver, a) }, false, node, name, args, final);
      }
      const struct = structName(receiver);
      if (struct === null) {
        if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
        return value;
      }
      // A class instance stands for a Go struct: unknown fields are errors.
      if (!found) this.errorf(`can't evaluate field ${name} in type ${struct}`);
      if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
      return value;
    }
    this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private evalFunction(dot: unknown, node: IdentifierNode, cmd: AnyNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(node);
    const fn = lookupFunc(this.funcs, node.name) ?? lookupFunc(ALL_FUNCS, node.name);
    if (!fn) this.errorf(`${quote(node.name)} is not a defined function`);
    return this.evalCall(dot, fn, true, cmd, node.name, args, final);
  }

  private evalCall(
    dot: unknown, fn: TemplateFunc, builtin: boolean, node: AnyNode, name: string, argNodes: readonly ArgNode[] | null, final: Final,
  ): unknown {
    const args = argNodes ? argNodes.slice(1) : [];
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    let numFixed = args.length;
    if (fn.variadic) {
      numFixed = fn.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }

    if (builtin && (name === 'and' || name === 'or')) {
      let v: unknown;
      for (const a of args) {
        v = this.evalArg(dot, 'value', a);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    const argv: unknown[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i]!, args[i]!));
    if (fn.variadic) for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.variadic, args[i]!));
    if (final !== MISSING) {
      let t: ParamType;
      if (fn.variadic) t = numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic;
      else t = fn.params[fn.params.length - 1]!;
      argv.push(this.validateType(final, t));
    }

    try {
      if (builtin && name === 'call') return callFunction(nodeString(args[0]!), argv[0], argv.slice(1));
      return fn.fn(...argv);
    } catch (e) {
      if (e instanceof TemplateExecError || e === BREAK || e === CONTINUE) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Checks a computed value against a parameter type (Go's validateType). */
  private validateType(value: unknown, typ: ParamType | null): unknown {
    if (value === undefined) {
      if (typ === null || typ === 'value') return undefined;
      if (typ === 'any') return null;
      if (typ === 'strings') return [];
      this.errorf(`invalid value; expected ${GO_TYPE[typ]}`);
    }
    let ok: boolean;
    switch (typ) {
      case null:
      case 'any':
      case 'value':
        return value;
      case 'string':
        ok = typeof value === 'string';
        break;
      case 'int':
        ok = kindOf(value) === 'int';
        if (ok) value = Number(value);
        break;
      case 'bool':
        ok = typeof value === 'boolean';
        break;
      case 'strings':
        ok = value === NIL_MAP ? false : Array.isArray(value) && value.every((e) => typeof e === 'string');
        break;
    }
    if (!ok) this.errorf(`wrong type for value; expected ${GO_TYPE[typ]}; got ${value === null ? 'interface {}' : typeName(value)}`);
    return value;
  }

  private evalArg(dot: unknown, typ: ParamType | null, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === null || typ === 'any') return null;
        if (typ === 'value') return undefined;
        if (typ === 'strings') return [];
        this.errorf(`cannot assign nil to ${GO_TYPE[typ]}`);
      // falls through (errorf never returns)
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      // falls through (errorf never returns)
      case 'int':
        if (n.type === 'number' && n.isInt) return n.value;
        this.errorf(`expected integer; found ${nodeString(n)}`);
      // falls through (errorf never returns)
      case 'string':
        if (n.type === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
      // falls through (errorf never returns)
      case 'strings':
        this.errorf(`can't handle ${nodeString(n)} for arg of type []string`);
      // falls through (errorf never returns)
      default:
        if (n.type === 'bool') return n.value;
        if (n.type === 'number') return n.value;
        return n.text;
    }
  }
}

/** The `call` builtin: calls a function value with the remaining arguments. */
function callFunction(calleeName: string, fn: unknown, args: unknown[]): unknown {
  fn = indirectInterface(fn);
  if (fn === undefined) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function ${calleeName} of type ${typeName(fn)}`);
  if (args.length !== fn.length) throw new Error(`wrong number of args for ${calleeName}: got ${args.length} want ${fn.length}`);
  return (fn as (...a: unknown[]) => unknown)(...args.map((a) => (a === undefined ? null : a)));
}

// ---------------------------------------------------------------------------
// Public API

export interface ExecuteOptions {
  /** Overrides for template functions (e.g. HEADER_FUNCS). */
  funcs?: FuncMap;
}

export class GoTemplate {
  private constructor(
    private readonly src: string,
    private readonly tree: ParsedTemplate,
  ) {}

  /** Parses; throws Error("template parsing error: template: :1: ...") like docker. */
  static parse(src: string): GoTemplate {
    try {
      return new GoTemplate(src, parseTemplate(src, FUNC_NAMES));
    } catch (e) {
      if (e instanceof TemplateParseError) throw new Error(`template parsing error: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** Runs the template; throws TemplateExecError carrying the partial output. */
  execute(data: unknown, opts: ExecuteOptions = {}): string {
    const ex = new Execution(this.src, this.tree, opts.funcs ?? {});
    try {
      ex.run(data);
    } catch (e) {
      if (e instanceof TemplateExecError) {
        e.partial = ex.out;
        throw e;
      }
      throw e;
    }
    return ex.out;
  }
}

/** Compiles a docker `--format` template into a render function. */
export function compileTemplate(src: string): (data: unknown) => string {
  const t = GoTemplate.parse(src);
  return (data) => t.execute(data);
}
