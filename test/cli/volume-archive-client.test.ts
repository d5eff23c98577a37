// The berth CLI's export/import/clone against a stand-in daemon that speaks
// docs/volume-archives.md: trailer checks (ok, error, missing, cut
// connection) with -o FILE removed on failure, a refusal before the upload
// is read, JSON-lines failures, clone, and the warning header.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as pty from 'node-pty';
import { berth } from '../helpers/run.js';
import { BERTH } from '../helpers/daemon.js';
import { takePeerFd } from '../../src/fs/peer-fd.js';

let server: Server;
let dir: string;
let tar: Buffer;
let env: NodeJS.ProcessEnv;
const received: Record<string, number> = {};

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname.replace(/^\/v[\d.]+/, '');
  if (path === '/_ping') {
    res.writeHead(200, { 'Api-Version': '1.47' }).end('OK');
    return;
  }
  const json = (status: number, body: unknown): void => void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const exp = /^\/volumes\/([^/]+)\/export$/.exec(path);
  if (exp) {
    const name = exp[1]!;
    if (name === 'missing') return json(404, { message: 'get missing: no such volume' });
    res.writeHead(200, {
      'Content-Type': 'application/x-tar',
      'X-Berth-Total-Bytes': '12',
      'X-Berth-Total-Files': '3',
      ...(name === 'busy' ? { 'X-Berth-Warning': 'volume data is in use by running container(s) web; the export is not a point-in-time copy' } : {}),
      Trailer: 'X-Berth-Export-Status',
    });
    if (name === 'ok' || name === 'busy') {
      res.write(url.searchParams.get('compress') === 'gzip' ? gzipSync(tar) : tar);
      res.addTrailers({ 'X-Berth-Export-Status': 'ok' });
      res.end();
    } else if (name === 'bad') {
      res.write(tar.subarray(0, 1024));
      res.addTrailers({ 'X-Berth-Export-Status': 'error: read ./f: input/output error' });
      res.end();
    } else if (name === 'notrailer') {
      res.end(tar);
    } else {
      res.write(tar.subarray(0, 1024), () => res.socket?.destroy());
    }
    return;
  }
  const imp = /^\/volumes\/([^/]+)\/import$/.exec(path);
  if (imp) {
    const name = imp[1]!;
    if (name === 'full') return json(409, { message: 'volume full is not empty: use --replace to replace its contents' });
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      received[name] = n;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ status: 'Importing', id: name, progressDetail: { current: n / 2, files: 1 } })}\n`);
      if (name === 'broken') res.end(`${JSON.stringify({ errorDetail: { message: 'invalid archive: truncated' }, error: 'invalid archive: truncated' })}\n`);
      else if (name === 'silent') res.end();
      else res.end(`${JSON.stringify({ status: 'Imported', id: name, progressDetail: { current: n, files: 3 }, created: true, replace: url.searchParams.get('replace') })}\n`);
    });
    return;
  }
  const clone = /^\/volumes\/([^/]+)\/clone$/.exec(path);
  if (clone) {
    const dst = url.searchParams.get('name') ?? '';
    if (dst === 'exists') return json(409, { message: 'volume exists already' });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(`${JSON.stringify({ status: 'Cloning', id: dst, progressDetail: { current: 6, files: 2 } })}\n`);
    res.end(`${JSON.stringify({ status: 'Cloned', id: dst, progressDetail: { current: 12, files: 3 }, reflinked: true })}\n`);
    return;
  }
  json(404, { message: 'page not found' });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-volarch-client-'));
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'a'), 'hello world\n');
  mkdirSync(join(src, 'd'));
  execFileSync('tar', ['--format=posix', '-C', src, '-cf', join(dir, 'src.tar'), '.']);
  tar = readFileSync(join(dir, 'src.tar'));
  const socket = join(dir, 'fake.sock');
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(socket, r));
  env = { ...process.env, BERTH_HOST: `unix://${socket}`, DOCKER_HOST: `unix://${socket}` };
});
after(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('export with an ok trailer writes the archive; json progress counts members and data', async () => {
  const file = join(dir, 'ok.tar');
  const r = await berth(env, 'volume', 'export', 'ok', '-o', file, '--progress', 'json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(file), tar);
  const last = JSON.parse(r.stderr.trim().split('\n').pop()!) as Record<string, number>;
  assert.equal(last.files, 3);
  assert.equal(last.bytes, 12);
  assert.equal(last.totalFiles, 3);
  assert.equal(last.totalBytes, 12);
});

test('a gzip export is counted through a decoder as it passes', async () => {
  const file = join(dir, 'ok.tar.gz');
  const r = await berth(env, 'volume', 'export', 'ok', '-o', file, '--compress', 'gzip', '--progress', 'json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(gunzipSync(readFileSync(file)), tar);
  const last = JSON.parse(r.stderr.trim().split('\n').pop()!) as Record<string, number>;
  assert.equal(last.files, 3);
  assert.equal(last.bytes, 12);
});

for (const [name, message] of [
  ['bad', 'Error response from daemon: read ./f: input/output error\n'],
  ['notrailer', 'export failed: the daemon did not confirm the end of the archive (no X-Berth-Export-Status trailer)\n'],
  ['cut', 'export failed: the connection to the daemon was closed before the archive ended\n'],
  ['missing', 'Error response from daemon: get missing: no such volume\n'],
] as const) {
  test(`export "${name}" fails with exit 1 and removes -o FILE`, async () => {
    const file = join(dir, `${name}.tar`);
    const r = await berth(env, 'volume', 'export', name, '-o', file, '--progress', 'none');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, message);
    assert.ok(!existsSync(file));
  });
}

test('the in-use warning header is printed on stderr', async () => {
  const r = await berth(env, 'volume', 'export', 'busy', '-o', join(dir, 'busy.tar'), '--progress', 'none');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, 'WARNING: volume data is in use by running container(s) web; the export is not a point-in-time copy\n');
});

test('import streams the file, reports the end line, sends replace=1', async () => {
  const r = await berth(env, 'volume', 'import', '--replace', 'new', join(dir, 'src.tar'), '--progress', 'plain');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'new\n');
  assert.equal(received.new, tar.length);
  assert.match(r.stderr, /^Imported new: [^,]+, 3 files in \d+s/m);
});

test('a refusal before the upload is read wins over the broken pipe', async () => {
  const big = join(dir, 'big.tar');
  writeFileSync(big, Buffer.alloc(64 * 1024 * 1024));
  const r = await berth(env, 'volume', 'import', 'full', big, '--progress', 'none');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: volume full is not empty: use --replace to replace its contents\n');
});

test('a failure line or a stream without its end line is exit 1', async () => {
  const broken = await berth(env, 'volume', 'import', 'broken', join(dir, 'src.tar'), '--progress', 'none');
  assert.equal(broken.code, 1);
  assert.equal(broken.stderr, 'Error response from daemon: invalid archive: truncated\n');
  const silent = await berth(env, 'volume', 'import', 'silent', join(dir, 'src.tar'), '--progress', 'none');
  assert.equal(silent.code, 1);
  assert.match(silent.stderr, /closed the stream before reporting "Imported"/);
});

test('clone prints the target and its json progress ends at the Cloned counts; 409 is a daemon error', async () => {
  const r = await berth(env, 'volume', 'clone', 'src', 'dst', '--progress', 'json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'dst\n');
  const last = JSON.parse(r.stderr.trim().split('\n').pop()!) as Record<string, number>;
  assert.equal(last.bytes, 12);
  assert.equal(last.files, 3);
  const again = await berth(env, 'volume', 'clone', 'src', 'exists');
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'Error response from daemon: volume exists already\n');
});

/** Runs berth on a pseudo-terminal (stdin, stdout and stderr are the tty) and returns what it drew. */
function berthOnTty(...args: string[]): Promise<{ code: number; output: string }> {
  const term = pty.spawn(process.execPath, ['--', BERTH, ...args], { env: env as Record<string, string>, cols: 200, rows: 30, name: 'xterm' });
  let output = '';
  term.onData((s) => (output += s));
  return new Promise((resolve) => term.onExit(({ exitCode }) => resolve({ code: exitCode, output })));
}

test('on a terminal: export draws a bar with bytes, files, rate and ETA; import and clone too; tar is never written to it', async () => {
  const ex = await berthOnTty('volume', 'export', 'ok', '-o', join(dir, 'tty.tar'));
  assert.equal(ex.code, 0, ex.output);
  assert.match(ex.output, /Exporting ok \[[^\]]+\] 100% \| 12B\/12B \| 3\/3 files \| [^|]+\/s \| ETA 0s/);
  const im = await berthOnTty('volume', 'import', 'new', join(dir, 'src.tar'));
  assert.equal(im.code, 0, im.output);
  assert.match(im.output, new RegExp(`Importing new \\[[^\\]]+\\] 100% \\| ${tar.length / 1000}kB/${tar.length / 1000}kB \\| 3 files`));
  const cl = await berthOnTty('volume', 'clone', 'src', 'dst');
  assert.equal(cl.code, 0, cl.output);
  assert.match(cl.output, /Cloning src to dst \[[^\]]+\] \d+% \| 12B \| 3 files/);
  const refused = await berthOnTty('volume', 'export', 'ok');
  assert.equal(refused.code, 1);
  assert.match(refused.output, /berth: refusing to write a tar archive to a terminal; use -o FILE or redirect stdout/);
});

/**
 * A stand-in daemon that takes descriptors (its ping says so): it reads and
 * writes the CLI's own file through pidfd_getfd, as berthd does; volume
 * "refuse" makes it refuse the descriptor, so the CLI must stream instead.
 */
async function handoffServer(): Promise<{ env: NodeJS.ProcessEnv; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/v[\d.]+/, '');
    if (path === '/_ping') return void res.writeHead(200, { 'Api-Version': '1.47', 'Berth-Fd-Handoff': '1' }).end();
    const [, name, op] = /^\/volumes\/([^/]+)\/(export|import)$/.exec(path) ?? [];
    const offered = req.headers[op === 'export' ? 'x-berth-output-fd' : 'x-berth-input-fd'];
    if (offered !== undefined && name !== 'refuse') {
      const fd = takePeerFd(req.socket, Number(offered));
      seen.push(`${op} ${name} fd`);
      if (op === 'export') writeSync(fd, tar);
      else assert.deepEqual(readFileSync(fd), tar, 'the daemon reads the whole archive from the handed descriptor');
      closeSync(fd);
      const end = op === 'export' ? { status: 'Exported', id: name, progressDetail: { current: 12, files: 3 } } : { status: 'Imported', id: name, progressDetail: { current: 12, files: 3, archiveBytes: tar.length }, created: true };
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(end)}\n`);
    }
    if (op === 'import' && offered !== undefined) {
      return void res.writeHead(400, { 'Content-Type': 'application/json', 'X-Berth-Fd-Refused': '1' }).end(JSON.stringify({ message: 'cannot read the archive from the client\'s descriptor: no' }));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${op} ${name} stream`);
      if (op === 'export') {
        res.writeHead(200, { 'Content-Type': 'application/x-tar', Trailer: 'X-Berth-Export-Status', 'X-Berth-Fd-Refused': 'no' });
        res.write(tar);
        res.addTrailers({ 'X-Berth-Export-Status': 'ok' });
        return void res.end();
      }
      assert.deepEqual(Buffer.concat(chunks), tar);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(`${JSON.stringify({ status: 'Imported', id: name, progressDetail: { current: 12, files: 3 }, created: true })}\n`);
    });
  });
  const socket = join(dir, 'handoff.sock');
  await new Promise<void>((r) => srv.listen(socket, r));
  return { env: { ...process.env, BERTH_HOST: `unix://${socket}` }, seen, close: () => new Promise((r) => srv.close(() => r())) };
}

test('a daemon that takes descriptors gets the CLI\'s own file; a refusal or BERTH_NO_FD_HANDOFF streams instead', async () => {
  const h = await handoffServer();
  try {
    const file = join(dir, 'src.tar');
    for (const name of ['v', 'refuse']) {
      const out = join(dir, `handoff-${name}.tar`);
      const ex = await berth(h.env, 'volume', 'export', name, '-o', out, '--progress', 'none');
      assert.equal(ex.code, 0, ex.stderr);
      assert.deepEqual(readFileSync(out), tar, name);
      const im = await berth(h.env, 'volume', 'import', name, file, '--progress', 'none');
      assert.equal(im.code, 0, im.stderr);
    }
    const off = await berth({ ...h.env, BERTH_NO_FD_HANDOFF: '1' }, 'volume', 'import', 'off', file, '--progress', 'none');
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(h.seen, ['export v fd', 'import v fd', 'export refuse stream', 'import refuse stream', 'import off stream']);
  } finally {
    await h.close();
  }
});
