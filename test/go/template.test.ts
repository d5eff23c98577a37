import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GoTemplate, HEADER_FUNCS, NIL_MAP, TemplateExecError, compileTemplate } from '../../src/go/template.js';

const render = (src: string, data?: unknown): string => compileTemplate(src)(data);

const parseError = (src: string, message: string): void => {
  assert.throws(() => compileTemplate(src), { message: `template parsing error: template: ${message}` });
};

const execError = (src: string, data: unknown, message: string): void => {
  assert.throws(() => render(src, data), (e: unknown) => {
    assert.ok(e instanceof TemplateExecError);
    assert.equal(e.message, message);
    return true;
  });
};

describe('text and actions', () => {
  test('literal text passes through', () => {
    assert.equal(render('plain text\n'), 'plain text\n');
    assert.equal(render(''), '');
  });

  test('trim markers remove adjacent whitespace', () => {
    assert.equal(render('a  {{- "b" -}}  c'), 'abc');
    assert.equal(render('a\n\t{{- "b"}} \n'), 'ab \n');
    assert.equal(render('{{"b" -}}\n\n  c'), 'bc');
    // "-" must be followed (or preceded) by a space to be a trim marker.
    assert.equal(render('{{-3}}'), '-3');
  });

  test('comments produce nothing', () => {
    assert.equal(render('a{{/* comment */}}b'), 'ab');
    assert.equal(render('a {{- /* comment */ -}} b'), 'ab');
  });

  test('delimiters inside string literals are just text', () => {
    assert.equal(render('{{"}}"}}{{ "{{" }}'), '}}{{');
  });

  test('a compiled template can be run many times', () => {
    const f = compileTemplate('{{.N}};');
    assert.equal([1, 2, 3].map((N) => f({ N })).join(''), '1;2;3;');
  });

  test('newlines and spaces are allowed inside actions', () => {
    assert.equal(render('{{ .A\n | printf "%s!" }}', { A: 'x' }), 'x!');
  });
});

describe('fields and values', () => {
  test('dot and field chains', () => {
    const data = { A: 'a', B: { C: { D: 4 } } };
    assert.equal(render('{{.A}} {{.B.C.D}}', data), 'a 4');
    assert.equal(render('{{.}}', 'dot'), 'dot');
  });

  test('missing values print <no value>', () => {
    assert.equal(render('{{.Missing}}', {}), '<no value>');
    assert.equal(render('{{.Missing.Deeper}}', {}), '<no value>');
    assert.equal(render('{{.X}}', null), '<no value>');
    assert.equal(render('{{.}}'), '<no value>');
    assert.equal(render('{{.A}}', { A: null }), '<no value>');
  });

  test('values print as Go %v', () => {
    assert.equal(render('{{.}}', ['a', 'b', 'c']), '[a b c]');
    assert.equal(render('{{.}}', { z: 1, a: [1, 2], m: { k: 'v' } }), 'map[a:[1 2] m:map[k:v] z:1]');
    assert.equal(render('{{.I}} {{.F}} {{.B}}', { I: 3, F: 2.5, B: false }), '3 2.5 false');
    assert.equal(render('{{.}}', 1e21), '1e+21');
  });

  test('literals', () => {
    assert.equal(render('{{"str"}} {{`raw\\n`}} {{42}} {{-1}} {{1.5}} {{true}} {{false}}'), 'str raw\\n 42 -1 1.5 true false');
    assert.equal(render('{{0x1F}} {{0o17}} {{017}} {{0b11}} {{1_000}} {{\'a\'}} {{\'\\n\'}}'), '31 15 15 3 1000 97 10');
    assert.equal(render('{{"tab\\there"}}'), 'tab\there');
  });

  test('methods are called, with arguments', () => {
    const ctx = { Name: () => 'v1', Label: (k: string) => ({ env: 'prod' })[k] ?? '' };
    assert.equal(render('{{.Name}} {{.Label "env"}} [{{.Label "none"}}]', ctx), 'v1 prod []');
    assert.equal(render('{{"env" | .Label}}', ctx), 'prod');
  });

  test('methods see their receiver as this', () => {
    class Ctx {
      constructor(private readonly n: string) {}
      Name(): string {
        return this.n.toUpperCase();
      }
    }
    assert.equal(render('{{.Name}}', new Ctx('abc')), 'ABC');
  });

  test('NIL_MAP behaves like a nil Go map', () => {
    assert.equal(render('{{.}}|{{json .}}|{{len .}}|{{index . "k"}}|{{.K}}', NIL_MAP), 'map[]|null|0|<no value>|<no value>');
    assert.equal(render('{{range .}}x{{else}}empty{{end}}', NIL_MAP), 'empty');
    assert.equal(render('{{if .}}t{{else}}f{{end}}', NIL_MAP), 'f');
    assert.ok(Object.isFrozen(NIL_MAP));
  });
});

describe('variables', () => {
  test('declare, assign and $', () => {
    assert.equal(render('{{$x := .A}}{{$x}}', { A: 1 }), '1');
    assert.equal(render('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}'), '2');
    assert.equal(render('{{with .A}}{{$.B}}{{end}}', { A: 1, B: 'root' }), 'root');
    assert.equal(render('{{$m := .}}{{$m.K.J}}', { K: { J: 'deep' } }), 'deep');
  });

  test('declarations in if are scoped to the if', () => {
    parseError('{{if true}}{{$y := 1}}{{end}}{{$y}}', ':1: undefined variable "$y"');
  });

  test('undefined variables are parse errors', () => {
    parseError('{{$nope}}', ':1: undefined variable "$nope"');
  });
});

describe('pipelines', () => {
  test('previous value becomes the last argument', () => {
    assert.equal(render('{{"x" | printf "%s-%s" "a"}}'), 'a-x');
    assert.equal(render('{{.A | len | printf "%03d"}}', { A: 'abcd' }), '004');
  });

  test('parenthesised pipelines', () => {
    assert.equal(render('{{printf "%d" (len .)}}', [1, 2, 3]), '3');
    assert.equal(render('{{(index . 0).N}}', [{ N: 'n' }]), 'n');
    assert.equal(render('{{join (split "a,b,c" ",") "-"}}'), 'a-b-c');
  });
});

describe('control structures', () => {
  test('if / else if / else', () => {
    const t = '{{if .A}}a{{else if .B}}b{{else}}none{{end}}';
    assert.equal(render(t, { A: 1 }), 'a');
    assert.equal(render(t, { B: 'x' }), 'b');
    assert.equal(render(t, { A: 0, B: '' }), 'none');
  });

  test('truthiness follows Go', () => {
    const truthy = (v: unknown): string => render('{{if .}}T{{else}}F{{end}}', v);
    assert.equal(truthy(0), 'F');
    assert.equal(truthy(''), 'F');
    assert.equal(truthy([]), 'F');
    assert.equal(truthy({}), 'F');
    assert.equal(truthy(null), 'F');
    assert.equal(truthy(false), 'F');
    assert.equal(truthy(0.5), 'T');
    assert.equal(truthy('x'), 'T');
    assert.equal(truthy([0]), 'T');
    assert.equal(truthy({ k: 0 }), 'T');
    class S {}
    assert.equal(truthy(new S()), 'T');
  });

  test('with sets dot and has an else', () => {
    assert.equal(render('{{with .A}}[{{.}}]{{else}}none{{end}}', { A: 'v' }), '[v]');
    assert.equal(render('{{with .A}}[{{.}}]{{else}}none{{end}}', { A: '' }), 'none');
    assert.equal(render('{{with .A}}a{{else with .B}}{{.}}{{end}}', { B: 'b' }), 'b');
    assert.equal(render('{{with $x := .A}}{{$x}}{{end}}', { A: 'v' }), 'v');
  });

  test('range over arrays', () => {
    assert.equal(render('{{range .}}<{{.}}>{{end}}', ['a', 'b']), '<a><b>');
    assert.equal(render('{{range $i, $v := .}}{{$i}}={{$v}} {{end}}', ['a', 'b']), '0=a 1=b ');
    assert.equal(render('{{range $v := .}}{{$v}}{{end}}', ['x', 'y']), 'xy');
    assert.equal(render('{{range .}}x{{else}}empty{{end}}', []), 'empty');
    assert.equal(render('{{range .}}[{{.}}]{{end}}', [null]), '[<no value>]');
  });

  test('range over objects visits keys in sorted order', () => {
    assert.equal(render('{{range $k, $v := .}}{{$k}}:{{$v}},{{end}}', { b: 2, a: 1, C: 3 }), 'C:3,a:1,b:2,');
    assert.equal(render('{{range .}}{{.}}{{end}}', { b: 2, a: 1 }), '12');
    assert.equal(render('{{range .}}x{{else}}none{{end}}', {}), 'none');
    // Methods are not map entries.
    assert.equal(render('{{range $k, $v := .}}{{$k}}{{end}}', { a: 1, M: () => 2 }), 'a');
  });

  test('range over an integer', () => {
    assert.equal(render('{{range 3}}{{.}}{{end}}'), '012');
    assert.equal(render('{{range $i := 2}}{{$i}}{{end}}'), '01');
  });

  test('range variables can be reassigned with =', () => {
    assert.equal(render('{{$i := 0}}{{$v := ""}}{{range $i, $v = .}}{{end}}{{$i}}{{$v}}', ['a', 'b']), '1b');
  });

  test('break and continue', () => {
    const t = '{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}';
    assert.equal(render(t, [1, 2, 3, 4, 5]), '13');
    parseError('{{break}}', ':1: {{break}} outside {{range}}');
  });

  test('range over something else is an error', () => {
    execError('{{range .}}{{end}}', 'str', 'template: :1:8: executing "" at <.>: range can\'t iterate over str');
  });

  test('define and template', () => {
    assert.equal(render('{{define "item"}}<{{.}}>{{end}}{{range .}}{{template "item" .}}{{end}}', [1, 2]), '<1><2>');
    assert.equal(render('{{block "b" .}}[{{.}}]{{end}}', 'x'), '[x]');
    execError('{{template "nope"}}', {}, 'template: :1:11: executing "" at <{{template "nope"}}>: template "nope" not defined');
  });
});

describe('builtin functions', () => {
  test('and / or return an operand and short-circuit', () => {
    const boom = { Boom: () => { throw new Error('evaluated'); } };
    assert.equal(render('{{and 1 0 2}} {{and 1 2}} {{or 0 "" "x"}} {{or 0 ""}}'), '0 2 x ');
    assert.equal(render('{{or true .Boom}} {{and false .Boom}}', boom), 'true false');
  });

  test('not, len, index, slice', () => {
    assert.equal(render('{{not 0}} {{not "x"}}'), 'true false');
    assert.equal(render('{{len .S}} {{len .A}} {{len .M}}', { S: 'héllo', A: [1, 2], M: { a: 1 } }), '6 2 1');
    assert.equal(render('{{index .A 1}} {{index .M "k"}} {{index .N 0 1}}', { A: ['x', 'y'], M: { k: 'v' }, N: [[1, 2]] }), 'y v 2');
    assert.equal(render('{{index .M "missing"}}', { M: { k: 'v' } }), '<no value>');
    assert.equal(render('{{index "abc" 1}}'), '98');
    assert.equal(render('{{slice .A 1}} {{slice .A 1 2}} {{slice "hello" 1 3}}', { A: [1, 2, 3] }), '[2 3] [2] el');
  });

  test('print, printf, println', () => {
    assert.equal(render('{{print "a" 1 2 "b"}}'), 'a1 2b');
    assert.equal(render('{{println "a" 1}}'), 'a 1\n');
    assert.equal(render('{{printf "%-6s|%5.1f|%q|%v" "ab" 3.14159 "q" .}}', [1, 'x']), 'ab    |  3.1|"q"|[1 x]');
    assert.equal(render('{{print .Missing}}', {}), '<nil>');
    assert.equal(render('{{printf "%d" "x"}}'), '%!d(string=x)');
  });

  test('comparisons', () => {
    assert.equal(render('{{eq 1 1}} {{eq "a" "b"}} {{eq .A "x" "y" "z"}} {{ne 1 2}}', { A: 'z' }), 'true false true true');
    assert.equal(render('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}'), 'true true true false');
    assert.equal(render('{{eq .Missing .Missing}} {{eq .Missing 1}}', {}), 'true false');
    execError('{{eq 1 "a"}}', {}, 'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison');
    execError('{{lt true false}}', {}, 'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison');
  });

  test('html, js, urlquery, call', () => {
    assert.equal(render('{{html "<a href=\'x\'>&</a>"}}'), '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
    assert.equal(render('{{js "it\'s <b>"}}'), 'it\\\'s \\u003Cb\\u003E');
    assert.equal(render('{{urlquery "a b&c=d/é"}}'), 'a+b%26c%3Dd%2F%C3%A9');
    // A function-valued property is a method, so `call` takes the func from index.
    assert.equal(render('{{call (index . "F") 2 3}}', { F: (a: number, b: number) => a * b }), '6');
    execError('{{call .X}}', { X: 1 }, 'template: :1:2: executing "" at <call .X>: error calling call: non-function .X of type int');
  });
});

describe("docker's template functions", () => {
  test('json is compact, sorted, without HTML escaping', () => {
    assert.equal(render('{{json .}}', { b: '<x&y>', a: [1, 'two'], c: null }), '{"a":[1,"two"],"b":"<x&y>","c":null}');
    assert.equal(render('{{json .Missing}}', {}), 'null');
    assert.equal(render('{{json .}}', 'str'), '"str"');
    assert.equal(render('{{json .}}', NaN), '');
  });

  test('split, join', () => {
    assert.equal(render('{{split "a,b,c" ","}}'), '[a b c]');
    assert.equal(render('{{split "abc" ""}}'), '[a b c]');
    assert.equal(render('{{len (split "" ",")}}'), '1');
    assert.equal(render('{{join .L ", "}}', { L: ['x', 'y'] }), 'x, y');
    execError('{{join .L ","}}', { L: [1] }, 'template: :1:7: executing "" at <.L>: wrong type for value; expected []string; got []interface {}');
  });

  test('title, lower, upper', () => {
    assert.equal(render('{{title "hello wORLD foo-bar_baz"}}'), 'Hello WORLD Foo-Bar_baz');
    assert.equal(render('{{lower "MiXeD"}} {{upper "straße é"}}'), 'mixed STRAßE É');
  });

  test('pad and truncate', () => {
    assert.equal(render('[{{pad "x" 2 3}}] [{{pad "" 2 3}}]'), '[  x   ] []');
    assert.equal(render('{{truncate "abcdef" 3}} {{truncate "ab" 5}} {{truncate "abc" 3}}'), 'abc ab abc');
    execError('{{pad "x" -1 0}}', {}, 'template: :1:2: executing "" at <pad "x" -1 0>: error calling pad: strings: negative Repeat count');
  });

  test('typed parameters are checked like Go', () => {
    execError('{{pad "x" 1.5 0}}', {}, 'template: :1:10: executing "" at <1.5>: expected integer; found 1.5');
    execError('{{lower 5}}', {}, 'template: :1:8: executing "" at <5>: expected string; found 5');
    execError('{{lower .N}}', { N: 5 }, 'template: :1:8: executing "" at <.N>: wrong type for value; expected string; got int');
    execError('{{lower .Missing}}', {}, 'template: :1:8: executing "" at <.Missing>: invalid value; expected string');
  });

  test('header functions leave the value alone', () => {
    const t = GoTemplate.parse('{{upper .Name}}|{{json .Name}}|{{truncate .Name 2}}');
    assert.equal(t.execute({ Name: 'VOLUME NAME' }, { funcs: HEADER_FUNCS }), 'VOLUME NAME|VOLUME NAME|VOLUME NAME');
    assert.equal(t.execute({ Name: 'volume name' }), 'VOLUME NAME|"volume name"|vo');
  });
});

describe('errors', () => {
  test('parse errors read like Go', () => {
    parseError('{{foo}}', ':1: function "foo" not defined');
    parseError('{{.A', ':1: unclosed action');
    parseError('{{if .A}}x', ':1: unexpected EOF');
    parseError('{{end}}', ':1: unexpected {{end}}');
    parseError('{{else}}', ':1: unexpected {{else}}');
    parseError('{{}}', ':1: missing value for command');
    parseError('{{if}}{{end}}', ':1: missing value for if');
    parseError('{{.A | 1}}', ':1: non executable command in pipeline stage 2');
    parseError('{{"abc}}', ':1: unterminated quoted string');
    parseError('{{(.A}}', ':1: unclosed left paren');
    parseError('{{.A)}}', ':1: unexpected right paren');
    parseError('{{range $a, $b, $c := .}}{{end}}', ':1: too many declarations in range');
    parseError('{{with $a, $b := .}}{{end}}', ':1: too many declarations in with');
    parseError('{{if .A}}{{else}}{{else}}{{end}}', ':1: expected end; found {{else}}');
    parseError('{{"x".A}}', ':1: unexpected . after term "\\"x\\""');
    parseError('{{.A}}\n{{.B\n', ':3: unclosed action started at :2');
    parseError('{{3x}}', ':1: bad number syntax: "3x"');
  });

  test('execution errors carry position and context', () => {
    execError('{{.Foo}}', 'str', 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type string');
    execError('x\n  {{.A.B}}', { A: null }, 'template: :2:6: executing "" at <.A.B>: nil pointer evaluating interface {}.B');
    execError('{{index .A 5}}', { A: [1] }, 'template: :1:2: executing "" at <index .A 5>: error calling index: index out of range: 5');
    execError('{{len 3}}', {}, 'template: :1:2: executing "" at <len 3>: error calling len: len of type int');
    execError('{{nil}}', {}, 'template: :1:2: executing "" at <nil>: nil is not a command');
    execError('{{.A 1}}', { A: 'v' }, 'template: :1:2: executing "" at <.A>: A is not a method but has arguments');
    execError('{{"x" 1}}', {}, 'template: :1:2: executing "" at <"x">: can\'t give argument to non-function "x"');
  });

  test('method errors', () => {
    execError('{{.Name "x"}}', { Name: () => 'n' }, 'template: :1:2: executing "" at <.Name>: wrong number of args for Name: want 0 got 1');
    execError('{{.Label}}', { Label: (k: string) => k }, 'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0');
    execError('{{.Boom}}', { Boom: () => { throw new Error('bad'); } }, 'template: :1:2: executing "" at <.Boom>: error calling Boom: bad');
  });

  test('class instances act as structs: unknown fields are errors', () => {
    class VolumeCtx {
      Name(): string {
        return 'v';
      }
    }
    assert.equal(render('{{.Name}}', new VolumeCtx()), 'v');
    execError('{{.Nope}}', new VolumeCtx(), 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *VolumeCtx');
  });

  test('execution errors keep the partial output', () => {
    const t = GoTemplate.parse('before {{.A.B}} after');
    assert.throws(() => t.execute({ A: 3 }), (e: unknown) => e instanceof TemplateExecError && e.partial === 'before ');
  });
});
