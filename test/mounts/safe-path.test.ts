// resolveInside (volume-subpath) and resolveInScope (image rootfs paths).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInScope, resolveInside } from '../../src/mounts/safe-path.js';

let work = '';
let root = '';
let outside = '';

before(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'berth-safepath-')));
  root = join(work, 'vol');
  outside = join(work, 'outside');
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  mkdirSync(join(root, 'var', 'data'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'file'), 'x');
  symlinkSync('a/b', join(root, 'rel-in'));
  symlinkSync(join(root, 'a'), join(root, 'abs-in'));
  symlinkSync('/etc', join(root, 'abs-out'));
  symlinkSync('../outside', join(root, 'rel-out'));
  symlinkSync('../../..', join(root, 'a', 'b', 'up'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('/var/data', join(root, 'data'));
  symlinkSync('rel-in', join(root, 'chain'));
  symlinkSync('nowhere', join(root, 'dangling'));
});

after(() => rmSync(work, { recursive: true, force: true }));

const inside: Array<{ sub: string; want: (r: string) => string; mustExist?: boolean }> = [
  { sub: 'a/b', want: (r) => join(r, 'a/b') },
  { sub: '', want: (r) => r },
  { sub: '.', want: (r) => r },
  { sub: 'a/../a/./b/', want: (r) => join(r, 'a/b') },
  { sub: 'rel-in', want: (r) => join(r, 'a/b') },
  { sub: 'chain', want: (r) => join(r, 'a/b') },
  { sub: 'abs-in/b', want: (r) => join(r, 'a/b') },
  // '..' is applied lexically first, as dockerd's filepath.Join does
  { sub: 'rel-in/..', want: (r) => r },
  { sub: 'file', want: (r) => join(r, 'file') },
  { sub: 'a/new/deeper', mustExist: false, want: (r) => join(r, 'a/new/deeper') },
  { sub: 'dangling', mustExist: false, want: (r) => join(r, 'nowhere') },
];

for (const c of inside) {
  test(`resolveInside ok: ${JSON.stringify(c.sub)}`, async () => {
    assert.equal(await resolveInside(root, c.sub, { mustExist: c.mustExist ?? true }), c.want(root));
  });
}

const escapes = ['../outside', '/etc', 'abs-out', 'rel-out', 'a/b/up', 'abs-out/passwd', 'a/../../outside'];

for (const sub of escapes) {
  test(`resolveInside escape: ${sub}`, async () => {
    await assert.rejects(resolveInside(root, sub), {
      name: 'InvalidParameter',
      message: `path concatenation escapes the base directory, base: ${root}, subpath: ${sub}`,
    });
  });
}

test('resolveInside: missing paths are NotFound unless mustExist is false', async () => {
  await assert.rejects(resolveInside(root, 'a/missing'), { name: 'NotFound' });
  await assert.rejects(resolveInside(root, 'file/below'), { name: 'NotFound' });
  await assert.rejects(resolveInside(join(work, 'no-root'), 'a'), { name: 'NotFound' });
});

test('resolveInside: a symlink to a missing host path outside is still an escape', async () => {
  await assert.rejects(resolveInside(root, 'data', { mustExist: false }), { name: 'InvalidParameter' });
});

test('resolveInside: allowMissing is an alias of mustExist: false', async () => {
  assert.equal(await resolveInside(root, 'a/new', { allowMissing: true }), join(root, 'a/new'));
});

test('resolveInside: symlink loops are refused', async () => {
  await assert.rejects(resolveInside(root, 'loop1'), { name: 'InvalidParameter' });
});

test('resolveInside: a missing tail cannot climb out', async () => {
  await assert.rejects(resolveInside(root, 'a/missing/../../..', { mustExist: false }), { name: 'InvalidParameter' });
});

const scoped: Array<{ p: string; want: string | (() => string) }> = [
  { p: '/data', want: 'var/data' },
  { p: 'data', want: 'var/data' },
  { p: '/abs-out', want: 'etc' },
  { p: '/rel-out', want: 'outside' },
  { p: '/a/b/up', want: '' },
  { p: '/../../a', want: 'a' },
  { p: '/missing/x', want: 'missing/x' },
  // an absolute target is read inside the scope: the host path of root is not special
  { p: '/abs-in/b', want: () => `${root.slice(1)}/a/b` },
];

for (const c of scoped) {
  test(`resolveInScope: ${c.p}`, async () => {
    const want = typeof c.want === 'function' ? c.want() : c.want;
    assert.equal(await resolveInScope(root, c.p), want === '' ? root : join(root, want));
  });
}
