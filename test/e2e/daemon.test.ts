// berthd itself: one instance per data root, clean SIGTERM, TCP only with TLS
// client verification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { BERTHD, removeNetworkDevices, startDaemon } from '../helpers/daemon.js';
import { run, DOCKER } from '../helpers/run.js';
import { readMountInfo } from '../../src/util/mount.js';

function berthd(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BERTHD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c));
    child.stderr.on('data', (c: Buffer) => (output += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('a second berthd on the same data root is refused; the socket is 0660', async (t) => {
  const d = await startDaemon(t);
  assert.equal(statSync(d.socket).mode & 0o777, 0o660);
  const second = await berthd(['--data-root', d.dataRoot, '-H', `unix://${d.dir}/other.sock`]);
  assert.equal(second.code, 1);
  assert.match(second.output, /berthd is already running on this data root \(pid \d+/);
  // A daemon that fails to listen has made its default bridge and nftables table already.
  t.after(() => removeNetworkDevices(join(d.dir, 'root2')));
  const sameSocket = await berthd(['--data-root', join(d.dir, 'root2'), '-H', d.host]);
  assert.equal(sameSocket.code, 1);
  assert.match(sameSocket.output, /another daemon is already listening/);
});

test('SIGTERM stops berthd cleanly and a restart after kill -9 works', async (t) => {
  const d = await startDaemon(t);
  const binds = () => readMountInfo().filter((m) => m.mountPoint === realpathSync(d.dataRoot)).length;
  // The data root is a shared mount of its own while berthd runs (docker cp's helpers are its slaves).
  assert.equal(binds(), 1);
  const exited = new Promise<number | null>((r) => d.process.once('exit', (code) => r(code)));
  d.process.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(d.logs(), /"msg":"stopped"/);
  assert.equal(binds(), 0, 'a clean stop unbinds the data root');
  await d.restart();
  await d.kill9();
  assert.equal(binds(), 1, 'left by the killed daemon');
  await d.restart();
  assert.equal(binds(), 1, 'taken over, not bound twice');
  assert.equal((await run(DOCKER, ['volume', 'ls'], { env: d.env })).code, 0);
});

test('TCP needs TLS client verification; with it the docker CLI works over TLS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
  t.after(() => {
    removeNetworkDevices(join(dir, 'root0'));
    rmSync(dir, { recursive: true, force: true });
  });
  const port = await freePort();
  const refused = await berthd(['--data-root', join(dir, 'root0'), '-H', `tcp://127.0.0.1:${port}`]);
  assert.equal(refused.code, 1);
  assert.match(refused.output, /refusing to listen on tcp:\/\/127\.0\.0\.1:\d+ without TLS client verification/);

  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth-test-ca');
  for (const [name, cn, ext] of [
    ['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    execFileSync('sh', ['-c', `printf '%s\\n' '${ext}' > ${name}.ext`], { cwd: dir });
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  execFileSync('sh', ['-c', 'mkdir -p client && cp ca.pem client/ca.pem && cp client.pem client/cert.pem && cp client-key.pem client/key.pem'], { cwd: dir });
  const d = await startDaemon(t, ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'server.pem'), '--tlskey', join(dir, 'server-key.pem')]);
  const env = { ...d.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(dir, 'client') };
  const ok = await run(DOCKER, ['volume', 'create', 'over-tls'], { env });
  assert.equal(ok.code, 0, ok.stderr);
  const noCert = await run(DOCKER, ['volume', 'ls'], { env: { ...d.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '', DOCKER_TLS: '1', DOCKER_CERT_PATH: join(dir, 'nowhere') } });
  assert.notEqual(noCert.code, 0, 'a client without a certificate is refused');
});
