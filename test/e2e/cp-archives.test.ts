// docker cp and berth cp on berth's own tar codec: the member names GET
// archive serves (Docker's), xattrs and hard links both ways, Docker's
// refusal to replace a directory with a file and back, owners with and
// without -a, and an upload admitted whole before anything is written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { berth as runBerth, docker as runDocker, type RunResult, dockerOk } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { api } from '../helpers/http.js';
import { link, member } from '../helpers/tar-member.js';
import { readMountInfo } from '../../src/util/mount.js';
import { ByteReader, readTar } from '../../src/archive/tar/reader.js';
import { END_OF_ARCHIVE } from '../../src/archive/tar/writer.js';
import { getXattr, setXattr } from '../../src/fs/xattrs.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let work: string;
let id: string;
/** The container's /data, a named volume, as the host sees it. */
let data: string;
const NAME = 'cpa';
const docker = (...args: string[]): Promise<RunResult> => runDocker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);
const berth = (...args: string[]): Promise<RunResult> => runBerth(d.env, ...args);

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
  work = mkdtempSync(join(tmpdir(), 'berth-cpa-'));
  await ok('run', '-d', '--name', NAME, '-v', 'cpa-vol:/data', 'busybox', 'sleep', '600');
  id = (await ok('inspect', '-f', '{{.Id}}', NAME)).trim();
  data = join(d.dataRoot, 'volumes', 'cpa-vol', '_data');
});

after(async () => {
  try {
    await docker('rm', '-f', NAME);
    await d.cleanup();
    const left = readMountInfo().filter((m) => m.mountPoint.startsWith(d.dir));
    assert.deepEqual(left.map((m) => m.mountPoint), [], 'mounts left behind');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/** A fresh host directory under the work dir. */
function hostDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

/** GET archive of `path`, listed as [name, type, link target] by the codec's reader. */
function getArchive(path: string): Promise<Array<[string, string, string]>> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'GET', path: `/containers/${id}/archive?path=${encodeURIComponent(path)}` }, (res) => {
      assert.equal(res.statusCode, 200, path);
      const list = async () => {
        const out: Array<[string, string, string]> = [];
        for await (const e of readTar(new ByteReader(res), { requireEnd: true })) out.push([e.header.path, e.header.type, e.header.linkpath]);
        return out;
      };
      list().then(resolve, reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function put(path: string, body: Buffer, query = ''): Promise<{ status: number; message: string }> {
  const r = await api(d.socket, 'PUT', `/containers/${id}/archive?path=${encodeURIComponent(path)}${query}`, undefined, {
    rawBody: body,
    contentType: 'application/x-tar',
  });
  return { status: r.status, message: r.json?.message ?? '' };
}

test("GET archive names members as Docker does: a directory below its basename, '/.' its contents, a file or a symlink as one member", async () => {
  mkdirSync(join(data, 'names', 'sub'), { recursive: true });
  writeFileSync(join(data, 'names', 'a'), 'a\n');
  linkSync(join(data, 'names', 'a'), join(data, 'names', 'hl'));
  symlinkSync('/etc/passwd', join(data, 'names', 'l'));
  writeFileSync(join(data, 'names', 'sub', 'b'), 'b\n');
  const tree = (top: string) => [
    [top === '.' ? './' : `${top}/`, 'directory', ''],
    [`${top}/a`, 'file', ''],
    [`${top}/hl`, 'hardlink', `${top}/a`],
    [`${top}/l`, 'symlink', '/etc/passwd'],
    [`${top}/sub/`, 'directory', ''],
    [`${top}/sub/b`, 'file', ''],
  ];
  assert.deepEqual(await getArchive('/data/names'), tree('names'));
  assert.deepEqual(await getArchive('/data/names/'), tree('names'));
  assert.deepEqual(await getArchive('/data/names/.'), tree('.'));
  assert.deepEqual(await getArchive('/data/names/a'), [['a', 'file', '']]);
  assert.deepEqual(await getArchive('/data/names/l'), [['l', 'symlink', '/etc/passwd']]);

  // docker cp of '/.' copies the contents into an existing directory.
  const into = hostDir('contents');
  await ok('cp', `${NAME}:/data/names/.`, into);
  assert.deepEqual(readdirSync(into).sort(), ['a', 'hl', 'l', 'sub']);
});

test('xattrs and hard links survive docker cp and berth cp, both ways', async () => {
  mkdirSync(join(data, 'linked'));
  writeFileSync(join(data, 'linked', 'f'), 'linked\n');
  linkSync(join(data, 'linked', 'f'), join(data, 'linked', 'g'));
  setXattr(join(data, 'linked', 'f'), 'user.berth', Buffer.from([0, 0xff, 7]));
  const sameFile = (a: string, b: string) => assert.equal(statSync(a).ino, statSync(b).ino, `${a} and ${b} are one file`);

  // Out: every xattr travels in the archive; the docker CLI and berth CLI both restore it.
  for (const [cli, run] of [['docker', docker], ['berth', berth]] as const) {
    const out = join(work, `${cli}-linked`);
    const r = await run('cp', `${NAME}:/data/linked`, out);
    assert.equal(r.code, 0, r.stderr);
    sameFile(join(out, 'f'), join(out, 'g'));
    assert.deepEqual(getXattr(join(out, 'f'), 'user.berth'), Buffer.from([0, 0xff, 7]), cli);
  }

  // In: the docker CLI packs only security.capability; berth's exporter packs every xattr.
  const src = hostDir('linked-in');
  writeFileSync(join(src, 'tool'), 'cap\n');
  execFileSync('setcap', ['cap_net_raw+ep', join(src, 'tool')]);
  setXattr(join(src, 'tool'), 'user.berth', Buffer.from('in'));
  linkSync(join(src, 'tool'), join(src, 'tool-link'));
  await ok('cp', src, `${NAME}:/data/by-docker`);
  const b = await berth('cp', src, `${NAME}:/data/by-berth`);
  assert.equal(b.code, 0, b.stderr);
  const cap = getXattr(join(src, 'tool'), 'security.capability');
  for (const dir of ['by-docker', 'by-berth']) {
    sameFile(join(data, dir, 'tool'), join(data, dir, 'tool-link'));
    assert.deepEqual(getXattr(join(data, dir, 'tool'), 'security.capability'), cap, dir);
  }
  assert.deepEqual(getXattr(join(data, 'by-berth', 'tool'), 'user.berth'), Buffer.from('in'));
});

test("a directory is not replaced by a file, nor a file by a directory: docker cp and berth cp get Docker's refusal; without noOverwriteDirNonDir the API replaces", async () => {
  mkdirSync(join(data, 't', 'x'), { recursive: true });
  writeFileSync(join(data, 't', 'x', 'inner'), 'inner\n');
  const src = hostDir('clash');
  writeFileSync(join(src, 'x'), 'a file\n');
  for (const run of [docker, berth]) {
    const r = await run('cp', `${src}/.`, `${NAME}:/data/t`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot overwrite directory "\/data\/t\/x" with non-directory "\/data\/t"/);
    assert.equal(readFileSync(join(data, 't', 'x', 'inner'), 'utf8'), 'inner\n');
  }
  // The other way round, extracted by the berth CLI on this side.
  const dst = hostDir('clash-out');
  writeFileSync(join(dst, 'x'), 'a file here\n');
  const back = await berth('cp', `${NAME}:/data/t/.`, dst);
  assert.notEqual(back.code, 0);
  assert.match(back.stderr, /cannot overwrite non-directory ".*\/clash-out\/x" with directory/);
  assert.equal(readFileSync(join(dst, 'x'), 'utf8'), 'a file here\n');

  const replaced = await put('/data/t', Buffer.concat([member({ path: 'x' }, Buffer.from('now a file\n')), END_OF_ARCHIVE]));
  assert.equal(replaced.status, 200, replaced.message);
  assert.equal(readFileSync(join(data, 't', 'x'), 'utf8'), 'now a file\n');
});

test('owners: root without -a, the archive ids with -a', async () => {
  const src = hostDir('owned');
  writeFileSync(join(src, 'f'), 'owned\n');
  chownSync(join(src, 'f'), 1234, 2345);
  chownSync(src, 1234, 2345);
  await ok('cp', src, `${NAME}:/data/plain-owned`);
  await ok('cp', '-a', src, `${NAME}:/data/archive-owned`);
  const ids = (p: string) => `${lstatSync(p).uid}:${lstatSync(p).gid}`;
  assert.equal(ids(join(data, 'plain-owned')), '0:0');
  assert.equal(ids(join(data, 'plain-owned', 'f')), '0:0');
  assert.equal(ids(join(data, 'archive-owned')), '1234:2345');
  assert.equal(ids(join(data, 'archive-owned', 'f')), '1234:2345');
});

test('an upload is admitted whole before anything is written; compressed uploads are taken', async () => {
  mkdirSync(join(data, 'whole'));
  const good = member({ path: 'good-first' }, Buffer.from('good\n'));
  const beneathLink = await put('/data/whole', Buffer.concat([good, link('l', '/'), member({ path: 'l/etc/evil' }, Buffer.from('x')), END_OF_ARCHIVE]));
  assert.equal(beneathLink.status, 400);
  assert.match(beneathLink.message, /beneath l, which is not a directory/);
  const linkOut = await put('/data/whole', Buffer.concat([good, link('h', 'not-in-archive', 'hardlink'), END_OF_ARCHIVE]));
  assert.equal(linkOut.status, 400);
  assert.match(linkOut.message, /not an earlier file in the archive/);
  const truncated = await put('/data/whole', good);
  assert.equal(truncated.status, 400);
  assert.match(truncated.message, /invalid tar archive: .*end-of-archive/);
  assert.deepEqual(readdirSync(join(data, 'whole')), [], 'nothing extracted');

  const gz = await put('/data/whole', gzipSync(Buffer.concat([member({ path: 'zipped' }, Buffer.from('gzip\n')), END_OF_ARCHIVE])));
  assert.equal(gz.status, 200, gz.message);
  assert.equal(readFileSync(join(data, 'whole', 'zipped'), 'utf8'), 'gzip\n');
});

test('berth cp: a directory to a new name, then its contents merged into a local directory that has files', async () => {
  const src = hostDir('tree');
  mkdirSync(join(src, 'sub'));
  writeFileSync(join(src, 'sub', 'b'), 'b\n');
  symlinkSync('sub/b', join(src, 'l'));
  const up = await berth('cp', src, `${NAME}:/data/renamed`);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(readFileSync(join(data, 'renamed', 'sub', 'b'), 'utf8'), 'b\n');
  assert.equal(lstatSync(join(data, 'renamed', 'l')).isSymbolicLink(), true);

  const local = hostDir('merge-into');
  writeFileSync(join(local, 'mine'), 'mine\n');
  mkdirSync(join(local, 'sub'));
  writeFileSync(join(local, 'sub', 'kept'), 'kept\n');
  const down = await berth('cp', `${NAME}:/data/renamed/.`, local);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(readdirSync(local).sort(), ['l', 'mine', 'sub']);
  assert.deepEqual(readdirSync(join(local, 'sub')).sort(), ['b', 'kept']);
});
