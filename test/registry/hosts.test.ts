// Which registries are insecure, in what order endpoints are tried, mirror
// validation, and TLS verification against a CA from the certs directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { RegistryClient } from '../../src/registry/client.js';
import { RegistryHosts, validateMirror } from '../../src/registry/hosts.js';
import { makeTestCA } from '../helpers/registry.js';

test('loopback is insecure by default; --insecure-registry takes HOST[:PORT] and CIDRs', async () => {
  const hosts = new RegistryHosts({ insecure: ['myregistry:5000', '10.0.0.0/8'] });
  assert.equal(await hosts.isSecure('127.0.0.1:5000'), false);
  assert.equal(await hosts.isSecure('127.3.2.1'), false);
  assert.equal(await hosts.isSecure('[::1]:5000'), false);
  assert.equal(await hosts.isSecure('localhost:5000'), false, 'localhost resolves to loopback');
  assert.equal(await hosts.isSecure('myregistry:5000'), false);
  assert.equal(await hosts.isSecure('myregistry:5001'), true);
  assert.equal(await hosts.isSecure('10.9.8.7:443'), false);
  assert.equal(await hosts.isSecure('192.0.2.10:5000'), true);
  assert.equal(await new RegistryHosts({ loopbackInsecure: false }).isSecure('127.0.0.1:5000'), true);
  assert.throws(() => new RegistryHosts({ insecure: ['http://x:5000'] }), /insecure registry http:\/\/x:5000 should not contain ':\/\/'/);
  assert.throws(() => new RegistryHosts({ insecure: ['bad host!'] }), /insecure registry bad host! is not valid/);
});

test('endpoint order: mirrors then Docker Hub for pulls; HTTPS, then HTTP only for an insecure registry', async () => {
  const hosts = new RegistryHosts({ mirrors: ['https://mirror.example', 'http://127.0.0.1:6000/prefix'] });
  const hub = await hosts.endpoints('docker.io', true);
  assert.deepEqual(hub.map((e) => [e.url.href, e.mirror, e.tls === null]), [
    ['https://mirror.example/', true, false],
    ['http://127.0.0.1:6000/prefix/', true, true],
    ['https://registry-1.docker.io/', false, false],
  ]);
  assert.deepEqual((await hosts.endpoints('docker.io', false)).map((e) => e.url.href), ['https://registry-1.docker.io/']);
  const local = await hosts.endpoints('127.0.0.1:5000', true);
  assert.deepEqual(local.map((e) => [e.url.href, e.tls?.verify ?? null]), [
    ['https://127.0.0.1:5000/', false],
    ['http://127.0.0.1:5000/', null],
  ]);
  assert.deepEqual((await hosts.endpoints('192.0.2.10:5000', false)).map((e) => [e.url.href, e.tls?.verify]), [['https://192.0.2.10:5000/', true]]);
});

test('mirrors are validated as dockerd validates them', () => {
  assert.equal(validateMirror('https://m.example'), 'https://m.example/');
  assert.throws(() => validateMirror('m.example'), /no scheme specified for "m.example"/);
  assert.throws(() => validateMirror('ftp://m.example'), /unsupported scheme "ftp"/);
  assert.throws(() => validateMirror('https://m.example/?a=1'), /query or fragment/);
  assert.throws(() => validateMirror('https://u:p@m.example'), /username\/password not allowed/);
});

test('a secure registry is verified against the CA in <certs-dir>/<host:port>/ and refused without it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-certs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = makeTestCA(dir);
  const server = createServer({ cert: readFileSync(ca.serverCert), key: readFileSync(ca.serverKey) }, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const certsDir = join(dir, 'certs.d');
  mkdirSync(join(certsDir, host), { recursive: true });
  const log = pino({ level: 'silent' });
  const ping = async (hosts: RegistryHosts): Promise<void> => {
    const [endpoint] = await hosts.endpoints(host, false);
    await new RegistryClient({ endpoint: endpoint!, path: 'x', auth: {}, actions: ['pull'], userAgent: 'test', log }).ping();
  };
  // Secure (loopback not exempted here) and no CA for it: the certificate is refused.
  await assert.rejects(ping(new RegistryHosts({ loopbackInsecure: false, certsDir })), { name: 'RegistryTransportError', message: /self[- ]signed certificate|unable to verify|unable to get local issuer/ });
  // With its CA as <host>/ca.crt: verified.
  copyFileSync(ca.caCert, join(certsDir, host, 'ca.crt'));
  await ping(new RegistryHosts({ loopbackInsecure: false, certsDir }));
  // Insecure (the loopback default): not verified at all, as dockerd.
  await ping(new RegistryHosts({ certsDir: join(dir, 'none') }));
});

