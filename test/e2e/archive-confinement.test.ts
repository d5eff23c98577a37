// docker cp against containers that plant symlinks to the host (issue 6,
// items 1, 3 and 9): every path resolves inside the container's own view,
// links are copied as links, uploads are all or nothing, and a file
// vanishing mid-copy never takes berthd down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { docker as runDocker, type RunResult, dockerOk } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';
import { api } from '../helpers/http.js';
import { readMountInfo } from '../../src/util/mount.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let work: string;
/** A host directory the containers try to reach. */
let hostDir: string;
const docker = (...args: string[]): Promise<RunResult> => runDocker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
  work = mkdtempSync(join(tmpdir(), 'berth-cp-work-'));
  hostDir = mkdtempSync(join(tmpdir(), 'berth-cp-host-'));
  writeFileSync(join(hostDir, 'host-secret'), 'host only\n');
  writeFileSync(join(work, 'f.txt'), 'uploaded\n');
});

after(async () => {
  await d.cleanup();
  rmSync(work, { recursive: true, force: true });
  rmSync(hostDir, { recursive: true, force: true });
  const left = readMountInfo().filter((m) => m.mountPoint.startsWith(d.dir));
  assert.deepEqual(left.map((m) => m.mountPoint), [], 'mounts left behind');
});

function hostEntries(): string[] {
  return readdirSync(hostDir).sort();
}

async function withContainer(name: string, script: string, t: { after: (fn: () => Promise<unknown>) => void }, extra: string[] = []): Promise<void> {
  t.after(() => docker('rm', '-f', name));
  await ok('run', '-d', '--name', name, ...extra, 'busybox', 'sh', '-c', `${script}; touch /ready; exec sleep 600`);
  // Wait on the state the script leaves, not on time.
  for (;;) {
    const r = await docker('exec', name, 'test', '-e', '/ready');
    if (r.code === 0) return;
  }
}

for (const state of ['running', 'stopped'] as const) {
  test(`cp into a ${state} container through an absolute link to a host dir stays inside the container`, async (t) => {
    const name = `cp-abs-${state}`;
    await withContainer(name, `ln -s ${hostDir} /hl; mkdir -p /data/sub; ln -s ${hostDir} /data/sub/hl2`, t);
    if (state === 'stopped') await ok('stop', '-t', '0', name);
    // The link's target does not exist in the container: Docker's answer is "not found".
    const a = await docker('cp', join(work, 'f.txt'), `${name}:/hl/f.txt`);
    assert.notEqual(a.code, 0, 'copy through a dangling (in-container) link must fail');
    assert.match(a.stderr, /Could not find the file/);
    const b = await docker('cp', join(work, 'f.txt'), `${name}:/data/sub/hl2/`);
    assert.notEqual(b.code, 0);
    assert.deepEqual(hostEntries(), ['host-secret'], 'nothing appeared on the host');
    // Reading through the link never shows the host's file.
    const c = await docker('cp', `${name}:/hl/host-secret`, join(work, `${state}-leak`));
    assert.notEqual(c.code, 0);
    assert.equal(existsSync(join(work, `${state}-leak`)), false);
  });

  test(`cp into a ${state} container: a link to a directory that exists in the container lands in the container`, async (t) => {
    const name = `cp-in-${state}`;
    await withContainer(name, `mkdir -p ${hostDir}; ln -s ${hostDir} /hl`, t);
    if (state === 'stopped') await ok('stop', '-t', '0', name);
    await ok('cp', join(work, 'f.txt'), `${name}:/hl/f.txt`);
    assert.deepEqual(hostEntries(), ['host-secret'], 'nothing appeared on the host');
    if (state === 'stopped') await ok('start', name);
    assert.equal(await ok('exec', name, 'cat', `${hostDir}/f.txt`), 'uploaded\n');
  });
}

test('relative ../../.. links inside a volume stop at the container root, in and out', async (t) => {
  const name = 'cp-dotdot';
  const up = '../'.repeat(12);
  await withContainer(name, `ln -s ${up}${hostDir.slice(1)} /data/up; ln -s ${up} /data/root; echo in-container > /etc/marker`, t);
  const a = await docker('cp', join(work, 'f.txt'), `${name}:/data/up/`);
  assert.notEqual(a.code, 0);
  assert.deepEqual(hostEntries(), ['host-secret'], 'nothing appeared on the host');
  // /data/root resolves to the container's '/', so this is its /etc/marker.
  const out = join(work, 'marker-copy');
  await ok('cp', `${name}:/data/root/etc/marker`, out);
  assert.equal(readFileSync(out, 'utf8'), 'in-container\n');
  await ok('stop', '-t', '0', name);
  const b = await docker('cp', join(work, 'f.txt'), `${name}:/data/up/`);
  assert.notEqual(b.code, 0);
  assert.deepEqual(hostEntries(), ['host-secret']);
});

test('cp out follows links across mounts inside the container: /data/binlink -> /bin', async (t) => {
  const name = 'cp-binlink';
  await withContainer(name, 'ln -s /bin /data/binlink; ln -s /etc /data/etclink', t);
  const out = join(work, 'busybox-copy');
  await ok('cp', `${name}:/data/binlink/busybox`, out);
  const inContainer = (await ok('exec', name, 'md5sum', '/bin/busybox')).split(' ')[0];
  const copied = execFileSync('md5sum', [out], { encoding: 'utf8' }).split(' ')[0];
  assert.equal(copied, inContainer);
  // The image's /etc/app, which the host does not have.
  const app = join(work, 'app-copy');
  await ok('cp', `${name}:/data/etclink/app`, app);
  assert.equal(readFileSync(app, 'utf8'), 'a file\n');
});

test('links are copied as links, absolute targets included, both ways (item 9)', async (t) => {
  const name = 'cp-links';
  await withContainer(name, 'mkdir -p /data/d; echo x > /data/d/file; ln -s /etc/passwd /data/d/abs; ln -s ../d/file /data/d/rel', t);
  const out = join(work, 'links-out');
  await ok('cp', `${name}:/data/d`, out);
  assert.equal(readlinkSync(join(out, 'abs')), '/etc/passwd');
  assert.equal(readlinkSync(join(out, 'rel')), '../d/file');
  assert.equal(readFileSync(join(out, 'file'), 'utf8'), 'x\n');

  const src = join(work, 'links-in');
  mkdirSync(src);
  writeFileSync(join(src, 'file'), 'y\n');
  symlinkSync('/etc/hostname', join(src, 'abs'));
  symlinkSync('/nonexistent/anywhere', join(src, 'dangling'));
  const r = await docker('cp', src, `${name}:/data/`);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /TAR_ENTRY/);
  assert.equal(await ok('exec', name, 'readlink', '/data/links-in/abs'), '/etc/hostname\n');
  assert.equal(await ok('exec', name, 'readlink', '/data/links-in/dangling'), '/nonexistent/anywhere\n');
  assert.equal(await ok('exec', name, 'cat', '/data/links-in/file'), 'y\n');
  assert.equal(lstatSync(join(src, 'abs')).isSymbolicLink(), true);
});

/** A tar stream with the given entries, written by GNU tar from a scratch tree via --transform. */
function tarWith(entries: Array<{ name: string; content: string }>): Buffer {
  const dir = mkdtempSync(join(work, 'tar-'));
  const files: string[] = [];
  entries.forEach((e, i) => {
    writeFileSync(join(dir, `e${i}`), e.content);
    files.push(`e${i}`);
  });
  const transforms = entries.flatMap((e, i) => ['--transform', `s|^e${i}$|${e.name}|`]);
  return execFileSync('tar', ['-C', dir, '-P', '--absolute-names', ...transforms, '-cf', '-', ...files], { maxBuffer: 1 << 24 });
}

test('an upload with a refused entry is refused with 400 and writes nothing (item 9)', async (t) => {
  const name = 'cp-atomic';
  await withContainer(name, 'mkdir -p /data/dst', t);
  const id = (await ok('inspect', '-f', '{{.Id}}', name)).trim();
  for (const bad of ['../escape', 'a/../../escape', `/${hostDir.slice(1)}/abs-entry`]) {
    const body = tarWith([
      { name: 'good-first', content: 'good\n' },
      { name: bad, content: 'bad\n' },
    ]);
    const r = await api(d.socket, 'PUT', `/containers/${id}/archive?path=${encodeURIComponent('/data/dst')}`, undefined, {
      rawBody: body,
      contentType: 'application/x-tar',
    });
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
    assert.match(r.json?.message ?? '', /outside of|absolute path/);
    assert.equal(await ok('exec', name, 'ls', '-A', '/data/dst'), '', `${bad}: nothing extracted`);
  }
  assert.deepEqual(hostEntries(), ['host-secret']);
  assert.equal(existsSync(join(d.dataRoot, 'escape')), false);
});

test('files vanishing during GET archive never crash berthd (item 3)', async (t) => {
  const name = 'cp-race';
  t.after(() => docker('rm', '-f', name));
  await ok('run', '-d', '--name', name, 'busybox', 'sh', '-c', 'mkdir -p /data/r; while true; do echo x > /data/r/f; mkdir -p /data/r/d; echo y > /data/r/d/g; rm -rf /data/r/f /data/r/d; done');
  const id = (await ok('inspect', '-f', '{{.Id}}', name)).trim();
  const get = (path: string) =>
    new Promise<string>((resolve) => {
      const req = request({ socketPath: d.socket, method: 'GET', path: `/containers/${id}/archive?path=${encodeURIComponent(path)}` }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(`status ${res.statusCode}`));
        res.on('error', () => resolve('cut'));
        res.on('aborted', () => resolve('cut'));
      });
      req.on('error', () => resolve('cut'));
      req.end();
    });
  const outcomes = new Set<string>();
  for (let round = 0; round < 15; round++) {
    const results = await Promise.all([get('/data/r/f'), get('/data/r'), get('/data/r/d/g'), get('/data/r/d')]);
    for (const r of results) outcomes.add(r);
  }
  for (const o of outcomes) assert.match(o, /^(status (200|404)|cut)$/);
  assert.equal(d.process.exitCode, null, 'berthd is alive');
  const ping = await api(d.socket, 'GET', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.text, 'OK');
});

/** HEAD /containers/{id}/archive: the status, and the path stat header decoded (or the error body). */
async function headArchive(id: string, path: string): Promise<{ status: number; stat: any }> {
  const r = await api(d.socket, 'HEAD', `/containers/${id}/archive?path=${encodeURIComponent(path)}`);
  return { status: r.status, stat: r.status === 200 ? JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString('utf8')) : r.json };
}

test('HEAD archive reports the link target resolved inside the container', async (t) => {
  const name = 'cp-head';
  await withContainer(name, 'ln -s /etc /data/etclink; ln -s ../../../../etc/app /data/applink', t);
  const id = (await ok('inspect', '-f', '{{.Id}}', name)).trim();
  const stat = async (p: string) => {
    const r = await headArchive(id, p);
    assert.equal(r.status, 200, p);
    return r.stat;
  };
  assert.equal((await stat('/data/etclink')).linkTarget, '/etc');
  assert.equal((await stat('/data/applink')).linkTarget, '/etc/app');
  assert.equal((await stat('/data/etclink/app')).size, 'a file\n'.length);
});

test('HEAD archive answers the same for a running and a stopped container, whether berthd or a helper answers', async (t) => {
  const name = 'cp-head-same';
  await withContainer(name, 'mkdir -p /data/dir; echo volume-file > /data/dir/v; echo rootfs-file > /etc/r; ln -s / /data/rootlink; ln -s /etc /etclink', t);
  const id = (await ok('inspect', '-f', '{{.Id}}', name)).trim();
  const stat = (p: string) => headArchive(id, p);
  // Rootfs paths, volume paths, links on the way and at the end, missing ones: berthd answers some itself, a helper the others.
  const paths = ['/etc/r', '/data/dir', '/data/dir/', '/data/dir/v', '/data/../../../etc/r', '/data/rootlink/etc/r', '/data/rootlink/data/dir/v', '/missing', '/etc/r/not-a-dir', '/etclink', '/etclink/', '/etclink/r', '/'];
  const running: unknown[] = [];
  for (const p of paths) running.push(await stat(p));
  await ok('stop', '-t', '0', name);
  const stopped: unknown[] = [];
  for (const p of paths) stopped.push(await stat(p));
  assert.deepEqual(running, stopped);
  assert.equal((running[0] as { stat: { size: number } }).stat.size, 'rootfs-file\n'.length);
  assert.equal((running[3] as { stat: { size: number } }).stat.size, 'volume-file\n'.length, 'the volume, mounted in the container');
  assert.equal((running[5] as { stat: { size: number } }).stat.size, 'rootfs-file\n'.length, "a link to / is the container's root");
  assert.equal((running[7] as { status: number }).status, 404);
});

test('a WorkingDir swapped for a link to a host dir is created inside the rootfs at the next start', async (t) => {
  const name = 'wd-link';
  t.after(() => docker('rm', '-f', name));
  const script = `pwd; test -L /work || { cd / && rmdir /work && ln -s ${hostDir}/wd /work; }`;
  const first = await docker('run', '--name', name, '-w', '/work', 'busybox', 'sh', '-c', script);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, '/work\n');
  const again = await docker('start', '-a', name);
  assert.equal(again.code, 0, again.stderr);
  // The container's own ${hostDir}/wd, created in its rootfs.
  assert.equal(again.stdout, `${hostDir}/wd\n`);
  assert.deepEqual(hostEntries(), ['host-secret'], 'nothing appeared on the host');
});

test('cp sees a container started after the previous cp (helpers started ahead of time are not stale)', async (t) => {
  await withContainer('cp-warm-a', 'echo a > /data/a', t);
  assert.equal((await ok('cp', 'cp-warm-a:/data/a', '-')).length > 0, true);
  // Spare helpers now exist; this container's rootfs and volume are mounted after them.
  await withContainer('cp-warm-b', 'echo fresh-b > /etc/b-marker', t);
  const out = join(work, 'b-marker');
  await ok('cp', 'cp-warm-b:/etc/b-marker', out);
  assert.equal(readFileSync(out, 'utf8'), 'fresh-b\n');
  await ok('cp', join(work, 'f.txt'), 'cp-warm-b:/data/');
  assert.equal(await ok('exec', 'cp-warm-b', 'cat', '/data/f.txt'), 'uploaded\n');
});

test('a container swapping a directory for a host link while uploads and downloads run never reaches the host', async (t) => {
  const name = 'cp-swap';
  t.after(() => docker('rm', '-f', name));
  await ok('run', '-d', '--name', name, 'busybox', 'sh', '-c', `while true; do mkdir -p /data/x; rm -rf /data/x; ln -s ${hostDir} /data/x; rm -f /data/x; done`);
  const id = (await ok('inspect', '-f', '{{.Id}}', name)).trim();
  const body = tarWith([{ name: 'swapped.txt', content: 'race\n' }]);
  const statuses = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const results = await Promise.all([
      api(d.socket, 'PUT', `/containers/${id}/archive?path=/data/x`, undefined, { rawBody: body, contentType: 'application/x-tar' }),
      api(d.socket, 'GET', `/containers/${id}/archive?path=/data/x/host-secret`),
    ]);
    for (const r of results) {
      statuses.add(r.status);
      // The directory vanishing mid-extraction is an error answer, never a crash.
      if (r.status >= 400) assert.equal(typeof r.json?.message, 'string', r.text);
    }
    assert.doesNotMatch(results[1]!.text, /host only/, 'the host file was never read');
  }
  for (const s of statuses) assert.ok([200, 404, 500].includes(s), `status ${s}`);
  assert.deepEqual(hostEntries(), ['host-secret'], 'nothing appeared on the host');
  assert.equal((await api(d.socket, 'GET', '/_ping')).text, 'OK');
});
