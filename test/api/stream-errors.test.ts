// No request may crash berthd or leave an error unhandled (issue 6, item 3):
// upgraded (hijacked) connections and clients that go away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { api } from '../helpers/http.js';
import { busyboxTar } from '../helpers/busybox.js';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

let d: TestDaemon & { cleanup: () => Promise<void> };
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d.cleanup();
});

const ESCAPED = /uncaught exception|unhandled promise rejection|not handled at its source|outside its error path|client connection error/;

/** Resolves with the first daemon log line matching `pattern` (lines already logged count). */
function logLine(pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const check = () => {
      const line = d.logs().split('\n').find((l) => pattern.test(l));
      if (line === undefined) return false;
      d.process.stdout!.off('data', check);
      d.process.stderr!.off('data', check);
      resolve(line);
      return true;
    };
    if (check()) return;
    d.process.stdout!.on('data', check);
    d.process.stderr!.on('data', check);
  });
}

/** Sends raw bytes and collects everything the daemon answers until it closes the connection. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(d.socket);
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    sock.on('error', reject);
    sock.write(bytes);
  });
}

const upgradeHead = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

test('an upgrade request declaring a body over the limit gets 413 JSON at once instead of being buffered', { timeout: 60_000 }, async () => {
  const answer = await raw(upgradeHead('/exec/zz/start', 64 * 1024 * 1024) + '{');
  const [head, body] = answer.split('\r\n\r\n', 2) as [string, string];
  assert.match(head, /^HTTP\/1\.1 413 /);
  assert.match(head, /content-type: application\/json/i);
  assert.match(JSON.parse(body).message, /request body is too large/);
  assert.equal((await api(d.socket, 'GET', '/_ping')).text, 'OK');
});

test('an upgraded client that hangs up before its answer is handled at the socket, not by the process', { timeout: 60_000 }, async () => {
  const before = d.logs().split('\n').length;
  // The client writes its request and is gone before berthd answers 404 onto
  // the upgraded socket: the write fails (EPIPE) on a socket Node left
  // without an 'error' listener.
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => {
      const sock: Socket = connect(d.socket, () => {
        sock.write(upgradeHead('/containers/zz-none/attach?stream=1&stdout=1', 2) + '{}', () => {
          sock.destroy();
          resolve();
        });
      });
      sock.on('error', () => undefined);
    });
  }
  const line = await logLine(/upgraded connection error|client connection error|uncaught exception/);
  assert.match(line, /upgraded connection error/);
  // Every exchange has been answered or failed by now (the daemon serves in order): nothing escaped.
  assert.equal((await api(d.socket, 'GET', '/_ping')).text, 'OK');
  assert.deepEqual(d.logs().split('\n').slice(before).filter((l) => ESCAPED.test(l)), []);
  assert.equal(d.process.exitCode, null);
});

test('a read error in the middle of GET /containers/{id}/archive closes that stream and nothing else', { timeout: 60_000 }, async () => {
  const tarPath = busyboxTar();
  try {
    const imported = await api(d.socket, 'POST', '/images/create?fromSrc=-&repo=busybox&tag=latest', undefined, { rawBody: readFileSync(tarPath), contentType: 'application/x-tar' });
    assert.equal(imported.status, 200, imported.text);
  } finally {
    rmSync(dirname(tarPath), { recursive: true, force: true });
  }
  // A write-only sysfs file cannot be opened for reading, even by root: the
  // archive's tar stream fails after the 200 and its headers went out.
  const created = await api(d.socket, 'POST', '/containers/create?name=readerr', { Image: 'busybox:latest', Cmd: ['true'], HostConfig: { Binds: ['/sys/bus/pci:/pci:ro'] } });
  assert.equal(created.status, 201, created.text);
  const before = d.logs().split('\n').length;
  for (let i = 0; i < 3; i++) {
    const r = await new Promise<{ status: number; complete: boolean }>((resolve) => {
      const req = request({ socketPath: d.socket, method: 'GET', path: '/containers/readerr/archive?path=/pci/rescan' }, (res) => {
        res.on('data', () => undefined);
        res.on('error', () => resolve({ status: res.statusCode ?? 0, complete: false }));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, complete: res.complete }));
      });
      req.on('error', () => resolve({ status: 0, complete: false }));
      req.end();
    });
    // Either a JSON error before the stream started or a stream cut short: never a complete "success".
    assert.ok(r.status >= 400 || !r.complete, `archive of an unreadable file answered ${r.status}, complete`);
  }
  assert.equal((await api(d.socket, 'GET', '/_ping')).text, 'OK');
  assert.equal(d.process.exitCode, null);
  assert.deepEqual(d.logs().split('\n').slice(before).filter((l) => ESCAPED.test(l)), []);
  assert.equal((await api(d.socket, 'DELETE', '/containers/readerr')).status, 204);
});
