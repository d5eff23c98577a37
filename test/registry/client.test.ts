// The registry client's authentication against a stand-in registry with a
// token server: the Bearer challenge, a token fetched with basic credentials
// for the repository's scope and reused, refusals worded as the Go client
// words them; and docker login's check of credentials (POST /auth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pino } from 'pino';
import { RegistryClient } from '../../src/registry/client.js';
import { RegistryHosts } from '../../src/registry/hosts.js';
import { login } from '../../src/registry/login.js';

const log = pino({ level: 'silent' });
const USER = 'alice';
const PASSWORD = 's3cret';

/** A registry whose /v2/ API wants a bearer token, and its token server on the same port. */
async function tokenRegistry(t: { after(fn: () => unknown): void }): Promise<{ base: string; host: string; tokenRequests: URL[] }> {
  const tokenRequests: URL[] = [];
  let port = 0;
  const unauthorized = (res: ServerResponse, message: string): void => {
    res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="stand-in"` });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message }] }));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === '/token') {
      tokenRequests.push(url);
      if (req.headers.authorization !== `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token: `token-for ${url.searchParams.getAll('scope').join(' ')}`, expires_in: 300 }));
      return;
    }
    const authz = req.headers.authorization ?? '';
    if (!authz.startsWith('Bearer token-for')) {
      unauthorized(res, 'authentication required');
      return;
    }
    if (url.pathname === '/v2/') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Authorization-Seen': authz });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { base: `http://127.0.0.1:${port}/`, host: `127.0.0.1:${port}`, tokenRequests };
}

test('a Bearer challenge: a token for the repository scope, fetched with basic credentials once and reused', async (t) => {
  const reg = await tokenRegistry(t);
  const client = new RegistryClient({ endpoint: { url: new URL(reg.base), tls: null, mirror: false }, path: 'team/app', auth: { username: USER, password: PASSWORD }, actions: ['pull', 'push'], userAgent: 'test', log });
  await client.ping();
  const first = await client.fetch('v2/team/app/manifests/latest');
  assert.equal(first.body.toString(), '{"ok":true}');
  assert.equal(first.headers['x-authorization-seen'], 'Bearer token-for repository:team/app:pull,push');
  await client.fetch('v2/team/app/manifests/v2');
  assert.equal(reg.tokenRequests.length, 1, 'the token is cached');
  const asked = reg.tokenRequests[0]!;
  assert.equal(asked.searchParams.get('service'), 'stand-in');
  assert.equal(asked.searchParams.get('account'), USER);
  // A mount reads another repository: its scope joins the token's.
  const mount = await client.request('GET', 'v2/team/app/blobs/x', { extraScopes: ['repository:other/base:pull'] });
  mount.resume();
  assert.equal(mount.headers['x-authorization-seen'], 'Bearer token-for repository:team/app:pull,push repository:other/base:pull');
});

test('wrong credentials: the token server\'s refusal, as an Unauthorized error', async (t) => {
  const reg = await tokenRegistry(t);
  const client = new RegistryClient({ endpoint: { url: new URL(reg.base), tls: null, mirror: false }, path: 'team/app', auth: { username: USER, password: 'wrong' }, actions: ['pull'], userAgent: 'test', log });
  await client.ping();
  await assert.rejects(client.fetch('v2/team/app/manifests/latest'), {
    kind: 'unauthorized',
    message: `Get "http://${reg.host}/token": unauthorized: incorrect username or password`,
  });
  // Without credentials the registry's own 401 comes back.
  const anonymous = new RegistryClient({ endpoint: { url: new URL(reg.base), tls: null, mirror: false }, path: 'team/app', auth: {}, actions: ['pull'], userAgent: 'test', log });
  await anonymous.ping();
  await assert.rejects(anonymous.fetch('v2/team/app/manifests/latest'), { kind: 'unauthorized', message: `Get "http://${reg.host}/token": unauthorized: incorrect username or password` });
});

test('docker login through a token server: good credentials succeed, bad ones are refused (insecure loopback falls back to HTTP)', async (t) => {
  const reg = await tokenRegistry(t);
  const hosts = new RegistryHosts();
  assert.deepEqual(await login(hosts, { username: USER, password: PASSWORD, serveraddress: reg.host }, 'test', log), { Status: 'Login Succeeded', IdentityToken: '' });
  await assert.rejects(login(hosts, { username: USER, password: 'nope', serveraddress: `http://${reg.host}` }, 'test', log), {
    kind: 'unauthorized',
    message: new RegExp(`unauthorized: incorrect username or password`),
  });
});
