// ArchiveMembers: the refusals a tar archive earns by itself, the same for
// the extractor and for berthd's check of a docker cp upload, and what it
// tells the extractor about each member (its components, the parents no
// earlier member made, what an earlier member made at its name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ArchiveMembers, type DotDotRule } from '../../src/archive/archive-members.js';
import { ByteReader, readTar, type TarHeader } from '../../src/archive/tar/reader.js';
import { END_OF_ARCHIVE } from '../../src/archive/tar/writer.js';
import { InvalidArchive } from '../../src/errors.js';
import { link, member } from '../helpers/tar-member.js';

async function headers(parts: Buffer[]): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  for await (const e of readTar(new ByteReader(Readable.from([Buffer.concat([...parts, END_OF_ARCHIVE])])))) out.push(e.header);
  return out;
}

/** Admits the members in order; the last one's admission, or its refusal's message. */
async function admitAll(rule: DotDotRule, parts: Buffer[]): Promise<ReturnType<ArchiveMembers['admit']> | string> {
  const members = new ArchiveMembers(rule);
  const all = await headers(parts);
  try {
    for (const h of all.slice(0, -1)) members.admit(h);
    return members.admit(all.at(-1)!);
  } catch (e) {
    assert.ok(e instanceof InvalidArchive, String(e));
    return (e as Error).message;
  }
}

const names = (r: Awaited<ReturnType<typeof admitAll>>): string[] | string => (typeof r === 'string' ? r : r.parts.map((p) => p.toString()));
const dir = (path: string) => member({ path, type: 'directory', size: 0 });

test('`..` is refused outright for volume imports and resolved on the name for docker cp, never above the root', async () => {
  assert.match(names(await admitAll('refuse', [member({ path: 'a/../b' })])) as string, /contains "\.\."/);
  assert.deepEqual(names(await admitAll('lexical', [member({ path: 'a/../b' })])), ['b']);
  assert.deepEqual(names(await admitAll('lexical', [member({ path: './a//b/./c' })])), ['a', 'b', 'c']);
  for (const path of ['..', '../x', 'a/../../x', './../x']) {
    assert.match(names(await admitAll('lexical', [member({ path })])) as string, /is outside of the directory/, path);
  }
  for (const rule of ['refuse', 'lexical'] as const) {
    assert.match(names(await admitAll(rule, [member({ path: '/etc/passwd' })])) as string, /absolute name/);
    assert.deepEqual(names(await admitAll(rule, [dir('./')])), []);
    assert.match(names(await admitAll(rule, [member({ path: './' })])) as string, /names the root but is not a directory/);
  }
});

test('the parents no earlier member made, and what an earlier member made at a name', async () => {
  const members = new ArchiveMembers('lexical');
  const [abc, abd, axy, a, again, f, f2] = await headers([
    member({ path: 'a/b/c' }),
    member({ path: 'a/b/d' }),
    member({ path: 'a/x/y' }),
    dir('a'),
    dir('a/'),
    member({ path: 'f' }),
    member({ path: 'f' }),
  ]);
  assert.deepEqual({ ...members.admit(abc!), parts: undefined }, { parts: undefined, firstNewParent: 0, previous: undefined });
  assert.equal(members.admit(abd!).firstNewParent, 2, 'a and a/b were made: no new parent');
  assert.equal(members.admit(axy!).firstNewParent, 1, 'a/x is new');
  assert.equal(members.admit(a!).previous, 'implicit-directory');
  assert.equal(members.admit(again!).previous, 'directory');
  assert.equal(members.admit(f!).previous, undefined);
  assert.equal(members.admit(f2!).previous, 'other');
});

test('refusals that follow from the archive alone', async () => {
  for (const rule of ['refuse', 'lexical'] as const) {
    const refused = async (parts: Buffer[], pattern: RegExp) => assert.match(names(await admitAll(rule, parts)) as string, pattern);
    await refused([link('l', '/etc'), member({ path: 'l/passwd' })], /beneath l, which is not a directory/);
    await refused([member({ path: 'f' }), member({ path: 'f/x' })], /beneath f, which is not a directory/);
    await refused([dir('d'), member({ path: 'd' })], /would replace a directory/);
    await refused([member({ path: 'd/x' }), link('d', 'elsewhere')], /would replace a directory/);
    await refused([link('h', 'later', 'hardlink'), member({ path: 'later' })], /not an earlier file/);
    await refused([dir('d'), link('h', 'd', 'hardlink')], /not an earlier file/);
    await refused([link('h', './', 'hardlink')], /not an earlier file/);
  }
  // A hard link to an earlier member, named any way that reaches it.
  const ok = await admitAll('lexical', [member({ path: 'd/f' }), link('h', './d/../d/f', 'hardlink')]);
  assert.ok(typeof ok !== 'string');
  assert.deepEqual(ok.linkTarget!.map((p) => p.toString()), ['d', 'f']);
});
