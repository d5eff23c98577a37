// The Dockerfile word lexer (BuildKit's frontend/dockerfile/shell.Lex, which
// the classic builder uses): quote removal, the escape token, and variable
// substitution $VAR, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:+x}, ${VAR+x},
// ${VAR:?msg}, ${VAR?msg}, ${VAR#pat}, ${VAR##pat}, ${VAR%pat}, ${VAR%%pat},
// ${VAR/pat/repl} and ${VAR//pat/repl}. processWord gives one string
// (whitespace kept), processWords splits on whitespace that no quote or
// escape protects (only EXPOSE takes that).
import { InvalidParameter } from '../../errors.js';
import { quote } from '../../go/strconv.js';

/** Variables a word is expanded against. */
export interface EnvLookup {
  get(name: string): string | undefined;
}

/** An EnvLookup over "K=V" strings; the last of a repeated key wins, as Go's map does. */
export function envFromList(list: readonly string[]): EnvLookup {
  const m = new Map<string, string>();
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i === -1) m.set(kv, '');
    else m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return { get: (name) => m.get(name) };
}

const EOF = -1;

function isSpace(cp: number): boolean {
  // Go's unicode.IsSpace for the Latin-1 range and the common Unicode spaces.
  return (cp >= 0x09 && cp <= 0x0d) || cp === 0x20 || cp === 0x85 || cp === 0xa0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

function isLetter(cp: number): boolean {
  return /\p{L}/u.test(String.fromCodePoint(cp));
}

function isDigit(cp: number): boolean {
  return /\p{Nd}/u.test(String.fromCodePoint(cp));
}

function isSpecialParam(cp: number): boolean {
  return '@*#?-$!0'.includes(String.fromCodePoint(cp));
}

/** Words as shell splitting makes them: whitespace ends a word unless a quote or escape protected it. */
class WordCollector {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    const space = isSpace(ch.codePointAt(0)!);
    if (space && this.inWord) {
      if (this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else if (!space) {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

/** A shell glob (*, ?, backslash escapes) as a RegExp, as BuildKit's convertShellPatternToRegex makes it. */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const cps = [...pattern];
  let out = anchored ? '^' : '';
  for (let i = 0; i < cps.length; i++) {
    const tok = cps[i]!;
    if (tok === '*') {
      out += greedy ? '[\\s\\S]*' : '[\\s\\S]*?';
      continue;
    }
    if (tok === '?') {
      out += '[\\s\\S]';
      continue;
    }
    if (tok === '\\') {
      const next = cps[i + 1];
      if (next === '}' || next === '/') continue;
      i++;
      if (next !== '*' && next !== '?' && next !== '\\') throw new Error(`invalid escape '\\${next ?? ''}'`);
      out += `\\${next}`;
      continue;
    }
    out += tok.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(out, 'u');
}

function reversePattern(pattern: string): string {
  const cps = [...pattern];
  const out: string[] = new Array<string>(cps.length);
  const last = cps.length - 1;
  for (let i = 0; i <= last; ) {
    const at = last - i;
    if (cps[i] === '\\' && i !== last) {
      out[at - 1] = cps[i]!;
      out[at] = cps[i + 1]!;
      i += 2;
    } else {
      out[at] = cps[i]!;
      i++;
    }
  }
  return out.join('');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  let re: RegExp;
  try {
    re = shellPatternToRegex(pattern, greedy, true);
  } catch (e) {
    throw new InvalidParameter(`invalid pattern (${pattern}) in substitution: ${(e as Error).message}`);
  }
  const m = re.exec(value);
  return m === null ? value : value.slice(m.index + m[0].length);
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const reversed = trimPrefix(reversePattern(pattern), [...value].reverse().join(''), greedy);
  return [...reversed].reverse().join('');
}

/** One pass over one word. */
class WordScanner {
  private readonly cps: string[];
  private pos = 0;

  constructor(
    word: string,
    private readonly lex: ShellLex,
    private readonly env: EnvLookup,
    private rawEscapes: boolean,
  ) {
    this.cps = [...word];
  }

  private peek(): string | typeof EOF {
    return this.pos < this.cps.length ? this.cps[this.pos]! : EOF;
  }

  private next(): string | typeof EOF {
    return this.pos < this.cps.length ? this.cps[this.pos++]! : EOF;
  }

  processStopOn(stop: string | typeof EOF, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const words = new WordCollector();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        if (ch === '$' || ch === '<' || (!this.lex.skipProcessQuotes && (ch === "'" || ch === '"'))) {
          const tmp = ch === '$' ? this.processDollar() : ch === '<' ? this.processPossibleHeredoc() : ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          if (ch === '$') words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        let c = this.next() as string;
        if (c === this.lex.escapeToken) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          const n = this.next();
          if (n === EOF) break;
          c = n;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
      if (stop !== EOF) throw new InvalidParameter(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  /** A substitution's operand up to `stop`; `missing` is the error when the word ends first. */
  private readUntil(stop: string, raw: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, raw).result;
    } catch (e) {
      if (this.peek() === EOF) throw new InvalidParameter(missing);
      throw e;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next() as string;
    if (this.lex.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new InvalidParameter('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.lex.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next() as string;
    if (this.lex.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new InvalidParameter('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        if (this.lex.rawQuotes) result += p;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.lex.escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === this.lex.escapeToken) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      const cp = ch.codePointAt(0)!;
      if (name.length === 0 && isDigit(cp)) {
        while (this.peek() !== EOF && isDigit((this.peek() as string).codePointAt(0)!)) name += this.next() as string;
        return name;
      }
      if (name.length === 0 && isSpecialParam(cp)) return this.next() as string;
      if (!isLetter(cp) && !isDigit(cp) && ch !== '_') break;
      name += this.next() as string;
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    return this.env.get(name);
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.lex.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new InvalidParameter("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new InvalidParameter('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    // Go's string(rune(-1)) at the end of the word: U+FFFD.
    let chs = ch === EOF ? '\ufffd' : ch;
    if (ch === '}') {
      const value = this.getEnv(name);
      if (value === undefined && this.lex.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch === EOF ? '\ufffd' : ch;
    }
    if (ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      const raw = ch === '#' || ch === '%';
      if (nullIsUnset && raw) throw new InvalidParameter(`unsupported modifier (${chs}) in substitution`);
      const word = this.readUntil('}', raw, "syntax error: missing '}'");
      const value = this.getEnv(name);
      if (this.lex.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
      const set = value !== undefined;
      const v = value ?? '';
      switch (ch) {
        case '-':
          return !set || (nullIsUnset && v === '') ? word : v;
        case '+':
          return !set || (nullIsUnset && v === '') ? '' : word;
        case '?':
          if (!set) throw new InvalidParameter(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
          if (nullIsUnset && v === '') throw new InvalidParameter(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
          return v;
        default: {
          let pattern = word;
          const greedy = pattern.startsWith(ch);
          if (greedy) pattern = pattern.slice(1);
          return ch === '%' ? trimSuffix(pattern, v, greedy) : trimPrefix(pattern, v, greedy);
        }
      }
    }
    if (ch === '/' && !nullIsUnset) {
      const replaceAll = this.peek() === '/';
      if (replaceAll) this.next();
      const pattern = this.readUntil('/', true, "syntax error: missing '/' in ${}");
      const replacement = this.readUntil('}', true, "syntax error: missing '}'");
      const value = this.getEnv(name);
      if (this.lex.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
      let re: RegExp;
      try {
        re = shellPatternToRegex(pattern, true, false);
      } catch (e) {
        throw new InvalidParameter(`invalid pattern (${pattern}) in substitution: ${(e as Error).message}`);
      }
      const v = value ?? '';
      if (replaceAll) return v.replace(new RegExp(re.source, 'gu'), () => replacement);
      const m = re.exec(v);
      return m === null ? v : v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length);
    }
    throw new InvalidParameter(`unsupported modifier (${chs}) in substitution`);
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    for (let p = this.peek(); p === '\t' || p === '\r' || p === ' '; p = this.peek()) space += this.next() as string;
    return `<<${space}`;
  }
}

export class ShellLex {
  /** Keep quotes in the result (the parser's heredoc detection). */
  rawQuotes = false;
  /** Keep escape tokens in the result. */
  rawEscapes = false;
  /** Take quotes as plain characters. */
  skipProcessQuotes = false;
  /** Leave references to unset variables as they are. */
  skipUnsetEnv = false;

  constructor(readonly escapeToken: string = '\\') {}

  private run(word: string, env: EnvLookup): { result: string; words: string[] } {
    try {
      return new WordScanner(word, this, env, this.rawEscapes).processStopOn(EOF, this.rawEscapes);
    } catch (e) {
      throw new InvalidParameter(`failed to process ${quote(word)}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The word with quotes removed and variables substituted. */
  processWord(word: string, env: EnvLookup): string {
    return this.run(word, env).result;
  }

  /** The word split into words after substitution, as a shell would split it. */
  processWords(word: string, env: EnvLookup): string[] {
    return this.run(word, env).words;
  }
}

