import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goErrnoText, goPathError } from '../../src/util/go-errno.js';
import { errnoError } from '../../src/util/libc.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

test("Node's fs errors read as Go's *os.PathError, with Go's errno texts where libuv's differ", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-go-errno-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'missing');
  assert.equal(goPathError(thrown(() => lstatSync(missing))), `lstat ${missing}: no such file or directory`);
  // libuv says "file already exists"; Go says "file exists".
  assert.equal(goPathError(thrown(() => mkdirSync(dir))), `mkdir ${dir}: file exists`);
  // libuv says "too many symbolic links encountered".
  const loop = join(dir, 'loop');
  symlinkSync(loop, loop);
  assert.equal(goPathError(thrown(() => openSync(join(loop, 'x'), 'r')), 'open', 'x'), 'open x: too many levels of symbolic links');
  assert.equal(goErrnoText(thrown(() => lstatSync(missing))), 'no such file or directory');
});

test("libc.ts errors: Go's text by code, else the text their message carries; anything else is its own text", () => {
  assert.equal(goErrnoText(errnoError(19, 'mount', '/x')), 'no such device');
  assert.equal(goErrnoText(errnoError(121, 'mount', '/x')), 'remote i/o error');
  assert.equal(goPathError(errnoError(2, 'openat2', 'a/b')), 'openat2 a/b: no such file or directory');
  assert.equal(goErrnoText(new Error('plain')), 'plain');
  assert.equal(goPathError(new Error('plain'), 'open', '/f'), 'open /f: plain');
});
