// berth volume export | import | clone through the CLI against a real
// berthd (docs/volume-archives.md): GNU tar and bsdtar read berth's archives
// cleanly, GNU-tar archives (plain and compressed) import exactly, refusals
// change nothing, clone copies exactly, progress modes, and podman both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { berth, docker } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { buildFixture, manifest, type Entry } from '../helpers/tree-manifest.js';

const TAR_FLAGS = ['--format=posix', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-S'];
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

let d: TestDaemon & { cleanup: () => Promise<void> };
let work: string;
let fixture: string;
let refTar: string;
before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
  work = mkdtempSync(join(tmpdir(), 'berth-volarch-'));
  fixture = join(work, 'fixture');
  buildFixture(fixture);
  refTar = join(work, 'ref.tar');
  execFileSync('tar', [...TAR_FLAGS, '-C', fixture, '-cf', refTar, '.']);
});
after(async () => {
  await docker(d.env, 'rm', '-f', 'volarch-writer');
  await d.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const mountpoint = (vol: string) => join(d.dataRoot, 'volumes', vol, '_data');
const ok = async (...args: string[]) => {
  const r = await berth(d.env, ...args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r;
};

/** Runs berth with stdin and/or stdout connected to files (binary-safe). */
function berthIo(io: { stdin?: string; stdout?: string }, ...args: string[]): Promise<{ code: number; stderr: string }> {
  const inFd = io.stdin ? openSync(io.stdin, 'r') : 'ignore';
  const outFd = io.stdout ? openSync(io.stdout, 'w') : 'ignore';
  const child = spawn(process.execPath, ['--', BERTH, ...args], { env: d.env, stdio: [inFd, outFd, 'pipe'] });
  if (typeof inFd === 'number') closeSync(inFd);
  if (typeof outFd === 'number') closeSync(outFd);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 128, stderr })));
}

/** Runs berth on a pseudo-terminal (stdin, stdout and stderr are the tty) and returns what it drew. */
function berthOnTty(...args: string[]): Promise<{ code: number; output: string }> {
  const term = pty.spawn(process.execPath, ['--', BERTH, ...args], { env: d.env as Record<string, string>, cols: 200, rows: 30, name: 'xterm' });
  let output = '';
  term.onData((s) => (output += s));
  return new Promise((resolve) => term.onExit(({ exitCode }) => resolve({ code: exitCode, output })));
}

const byPath = (m: Entry[]) => new Map(m.map((e) => [e.path, e]));

test('export of a volume a container filled: GNU tar and bsdtar list it without warnings and extract it exactly', async () => {
  const fill = await docker(
    d.env,
    'run', '--rm', '-v', 'filled:/data', 'busybox', 'sh', '-c',
    'mkdir -p /data/dir/sub && echo hello > /data/dir/f && ln /data/dir/f /data/hard && ln -s dir/f /data/sym && mkfifo /data/fifo && ' +
      'chown 70000:70001 /data/dir/f && chmod 4755 /data/dir/f && dd if=/dev/zero of=/data/zeros bs=1k count=300 2>/dev/null && chmod 1777 /data/dir/sub',
  );
  assert.equal(fill.code, 0, fill.stderr);
  const file = join(work, 'filled.tar');
  const r = await ok('volume', 'export', 'filled', '-o', file, '--progress', 'json');
  const last = JSON.parse(r.stderr.trim().split('\n').pop()!) as { files: number; bytes: number; totalFiles: number };
  const source = manifest(mountpoint('filled'));
  assert.equal(last.files, source.length);
  assert.equal(last.totalFiles, source.length);
  assert.equal(r.stdout, '');

  const gnu = spawnSync('tar', ['-tvf', file], { encoding: 'utf8' });
  assert.equal(gnu.status, 0, gnu.stderr);
  assert.equal(gnu.stderr, '');
  const names = spawnSync('tar', ['-tf', file], { encoding: 'utf8' }).stdout.trim().split('\n');
  assert.equal(names[0], './');
  assert.ok(names.every((n) => n.startsWith('./')), names.join(','));
  for (const n of ['./dir/', './dir/f', './dir/sub/', './fifo', './hard', './sym', './zeros']) assert.ok(names.includes(n), n);
  assert.equal(names.length, source.length);
  if (has('bsdtar')) {
    const bsd = spawnSync('bsdtar', ['-tvf', file], { encoding: 'utf8' });
    assert.equal(bsd.status, 0, bsd.stderr);
    assert.equal(bsd.stderr, '');
  }
  const out = join(work, 'filled-x');
  mkdirSync(out);
  execFileSync('tar', [...TAR_FLAGS, '-xpf', file, '-C', out]);
  assert.deepEqual(manifest(out), source);

  // The same archive to stdout.
  const piped = join(work, 'filled-stdout.tar');
  const s = await berthIo({ stdout: piped }, 'volume', 'export', 'filled');
  assert.equal(s.code, 0, s.stderr);
  assert.equal(spawnSync('tar', ['-tvf', piped], { encoding: 'utf8' }).stdout, gnu.stdout);
});

for (const [compress, tool] of [['none', undefined], ['gzip', 'gzip'], ['bzip2', 'bzip2'], ['xz', 'xz'], ['zstd', 'zstd']] as const) {
  test(`import of a GNU tar archive (${compress}) reproduces the fixture exactly`, async (t) => {
    if (tool && !has(tool)) return t.skip(`${tool} is not installed`);
    let file = refTar;
    if (tool) {
      file = join(work, `ref.tar.${compress}`);
      writeFileSync(file, execFileSync(tool, ['-c', refTar], { maxBuffer: 1 << 30 }));
    }
    const vol = `fx-${compress}`;
    const r = await ok('volume', 'import', vol, file, '--progress', 'plain');
    assert.equal(r.stdout, `${vol}\n`);
    assert.match(r.stderr, new RegExp(`^Imported ${vol}: .*, ${manifest(fixture).length} files in`, 'm'));
    assert.deepEqual(manifest(mountpoint(vol)), manifest(fixture));
    const inspect = JSON.parse((await ok('volume', 'inspect', vol)).stdout) as Array<{ Driver: string }>;
    assert.equal(inspect[0]!.Driver, 'local');
  });
}

test('round trips: berth export -> berth import, and berth export -> GNU tar -xp, keep everything', async () => {
  await ok('volume', 'import', 'rt-src', refTar, '--progress', 'none');
  for (const compress of ['none', 'gzip', 'zstd']) {
    const file = join(work, `rt.${compress}`);
    await ok('volume', 'export', 'rt-src', '-o', file, '--compress', compress, '--progress', 'none');
    const back = await berthIo({ stdin: file }, 'volume', 'import', `rt-${compress}`, '-', '--progress', 'none');
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(manifest(mountpoint(`rt-${compress}`)), manifest(fixture), compress);
  }
  const out = join(work, 'rt-gnu');
  mkdirSync(out);
  execFileSync('tar', [...TAR_FLAGS, '-xpf', join(work, 'rt.none'), '-C', out]);
  assert.deepEqual(manifest(out), manifest(fixture));
});

test('a local CLI hands its file to the daemon; streamed (BERTH_NO_FD_HANDOFF=1, pipes) the bytes are the same', async () => {
  await ok('volume', 'import', 'fd-src', refTar, '--progress', 'none');
  const handed = join(work, 'fd-handed.tar');
  await ok('volume', 'export', 'fd-src', '-o', handed, '--progress', 'none');
  const streamed = join(work, 'fd-streamed.tar');
  const noFd = { ...d.env, BERTH_NO_FD_HANDOFF: '1' };
  const s = await berth(noFd, 'volume', 'export', 'fd-src', '-o', streamed, '--progress', 'none');
  assert.equal(s.code, 0, s.stderr);
  const viaStdout = join(work, 'fd-stdout.tar');
  const o = await berthIo({ stdout: viaStdout }, 'volume', 'export', 'fd-src', '--progress', 'none');
  assert.equal(o.code, 0, o.stderr);
  const piped = execFileSync('sh', ['-c', `"${process.execPath}" -- "${BERTH}" volume export fd-src --progress none | cat`], { env: d.env, maxBuffer: 1 << 28 });
  const want = readFileSync(streamed);
  assert.ok(readFileSync(handed).equals(want), 'export -o FILE');
  assert.ok(readFileSync(viaStdout).equals(want), 'export > FILE');
  assert.ok(piped.equals(want), 'export | cat');
  // Import: a file argument, stdin from a file, and stdin from a pipe.
  await ok('volume', 'import', 'fd-im-file', handed, '--progress', 'none');
  const fromStdin = await berthIo({ stdin: handed }, 'volume', 'import', 'fd-im-stdin', '-', '--progress', 'none');
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  execFileSync('sh', ['-c', `cat "${handed}" | "${process.execPath}" -- "${BERTH}" volume import fd-im-pipe - --progress none`], { env: d.env });
  const noFdImport = await berth(noFd, 'volume', 'import', 'fd-im-stream', handed, '--progress', 'none');
  assert.equal(noFdImport.code, 0, noFdImport.stderr);
  for (const v of ['fd-im-file', 'fd-im-stdin', 'fd-im-pipe', 'fd-im-stream']) assert.deepEqual(manifest(mountpoint(v)), manifest(fixture), v);
});

test('import into a non-empty volume is refused without --replace; with it the volume is exactly the archive', async () => {
  const a = join(work, 'rep-a');
  mkdirSync(a);
  writeFileSync(join(a, 'only-in-a'), 'a\n');
  writeFileSync(join(a, 'shared'), 'from a\n');
  const aTar = join(work, 'rep-a.tar');
  execFileSync('tar', [...TAR_FLAGS, '-C', a, '-cf', aTar, '.']);
  await ok('volume', 'import', 'rep', aTar, '--progress', 'none');
  const before = manifest(mountpoint('rep'));

  const r = await berth(d.env, 'volume', 'import', 'rep', refTar, '--progress', 'none');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: volume rep is not empty: use --replace to replace its contents\n');
  assert.deepEqual(manifest(mountpoint('rep')), before);

  await ok('volume', 'import', '--replace', 'rep', refTar, '--progress', 'none');
  assert.deepEqual(manifest(mountpoint('rep')), manifest(fixture));
  assert.ok(!existsSync(join(mountpoint('rep'), 'only-in-a')));
});

/** Writes a tar with the given members using Python's tarfile (GNU tar will not write hostile names). */
function hostileTar(file: string, script: string): void {
  execFileSync('python3', ['-c', `import tarfile, io\nt = tarfile.open(${JSON.stringify(file)}, 'w', format=tarfile.PAX_FORMAT)\ndef add(name, data=b'x', **kw):\n    i = tarfile.TarInfo(name)\n    for k, v in kw.items(): setattr(i, k, v)\n    i.size = len(data) if i.type == tarfile.REGTYPE else 0\n    t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)\n${script}\nt.close()\n`]);
}

test('hostile archives are refused, nothing is written outside, no volume is left behind', async () => {
  const cases: Array<[string, string]> = [
    ['dotdot', "add('./')\nadd('../escape-dotdot')"],
    ['absolute', "add('./')\nadd('/tmp/escape-absolute')"],
    ['through-symlink', `add('./')\nadd('./link', type=tarfile.SYMTYPE, linkname=${JSON.stringify(work)})\nadd('./link/escape-symlink')`],
    ['outside-hardlink', "add('./')\nadd('./passwd', type=tarfile.LNKTYPE, linkname='/etc/passwd')"],
  ];
  for (const [name, script] of cases) {
    const file = join(work, `hostile-${name}.tar`);
    hostileTar(file, script);
    const vol = `hostile-${name}`;
    const r = await berth(d.env, 'volume', 'import', vol, file, '--progress', 'none');
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /^Error response from daemon: .+\n$/, name);
    assert.equal((await berth(d.env, 'volume', 'inspect', vol)).code, 1, `${name}: volume left behind`);
  }
  assert.ok(!existsSync(join(work, 'escape-symlink')));
  assert.ok(!existsSync('/tmp/escape-absolute'));
  assert.ok(!existsSync(join(d.dataRoot, 'volumes', 'escape-dotdot')));
});

test('a missing file, an empty file and a truncated archive fail with a message and change nothing', async () => {
  const missing = await berth(d.env, 'volume', 'import', 'never', join(work, 'no-such.tar'));
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `open ${join(work, 'no-such.tar')}: no such file or directory\n`);
  assert.equal((await berth(d.env, 'volume', 'inspect', 'never')).code, 1);

  const empty = join(work, 'empty.tar');
  writeFileSync(empty, '');
  const e = await berth(d.env, 'volume', 'import', 'never', empty, '--progress', 'none');
  assert.equal(e.code, 1, e.stderr);
  assert.equal((await berth(d.env, 'volume', 'inspect', 'never')).code, 1);

  const truncated = join(work, 'truncated.tar');
  copyFileSync(refTar, truncated);
  truncateSync(truncated, Math.floor(statSync(refTar).size / 2) + 100);
  const t1 = await berth(d.env, 'volume', 'import', 'never', truncated, '--progress', 'none');
  assert.notEqual(t1.code, 0);
  assert.match(t1.stderr, /^Error response from daemon: /);
  assert.equal((await berth(d.env, 'volume', 'inspect', 'never')).code, 1);

  await ok('volume', 'import', 'keep', refTar, '--progress', 'none');
  const kept = manifest(mountpoint('keep'));
  const t2 = await berth(d.env, 'volume', 'import', '--replace', 'keep', truncated, '--progress', 'none');
  assert.notEqual(t2.code, 0);
  assert.deepEqual(manifest(mountpoint('keep')), kept);
});

test('export refuses a terminal stdout, and a missing volume leaves no file', async () => {
  await ok('volume', 'create', 'to-tty');
  const r = await berthOnTty('volume', 'export', 'to-tty');
  assert.equal(r.code, 1);
  assert.match(r.output, /berth: refusing to write a tar archive to a terminal; use -o FILE or redirect stdout/);

  const file = join(work, 'missing.tar');
  const m = await berth(d.env, 'volume', 'export', 'no-such-volume', '-o', file);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /^Error response from daemon: .*no-such-volume.*\n$/);
  assert.ok(!existsSync(file));
});

test('clone copies data, labels and options exactly; an existing target is refused', async () => {
  await ok('volume', 'create', '--label', 'team=storage', '--label', 'tier', 'cl-src');
  await ok('volume', 'import', 'cl-src', refTar, '--progress', 'none');
  const r = await ok('volume', 'clone', 'cl-src', 'cl-dst', '--progress', 'json');
  assert.equal(r.stdout, 'cl-dst\n');
  const last = JSON.parse(r.stderr.trim().split('\n').pop()!) as { files: number };
  assert.equal(last.files, manifest(fixture).length);
  assert.deepEqual(manifest(mountpoint('cl-dst')), manifest(fixture));
  const [src, dst] = JSON.parse((await ok('volume', 'inspect', 'cl-src', 'cl-dst')).stdout) as Array<{ Labels: object; Options: object; Driver: string }>;
  assert.deepEqual(dst!.Labels, src!.Labels);
  assert.deepEqual(dst!.Options, src!.Options);
  assert.equal(dst!.Driver, src!.Driver);

  const again = await berth(d.env, 'volume', 'clone', 'cl-src', 'cl-dst', '--progress', 'none');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^Error response from daemon: /);
  const gone = await berth(d.env, 'volume', 'clone', 'no-such-volume', 'cl-other');
  assert.equal(gone.code, 1);
  assert.equal((await berth(d.env, 'volume', 'inspect', 'cl-other')).code, 1);
});

test('progress: a bar on a terminal for export, import and clone; plain lines; none prints nothing', async () => {
  await ok('volume', 'import', 'bar-src', refTar, '--progress', 'none');
  const count = manifest(fixture).length;
  const file = join(work, 'bar.tar');
  const ex = await berthOnTty('volume', 'export', 'bar-src', '-o', file);
  assert.equal(ex.code, 0, ex.output);
  assert.match(ex.output, /Exporting bar-src \[[^\]]+\] 100% \| [^|]+ \| (\d+)\/\1 files \| [^|]+\/s \| ETA 0s/);
  assert.match(ex.output, new RegExp(`${count}/${count} files`));
  const im = await berthOnTty('volume', 'import', 'bar-dst', file);
  assert.equal(im.code, 0, im.output);
  assert.match(im.output, new RegExp(`Importing bar-dst \\[[^\\]]+\\] 100% \\| [^|]+ \\| ${count} files`));
  const cl = await berthOnTty('volume', 'clone', 'bar-src', 'bar-clone');
  assert.equal(cl.code, 0, cl.output);
  assert.match(cl.output, new RegExp(`Cloning bar-src to bar-clone \\[[^\\]]*\\] .*${count}`));

  const plain = await ok('volume', 'export', 'bar-src', '-o', file, '--progress', 'plain');
  assert.match(plain.stderr, new RegExp(`^Exported bar-src: [^,]+, ${count} files in \\d+s \\(.+/s\\)\\n$`, 'm'));
  const none = await ok('volume', 'export', 'bar-src', '-o', file, '--progress', 'none');
  assert.equal(none.stderr, '');
  const bad = await berth(d.env, 'volume', 'export', 'bar-src', '-o', file, '--progress', 'fancy');
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /^invalid argument "fancy" for "--progress" flag/);
});

test('export of a volume a running container uses warns that it is not a point-in-time copy', async () => {
  const run = await docker(d.env, 'run', '-d', '--name', 'volarch-writer', '-v', 'busy:/data', 'busybox', 'sh', '-c', 'echo x > /data/f; sleep 300');
  assert.equal(run.code, 0, run.stderr);
  const file = join(work, 'busy.tar');
  const r = await ok('volume', 'export', 'busy', '-o', file, '--progress', 'none');
  assert.match(r.stderr, /^WARNING: .*volarch-writer.*point-in-time/m);
  assert.equal(spawnSync('tar', ['-tf', file]).status, 0);
  // Its data cannot be replaced under it.
  const before = manifest(mountpoint('busy'));
  const replace = await berth(d.env, 'volume', 'import', '--replace', 'busy', file, '--progress', 'none');
  assert.equal(replace.code, 1);
  assert.equal(replace.stderr, 'Error response from daemon: volume busy is in use by running container(s) volarch-writer: stop them before replacing its contents\n');
  assert.deepEqual(manifest(mountpoint('busy')).filter((e) => e.path !== 'f' && e.path !== '.'), before.filter((e) => e.path !== 'f' && e.path !== '.'));
});

test('podman volume import reads berth export, and berth imports podman volume export', async (t) => {
  if (!has('podman')) return t.skip('podman is not installed');
  const store = join(work, 'podman');
  const podman = (...args: string[]) =>
    execFileSync('podman', ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--storage-driver', 'vfs', ...args], { encoding: 'utf8' });
  t.after(() => {
    try {
      podman('volume', 'rm', '-f', 'from-berth');
    } catch {
      // not created
    }
  });
  await ok('volume', 'import', 'pm-src', refTar, '--progress', 'none');
  const file = join(work, 'pm.tar');
  await ok('volume', 'export', 'pm-src', '-o', file, '--progress', 'none');
  podman('volume', 'create', 'from-berth');
  podman('volume', 'import', 'from-berth', file);
  const pmMount = podman('volume', 'inspect', 'from-berth', '--format', '{{.Mountpoint}}').trim();
  // podman keeps the content, types, modes, ids, mtimes and link groups of what is under the root;
  // it drops the root's own metadata, empty xattr values and holes (issue 8), so those are not compared.
  const comparable = (m: Entry[]) =>
    m.filter((e) => e.path !== '.').map(({ xattrs: _x, sparse: _s, ...rest }) => rest);
  assert.deepEqual(comparable(manifest(pmMount)), comparable(manifest(fixture)));

  const back = join(work, 'from-podman.tar');
  podman('volume', 'export', 'from-berth', '-o', back);
  await ok('volume', 'import', 'from-podman', back, '--progress', 'none');
  // Whatever podman's archive carries, berth restores it as GNU tar does
  // (podman's own disk is no reference: its export drops default ACLs and
  // writes some members with whole-second mtimes).
  const byGnuTar = join(work, 'from-podman-gnu');
  mkdirSync(byGnuTar);
  execFileSync('tar', [...TAR_FLAGS, '-xpf', back, '-C', byGnuTar]);
  const theirs = byPath(manifest(byGnuTar));
  const ours = manifest(mountpoint('from-podman')).filter((e) => e.path !== '.');
  for (const e of ours) {
    const { sparse: _a, ...mine } = e;
    const { sparse: _b, ...ref } = theirs.get(e.path)!;
    assert.deepEqual(mine, ref, e.path);
  }
  assert.equal(ours.length, theirs.size - 1);
  assert.equal(readFileSync(join(mountpoint('from-podman'), 'plain'), 'utf8'), 'plain content\n');
});
