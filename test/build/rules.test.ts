// The builder's rules outside the Dockerfile grammar: .dockerignore
// matching (moby/patternmatcher), build args (BuildArgs), destinations,
// EXPOSE and STOPSIGNAL values, and the cache's config comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IgnorePatterns, readIgnoreFile } from '../../src/build/ignore-patterns.js';
import { BuildArgs } from '../../src/build/build-args.js';
import { normalizeDest, parseChmod } from '../../src/build/copier.js';
import { checkSignal, normalizeWorkdir, parseExposedPorts } from '../../src/build/config-instructions.js';
import { sameRunConfig, type RunConfig } from '../../src/build/run-config.js';

test('.dockerignore: the file format, globs, ** and exceptions, later patterns winning', () => {
  assert.deepEqual(readIgnoreFile('\ufeff# comment\n  *.log  \n/abs/../dir/\n! keep.log\n\n'), ['*.log', 'dir', '!keep.log']);
  const p = new IgnorePatterns(['*.log', '!keep.log', 'build', '**/tmp', 'docs/**', 'a?c', '[x-z].txt']);
  const matched = (f: string): boolean => p.matchesOrParentMatches(f);
  assert.equal(matched('x.log'), true);
  assert.equal(matched('keep.log'), false, 'an exception after the pattern');
  assert.equal(matched('sub/x.log'), false, '* does not cross directories');
  assert.equal(matched('build'), true);
  assert.equal(matched('build/out/f'), true, 'a matched parent excludes what is below');
  assert.equal(matched('tmp'), true);
  assert.equal(matched('a/b/tmp'), true);
  assert.equal(matched('a/b/tmp/f'), true);
  assert.equal(matched('docs/x/y'), true);
  assert.equal(matched('abc'), true);
  assert.equal(matched('abbc'), false);
  assert.equal(matched('y.txt'), true);
  assert.equal(matched('Dockerfile'), false);
  assert.equal(p.hasExclusions, true);
  assert.throws(() => new IgnorePatterns(['!']), /illegal exclusion pattern: "!"/);
  assert.throws(() => new IgnorePatterns(['[']), /syntax error in pattern/);
});

test('build args: declared ones reach RUN, meta args give defaults, predefined proxies pass, unused ones are reported', () => {
  const args = new BuildArgs(new Map<string, string | null>([['A', 'from-cli'], ['HTTP_PROXY', 'http://proxy'], ['UNUSED', '1'], ['NOVALUE', null]]));
  args.addArg('BASE', 'meta');
  args.addMetaArg('BASE', 'meta');
  assert.deepEqual([...args.allMeta()], [['BASE', 'meta'], ['HTTP_PROXY', 'http://proxy']]);
  const stage = args.forStage();
  assert.deepEqual([...stage.allAllowed()], [['HTTP_PROXY', 'http://proxy']], 'a stage starts with no declared ARG');
  stage.addArg('A', 'default');
  stage.addArg('BASE', null);
  stage.addArg('NOVALUE', null);
  assert.deepEqual(new Map(stage.allAllowed()), new Map([['A', 'from-cli'], ['BASE', 'meta'], ['HTTP_PROXY', 'http://proxy']]), '--build-arg beats the default; a bare ARG takes the meta value');
  assert.deepEqual(stage.filterAllowed(['A=from-env']).sort(), ['BASE=meta', 'HTTP_PROXY=http://proxy'], 'ENV wins over an ARG of the same name');
  assert.equal(stage.isReferencedOrNotBuiltin('HTTP_PROXY'), false, 'an undeclared proxy stays out of the cache key');
  args.mergeReferenced(stage);
  assert.deepEqual(args.unused(), ['UNUSED']);
});

test('destinations, working directories, --chmod, EXPOSE and STOPSIGNAL values', () => {
  assert.equal(normalizeDest('/app', 'sub/'), '/app/sub/');
  assert.equal(normalizeDest('/app', '.'), '/app');
  assert.equal(normalizeDest('', 'x'), '/x');
  assert.equal(normalizeDest('/app', '/abs/'), '/abs/');
  assert.equal(normalizeWorkdir('/a', 'b/../c/'), '/a/c');
  assert.equal(normalizeWorkdir('/a', '/x//y/'), '/x/y');
  assert.equal(parseChmod('755'), 0o755);
  assert.equal(parseChmod(''), null);
  assert.throws(() => parseChmod('u+x'), /invalid chmod parameter: u\+x/);
  assert.deepEqual(parseExposedPorts(['80', '53/UDP', '7000-7001/tcp', '8080/']), ['80/tcp', '53/udp', '7000/tcp', '7001/tcp', '8080/tcp']);
  assert.throws(() => parseExposedPorts(['99999']), /^.*invalid containerPort: 99999$/);
  assert.throws(() => parseExposedPorts(['80/bogus']), /invalid proto: bogus/);
  for (const ok of ['SIGTERM', 'term', '9', 'SIGRTMIN+3', 'RTMAX']) assert.doesNotThrow(() => checkSignal(ok), ok);
  for (const bad of ['0', 'SIGBOGUS', '']) assert.throws(() => checkSignal(bad), /Invalid signal/, bad);
});

test('cache: a step matches only a config equal in what moby compares', () => {
  const base: RunConfig = { Env: ['PATH=/bin'], Cmd: ['/bin/sh', '-c', '#(nop) ', 'ENV A=1'], Labels: { a: '1' }, ExposedPorts: { '80/tcp': {} } };
  assert.equal(sameRunConfig(structuredClone(base), structuredClone(base)), true);
  assert.equal(sameRunConfig({ ...base, Labels: {} }, { ...base, Labels: null }), true, 'no labels is no labels');
  assert.equal(sameRunConfig(base, { ...base, Cmd: ['/bin/sh', '-c', '#(nop) ', 'ENV A=2'] }), false);
  assert.equal(sameRunConfig(base, { ...base, Labels: { a: '2' } }), false);
  assert.equal(sameRunConfig(base, { ...base, User: 'nobody' }), false);
  assert.equal(sameRunConfig(base, { ...base, Healthcheck: { Test: ['NONE'] } }), false);
  assert.equal(sameRunConfig(base, { ...base, Image: 'sha256:other' }), true, 'the image is the parent, compared apart');
});
