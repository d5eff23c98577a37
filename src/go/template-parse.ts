// Lexer and parser for Go's text/template syntax, producing a tree that
// template.ts executes. Token rules, node positions and error texts follow
// Go's text/template/parse so that `--format` errors read like docker's.
import { isPrint, parseGoFloat, parseGoInt, quote, unquote, unquoteCharLiteral } from './strconv.js';

// ---------------------------------------------------------------------------
// Nodes

export interface TextNode { type: 'text'; pos: number; text: string }
export interface ActionNode { type: 'action'; pos: number; pipe: PipeNode }
export interface BranchNode {
  type: 'if' | 'range' | 'with';
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface ListNode { type: 'list'; pos: number; nodes: Node[] }
export interface LoopControlNode { type: 'break' | 'continue'; pos: number }
export interface TemplateNode { type: 'template'; pos: number; name: string; pipe: PipeNode | null }
export interface PipeNode { type: 'pipe'; pos: number; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
export interface CommandNode { type: 'command'; pos: number; args: ArgNode[] }
export interface FieldNode { type: 'field'; pos: number; ident: string[] }
export interface VariableNode { type: 'variable'; pos: number; ident: string[] }
export interface IdentifierNode { type: 'identifier'; pos: number; name: string }
export interface DotNode { type: 'dot'; pos: number }
export interface NilNode { type: 'nil'; pos: number }
export interface BoolNode { type: 'bool'; pos: number; value: boolean }
export interface NumberNode { type: 'number'; pos: number; text: string; isInt: boolean; value: number }
export interface StringNode { type: 'string'; pos: number; quoted: string; text: string }
export interface ChainNode { type: 'chain'; pos: number; node: ArgNode; field: string[] }
interface ElseNode { type: 'else'; pos: number }
interface EndNode { type: 'end'; pos: number }

export type ArgNode =
  | FieldNode | VariableNode | IdentifierNode | DotNode | NilNode | BoolNode | NumberNode | StringNode | PipeNode | ChainNode;
export type Node = TextNode | ActionNode | BranchNode | ListNode | LoopControlNode | TemplateNode;
export type AnyNode = Node | ArgNode | CommandNode | ElseNode | EndNode;

/** Go's Node.String(), used for error context. */
export function nodeString(n: AnyNode): string {
  switch (n.type) {
    case 'text': return n.text;
    case 'action': return `{{${nodeString(n.pipe)}}}`;
    case 'if':
    case 'range':
    case 'with': {
      const elsePart = n.elseList ? `{{else}}${nodeString(n.elseList)}` : '';
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${elsePart}{{end}}`;
    }
    case 'list': return n.nodes.map(nodeString).join('');
    case 'break':
    case 'continue': return `{{${n.type}}}`;
    case 'template': return `{{template ${quote(n.name)}${n.pipe ? ' ' + nodeString(n.pipe) : ''}}}`;
    case 'pipe': {
      const decl = n.decl.length ? n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ') : '';
      return decl + n.cmds.map(nodeString).join(' | ');
    }
    case 'command': return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'field': return n.ident.map((i) => '.' + i).join('');
    case 'variable': return n.ident.join('.');
    case 'identifier': return n.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(n.value);
    case 'number': return n.text;
    case 'string': return n.quoted;
    case 'chain': {
      const base = n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node);
      return base + n.field.map((f) => '.' + f).join('');
    }
    case 'else': return '{{else}}';
    case 'end': return '{{end}}';
  }
}

// ---------------------------------------------------------------------------
// Lexer

type ItemType =
  | 'error' | 'eof' | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'assign' | 'declare' | 'pipe'
  | 'leftParen' | 'rightParen' | 'char' | 'charConstant' | 'complex' | 'number' | 'string' | 'rawString'
  | 'bool' | 'field' | 'variable' | 'identifier' | Keyword;
type Keyword = 'block' | 'break' | 'continue' | 'define' | 'dot' | 'else' | 'end' | 'if' | 'nil' | 'range' | 'template' | 'with';

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'nil', 'range', 'template', 'with']);

interface Item { typ: ItemType; pos: number; val: string; line: number }

function itemString(it: Item): string {
  if (it.typ === 'eof') return 'EOF';
  if (it.typ === 'error') return it.val;
  if (KEYWORDS.has(it.typ) || it.typ === 'dot') return `<${it.val}>`;
  const runes = Array.from(it.val);
  if (runes.length > 10) return quote(runes.slice(0, 10).join('')) + '...';
  return quote(it.val);
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const ALNUM = /^[_\p{L}\p{Nd}]$/u;
const isAlphaNumeric = (c: string | undefined): boolean => c !== undefined && ALNUM.test(c);

function formatU(c: string): string {
  const cp = c.codePointAt(0)!;
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  return isPrint(cp) ? `${hex} '${c}'` : hex;
}

type State = ((l: Lexer) => State) | null;

class Lexer {
  readonly items: Item[] = [];
  pos = 0;
  start = 0;
  parenDepth = 0;
  private readonly lineStarts: number[] = [0];

  constructor(readonly input: string) {
    for (let i = 0; i < input.length; i++) if (input[i] === '\n') this.lineStarts.push(i + 1);
    let state: State = lexText;
    while (state) state = state(this);
  }

  lineAt(pos: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The code point at pos as a string ('' at end of input). */
  peek(): string {
    const cp = this.input.codePointAt(this.pos);
    return cp === undefined ? '' : String.fromCodePoint(cp);
  }

  next(): string {
    const c = this.peek();
    this.pos += c.length;
    return c;
  }

  accept(valid: string): boolean {
    const c = this.peek();
    if (c !== '' && valid.includes(c)) {
      this.pos += c.length;
      return true;
    }
    return false;
  }

  acceptRun(valid: string): void {
    while (this.accept(valid));
  }

  emit(typ: ItemType): void {
    this.items.push({ typ, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.lineAt(this.start) });
    this.start = this.pos;
  }

  ignore(): void {
    this.start = this.pos;
  }

  errorf(msg: string): State {
    this.items.push({ typ: 'error', pos: this.start, val: msg, line: this.lineAt(this.start) });
    return null;
  }

  hasLeftTrimMarker(at: number): boolean {
    return this.input[at] === '-' && isSpace(this.input[at + 1]);
  }

  hasRightTrimMarker(at: number): boolean {
    return isSpace(this.input[at]) && this.input[at + 1] === '-';
  }

  /** [at a right delimiter, preceded by a trim marker]. */
  atRightDelim(): [boolean, boolean] {
    if (this.input.startsWith('}}', this.pos)) return [true, false];
    if (this.hasRightTrimMarker(this.pos) && this.input.startsWith('}}', this.pos + 2)) return [true, true];
    return [false, false];
  }

  atTerminator(): boolean {
    const c = this.peek();
    if (isSpace(c) || c === '' || '.,|:()'.includes(c)) return true;
    return this.input.startsWith('}}', this.pos);
  }

  skipLeadingSpace(): void {
    while (isSpace(this.input[this.pos])) this.pos++;
  }
}

function lexText(l: Lexer): State {
  const x = l.input.indexOf('{{', l.pos);
  if (x < 0) {
    l.pos = l.input.length;
    if (l.pos > l.start) l.emit('text');
    l.emit('eof');
    return null;
  }
  let textEnd = x;
  if (l.hasLeftTrimMarker(x + 2)) while (textEnd > l.start && isSpace(l.input[textEnd - 1])) textEnd--;
  l.pos = textEnd;
  if (l.pos > l.start) l.emit('text');
  l.pos = x;
  l.ignore();
  return lexLeftDelim;
}

function lexLeftDelim(l: Lexer): State {
  l.pos += 2;
  const after = l.hasLeftTrimMarker(l.pos) ? 2 : 0;
  if (l.input.startsWith('/*', l.pos + after)) {
    l.pos += after;
    l.ignore();
    return lexComment;
  }
  l.emit('leftDelim');
  l.pos += after;
  l.ignore();
  l.parenDepth = 0;
  return lexInsideAction;
}

function lexComment(l: Lexer): State {
  l.pos += 2;
  const i = l.input.indexOf('*/', l.pos);
  if (i < 0) return l.errorf('unclosed comment');
  l.pos = i + 2;
  const [delim, trim] = l.atRightDelim();
  if (!delim) return l.errorf('comment ends before closing delimiter');
  l.pos += (trim ? 2 : 0) + 2;
  if (trim) l.skipLeadingSpace();
  l.ignore();
  return lexText;
}

function lexRightDelim(l: Lexer): State {
  const trim = l.hasRightTrimMarker(l.pos);
  if (trim) {
    l.pos += 2;
    l.ignore();
  }
  l.pos += 2;
  l.emit('rightDelim');
  if (trim) {
    l.skipLeadingSpace();
    l.ignore();
  }
  return lexText;
}

function lexInsideAction(l: Lexer): State {
  const [delim] = l.atRightDelim();
  if (delim) return l.parenDepth === 0 ? lexRightDelim : l.errorf('unclosed left paren');
  const c = l.next();
  if (c === '') return l.errorf('unclosed action');
  if (isSpace(c)) {
    l.pos -= 1;
    return lexSpace;
  }
  switch (c) {
    case '=':
      l.emit('assign');
      return lexInsideAction;
    case ':':
      if (l.next() !== '=') return l.errorf('expected :=');
      l.emit('declare');
      return lexInsideAction;
    case '|':
      l.emit('pipe');
      return lexInsideAction;
    case '"':
      return lexQuote;
    case '`':
      return lexRawQuote;
    case '$':
      return lexVariable;
    case "'":
      return lexChar;
    case '(':
      l.emit('leftParen');
      l.parenDepth++;
      return lexInsideAction;
    case ')':
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf('unexpected right paren');
      l.emit('rightParen');
      return lexInsideAction;
  }
  if (c === '.') {
    const n = l.input[l.pos];
    if (n !== undefined && (n < '0' || n > '9')) return lexField;
  }
  if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
    l.pos -= 1;
    return lexNumber;
  }
  if (isAlphaNumeric(c)) {
    l.pos -= c.length;
    return lexIdentifier;
  }
  const cp = c.codePointAt(0)!;
  if (cp <= 0x7f && isPrint(cp)) {
    l.emit('char');
    return lexInsideAction;
  }
  return l.errorf(`unrecognized character in action: ${formatU(c)}`);
}

function lexSpace(l: Lexer): State {
  let n = 0;
  while (isSpace(l.input[l.pos])) {
    l.pos++;
    n++;
  }
  // A lone space before "-}}" belongs to the trim marker.
  if (l.hasRightTrimMarker(l.pos - 1) && l.input.startsWith('}}', l.pos + 1)) {
    l.pos--;
    if (n === 1) return lexInsideAction;
  }
  l.emit('space');
  return lexInsideAction;
}

function lexIdentifier(l: Lexer): State {
  while (isAlphaNumeric(l.peek())) l.next();
  if (!l.atTerminator()) return l.errorf(`bad character ${formatU(l.peek())}`);
  const word = l.input.slice(l.start, l.pos);
  if (KEYWORDS.has(word)) l.emit(word as Keyword);
  else if (word === 'true' || word === 'false') l.emit('bool');
  else l.emit('identifier');
  return lexInsideAction;
}

function lexField(l: Lexer): State {
  return lexFieldOrVariable(l, 'field');
}

function lexVariable(l: Lexer): State {
  if (l.atTerminator()) {
    l.emit('variable');
    return lexInsideAction;
  }
  return lexFieldOrVariable(l, 'variable');
}

function lexFieldOrVariable(l: Lexer, typ: 'field' | 'variable'): State {
  if (l.atTerminator()) {
    l.emit(typ === 'variable' ? 'variable' : 'dot');
    return lexInsideAction;
  }
  while (isAlphaNumeric(l.peek())) l.next();
  if (!l.atTerminator()) return l.errorf(`bad character ${formatU(l.peek())}`);
  l.emit(typ);
  return lexInsideAction;
}

function lexQuoted(l: Lexer, q: string, what: string, typ: ItemType): State {
  for (;;) {
    const c = l.next();
    if (c === '\\') {
      const e = l.next();
      if (e !== '' && e !== '\n') continue;
      return l.errorf(`unterminated ${what}`);
    }
    if (c === '' || c === '\n') return l.errorf(`unterminated ${what}`);
    if (c === q) break;
  }
  l.emit(typ);
  return lexInsideAction;
}

function lexChar(l: Lexer): State {
  return lexQuoted(l, "'", 'character constant', 'charConstant');
}

function lexQuote(l: Lexer): State {
  return lexQuoted(l, '"', 'quoted string', 'string');
}

function lexRawQuote(l: Lexer): State {
  const end = l.input.indexOf('`', l.pos);
  if (end < 0) return l.errorf('unterminated raw quoted string');
  l.pos = end + 1;
  l.emit('rawString');
  return lexInsideAction;
}

function scanNumber(l: Lexer): boolean {
  l.accept('+-');
  let digits = '0123456789_';
  if (l.accept('0')) {
    if (l.accept('xX')) digits = '0123456789abcdefABCDEF_';
    else if (l.accept('oO')) digits = '01234567_';
    else if (l.accept('bB')) digits = '01_';
  }
  l.acceptRun(digits);
  if (l.accept('.')) l.acceptRun(digits);
  if (digits.length === 11 && l.accept('eE')) {
    l.accept('+-');
    l.acceptRun('0123456789_');
  }
  if (digits.length === 23 && l.accept('pP')) {
    l.accept('+-');
    l.acceptRun('0123456789_');
  }
  l.accept('i');
  if (isAlphaNumeric(l.peek())) {
    l.next();
    return false;
  }
  return true;
}

function lexNumber(l: Lexer): State {
  if (!scanNumber(l)) return l.errorf(`bad number syntax: ${quote(l.input.slice(l.start, l.pos))}`);
  const sign = l.peek();
  if (sign === '+' || sign === '-') {
    if (!scanNumber(l) || l.input[l.pos - 1] !== 'i') return l.errorf(`bad number syntax: ${quote(l.input.slice(l.start, l.pos))}`);
    l.emit('complex');
  } else l.emit('number');
  return lexInsideAction;
}

// ---------------------------------------------------------------------------
// Parser

export class TemplateParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateParseError';
  }
}

export interface ParsedTemplate {
  root: ListNode;
  /** Templates from {{define}} and {{block}}. */
  defs: Map<string, ListNode>;
}

function isEmptyList(l: ListNode): boolean {
  return l.nodes.every((n) => n.type === 'text' && n.text.trim() === '');
}

function newNumber(pos: number, text: string, typ: ItemType): NumberNode | string {
  if (typ === 'charConstant') {
    try {
      return { type: 'number', pos, text, isInt: true, value: unquoteCharLiteral(text) };
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (typ === 'complex' || text.endsWith('i')) return `complex constant ${text} is not supported`;
  try {
    return { type: 'number', pos, text, isInt: true, value: Number(parseGoInt(text)) };
  } catch {
    // not an integer literal; maybe a float
  }
  let f: number;
  try {
    f = parseGoFloat(text);
  } catch {
    return `illegal number syntax: ${quote(text)}`;
  }
  if (!/[.eEpP]/.test(text)) return `integer overflow: ${quote(text)}`;
  return { type: 'number', pos, text, isInt: Number.isInteger(f) && Math.abs(f) < 2 ** 63, value: f };
}

class Parser {
  private readonly items: Item[];
  private i = 0;
  private furthest = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;
  readonly defs = new Map<string, ListNode>();

  constructor(src: string, private readonly funcs: ReadonlySet<string>) {
    this.items = new Lexer(src).items;
  }

  private at(i: number): Item {
    this.furthest = Math.max(this.furthest, Math.min(i, this.items.length - 1));
    return this.items[Math.min(i, this.items.length - 1)]!;
  }

  private next(): Item {
    return this.at(this.i++);
  }

  private peek(): Item {
    return this.at(this.i);
  }

  private nextNonSpace(): Item {
    let t = this.next();
    while (t.typ === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.i--;
    return t;
  }

  private errorf(msg: string): never {
    throw new TemplateParseError(`template: :${this.items[this.furthest]!.line}: ${msg}`);
  }

  private expect(typ: ItemType, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== typ) this.unexpected(t, context);
    return t;
  }

  private unexpected(t: Item, context: string): never {
    if (t.typ === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at :${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(t.val + extra);
    }
    this.errorf(`unexpected ${itemString(t)} in ${context}`);
  }

  parse(): ParsedTemplate {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== 'eof') {
      if (this.peek().typ === 'leftDelim') {
        const mark = this.i;
        this.next();
        if (this.nextNonSpace().typ === 'define') {
          this.parseDefinition();
          continue;
        }
        this.i = mark;
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    return { root, defs: this.defs };
  }

  private addDef(name: string, list: ListNode): void {
    const old = this.defs.get(name);
    if (old && !isEmptyList(old) && !isEmptyList(list)) this.errorf(`template: multiple definition of template ${quote(name)}`);
    if (!old || isEmptyList(old)) this.defs.set(name, list);
  }

  /** Parses a separately scoped body ({{define}} / {{block}}) up to its {{end}}. */
  private parseBody(context: string): ListNode {
    const saved = { vars: this.vars, rangeDepth: this.rangeDepth };
    this.vars = ['$'];
    this.rangeDepth = 0;
    const [list, end] = this.itemList();
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.vars = saved.vars;
    this.rangeDepth = saved.rangeDepth;
    return list;
  }

  private templateName(t: Item, context: string): string {
    if (t.typ !== 'string' && t.typ !== 'rawString') this.unexpected(t, context);
    try {
      return unquote(t.val);
    } catch (e) {
      this.errorf((e as Error).message);
    }
  }

  private parseDefinition(): void {
    const name = this.templateName(this.nextNonSpace(), 'define clause');
    this.expect('rightDelim', 'define clause');
    this.addDef(name, this.parseBody('define clause'));
  }

  private itemList(): [ListNode, ElseNode | EndNode] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node | ElseNode | EndNode {
    const t = this.nextNonSpace();
    if (t.typ === 'text') return { type: 'text', pos: t.pos, text: t.val };
    if (t.typ === 'leftDelim') {
      this.actionLine = t.line;
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    this.unexpected(t, 'input');
  }

  private action(): Node | ElseNode | EndNode {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case 'block': {
        const nameTok = this.nextNonSpace();
        const name = this.templateName(nameTok, 'block clause');
        const pipe = this.pipeline('block clause', 'rightDelim');
        this.addDef(name, this.parseBody('block clause'));
        return { type: 'template', pos: nameTok.pos, name, pipe };
      }
      case 'break':
      case 'continue': {
        const n = this.nextNonSpace();
        if (n.typ !== 'rightDelim') this.unexpected(n, `{{${t.typ}}}`);
        if (this.rangeDepth === 0) this.errorf(`{{${t.typ}}} outside {{range}}`);
        return { type: t.typ, pos: t.pos };
      }
      case 'else': {
        const p = this.peekNonSpace();
        if (p.typ === 'if' || p.typ === 'with') return { type: 'else', pos: p.pos };
        return { type: 'else', pos: this.expect('rightDelim', 'else').pos };
      }
      case 'end':
        return { type: 'end', pos: this.expect('rightDelim', 'end').pos };
      case 'if':
      case 'range':
      case 'with':
        return this.control(t.typ);
      case 'template': {
        const nameTok = this.nextNonSpace();
        const name = this.templateName(nameTok, 'template clause');
        let pipe: PipeNode | null = null;
        if (this.nextNonSpace().typ !== 'rightDelim') {
          this.i--;
          pipe = this.pipeline('template clause', 'rightDelim');
        }
        return { type: 'template', pos: nameTok.pos, name, pipe };
      }
    }
    this.i--;
    const start = this.peek();
    return { type: 'action', pos: start.pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private control(context: 'if' | 'range' | 'with'): BranchNode {
    const varsLen = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      const [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        // "{{else if x}}" and "{{else with x}}" nest a new control in the else branch.
        const p = this.peek();
        if ((context === 'if' && p.typ === 'if') || (context === 'with' && p.typ === 'with')) {
          this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.control(context)] };
        } else {
          const [l, end] = this.itemList();
          if (end.type !== 'end') this.errorf(`expected end; found ${nodeString(end)}`);
          elseList = l;
        }
      }
      return { type: context, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = varsLen;
    }
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== 'variable') break;
      const vIndex = this.i;
      this.next();
      const nextTok = this.peekNonSpace();
      if (nextTok.typ === 'assign' || nextTok.typ === 'declare') {
        pipe.isAssign = nextTok.typ === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: v.val.split('.') });
        this.vars.push(v.val);
      } else if (nextTok.typ === 'char' && nextTok.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: v.val.split('.') });
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace().typ;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else {
        this.i = vIndex;
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.typ) {
        case 'bool': case 'charConstant': case 'complex': case 'dot': case 'field': case 'identifier':
        case 'number': case 'nil': case 'rawString': case 'string': case 'variable': case 'leftParen':
          this.i--;
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]!.type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.typ === 'space') continue;
      if (t.typ === 'rightDelim' || t.typ === 'rightParen') this.i--;
      else if (t.typ !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (!node || this.peek().typ !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().typ === 'field') fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable':
        return { type: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
      // falls through (errorf never returns)
      default:
        return { type: 'chain', pos, node, field: fields };
    }
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case 'identifier':
        if (!this.funcs.has(t.val)) this.errorf(`function ${quote(t.val)} not defined`);
        return { type: 'identifier', pos: t.pos, name: t.val };
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'nil':
        return { type: 'nil', pos: t.pos };
      case 'variable': {
        const ident = t.val.split('.');
        if (!this.vars.includes(ident[0]!)) this.errorf(`undefined variable ${quote(ident[0]!)}`);
        return { type: 'variable', pos: t.pos, ident };
      }
      case 'field':
        return { type: 'field', pos: t.pos, ident: t.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number': {
        const n = newNumber(t.pos, t.val, t.typ);
        if (typeof n === 'string') this.errorf(n);
        return n;
      }
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString':
        try {
          return { type: 'string', pos: t.pos, quoted: t.val, text: unquote(t.val) };
        } catch (e) {
          this.errorf((e as Error).message);
        }
    }
    this.i--;
    return null;
  }
}

/** Parses template source. Throws TemplateParseError with Go's message. */
export function parseTemplate(src: string, funcs: ReadonlySet<string>): ParsedTemplate {
  return new Parser(src, funcs).parse();
}
