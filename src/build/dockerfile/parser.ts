// The Dockerfile parser (BuildKit's frontend/dockerfile/parser, which
// dockerd's classic builder uses): parser directives (`# syntax=`,
// `# escape=`, `# check=`) at the top, comments, line continuations with the
// escape token (comment and blank lines inside a continuation skipped, the
// latter with a warning), then each instruction's arguments split by the
// line parser its keyword has. Heredocs are not parsed.
import { InvalidParameter } from '../../errors.js';

/** One instruction as the parser leaves it; src/build/dockerfile/instructions.ts gives it meaning. */
export interface DockerfileNode {
  /** The keyword as written ("RUN", "run"). */
  value: string;
  /**
   * The arguments as the keyword's line parser split them. ENV and LABEL
   * give (key, value, separator) triples: separator "=" or "" for the legacy
   * `KEY value` form.
   */
  args: string[];
  /** ONBUILD's instruction. */
  child?: DockerfileNode;
  /** The arguments were a JSON array (exec form). */
  json: boolean;
  /** The whole logical line, continuations joined. */
  original: string;
  /** `--name=value` flags before the arguments. */
  flags: string[];
  startLine: number;
  endLine: number;
}

export interface ParsedDockerfile {
  nodes: DockerfileNode[];
  escapeToken: string;
  /** Short texts of BuildKit's parser warnings (empty continuation lines). */
  warnings: string[];
}

/** A parse failure at a line of the Dockerfile. */
export class DockerfileSyntaxError extends InvalidParameter {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const WHITESPACE = /[\t\v\f\r ]+/;
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Go's unicode.IsSpace, as the parser trims with it. */
function isSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(ch);
}

function trimLeftSpace(s: string): string {
  let i = 0;
  const cps = [...s];
  while (i < cps.length && isSpace(cps[i]!)) i++;
  return cps.slice(i).join('');
}

function trimSpace(s: string): string {
  const cps = [...trimLeftSpace(s)];
  let end = cps.length;
  while (end > 0 && isSpace(cps[end - 1]!)) end--;
  return cps.slice(0, end).join('');
}

/** Go's regexp.Split(s, n) for a pattern that never matches the empty string. */
function splitWhitespace(s: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (n < 0 || out.length < n - 1) {
    const m = WHITESPACE.exec(rest);
    if (m === null) break;
    out.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  out.push(rest);
  return out;
}

function isComment(line: string): boolean {
  return trimLeftSpace(line).startsWith('#');
}

class Directives {
  escapeToken = '\\';
  private continuation = /(?:)/;
  private done = false;
  private readonly seen = new Set<string>();

  constructor() {
    this.setEscapeToken('\\');
  }

  setEscapeToken(token: string): void {
    if (token !== '`' && token !== '\\') throw new InvalidParameter(`invalid escape token '${token}' does not match \` or \\`);
    this.escapeToken = token;
    const e = token === '\\' ? '\\\\' : '`';
    this.continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }

  /** Takes a line as a parser directive while directives may still come; true when it was one. */
  take(line: string): boolean {
    if (this.done) return false;
    const m = DIRECTIVE.exec(line);
    if (m === null) {
      this.done = true;
      return false;
    }
    const key = m[1]!.toLowerCase();
    if (!VALID_DIRECTIVES.has(key)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(key)) throw new InvalidParameter(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'escape') this.setEscapeToken(m[2]!);
    return true;
  }

  /** The line without its continuation token, and whether the logical line ends here. */
  trimContinuation(line: string): { line: string; end: boolean } {
    if (!this.continuation.test(line)) return { line, end: true };
    return { line: line.replace(this.continuation, '$1'), end: false };
  }
}

/**
 * Words split on whitespace outside quotes, as BuildKit's parseWords and
 * extractBuilderFlags scan them. `raw` (parseWords): quotes and escapes stay
 * in the words, for the lexer to process later. Otherwise (the `--flags`
 * before an instruction's arguments) they are removed, and the scan stops
 * at the first word that does not start with "--" or after a "--" word:
 * what is left of the line is `rest`.
 */
function scanWords(line: string, escapeToken: string, raw: boolean): { words: string[]; rest: string } {
  const words: string[] = [];
  const cps = [...line];
  const restAt = (pos: number): string => cps.slice(pos).join('');
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= cps.length; pos++) {
    const end = pos === cps.length;
    let ch = end ? '' : cps[pos]!;
    if (phase === 'spaces') {
      if (end) break;
      if (isSpace(ch)) continue;
      if (!raw && (ch !== '-' || cps[pos + 1] !== '-')) return { words, rest: restAt(pos) };
      phase = 'word';
    }
    if (end) {
      if ((raw || word !== '--') && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (!raw && word === '--') return { words, rest: restAt(pos) };
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        if (!raw) continue;
      }
      if (ch === escapeToken) {
        if (pos + 1 === cps.length) continue;
        if (raw) word += ch;
        pos++;
        ch = cps[pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      if (!raw) continue;
    }
    // Inside single quotes the escape token escapes nothing (in the raw scan).
    if (ch === escapeToken && (!raw || quote !== "'")) {
      if (pos + 1 === cps.length) {
        phase = 'word';
        continue;
      }
      if (raw) word += ch;
      pos++;
      ch = cps[pos]!;
    }
    word += ch;
  }
  return { words, rest: '' };
}

/** Splits on whitespace, keeping quotes and escapes in the words (the parser's parseWords). */
export function parseWords(rest: string, escapeToken: string): string[] {
  return scanWords(rest, escapeToken, true).words;
}

/** `--flag=value` words before the arguments, and the rest (the parser's extractBuilderFlags). */
function extractBuilderFlags(line: string, escapeToken: string): { rest: string; flags: string[] } {
  const { words, rest } = scanWords(line, escapeToken, false);
  return { rest, flags: words };
}

interface LineResult {
  args: string[];
  json?: boolean;
  child?: DockerfileNode;
}

/** A JSON array of strings, or null when `rest` is not JSON (an array of other things is an error). */
function parseJsonArray(rest: string): string[] | null {
  const trimmed = trimLeftSpace(rest);
  if (!trimmed.startsWith('[')) return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  if (!value.every((v) => typeof v === 'string')) throw new InvalidParameter(NOT_STRING_ARRAY);
  return value as string[];
}

function maybeJson(rest: string): LineResult {
  if (rest === '') return { args: [] };
  const json = parseJsonArray(rest);
  return json !== null ? { args: json, json: true } : { args: [rest] };
}

function whitespaceDelimited(rest: string): LineResult {
  return { args: rest === '' ? [] : splitWhitespace(rest, -1) };
}

function maybeJsonToList(rest: string): LineResult {
  const json = parseJsonArray(rest);
  return json !== null ? { args: json, json: true } : whitespaceDelimited(rest);
}

/** ENV and LABEL: `KEY value` or `KEY=value ...`, as (key, value, separator) triples. */
function nameValues(rest: string, keyword: string, escapeToken: string): LineResult {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return { args: [] };
  if (!words[0]!.includes('=')) {
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2) throw new InvalidParameter(`${keyword} must have two arguments`);
    return { args: [parts[0]!, parts[1]!, ''] };
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq === -1) throw new InvalidParameter(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    args.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return { args };
}

function healthConfig(rest: string): LineResult {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep]!)) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest[next]!)) next++;
  if (sep === 0) return { args: [] };
  const cmd = maybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], ...(cmd.json ? { json: true } : {}) };
}

function lineParser(keyword: string, rest: string, d: Directives): LineResult {
  switch (keyword.toLowerCase()) {
    case 'add':
    case 'copy':
    case 'volume':
      return maybeJsonToList(rest);
    case 'arg':
      return { args: parseWords(rest, d.escapeToken) };
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      return maybeJson(rest);
    case 'env':
      return nameValues(rest, 'ENV', d.escapeToken);
    case 'label':
      return nameValues(rest, 'LABEL', d.escapeToken);
    case 'expose':
    case 'from':
      return whitespaceDelimited(rest);
    case 'healthcheck':
      return healthConfig(rest);
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return { args: rest === '' ? [] : [rest] };
    case 'onbuild':
      return rest === '' ? { args: [] } : { args: [], child: nodeFromLine(rest, d) };
    default:
      // Unknown keywords are the instruction parser's to refuse.
      return { args: [] };
  }
}

function nodeFromLine(line: string, d: Directives): DockerfileNode {
  const parts = splitWhitespace(trimSpace(line), 2);
  const keyword = parts[0]!;
  let rest = '';
  let flags: string[] = [];
  if (parts.length === 2) ({ rest, flags } = extractBuilderFlags(parts[1]!, d.escapeToken));
  const parsed = lineParser(keyword, trimSpace(rest), d);
  return {
    value: keyword,
    args: parsed.args,
    ...(parsed.child ? { child: parsed.child } : {}),
    json: parsed.json === true,
    original: line,
    flags,
    startLine: 0,
    endLine: 0,
  };
}

/** Physical lines with their newline, as bufio.Scanner with the parser's split function yields them. */
function physicalLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

function trimNewline(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}

/** Parses a Dockerfile's text. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const d = new Directives();
  const lines = physicalLines(text.startsWith('\ufeff') ? text.slice(1) : text);
  const nodes: DockerfileNode[] = [];
  const warnings: string[] = [];
  let current = 0;
  const at = <T>(line: number, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DockerfileSyntaxError) throw e;
      throw new DockerfileSyntaxError((e as Error).message, line);
    }
  };
  /** A physical line trimmed of its newline (and leading space), taken as a directive when it is one, emptied when a comment. */
  const process = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    at(current, () => d.take(token));
    return isComment(token) ? '' : token;
  };
  for (let i = 0; i < lines.length; i++) {
    const first = process(lines[i]!, true);
    current++;
    const startLine = current;
    let { line, end } = d.trimContinuation(first);
    if (end && line.length === 0) continue;
    let logical = line;
    let emptyContinuation = false;
    while (!end && i + 1 < lines.length) {
      i++;
      const raw = lines[i]!;
      const next = process(raw, false);
      current++;
      if (isComment(raw)) continue;
      if (trimLeftSpace(trimNewline(next)).length === 0) {
        emptyContinuation = true;
        continue;
      }
      ({ line, end } = d.trimContinuation(next));
      logical += line;
    }
    if (emptyContinuation) warnings.push(`Empty continuation line found in: ${logical}`);
    const node = at(startLine, () => nodeFromLine(logical, d));
    node.startLine = startLine;
    node.endLine = current;
    nodes.push(node);
  }
  if (nodes.length === 0) throw new DockerfileSyntaxError('file with no instructions', current);
  return { nodes, escapeToken: d.escapeToken, warnings };
}
