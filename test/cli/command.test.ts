import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { arityError, normalizeBoolFlags } from '../../src/cli/command.js';

test("docker 28.2's argument-count messages", () => {
  const use = 'berth x [OPTIONS]';
  assert.equal(arityError('berth x', use, { none: true }, 0), undefined);
  assert.equal(arityError('berth x', use, { none: true }, 1), "berth: 'berth x' accepts no arguments\n\nUsage:  berth x [OPTIONS]\n\nRun 'berth x --help' for more information");
  assert.equal(arityError('berth x', use, { min: 2 }, 1), "berth: 'berth x' requires at least 2 arguments\n\nUsage:  berth x [OPTIONS]\n\nSee 'berth x --help' for more information");
  // The typo is docker's own.
  assert.equal(arityError('berth x', use, { max: 1 }, 2), "berth: 'berth x' requires at most 1 argument\n\nUsage:  berth x [OPTIONS]\n\nSRun 'berth x --help' for more information");
  assert.equal(arityError('berth x', use, { exact: 1 }, 0), "berth: 'berth x' requires 1 argument\n\nUsage:  berth x [OPTIONS]\n\nRun 'berth x --help' for more information");
  assert.equal(arityError('berth x', use, { exact: 2 }, 2), undefined);
});

test('pflag boolean forms (--rm=false, -d=true, -e=V) before the image; the container command is left alone', () => {
  const c = new Command('run').option('-e, --env <v>').option('--rm').option('-d, --detach').option('-i').option('-t').option('--no-trunc').option('--name <n>');
  const n = (args: string[], stop = true) => normalizeBoolFlags(c, args, stop);
  assert.deepEqual(n(['--rm=false', 'busybox', '--rm=true']), ['busybox', '--rm=true']);
  assert.deepEqual(n(['-d=true', '-e', 'A=1', '--name', 'x', 'img', '-d=false']), ['-d', '-e', 'A=1', '--name', 'x', 'img', '-d=false']);
  assert.deepEqual(n(['-it', '-eFOO', 'img']), ['-it', '-eFOO', 'img']);
  assert.deepEqual(n(['-e=FOO', 'img']), ['-e', 'FOO', 'img']);
  assert.deepEqual(n(['--no-trunc=true']), ['--no-trunc']);
  assert.deepEqual(n(['-ite', '--rm=1', 'img']), ['-ite', '--rm=1', 'img'], "-e's value is the next token");
  assert.throws(() => n(['--rm=maybe']), /^Error: invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax$|invalid argument "maybe" for "--rm" flag: strconv\.ParseBool: parsing "maybe": invalid syntax/);
  assert.throws(() => n(['-d=x']), /invalid argument "x" for "-d, --detach" flag/);
  assert.deepEqual(n(['a', '--rm=false'], false), ['a'], 'interspersed flags elsewhere');
});
