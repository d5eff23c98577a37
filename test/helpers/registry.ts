// Real registries for tests: Debian's docker-registry (distribution 2.8) on
// 127.0.0.1 with a random port and a temporary storage directory, plain
// HTTP, or TLS (a certificate from a test CA made here with openssl) with
// htpasswd basic authentication; images go into it with skopeo from
// docker-archives built from busybox-static. Everything is stopped and
// removed when the test ends, also when it fails.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { busyboxLayer, makeSaveArchive, type SaveImage } from '../images/helpers.js';
import { run } from './run.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const SKOPEO_BIN = '/usr/bin/skopeo';

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  port: number;
  /** The registry's storage (filesystem driver root). */
  storage: string;
  /** Set for a TLS registry: a directory with ca.crt (skopeo's --dest-cert-dir, berthd's certs layout). */
  certDir?: string;
  credentials?: { username: string; password: string };
  process: ChildProcess;
  /** Kills the registry at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and storage. */
  restart(): Promise<void>;
  logs(): string;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A CA and a server certificate for 127.0.0.1 and localhost signed by it, in `dir`. */
export function makeTestCA(dir: string): { caCert: string; serverCert: string; serverKey: string } {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=berth test CA');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
  return { caCert: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key') };
}

/** An htpasswd line (bcrypt, which is all the registry takes) made with libxcrypt through Python's crypt module. */
function htpasswdLine(user: string, password: string): string {
  const script = 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))';
  const hash = execFileSync('python3', ['-W', 'ignore', '-c', script, password], { encoding: 'utf8' }).trim();
  return `${user}:${hash}\n`;
}

export interface RegistryOptions {
  tls?: boolean;
  credentials?: { username: string; password: string };
}

/** Starts a registry; the test's `after` stops it and removes its files. */
export async function startRegistry(t: TestContext | { after(fn: () => unknown): void }, opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const storage = join(dir, 'storage');
  mkdirSync(storage);
  const port = await freePort();
  let config = `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: berth-test-secret
`;
  let certDir: string | undefined;
  if (opts.tls) {
    const tls = makeTestCA(dir);
    certDir = join(dir, 'certs');
    mkdirSync(certDir);
    writeFileSync(join(certDir, 'ca.crt'), readFileSync(tls.caCert));
    config += `  tls:\n    certificate: ${tls.serverCert}\n    key: ${tls.serverKey}\n`;
  }
  if (opts.credentials) {
    writeFileSync(join(dir, 'htpasswd'), htpasswdLine(opts.credentials.username, opts.credentials.password));
    config += `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  writeFileSync(join(dir, 'config.yml'), config);

  let output = '';
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The registry logs "listening on" once its socket is open.
    await new Promise<void>((resolve, reject) => {
      const seen = (c: Buffer): void => {
        output += c.toString();
        if (output.includes(`listening on 127.0.0.1:${port}`)) resolve();
      };
      child.stdout!.on('data', seen);
      child.stderr!.on('data', seen);
      child.once('exit', (code) => reject(new Error(`docker-registry exited with ${code}: ${output}`)));
      child.once('error', reject);
    });
    return child;
  };
  const reg: TestRegistry = {
    host: `127.0.0.1:${port}`,
    port,
    storage,
    certDir,
    credentials: opts.credentials,
    process: await launch(),
    async kill() {
      const child = reg.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await reg.kill();
      reg.process = await launch();
    },
    logs: () => output,
  };
  t.after(async () => {
    await reg.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  return reg;
}

/** A docker-archive (docker save layout) of the given images, written to a fresh temporary file. */
export function saveArchiveFile(images: SaveImage[], dir: string): string {
  const file = join(dir, `archive-${Math.random().toString(16).slice(2)}.tar`);
  writeFileSync(file, makeSaveArchive(images));
  return file;
}

/** The test busybox image: busybox-static with a marker file, CMD sh. */
export function busyboxImage(repoTag: string, extra: Record<string, unknown> = {}, marker = 'from the registry\n'): SaveImage {
  return {
    layers: [busyboxLayer((root) => writeFileSync(join(root, 'etc', 'registry-marker'), marker))],
    repoTags: [repoTag],
    config: { Cmd: ['sh'], ...extra },
  };
}

export interface SkopeoOptions {
  /** oci: an OCI manifest; default Docker schema 2. */
  format?: 'oci' | 'v2s2';
  /** Layer compression (zstd needs --format oci). */
  compress?: 'gzip' | 'zstd';
}

/** Copies an archive into the registry as `repo:tag` with skopeo. */
export async function skopeoPush(reg: TestRegistry, archive: string, ref: string, opts: SkopeoOptions = {}): Promise<void> {
  const args = ['copy', '--insecure-policy', '--quiet'];
  if (reg.certDir !== undefined) args.push('--dest-cert-dir', reg.certDir);
  else args.push('--dest-tls-verify=false');
  if (reg.credentials) args.push('--dest-creds', `${reg.credentials.username}:${reg.credentials.password}`);
  if (opts.format !== undefined) args.push('--format', opts.format);
  if (opts.compress !== undefined) args.push('--dest-compress-format', opts.compress, '--dest-compress');
  args.push(`docker-archive:${archive}`, `docker://${reg.host}/${ref}`);
  const r = await run(SKOPEO_BIN, args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${r.stderr}`);
}

/** The file holding a blob in the registry's storage (distribution's filesystem layout). */
export function registryBlobFile(reg: TestRegistry, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(reg.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** A plain-HTTP request to a registry without TLS or credentials (tests read and write manifests with it). */
export function registryRequest(reg: TestRegistry, method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: reg.port, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A manifest as the registry serves it, with its digest. */
export async function fetchManifest(reg: TestRegistry, repo: string, reference: string, accept: string): Promise<{ digest: string; body: Buffer; json: { layers?: Array<{ digest: string; size: number; mediaType: string }>; config?: { digest: string } } }> {
  const r = await registryRequest(reg, 'GET', `/v2/${repo}/manifests/${reference}`, { headers: { Accept: accept } });
  if (r.status !== 200) throw new Error(`GET manifest ${repo}:${reference}: ${r.status} ${r.body.toString()}`);
  return { digest: String(r.headers['docker-content-digest']), body: r.body, json: JSON.parse(r.body.toString()) };
}

/** What a blob GET through the proxy does: pass, or stop after `after` bytes (cut the connection, or hold it until released). */
export type BlobPlan = { kind: 'pass' } | { kind: 'cut'; after: number } | { kind: 'hold'; after: number };

export interface RegistryProxy {
  host: string;
  port: number;
  /** Blob GET requests seen, with their Range headers. */
  blobRequests: Array<{ digest: string; range: string | undefined }>;
  /** The plan for the next GET of one blob (later GETs of it pass). */
  plan(digest: string, plan: BlobPlan): void;
  /** Resolves when a held blob response has sent its bytes and waits. */
  held(): Promise<void>;
  /** Ends every response in flight by destroying its connection (the registry went away). */
  dropAll(): void;
  /** Points the proxy at another upstream port (a restarted registry). */
  retarget(port: number): void;
}

/**
 * An HTTP proxy in front of a plain-HTTP registry that can cut or hold blob
 * downloads part way, for resume and registry-gone tests. The image names
 * the proxy's port; the upstream may be killed and restarted behind it.
 */
export async function startProxy(t: { after(fn: () => unknown): void }, upstreamPort: number): Promise<RegistryProxy> {
  let upstream = upstreamPort;
  const plans = new Map<string, BlobPlan>();
  const live = new Set<Socket>();
  let heldResolve: (() => void) | undefined;
  let heldPromise = new Promise<void>((r) => (heldResolve = r));
  const blobRequests: RegistryProxy['blobRequests'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '');
    const digest = blob && req.method === 'GET' ? blob[1]! : undefined;
    const plan: BlobPlan = (digest !== undefined ? plans.get(digest) : undefined) ?? { kind: 'pass' };
    if (digest !== undefined) plans.delete(digest);
    if (blob && req.method === 'GET') blobRequests.push({ digest: blob[1]!, range: req.headers.range });
    const up = httpRequest({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      if (plan.kind === 'pass') {
        ures.pipe(res);
        return;
      }
      let sent = 0;
      ures.on('end', () => res.end());
      ures.on('data', (c: Buffer) => {
        if (sent >= plan.after) return;
        const part = c.subarray(0, plan.after - sent);
        sent += part.length;
        res.write(part);
        if (sent >= plan.after) {
          ures.destroy();
          if (plan.kind === 'cut') res.socket?.destroy();
          else heldResolve?.();
        }
      });
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    live.add(s);
    s.on('close', () => live.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    host: `127.0.0.1:${port}`,
    port,
    blobRequests,
    plan: (digest, p) => void plans.set(digest, p),
    held: () => heldPromise,
    dropAll() {
      for (const s of live) s.destroy();
      heldPromise = new Promise<void>((r) => (heldResolve = r));
    },
    retarget(p) {
      upstream = p;
    },
  };
}
