// Volume export, import and clone over a real berthd socket, against
// docs/volume-archives.md (Engine API and Events): statuses, headers and
// trailer, JSON lines, every compression, exact trees (the fidelity fixture
// both ways through GNU tar), refusals that change nothing, an aborted
// upload leaving no volume, and the volume events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { once } from 'node:events';
import { killContainers, startDaemon, unmountUnder, type TestDaemon, removeNetworkDevices } from '../helpers/daemon.js';
import { importTestImages } from '../helpers/images.js';
import { dockerOk } from '../helpers/run.js';
import { api } from '../helpers/http.js';
import { buildFixture, manifest, type Entry } from '../helpers/tree-manifest.js';
import { measureTree } from '../../src/archive/tree.js';
import { encodeMember } from '../../src/archive/tar/writer.js';

const TAR_FLAGS = ['--format=posix', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-S'];

interface Ev {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}
interface Streamed {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: NodeJS.Dict<string>;
}

let d: TestDaemon;
let work: string;
let expected: Entry[];
const archives: Record<string, string> = {};
let events: ReturnType<typeof watchEvents>;
let counter = 0;

const call = (method: string, path: string, body?: unknown) => api(d.socket, method, path, body);
const filters = (f: unknown) => encodeURIComponent(JSON.stringify(f));
const dataDir = (name: string) => join(d.dataRoot, 'volumes', name, '_data');
const sh = (script: string) => execFileSync('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });

/** A request over the socket with a streamed or buffered body; the whole response, trailers included. */
function stream(method: string, path: string, body?: Buffer | string): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, headers: body === undefined ? {} : { 'Content-Type': 'application/x-tar' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers }));
      res.on('error', reject);
    });
    let responded = false;
    req.on('response', () => (responded = true));
    // A refusal may come before the body is sent in full: the broken pipe after it is expected.
    req.on('error', (e) => responded || reject(e));
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else createReadStream(body).pipe(req); // a file path: sent chunked
  });
}

/** JSON lines of a streamed response. */
function jsonLines(text: string): Array<Record<string, any>> {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, any>);
}

/** A live volume-event subscription from the start of history: until() resolves on the first match, past or future. */
function watchEvents() {
  const seen: Ev[] = [];
  const waiters = new Set<{ pred: (e: Ev) => boolean; resolve: (e: Ev) => void }>();
  const req = request({ socketPath: d.socket, path: `/events?since=0&filters=${filters({ type: ['volume'] })}` }, (res) => {
    let buf = '';
    res.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const e = JSON.parse(buf.slice(0, i)) as Ev;
        buf = buf.slice(i + 1);
        seen.push(e);
        for (const w of waiters) if (w.pred(e)) (waiters.delete(w), w.resolve(e));
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    seen,
    /** The first event matching; fails (never a sleep: a bound on a missing event) after 20 s. */
    until(pred: (e: Ev) => boolean, what: string): Promise<Ev> {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no volume event: ${what}; seen ${JSON.stringify(seen.map((e) => [e.Action, e.Actor.ID]))}`)), 20_000);
        timer.unref();
        waiters.add({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
    close: () => req.destroy(),
  };
}

const isEvent = (action: string, id: string) => (e: Ev) => e.Action === action && e.Actor.ID === id;

/** Waits until GET /volumes/NAME is 404: while it exists, the next thing that can change that is its destroy event. */
async function waitGone(name: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const r = await call('GET', `/volumes/${name}`);
    if (r.status === 404) return;
    assert.equal(r.status, 200, r.text);
    await events.until(isEvent('destroy', name), `destroy ${name}`);
  }
  assert.fail(`volume ${name} still exists`);
}

async function createVolume(name: string, body: Record<string, unknown> = {}): Promise<void> {
  const r = await call('POST', '/volumes/create', { Name: name, ...body });
  assert.equal(r.status, 201, r.text);
}

function freshDir(): string {
  const dir = join(work, `out-${++counter}`);
  mkdirSync(dir);
  return dir;
}

/** Checks an import/clone JSON-lines stream: only progress lines, then the end line; returns the end line. */
function endLine(r: { status: number; headers: IncomingHttpHeaders; text: string }, progress: string, end: string, id: string): Record<string, any> {
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  const lines = jsonLines(r.text);
  const last = lines.at(-1);
  assert.ok(last, 'at least one JSON line');
  assert.equal(last.errorDetail, undefined, r.text);
  assert.equal(last.status, end, r.text);
  assert.equal(last.id, id);
  for (const l of lines.slice(0, -1)) {
    assert.equal(l.status, progress, JSON.stringify(l));
    assert.equal(l.id, id);
    assert.equal(typeof l.progressDetail?.current, 'number');
  }
  assert.equal(typeof last.progressDetail?.current, 'number');
  assert.equal(last.progressDetail?.files, expected.length);
  return last;
}

/** Checks a failed import stream: 200 and JSON lines ending with Docker's error line. */
function errorLine(r: Streamed): string {
  const text = r.body.toString();
  assert.equal(r.status, 200, text);
  const last = jsonLines(text).at(-1);
  assert.equal(typeof last?.errorDetail?.message, 'string', text);
  assert.equal(last?.error, last?.errorDetail.message);
  return last!.errorDetail.message as string;
}

const importPath = (name: string, replace?: boolean) => `/volumes/${name}/import${replace ? '?replace=1' : ''}`;
const doImport = async (name: string, body: Buffer | string, replace?: boolean) => {
  const r = await stream('POST', importPath(name, replace), body);
  return { ...r, text: r.body.toString() };
};

before(async () => {
  d = await startDaemon();
  events = watchEvents();
  work = join(d.dir, 'work');
  const fixture = join(work, 'fixture');
  buildFixture(fixture);
  expected = manifest(fixture);
  const tar = join(work, 'fixture.tar');
  execFileSync('tar', [...TAR_FLAGS, '-C', fixture, '-cf', tar, '.']);
  archives.tar = tar;
  for (const [ext, tool] of [['gz', 'gzip'], ['bz2', 'bzip2'], ['xz', 'xz'], ['zst', 'zstd -q']] as const) {
    archives[ext] = `${tar}.${ext}`;
    sh(`${tool} -c < ${tar} > ${tar}.${ext}`);
  }
});
after(async () => {
  events?.close();
  await d.stop();
  removeNetworkDevices(d.dataRoot);
  killContainers(d.dataRoot);
  unmountUnder(d.dir);
  rmSync(d.dir, { recursive: true, force: true });
});

test('export: each compression, totals headers, ok trailer; GNU tar extracts the volume exactly', async () => {
  await createVolume('ex-src');
  buildFixture(dataDir('ex-src'));
  const want = manifest(dataDir('ex-src'));
  const totals = await measureTree(dataDir('ex-src'));
  const cases = [
    ['none', 'application/x-tar', [], (b: Buffer) => b.subarray(257, 262).toString() === 'ustar'],
    ['gzip', 'application/gzip', ['-z'], (b: Buffer) => b.subarray(0, 2).toString('hex') === '1f8b'],
    ['zstd', 'application/zstd', ['--zstd'], (b: Buffer) => b.subarray(0, 4).toString('hex') === '28b52ffd'],
  ] as const;
  for (const [compress, type, flags, magic] of cases) {
    const r = await stream('GET', `/volumes/ex-src/export?compress=${compress}`);
    assert.equal(r.status, 200, r.body.toString().slice(0, 500));
    assert.equal(r.headers['content-type'], type, compress);
    assert.equal(r.headers['x-berth-total-files'], String(totals.files));
    assert.equal(r.headers['x-berth-total-bytes'], String(totals.bytes));
    assert.equal(r.headers['x-berth-warning'], undefined);
    assert.equal(r.trailers['x-berth-export-status'], 'ok', `${compress} trailer`);
    assert.ok(magic(r.body), `${compress} body starts with its format's magic`);
    const file = join(work, `export-${compress}`);
    writeFileSync(file, r.body);
    const out = freshDir();
    const x = spawnSync('tar', [...TAR_FLAGS, ...flags, '-xpf', file, '-C', out], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    assert.deepEqual(manifest(out), want, `${compress} export extracts exactly`);
  }
  const ev = await events.until(isEvent('export', 'ex-src'), 'export ex-src');
  assert.equal(ev.Actor.Attributes.driver, 'local');
});

test('export refusals: 404 JSON for a missing volume, 400 for an unknown compression', async () => {
  const missing = await call('GET', '/volumes/ex-missing/export');
  assert.equal(missing.status, 404);
  assert.match(String(missing.headers['content-type']), /^application\/json/);
  assert.equal(typeof missing.json?.message, 'string', missing.text);
  assert.match(missing.json.message, /no such volume/);
  await createVolume('ex-bogus');
  const bogus = await call('GET', '/volumes/ex-bogus/export?compress=bogus');
  assert.equal(bogus.status, 400, bogus.text);
  assert.equal(typeof bogus.json?.message, 'string', bogus.text);
});

test('import creates a local volume from plain, gzip, bzip2, xz and zstd archives, exactly', async () => {
  for (const ext of ['tar', 'gz', 'bz2', 'xz', 'zst']) {
    const name = `im-${ext}`;
    const r = await doImport(name, archives[ext]!);
    const last = endLine(r, 'Importing', 'Imported', name);
    assert.equal(last.created, true, ext);
    const inspect = await call('GET', `/volumes/${name}`);
    assert.equal(inspect.status, 200, inspect.text);
    assert.equal(inspect.json.Driver, 'local');
    assert.equal(inspect.json.Mountpoint, dataDir(name));
    assert.deepEqual(manifest(dataDir(name)), expected, `${ext} import is exact`);
    const created = await events.until(isEvent('create', name), `create ${name}`);
    assert.deepEqual(created.Actor.Attributes, { driver: 'local' });
    const imported = await events.until(isEvent('import', name), `import ${name}`);
    assert.equal(imported.Actor.Attributes.driver, 'local');
    assert.ok(events.seen.indexOf(created) < events.seen.indexOf(imported), 'create before import');
  }
});

test('import into a non-empty volume without replace is 409 before the body is read; nothing changes', async () => {
  await createVolume('im-busy');
  writeFileSync(join(dataDir('im-busy'), 'keep'), 'keep\n');
  const before = manifest(dataDir('im-busy'));
  // Headers only: the answer must come while no byte of the body has been sent.
  const req = request({ socketPath: d.socket, method: 'POST', path: importPath('im-busy'), headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } });
  req.on('error', () => undefined);
  req.flushHeaders();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  await once(res, 'end');
  req.destroy();
  assert.equal(res.statusCode, 409);
  assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), { message: 'volume im-busy is not empty: use --replace to replace its contents' });
  assert.deepEqual(manifest(dataDir('im-busy')), before);
  // And with a body sent in full: still 409, still unchanged.
  const full = await doImport('im-busy', archives.tar!);
  assert.equal(full.status, 409, full.text);
  assert.deepEqual(manifest(dataDir('im-busy')), before);
});

test('import with replace=1 makes the volume exactly the archive', async () => {
  await createVolume('im-rep');
  mkdirSync(join(dataDir('im-rep'), 'extra-dir'));
  writeFileSync(join(dataDir('im-rep'), 'extra-dir', 'f'), 'old\n');
  writeFileSync(join(dataDir('im-rep'), 'plain'), 'old plain\n');
  const last = endLine(await doImport('im-rep', archives.zst!, true), 'Importing', 'Imported', 'im-rep');
  assert.equal(last.created, false);
  assert.deepEqual(manifest(dataDir('im-rep')), expected);
  await events.until(isEvent('import', 'im-rep'), 'import im-rep');
});

test('a truncated archive fails with an error line: a replaced volume unchanged, a created one removed', async () => {
  const whole = readFileSync(archives.tar!);
  const cut = whole.subarray(0, Math.floor(whole.length / 2));
  await createVolume('tr-rep');
  writeFileSync(join(dataDir('tr-rep'), 'keep'), 'keep\n');
  const before = manifest(dataDir('tr-rep'));
  errorLine(await stream('POST', importPath('tr-rep', true), cut));
  assert.deepEqual(manifest(dataDir('tr-rep')), before, 'the replace target is unchanged');
  errorLine(await stream('POST', importPath('tr-new'), cut));
  await waitGone('tr-new');
  assert.equal(events.seen.some(isEvent('import', 'tr-new')), false);
});

test('a hostile archive (member ../NAME) fails and writes nothing outside', async () => {
  const escapee = `escaped-${process.pid}`;
  const file = join(work, 'hostile.tar');
  const py = [
    'import io, sys, tarfile',
    "t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)",
    "i = tarfile.TarInfo('.'); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)",
    "data = b'escaped\\n'; i = tarfile.TarInfo('../' + sys.argv[2]); i.size = len(data); t.addfile(i, io.BytesIO(data))",
    't.close()',
  ].join('\n');
  execFileSync('python3', ['-c', py, file, escapee]);
  const message = errorLine(await stream('POST', importPath('hostile'), readFileSync(file)));
  assert.match(message, /\.\./);
  await waitGone('hostile');
  const found = execFileSync('find', [d.dir, '-name', escapee], { encoding: 'utf8' });
  assert.equal(found, '', 'nothing written outside the volume');
});

test('a failure early in a large upload answers at once and closes the connection: the client is not left sending', async () => {
  // A hostile first member, then 256 MiB the daemon will never read.
  const hostile = encodeMember({ type: 'file', path: Buffer.from('../early-escape'), mode: 0o644, uid: 0, gid: 0, size: 0, mtimeNs: 0n });
  const filler = Buffer.alloc(1 << 20, 0x61);
  let sent = 0;
  const req = request({ socketPath: d.socket, method: 'POST', path: importPath('early-fail'), headers: { 'Content-Type': 'application/x-tar' } });
  const answered = new Promise<Streamed>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers }));
      res.on('error', reject);
    });
  });
  const closed = new Promise<void>((resolve) => req.on('close', resolve));
  req.on('error', () => undefined); // the daemon closing while we still send is the point
  req.write(hostile);
  const pump = (): void => {
    while (sent < 256 << 20 && !req.destroyed) {
      sent += filler.length;
      if (!req.write(filler)) {
        req.once('drain', pump);
        return;
      }
    }
    if (!req.destroyed) req.end();
  };
  pump();
  assert.match(errorLine(await answered), /\.\./);
  await closed;
  assert.ok(sent < 256 << 20, `the upload was cut short (sent ${sent} bytes)`);
  await waitGone('early-fail');
});

test('a client aborting mid-upload leaves no volume behind', async () => {
  const name = 'im-abort';
  const req = request({ socketPath: d.socket, method: 'POST', path: importPath(name), headers: { 'Content-Type': 'application/x-tar' } });
  req.on('error', () => undefined);
  let accepted = false;
  let status: number | undefined;
  req.on('response', (res) => ((accepted = true), (status = res.statusCode), res.resume()));
  void events.until(isEvent('create', name), `create ${name}`).then(() => (accepted = true), () => undefined);
  const closed = new Promise<void>((resolve) => req.on('close', resolve));
  const head = (path: string, type: 'directory' | 'file', size: number) =>
    encodeMember({ path: Buffer.from(path), type, mode: 0o755, uid: 0, gid: 0, size, mtimeNs: 0n });
  req.write(Buffer.concat([head('.', 'directory', 0), head('./big', 'file', 1 << 30)]));
  // Send data until the import is accepted (response or the volume's create event) and 4 MiB are in, or 64 MiB.
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let sent = 0; sent < 64 << 20 && !(accepted && sent >= 4 << 20); sent += chunk.length) {
    if (!req.write(chunk)) await Promise.race([once(req, 'drain'), closed]);
  }
  req.destroy();
  await closed;
  assert.ok(accepted, 'the import was under way (a response or the create event) before the abort');
  assert.ok(status === undefined || status === 200, `status ${status}`);
  await waitGone(name);
  assert.equal(events.seen.some(isEvent('import', name)), false);
  assert.equal((await call('GET', '/_ping')).text, 'OK');
});

test('clone copies driver, labels, options and exact data; Cloned line; create and clone events', async () => {
  await createVolume('cl-src', { Labels: { team: 'a', tier: 'db' }, DriverOpts: {} });
  buildFixture(dataDir('cl-src'));
  const want = manifest(dataDir('cl-src'));
  const r = await call('POST', '/volumes/cl-src/clone?name=cl-dst');
  assert.equal(r.status, 200, r.text);
  const last = jsonLines(r.text).at(-1)!;
  assert.equal(last.status, 'Cloned', r.text);
  assert.equal(typeof last.reflinked, 'boolean', r.text);
  for (const l of jsonLines(r.text).slice(0, -1)) assert.equal(l.status, 'Cloning', JSON.stringify(l));
  const src = (await call('GET', '/volumes/cl-src')).json;
  const dst = await call('GET', '/volumes/cl-dst');
  assert.equal(dst.status, 200, dst.text);
  assert.equal(dst.json.Driver, src.Driver);
  assert.deepEqual(dst.json.Labels, { team: 'a', tier: 'db' });
  assert.deepEqual(dst.json.Options, src.Options);
  assert.deepEqual(dst.json.Options, {});
  assert.deepEqual(manifest(dataDir('cl-dst')), want);
  assert.deepEqual(manifest(dataDir('cl-src')), want, 'the source is untouched');
  const created = await events.until(isEvent('create', 'cl-dst'), 'create cl-dst');
  assert.deepEqual(created.Actor.Attributes, { driver: 'local' });
  const cloned = await events.until(isEvent('clone', 'cl-dst'), 'clone cl-dst');
  assert.equal(cloned.Actor.Attributes.source, 'cl-src');
  assert.equal(cloned.Actor.Attributes.driver, 'local');
  // A source without labels or options gives a destination without them (null stays null).
  await createVolume('cl-bare');
  assert.equal((await call('POST', '/volumes/cl-bare/clone?name=cl-bare2')).status, 200);
  const bare = (await call('GET', '/volumes/cl-bare2')).json;
  assert.equal(bare.Labels, null);
  assert.equal(bare.Options, null);
});

test('clone refusals: 404 missing source, 409 existing destination, 400 invalid names; nothing created', async () => {
  const missing = await call('POST', '/volumes/cl-nosrc/clone?name=cl-new');
  assert.equal(missing.status, 404, missing.text);
  assert.equal(typeof missing.json?.message, 'string', missing.text);
  assert.equal((await call('GET', '/volumes/cl-new')).status, 404);
  await createVolume('cl-a');
  await createVolume('cl-b');
  writeFileSync(join(dataDir('cl-b'), 'mine'), 'b\n');
  const exists = await call('POST', '/volumes/cl-a/clone?name=cl-b');
  assert.equal(exists.status, 409, exists.text);
  assert.equal(typeof exists.json?.message, 'string', exists.text);
  assert.equal(readFileSync(join(dataDir('cl-b'), 'mine'), 'utf8'), 'b\n');
  for (const bad of ['a/b', '-x']) {
    const r = await call('POST', `/volumes/cl-a/clone?name=${encodeURIComponent(bad)}`);
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
    assert.equal(typeof r.json?.message, 'string', r.text);
  }
  const names = ((await call('GET', '/volumes')).json.Volumes as Array<{ Name: string }>).map((v) => v.Name);
  assert.deepEqual(names.filter((n) => ['cl-new', 'a/b', 'a', 'b', '-x', 'x'].includes(n)), []);
});

test('a volume a running container uses: export carries X-Berth-Warning, import with replace is 409', async (t) => {
  await importTestImages(d.env);
  await createVolume('in-use');
  writeFileSync(join(dataDir('in-use'), 'f'), 'f\n');
  t.after(() => dockerOk(d.env, 'rm', '-f', 'web').catch(() => undefined));
  await dockerOk(d.env, 'run', '-d', '--name', 'web', '-v', 'in-use:/d', 'busybox', 'sleep', '600');
  const r = await stream('GET', '/volumes/in-use/export');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['x-berth-warning']), /running container\(s\) web\b.*not a point-in-time copy/);
  assert.equal(r.trailers['x-berth-export-status'], 'ok');
  const before = manifest(dataDir('in-use'));
  const rep = await doImport('in-use', archives.tar!, true);
  assert.equal(rep.status, 409, rep.text);
  assert.equal(typeof JSON.parse(rep.text).message, 'string');
  assert.deepEqual(manifest(dataDir('in-use')), before);
});

/** A request with extra headers and no body; the whole response. */
function withHeaders(method: string, path: string, headers: Record<string, string>): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('export into a handed-over descriptor: the daemon writes this process\'s file, JSON lines, the same archive as streamed', async () => {
  await createVolume('fd-ex');
  buildFixture(dataDir('fd-ex'));
  const streamed = await stream('GET', '/volumes/fd-ex/export');
  assert.equal(streamed.trailers['x-berth-export-status'], 'ok');
  const file = join(work, 'fd-export.tar');
  const fd = openSync(file, 'w');
  try {
    const r = await withHeaders('GET', '/volumes/fd-ex/export', { 'X-Berth-Output-Fd': String(fd) });
    const lines = jsonLines(r.body.toString());
    assert.equal(r.status, 200, r.body.toString());
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const last = lines.at(-1)!;
    assert.equal(last.status, 'Exported', r.body.toString());
    assert.equal(last.progressDetail.files, expected.length);
    assert.equal(last.progressDetail.totalFiles, expected.length);
  } finally {
    closeSync(fd);
  }
  assert.ok(readFileSync(file).equals(streamed.body), 'the file holds exactly the streamed archive');
  // gzip through the descriptor too.
  const gz = join(work, 'fd-export.tar.gz');
  const gfd = openSync(gz, 'w');
  try {
    const r = await withHeaders('GET', '/volumes/fd-ex/export?compress=gzip', { 'X-Berth-Output-Fd': String(gfd) });
    assert.equal(jsonLines(r.body.toString()).at(-1)?.status, 'Exported', r.body.toString());
  } finally {
    closeSync(gfd);
  }
  assert.ok(gunzipSync(readFileSync(gz)).equals(streamed.body));
});

test('a descriptor the daemon cannot use: export streams instead and says why; import is 400 marked for a retry', async () => {
  await createVolume('fd-bad');
  writeFileSync(join(dataDir('fd-bad'), 'f'), 'data\n');
  const ro = openSync(archives.tar!, 'r');
  try {
    for (const [fd, why] of [
      ['987654', /pidfd_getfd|EBADF/],
      [String(ro), /not open for writing/],
      ['x1', /invalid/],
    ] as const) {
      const r = await withHeaders('GET', '/volumes/fd-bad/export', { 'X-Berth-Output-Fd': fd });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/x-tar', fd);
      assert.match(String(r.headers['x-berth-fd-refused']), why);
      assert.equal(r.trailers['x-berth-export-status'], 'ok');
    }
    const w = openSync(join(work, 'write-only'), 'w');
    try {
      for (const fd of ['987654', String(w)]) {
        const r = await withHeaders('POST', importPath('fd-bad-im'), { 'X-Berth-Input-Fd': fd, 'Content-Length': '0' });
        assert.equal(r.status, 400, r.body.toString());
        assert.ok(r.headers['x-berth-fd-refused'], 'marked as a descriptor refusal');
        assert.match(JSON.parse(r.body.toString()).message, /cannot read the archive from the client's descriptor/);
      }
    } finally {
      closeSync(w);
    }
  } finally {
    closeSync(ro);
  }
  assert.equal((await call('GET', '/volumes/fd-bad-im')).status, 404, 'a refused import creates nothing');
});

test('import from a handed-over descriptor: exact, and progress says how far into the archive the daemon is', async () => {
  const fd = openSync(archives.zst!, 'r');
  let r: Streamed;
  try {
    r = await withHeaders('POST', importPath('fd-im'), { 'X-Berth-Input-Fd': String(fd), 'Content-Length': '0' });
  } finally {
    closeSync(fd);
  }
  const last = endLine({ ...r, text: r.body.toString() }, 'Importing', 'Imported', 'fd-im');
  assert.equal(last.created, true);
  assert.equal(last.progressDetail.archiveBytes, statSync(archives.zst!).size);
  assert.deepEqual(manifest(dataDir('fd-im')), expected);
});
