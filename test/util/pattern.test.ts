// Filter patterns follow Go's regexp (RE2) and path.Match, in linear time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatcher, regexpMatcher } from '../../src/util/pattern.js';
import { nameMatcher } from '../../src/volumes/filters.js';

// A backtracking engine never finishes these; the runner's timeout turns a hang into a failure.
const HOSTILE = ['^(a+)+b$', '(a|aa)+c', '(a*)*b', '^(([a-z])+.)+[A-Z]([a-z])+$'];

test('hostile regexps finish at once against long inputs', { timeout: 60_000 }, () => {
  const input = 'a'.repeat(50_000);
  for (const p of HOSTILE) {
    const m = regexpMatcher(p);
    assert.ok(m, p);
    assert.equal(m(input), false, p);
  }
  assert.equal(nameMatcher(['^(a+)+b$'])('a'.repeat(40)), false);
});

test('regexp: unanchored search with Go syntax; what Go rejects is null', () => {
  assert.equal(regexpMatcher('ol')!('volume'), true);
  assert.equal(regexpMatcher('^vol$')!('volume'), false);
  assert.equal(regexpMatcher('(?i)VOL')!('volume'), true);
  assert.equal(regexpMatcher('\\pL+')!('é'), true);
  assert.equal(regexpMatcher('(?P<n>x)')!('x'), true);
  for (const bad of ['(', '[a', 'a**', '(?=x)', '\\1']) assert.equal(regexpMatcher(bad), null, bad);
});

test('name filter: exact names match even when they are not valid regexps', () => {
  const m = nameMatcher(['data[', 'web']);
  assert.equal(m('data['), true);
  assert.equal(m('my-web-1'), true);
  assert.equal(m('data'), false);
});

test('glob: path.Match semantics', () => {
  const yes: Array<[string, string]> = [
    ['busybox', 'busybox'],
    ['busy*', 'busybox'],
    ['*', 'busybox:latest'],
    ['b?sybox', 'busybox'],
    ['[a-c]usybox', 'busybox'],
    ['[^x]usybox', 'busybox'],
    ['[\\]]x', ']x'],
    ['a\\*b', 'a*b'],
    ['*/*', 'library/busybox'],
    ['x*', 'xy'],
  ];
  for (const [g, s] of yes) assert.equal(globMatcher(g)!(s), true, `${g} ~ ${s}`);
  const no: Array<[string, string]> = [
    ['busy*', 'library/busybox'],
    ['*', 'a/b'],
    ['b?sybox', 'b/sybox'],
    ['[^b]usybox', 'busybox'],
    ['a\\*b', 'axb'],
    ['[b-a]x', 'bx'],
    ['.*', 'busybox'],
    ['(a)', 'a'],
  ];
  for (const [g, s] of no) assert.equal(globMatcher(g)!(s), false, `${g} !~ ${s}`);
  assert.equal(globMatcher('[^b-a]x')!('qx'), true);
  for (const bad of ['[', '[]', '[a-]', 'a\\', '[-a]', '[a']) assert.equal(globMatcher(bad), null, bad);
});

test('glob: many stars against a long name finish at once', { timeout: 60_000 }, () => {
  const m = globMatcher(`${'*a'.repeat(40)}b`)!;
  assert.equal(m('a'.repeat(20_000)), false);
});
