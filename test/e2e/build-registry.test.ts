// docker build whose base images come from a registry (Debian's
// docker-registry on 127.0.0.1): FROM an image the store lacks is pulled
// first, its progress in the build's output; a second build takes it from
// the store, --pull asks the registry again; COPY --from a registry image
// pulls it too; a pull that fails fails the build; the built image is pushed
// back and pulled again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { DOCKER, run, type RunResult } from '../helpers/run.js';
import { busyboxImage, fetchManifest, saveArchiveFile, skopeoPush, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { cleanups } from '../helpers/cleanups.js';

const scope = cleanups();
let d: TestDaemon & { cleanup: () => Promise<void> };
let reg: TestRegistry;
let work: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-build-registry-'));
  reg = await startRegistry(scope);
  d = await startDaemon();
  env = { ...d.env, DOCKER_BUILDKIT: '0' };
  await skopeoPush(reg, saveArchiveFile([busyboxImage('x:1', {}, 'registry base\n')], work), 'base:1');
  await skopeoPush(reg, saveArchiveFile([busyboxImage('x:1', {}, 'other image\n')], work), 'other:1');
});

after(async () => {
  await d?.cleanup();
  await scope.run();
  rmSync(work, { recursive: true, force: true });
});

const docker = (...args: string[]): Promise<RunResult> => run(DOCKER, args, { env });

function contextWith(name: string, dockerfile: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

test('FROM an image the store lacks pulls it first; later builds take it from the store, --pull asks again', async () => {
  const dir = contextWith('from', `FROM ${reg.host}/base:1\nRUN cat /etc/registry-marker > /copied\nCMD ["cat", "/copied"]\n`);
  const { digest } = await fetchManifest(reg, 'base', '1', 'application/vnd.docker.distribution.manifest.v2+json');
  const r = await run(DOCKER, ['build', '-t', 'from-registry:1', '.'], { env, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Step 1/3 : FROM ${reg.host}/base:1\n1: Pulling from base\n`, 'm'));
  assert.match(r.stdout, /^[0-9a-f]{12}: Pull complete\n/m);
  assert.match(r.stdout, new RegExp(`^Digest: ${digest}\nStatus: Downloaded newer image for ${reg.host}/base:1\n ---> [0-9a-f]{12}\nStep 2/3 : RUN`, 'm'));
  assert.equal((await docker('run', '--rm', 'from-registry:1')).stdout, 'registry base\n');
  assert.match((await docker('images', '--format', '{{.Repository}}:{{.Tag}}')).stdout, new RegExp(`^${reg.host}/base:1$`, 'm'), 'the pulled base is tagged as pulled');

  const again = await run(process.execPath, [BERTH, 'build', '-t', 'from-registry:1', '.'], { env, cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /Pulling from/, 'the base is in the store now');
  const pulled = await run(process.execPath, [BERTH, 'build', '--pull', '-t', 'from-registry:1', '.'], { env, cwd: dir });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, new RegExp(`1: Pulling from base\nDigest: ${digest}\nStatus: Image is up to date for ${reg.host}/base:1\n ---> `));
  assert.match(pulled.stdout, / ---> Using cache\n/, 'the same base keeps the cache');
});

test('COPY --from an image pulls it; the built image pushes and pulls back', async () => {
  const dir = contextWith('copy-from', `FROM ${reg.host}/base:1\nCOPY --from=${reg.host}/other:1 /etc/registry-marker /other-marker\n`);
  const r = await run(DOCKER, ['build', '-t', `${reg.host}/built:1`, '.'], { env, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1: Pulling from other\n/);
  assert.equal((await docker('run', '--rm', `${reg.host}/built:1`, 'cat', '/other-marker', '/etc/registry-marker')).stdout, 'other image\nregistry base\n');
  const push = await docker('push', `${reg.host}/built:1`);
  assert.equal(push.code, 0, push.stderr);
  assert.equal((await docker('rmi', `${reg.host}/built:1`)).code, 0);
  const pull = await docker('pull', `${reg.host}/built:1`);
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal((await docker('run', '--rm', `${reg.host}/built:1`, 'cat', '/other-marker')).stdout, 'other image\n');
});

test('a base image the registry does not have fails the build with the pull error', async () => {
  const dir = contextWith('missing', `FROM ${reg.host}/missing:1\n`);
  for (const [cmd, args] of [
    [DOCKER, ['build', '.']],
    [process.execPath, [BERTH, 'build', '.']],
  ] as const) {
    const r = await run(cmd, [...args], { env, cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`manifest for ${reg.host}/missing:1 not found: manifest unknown`));
  }
});

test('--cache-from: a pulled image whose steps match serves as cache, its steps recreated here', async () => {
  const dockerfile = `FROM ${reg.host}/base:1\nENV STEP=1\nRUN echo cached > /cached\nCOPY Dockerfile /df\n`;
  const dir = contextWith('cache-from', dockerfile);
  const first = await run(DOCKER, ['build', '-t', `${reg.host}/cachesrc:1`, '.'], { env, cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await docker('push', `${reg.host}/cachesrc:1`)).code, 0);
  // Only the pulled image is left: no parent chain, nothing built here.
  assert.equal((await docker('rmi', `${reg.host}/cachesrc:1`)).code, 0);
  assert.equal((await docker('pull', `${reg.host}/cachesrc:1`)).code, 0);
  const withoutCache = await run(DOCKER, ['build', '.'], { env, cwd: dir });
  assert.doesNotMatch(withoutCache.stdout, /Using cache/, 'a pulled image is no cache by itself');
  const cached = await run(process.execPath, [BERTH, 'build', '--cache-from', `${reg.host}/cachesrc:1`, '-t', 'from-cache:1', '.'], { env, cwd: dir });
  assert.equal(cached.code, 0, cached.stderr);
  assert.equal((cached.stdout.match(/ ---> Using cache\n/g) ?? []).length, 3, cached.stdout);
  const id = (await docker('image', 'inspect', '--format', '{{.Id}}', 'from-cache:1')).stdout;
  assert.equal(id, (await docker('image', 'inspect', '--format', '{{.Id}}', `${reg.host}/cachesrc:1`)).stdout, 'the last step is the pulled image itself');
  assert.equal((await docker('run', '--rm', 'from-cache:1', 'cat', '/cached')).stdout, 'cached\n');
});
