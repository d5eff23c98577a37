// Fuzzing the Engine API (issue 6): random and mutated bodies, query strings
// and path parameters for every route the route modules register, against a
// real berthd. Every answer must be a success or a 4xx/5xx with Docker's
// `{"message": "..."}` body, and the daemon must stay up and never log an
// error that escaped its handler. Bounded in count, with a fixed seed
// (FUZZ_SEED overrides it; a failure prints the seed and the request).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { Router } from '../../src/api/router.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { busyboxTar } from '../helpers/busybox.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
/** Runs per route; with about 30 routes this is a few hundred requests. */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 10);

const FIXTURE_CONTAINER = 'fuzz-fixture';
const FIXTURE_VOLUME = 'fuzz-volume';
const FIXTURE_IMAGE = 'fuzzimg:latest';

let d: TestDaemon & { cleanup: () => Promise<void> };
let fixtureId = '';

interface Reply {
  status: number;
  contentType: string;
  text: string;
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

function send(r: FuzzRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = { ...r.headers };
    if (r.body !== undefined) headers['Content-Length'] = String(r.body.length);
    const req = request({ socketPath: d.socket, method: r.method, path: r.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

const json = (method: string, path: string, body?: unknown) =>
  send({ method, path, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)) });

/** Lines of the daemon's log that mean an error got past its handler. */
function escapedErrors(): string[] {
  return d
    .logs()
    .split('\n')
    .filter((l) => /uncaught exception|unhandled promise rejection|not handled at its source|outside its error path/.test(l));
}

async function assertAlive(context: string): Promise<void> {
  assert.equal(d.process.exitCode, null, `berthd exited (${context}): ${d.logs().slice(-4000)}`);
  assert.equal(d.process.signalCode, null, `berthd was killed (${context})`);
  const ping = await send({ method: 'GET', path: '/_ping', headers: {} });
  assert.equal(ping.status, 200, `/_ping after ${context}`);
  assert.equal(ping.text, 'OK');
  assert.deepEqual(escapedErrors(), [], `errors escaped their handler (${context})`);
}

/** Every route the route modules register, found by calling each module's register*Routes with inert backends. */
async function allRoutes(): Promise<Array<{ method: string; path: string }>> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'api', 'routes');
  const router = new Router();
  // Registration only stores closures; a backend touched now would be a bug in this test.
  const inert: unknown = new Proxy({}, { get: () => assert.fail('a route module used its backend at registration') });
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    for (const [name, fn] of Object.entries(mod)) {
      if (typeof fn !== 'function' || !/^register\w*Routes$/.test(name)) continue;
      (fn as (...a: unknown[]) => void)(router, ...Array.from({ length: Math.max(0, fn.length - 1) }, () => inert));
    }
  }
  return router.list();
}

/** Routes that, with a real container, would legitimately block until it starts or exits: fuzzed with unknown IDs only. */
const BLOCKING = new Set(['POST /containers/{id}/attach', 'POST /containers/{id}/wait', 'POST /exec/{id}/start']);

const QUERY_KEYS = [
  'filters', 'name', 'all', 'force', 'v', 't', 'signal', 'path', 'fromSrc', 'fromImage', 'repo', 'tag', 'changes', 'message',
  'h', 'w', 'tail', 'since', 'until', 'stdout', 'stderr', 'stdin', 'timestamps', 'condition', 'quiet', 'type', 'limit',
  'copyUIDGID', 'noOverwriteDirNonDir', 'size', 'detachKeys', 'logs', 'stream',
];

const oddStrings = fc.constantFrom('', '0', '1', '-1', 'true', 'false', 'all', '-', '1e309', 'NaN', '9007199254740993', '..', '/', '/etc/passwd', '%', '\u0000', 'é', '{}', '[]', 'null', '{"name":["^(a+)+b$"]}', '{"dangling":["maybe"]}', '{"label":{"a=b":true}}', 'SIGKILL', 'SIGNOPE', '2026-13-40T99:99:99Z');
const anyString = fc.oneof(fc.string({ maxLength: 24 }), fc.string({ unit: 'binary', maxLength: 12 }), oddStrings);
const queryValue = fc.oneof(anyString, fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)));
const query = fc
  .tuple(fc.dictionary(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 8 })), queryValue, { maxKeys: 5 }), fc.constantFrom('', '&', '&%', '&%zz=%', '&=&==', '&filters'))
  .map(([params, tail]) => ({ params, tail }));

/** A template with each field kept, dropped or replaced by arbitrary JSON, recursively. */
function mutated(template: unknown, depth = 0): fc.Arbitrary<unknown> {
  const wild = fc.jsonValue({ maxDepth: 2 });
  if (depth > 4) return fc.oneof(fc.constant(template), wild);
  if (Array.isArray(template)) {
    const elem = template.length > 0 ? fc.oneof(...template.map((t) => mutated(t, depth + 1))) : wild;
    return fc.oneof({ weight: 4, arbitrary: fc.array(elem, { maxLength: 3 }) }, { weight: 1, arbitrary: wild });
  }
  if (template !== null && typeof template === 'object') {
    // Each field is dropped one time in six, so most bodies get past the first checks.
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(template)) fields[k] = fc.option(mutated(v, depth + 1), { freq: 6, nil: undefined });
    const record = fc.record(fields).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
    const extra = fc.dictionary(fc.string({ maxLength: 10 }), wild, { maxKeys: 2 });
    return fc.oneof(
      { weight: 6, arbitrary: record },
      { weight: 2, arbitrary: fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...(r as object) })) },
      { weight: 1, arbitrary: wild },
    );
  }
  return fc.oneof({ weight: 3, arbitrary: fc.constant(template) }, { weight: 1, arbitrary: wild }, { weight: 1, arbitrary: anyString });
}

/** The template with exactly one value (at any depth) replaced or removed: mostly valid bodies that go deep. */
function oneChanged(template: unknown): fc.Arbitrary<unknown> {
  const paths: Array<Array<string | number>> = [];
  const walk = (v: unknown, at: Array<string | number>) => {
    if (at.length > 0) paths.push(at);
    if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, Array.isArray(v) ? Number(k) : k]);
  };
  walk(template, []);
  return fc.tuple(fc.constantFrom(...paths), fc.option(fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyString), { freq: 5, nil: undefined })).map(([path, value]) => {
    const copy = structuredClone(template) as Record<string | number, unknown>;
    let node = copy;
    for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (value === undefined) delete node[last];
    else node[last] = value;
    return copy;
  });
}

// Valid bodies for the routes that take JSON, for the mutator to start from.
// No host bind sources: containers the fuzzer creates are never started, but stay safe anyway.
const TEMPLATES: Record<string, unknown> = {
  'POST /containers/create': {
    Image: FIXTURE_IMAGE,
    Cmd: ['true'],
    Entrypoint: ['sh', '-c'],
    Env: ['A=1'],
    Labels: { a: 'b', 'com.example.x': '' },
    Volumes: { '/anon': {} },
    WorkingDir: '/tmp',
    Tty: false,
    OpenStdin: false,
    HostConfig: {
      Binds: [`${FIXTURE_VOLUME}:/data:ro`, 'fuzz-named:/named'],
      Mounts: [{ Type: 'volume', Source: 'fuzz-m', Target: '/m', VolumeOptions: { NoCopy: true, Labels: { x: 'y' }, DriverConfig: { Name: 'local', Options: {} } } }, { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 448 } }],
      Tmpfs: { '/run': 'size=64k' },
      VolumesFrom: [FIXTURE_CONTAINER],
      NetworkMode: 'none',
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false,
      ReadonlyRootfs: false,
      Privileged: false,
      CapAdd: ['NET_ADMIN'],
      Memory: 0,
    },
  },
  'POST /volumes/create': { Name: 'fuzz-v', Driver: 'local', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }, Labels: { k: 'v' } },
  'POST /containers/{id}/exec': { Cmd: ['true'], AttachStdout: true, AttachStderr: true, Tty: false, Env: ['X=1'], User: '', WorkingDir: '/' },
  'POST /exec/{id}/start': { Detach: true, Tty: false },
};

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', undefined) },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-tar', 'multipart/form-data; boundary=x', '') },
);
const tarLike = fc.uint8Array({ maxLength: 2048 }).map((b) => {
  // Sometimes a plausible tar header start, so the archive readers get past byte 0.
  const out = Buffer.alloc(Math.max(512, b.length));
  Buffer.from(b).copy(out);
  out.write('ustar\u000000', 257, 'latin1');
  return out;
});

function bodies(key: string): fc.Arbitrary<{ body?: Buffer; contentType?: string }> {
  const template = TEMPLATES[key];
  const jsonBody = (v: fc.Arbitrary<unknown>) => fc.tuple(v, contentType).map(([x, ct]) => ({ body: Buffer.from(JSON.stringify(x) ?? ''), contentType: ct ?? 'application/json' }));
  const options: Array<fc.WeightedArbitrary<{ body?: Buffer; contentType?: string }>> = [];
  // Routes with a template mostly get bodies derived from it, so requests reach deep validation.
  if (template !== undefined) {
    options.push(
      { weight: 4, arbitrary: jsonBody(oneChanged(template)) },
      { weight: 2, arbitrary: jsonBody(mutated(template)) },
      { weight: 1, arbitrary: jsonBody(fc.constant(template)) },
    );
  }
  const generic: Array<fc.Arbitrary<{ body?: Buffer; contentType?: string }>> = [
    fc.constant({}),
    jsonBody(fc.jsonValue({ maxDepth: 4 })),
    fc.tuple(fc.uint8Array({ maxLength: 256 }), contentType).map(([b, ct]) => ({ body: Buffer.from(b), contentType: ct })),
    fc.tuple(fc.constantFrom('{', '{"a":', '[1,', '{"HostConfig":{"Binds":"x"}}', '{"Image":{}}', '{"__proto__":{"x":1}}', 'null', '"s"', '1', '{}{}', '\ufeff{}'), contentType).map(([t, ct]) => ({ body: Buffer.from(t), contentType: ct ?? 'application/json' })),
    fc.tuple(tarLike, contentType).map(([b, ct]) => ({ body: b, contentType: ct })),
  ];
  for (const arbitrary of generic) options.push({ weight: 1, arbitrary });
  return fc.oneof(...options);
}

function paramValues(key: string, param: string): fc.Arbitrary<string> {
  // Never an ID prefix or a name of something real (not hex, "zz" first): a
  // blocking route must not find a container, and containers the fuzzer made
  // must never be started.
  const unknown = fc.oneof(anyString.map((s) => `zz${s}`), fc.constantFrom('zznonexistent', 'z123456789ab', 'z'.repeat(64)));
  if (BLOCKING.has(key)) return unknown;
  const real: string[] = [];
  if (key.includes('/containers/')) real.push(fixtureId, FIXTURE_CONTAINER, `/${FIXTURE_CONTAINER}`, fixtureId.slice(0, 12));
  else if (key.includes('/volumes/')) real.push(FIXTURE_VOLUME);
  else if (key.includes('/images/')) real.push(FIXTURE_IMAGE, 'fuzzimg');
  else if (param === 'id') real.push(fixtureId);
  return real.length > 0 ? fc.oneof(fc.constantFrom(...real), unknown, fc.constantFrom('a/../b', '%2e%2e', 'x%00y', 'x/y/z')) : unknown;
}

/** Path placeholder values are encoded so the request line is valid HTTP; `raw` ones keep their slashes and dots. */
function fillPath(template: string, values: string[]): string {
  let i = 0;
  return template.replace(/\{(\w+)(:\.\*)?\}/g, (_m, _name, rest: string | undefined) => {
    const v = values[i++] ?? '';
    if (/^[\w./%:-]*$/.test(v) && (rest !== undefined || !v.includes('/'))) return v;
    return encodeURIComponent(v);
  });
}

/** Query parameters a route needs to get past its first check, offered often (and fuzzed like the rest). */
const ESSENTIAL_QUERY: Record<string, fc.Arbitrary<Record<string, string>>> = {
  archive: fc.record({ path: fc.oneof(fc.constantFrom('/', '/etc', '/etc/passwd', '/vol', '/vol/', '/vol/../..', '/../../..', '/proc/self', '/nonexistent', '/bin/sh', '/tmp/.'), anyString) }),
  logs: fc.record({ stdout: fc.constantFrom('1', 'true'), stderr: fc.constantFrom('1', '0'), tail: fc.oneof(fc.constantFrom('all', '0', '5', '-1', 'x'), anyString), since: fc.oneof(fc.constantFrom('0', '1', '1.5', '2026-12-03T00:00:00Z'), anyString) }, { requiredKeys: ['stdout'] }),
  tag: fc.record({ repo: fc.oneof(fc.constantFrom('fuzzimg', 'fuzz/other', 'UPPER', 'a:b', 'localhost:5000/x'), anyString), tag: fc.oneof(fc.constantFrom('latest', 'v1', '', '-bad'), anyString) }, { requiredKeys: ['repo'] }),
  imagesCreate: fc.record({ fromSrc: fc.constantFrom('-', '-', 'http://x'), repo: fc.oneof(fc.constantFrom('fuzzimport'), anyString), tag: fc.constantFrom('t1', 'latest'), changes: fc.oneof(fc.constantFrom('CMD ["true"]', 'VOLUME /v', 'ENV A=1', 'USER 1000', 'WORKDIR /w', 'EXPOSE 80', 'BOGUS x'), anyString) }, { requiredKeys: ['fromSrc'] }),
};

function essentialQuery(path: string): fc.Arbitrary<Record<string, string>> {
  if (path.endsWith('/archive')) return ESSENTIAL_QUERY.archive!;
  if (path.endsWith('/logs')) return ESSENTIAL_QUERY.logs!;
  if (path.endsWith('/tag')) return ESSENTIAL_QUERY.tag!;
  if (path === '/images/create') return ESSENTIAL_QUERY.imagesCreate!;
  return fc.constant({});
}

function fuzzRequest(route: { method: string; path: string }): fc.Arbitrary<FuzzRequest> {
  const key = `${route.method} ${route.path}`;
  const params = [...route.path.matchAll(/\{(\w+)(?::\.\*)?\}/g)].map((m) => paramValues(key, m[1]!));
  return fc
    .tuple(fc.tuple(...params), query, fc.option(essentialQuery(route.path), { freq: 4, nil: {} }), bodies(key), fc.oneof({ weight: 8, arbitrary: fc.constantFrom('', '/v1.47', '/v1.24', '/v1.41') }, { weight: 1, arbitrary: fc.constantFrom('/v99.0', '/v1.12', '/v1.x') }))
    .map(([values, q, essential, b, prefix]) => {
      const path = prefix + fillPath(route.path, values as string[]);
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...q.params, ...essential })) params.append(k, v);
      // Follow modes would stream for as long as the container or daemon lives.
      params.delete('follow');
      if (route.path === '/events') params.set('until', '1');
      const qs = params.toString() + q.tail;
      const headers: Record<string, string> = {};
      if (b.contentType !== undefined && b.contentType !== '') headers['Content-Type'] = b.contentType;
      return { method: route.method, path: qs === '' ? path : `${path}?${qs}`, headers, body: b.body };
    });
}

function show(r: FuzzRequest): string {
  return `${r.method} ${r.path} [${r.headers['Content-Type'] ?? '-'}] ${r.body ? JSON.stringify(r.body.toString('utf8').slice(0, 300)) : '(no body)'}`;
}

/** Docker's error shape for every failure; a too-old API version is answered in plain text, as Docker does. */
function assertAnswerShape(r: FuzzRequest, reply: Reply): void {
  const where = `${show(r)} -> ${reply.status} ${reply.contentType} ${reply.text.slice(0, 300)}`;
  assert.ok(reply.status >= 200 && reply.status < 600 && !(reply.status >= 300 && reply.status < 400 && reply.status !== 304), `unexpected status: ${where}`);
  if (reply.status < 400) return;
  if (/^\/v1\.12\//.test(r.path) && reply.status === 400 && reply.contentType.startsWith('text/plain')) {
    if (r.method !== 'HEAD') assert.match(reply.text, /too old/);
    return;
  }
  assert.match(reply.contentType, /^application\/json/, `error without a JSON content type: ${where}`);
  if (r.method === 'HEAD') return;
  let body: unknown;
  assert.doesNotThrow(() => (body = JSON.parse(reply.text)), `error body is not JSON: ${where}`);
  assert.ok(body !== null && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string', `error body has no message: ${where}`);
  if (reply.status >= 500) assert.notEqual((body as { message: string }).message, '', `empty 500 message: ${where}`);
}

/** The fixtures the fuzzer aims at come back if a fuzzed request removed them. */
async function ensureFixtures(): Promise<void> {
  if ((await send({ method: 'GET', path: `/images/${FIXTURE_IMAGE}/json`, headers: {} })).status === 404) {
    const tagged = await send({ method: 'POST', path: '/images/busybox:latest/tag?repo=fuzzimg&tag=latest', headers: {} });
    assert.equal(tagged.status, 201, tagged.text);
  }
  if ((await send({ method: 'GET', path: `/volumes/${FIXTURE_VOLUME}`, headers: {} })).status === 404) {
    assert.equal((await json('POST', '/volumes/create', { Name: FIXTURE_VOLUME })).status, 201);
  }
  const c = await send({ method: 'GET', path: `/containers/${FIXTURE_CONTAINER}/json`, headers: {} });
  if (c.status === 404) {
    const made = await json('POST', `/containers/create?name=${FIXTURE_CONTAINER}`, { Image: FIXTURE_IMAGE, Cmd: ['true'], HostConfig: { Binds: [`${FIXTURE_VOLUME}:/vol`] } });
    assert.equal(made.status, 201, made.text);
    fixtureId = (JSON.parse(made.text) as { Id: string }).Id;
  } else {
    fixtureId = (JSON.parse(c.text) as { Id: string }).Id;
  }
}

before(async () => {
  d = await startDaemon();
  const tarPath = busyboxTar();
  try {
    const changes = encodeURIComponent('VOLUME /data');
    const cmd = encodeURIComponent('CMD ["sh"]');
    const r = await send({ method: 'POST', path: `/images/create?fromSrc=-&repo=busybox&tag=latest&changes=${changes}&changes=${cmd}`, headers: { 'Content-Type': 'application/x-tar' }, body: readFileSync(tarPath) });
    assert.equal(r.status, 200, r.text);
  } finally {
    rmSync(dirname(tarPath), { recursive: true, force: true });
  }
  await ensureFixtures();
});

after(async () => {
  try {
    // Everything the fuzzer made: containers (with their anonymous volumes), then volumes.
    const list = await send({ method: 'GET', path: '/containers/json?all=1', headers: {} });
    for (const c of JSON.parse(list.text) as { Id: string }[]) await send({ method: 'DELETE', path: `/containers/${c.Id}?force=1&v=1`, headers: {} });
    const vols = await send({ method: 'GET', path: '/volumes', headers: {} });
    for (const v of (JSON.parse(vols.text) as { Volumes: { Name: string }[] }).Volumes) await send({ method: 'DELETE', path: `/volumes/${encodeURIComponent(v.Name)}`, headers: {} });
  } finally {
    await d.cleanup();
  }
});

test('every route answers fuzzed requests with a success or a JSON error, and berthd stays up', { timeout: 300_000 }, async (t) => {
  const routes = await allRoutes();
  assert.ok(routes.length >= 25, `only ${routes.length} routes found`);
  assert.ok(routes.some((r) => r.method === 'POST' && r.path === '/containers/create'), 'container create not enumerated');
  let count = 0;
  const statuses = new Map<string, number>();
  for (const [index, route] of routes.entries()) {
    const key = `${route.method} ${route.path}`;
    await fc.assert(
      fc.asyncProperty(fuzzRequest(route), async (r) => {
        await ensureFixtures();
        const reply = await send(r);
        count++;
        statuses.set(`${key} ${reply.status}`, (statuses.get(`${key} ${reply.status}`) ?? 0) + 1);
        if (process.env.FUZZ_TRACE) console.error(`${show(r).slice(0, 400)} -> ${reply.status} ${reply.text.slice(0, 200)}`);
        assertAnswerShape(r, reply);
        assert.equal(d.process.exitCode, null, `berthd exited after ${show(r)}: ${d.logs().slice(-4000)}`);
        assert.deepEqual(escapedErrors(), [], `an error escaped its handler after ${show(r)}`);
      }),
      { seed: SEED + index, numRuns: RUNS_PER_ROUTE, endOnFailure: true, includeErrorInReport: true },
    ).catch((e: unknown) => {
      throw new Error(`fuzzing ${key} failed (seed ${SEED + index}; rerun with FUZZ_SEED=${SEED}): ${e instanceof Error ? e.message : String(e)}`);
    });
    await assertAlive(key);
  }
  // Paths and methods no route has.
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      fc.array(anyString.map((s) => encodeURIComponent(s)), { minLength: 1, maxLength: 4 }),
      async (method, segments) => {
        const r = { method, path: `/${segments.join('/')}`, headers: {} };
        const reply = await send(r);
        count++;
        assertAnswerShape(r, reply);
      },
    ),
    { seed: SEED, numRuns: 40, endOnFailure: true, includeErrorInReport: true },
  );
  await assertAlive('the whole run');
  // What the answers were, to see the fuzzer reaches past the first checks.
  t.diagnostic([...statuses].map(([k, n]) => `${k}: ${n}`).join('; '));
  assert.ok(count >= routes.length * RUNS_PER_ROUTE, `only ${count} requests were made`);
});
