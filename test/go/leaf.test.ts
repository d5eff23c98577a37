// src/go is a leaf: core and CLI both import it, so it must import nothing
// from berth (only its own files and Node built-ins).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const GO_DIR = join(resolve(import.meta.dirname, '..', '..'), 'src', 'go');

test('src/go imports only itself and node: built-ins', () => {
  const files = readdirSync(GO_DIR).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 4, `compiled modules in ${GO_DIR}: ${files.join(', ')}`);
  for (const f of files) {
    const specifiers = [...readFileSync(join(GO_DIR, f), 'utf8').matchAll(/\bfrom\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const s of specifiers) assert.ok(/^\.\/[\w-]+\.js$/.test(s) || s.startsWith('node:'), `${f} imports ${s}`);
  }
});
