// The Dockerfile parser, word lexer and instructions against BuildKit's
// behaviour (the cases come from its parser and lexer tests and the
// classic builder's error texts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../src/build/dockerfile/parser.js';
import { parseStages, parseSingleInstruction, type Instruction } from '../../src/build/dockerfile/instructions.js';
import { envFromList, ShellLex } from '../../src/build/dockerfile/shell-lex.js';

const nodes = (text: string) => parseDockerfile(text).nodes.map((n) => ({ value: n.value, args: n.args, json: n.json, flags: n.flags }));

test('parser: comments, blank lines and line continuations, with their line numbers', () => {
  const parsed = parseDockerfile('# a comment\n\nFROM busybox\nRUN echo a \\\n  # inside\n  b\n\nENV A=1\n');
  assert.deepEqual(
    parsed.nodes.map((n) => [n.value, n.original, n.startLine, n.endLine]),
    [
      ['FROM', 'FROM busybox', 3, 3],
      ['RUN', 'RUN echo a   b', 4, 6],
      ['ENV', 'ENV A=1', 8, 8],
    ],
  );
  assert.deepEqual(parsed.warnings, []);
  const empty = parseDockerfile('FROM busybox\nRUN echo \\\n\n  done\n');
  assert.deepEqual(empty.warnings, ['Empty continuation line found in: RUN echo   done']);
  assert.throws(() => parseDockerfile('# only a comment\n\n'), /file with no instructions/);
});

test('parser: directives set the escape token, and only at the top', () => {
  const tick = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  b\nCOPY c:\\dir /x\n');
  assert.equal(tick.escapeToken, '`');
  assert.deepEqual(
    tick.nodes.map((n) => n.original),
    ['FROM busybox', 'RUN echo a   b', 'COPY c:\\dir /x'],
  );
  const late = parseDockerfile('FROM busybox\n# escape=`\nRUN echo a `\n');
  assert.equal(late.escapeToken, '\\', 'a directive after the first instruction is a comment');
  assert.throws(() => parseDockerfile('# escape=x\nFROM busybox\n'), /invalid escape token 'x'/);
  assert.throws(() => parseDockerfile('# escape=`\n# escape=\\\nFROM busybox\n'), /only one escape parser directive can be used/);
});

test('parser: JSON and shell forms, flags, ENV and LABEL forms, HEALTHCHECK, ONBUILD', () => {
  assert.deepEqual(nodes('RUN ["echo", "hi"]\nRUN echo "hi"\nCMD [not json\n'), [
    { value: 'RUN', args: ['echo', 'hi'], json: true, flags: [] },
    { value: 'RUN', args: ['echo "hi"'], json: false, flags: [] },
    { value: 'CMD', args: ['[not json'], json: false, flags: [] },
  ]);
  assert.throws(() => parseDockerfile('RUN ["echo", 1]\n'), /arrays must be comprised of strings only/);
  assert.deepEqual(nodes('COPY --from=build --chown=1:2 a b /c/\nCOPY ["a b", "/c d"]\n'), [
    { value: 'COPY', args: ['a', 'b', '/c/'], json: false, flags: ['--from=build', '--chown=1:2'] },
    { value: 'COPY', args: ['a b', '/c d'], json: true, flags: [] },
  ]);
  assert.deepEqual(nodes('ENV A=1 B="x y"\nENV C old form\nLABEL "k 1"=v\n').map((n) => n.args), [
    ['A', '1', '=', 'B', '"x y"', '='],
    ['C', 'old form', ''],
    ['"k 1"', 'v', '='],
  ]);
  assert.throws(() => parseDockerfile('ENV A=1 B\n'), /Syntax error - can't find = in "B". Must be of the form: name=value/);
  assert.throws(() => parseDockerfile('ENV A\n'), /ENV must have two arguments/);
  assert.deepEqual(nodes('HEALTHCHECK --interval=5s CMD ["true"]\n'), [{ value: 'HEALTHCHECK', args: ['CMD', 'true'], json: true, flags: ['--interval=5s'] }]);
  const onbuild = parseDockerfile('ONBUILD RUN echo hi\n').nodes[0]!;
  assert.deepEqual([onbuild.child?.value, onbuild.child?.args], ['RUN', ['echo hi']]);
});

test('lexer: quotes, escapes and every substitution form', () => {
  const env = envFromList(['A=a', 'EMPTY=', 'P=/usr/local/bin:/usr/bin', 'F=file.tar.gz']);
  const lex = new ShellLex();
  const w = (s: string): string => lex.processWord(s, env);
  assert.equal(w('"$A b" \'$A\' \\$A $A${A}'), 'a b $A $A aa');
  assert.equal(w('${UNSET:-x} ${EMPTY:-x} ${EMPTY-x} ${A:+y} ${UNSET+y} ${EMPTY+y}'), 'x x  y  y');
  assert.equal(w('${F%.*} ${F%%.*} ${F#*.} ${F##*.}'), 'file.tar file tar.gz gz');
  assert.equal(w('${P/usr/opt} ${P//usr/opt}'), '/opt/local/bin:/usr/bin /opt/local/bin:/opt/bin');
  assert.equal(w('${A:-${UNSET:-nested}} ${UNSET:-${A}}'), 'a a');
  assert.throws(() => w('${UNSET:?must be set}'), /failed to process "\$\{UNSET:\?must be set\}": UNSET: must be set/);
  assert.throws(() => w('${EMPTY:?}'), /EMPTY: is not allowed to be empty/);
  assert.throws(() => w('"open'), /unexpected end of statement while looking for matching double-quote/);
  assert.throws(() => w('${A:-x'), /syntax error: missing '\}'/);
  assert.throws(() => w('${A'), /unsupported modifier \(\ufffd\) in substitution/, 'the end of the word, as Go prints rune -1');
  assert.deepEqual(lex.processWords('$P "x y" a\\ b', envFromList(['P=1 2'])), ['1', '2', 'x y', 'a b']);
  const tick = new ShellLex('`');
  assert.equal(tick.processWord('c:\\dir `$A', env), 'c:\\dir $A');
});

test('instructions: stages, meta ARGs, flags and the parse errors of BuildKit', () => {
  const { stages, metaArgs } = parseStages(parseDockerfile('ARG V=1\nFROM busybox:$V AS Build\nRUN --network=none true\nFROM scratch\nCOPY --from=build /a /b\n').nodes);
  assert.deepEqual(metaArgs.map((a) => a.args), [[{ key: 'V', value: '1' }]]);
  assert.deepEqual(
    stages.map((s) => [s.name, s.baseName, s.sourceCode, s.commands.map((c) => c.code)]),
    [
      ['build', 'busybox:$V', 'FROM busybox:$V AS Build', ['RUN --network=none true']],
      ['', 'scratch', 'FROM scratch', ['COPY --from=build /a /b']],
    ],
  );
  const run = stages[0]!.commands[0] as Extract<Instruction, { kind: 'run' }>;
  assert.deepEqual([run.cmdLine, run.prependShell, run.flagsUsed], [['true'], true, ['network']]);
  const errorOf = (text: string): string => {
    try {
      parseStages(parseDockerfile(text).nodes);
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };
  assert.equal(errorOf('FROM busybox\nRUNN x\n'), 'dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)');
  assert.equal(errorOf('FROM busybox\nfrobnicate x\n'), 'dockerfile parse error on line 2: unknown instruction: frobnicate');
  assert.equal(errorOf('FROM busybox\nCOPY onlyone\n'), 'dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
  assert.equal(errorOf('FROM busybox\nCOPY --chmown=1 a b\n'), 'dockerfile parse error on line 2: unknown flag: --chmown (did you mean chown?)');
  assert.equal(errorOf('FROM busybox AS 1st\n'), 'dockerfile parse error on line 1: invalid name for build stage: "1st", name can\'t start with a number or contain symbols');
  assert.equal(errorOf('FROM a b\n'), 'dockerfile parse error on line 1: FROM requires either one or three arguments');
  assert.equal(errorOf('FROM busybox\nSHELL sh -c\n'), 'dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form');
  assert.equal(errorOf('FROM busybox\nHEALTHCHECK --retries=-1 CMD true\n'), 'dockerfile parse error on line 2: --retries cannot be negative (-1)');
  assert.equal(errorOf('FROM busybox\nONBUILD FROM x\n'), "dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger");
  assert.equal(errorOf('RUN true\n'), 'no build stage in current context');
  assert.deepEqual(parseSingleInstruction('HEALTHCHECK --interval=5s --retries=3 CMD curl -f x'), {
    name: 'HEALTHCHECK',
    code: 'HEALTHCHECK --interval=5s --retries=3 CMD curl -f x',
    line: 1,
    kind: 'healthcheck',
    health: { Test: ['CMD-SHELL', 'curl -f x'], Interval: 5e9, Retries: 3 },
  });
});
