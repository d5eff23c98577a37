// docker build (the docker CLI with DOCKER_BUILDKIT=0, the classic builder's
// API) and berth build against berthd, with contexts made here on a
// busybox-static base: every instruction and what it leaves in the image,
// the built image running, identical output from both CLIs, the cache
// (all "Using cache" again, a changed file invalidating from its COPY on),
// multi-stage builds and --target, VOLUME discarding later writes,
// .dockerignore, build args, -q and --iidfile, the failures with Docker's
// messages and exit codes, and the intermediate images' life cycle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { busyboxTar } from '../helpers/busybox.js';
import { DOCKER, run, type RunResult } from '../helpers/run.js';
import { api } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
let work: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  d = await startDaemon();
  work = mkdtempSync(join(tmpdir(), 'berth-build-'));
  env = { ...d.env, DOCKER_BUILDKIT: '0' };
  const imported = await docker('import', '-c', 'CMD ["sh"]', busyboxTar(work), 'base:1');
  assert.equal(imported.code, 0, imported.stderr);
});

after(async () => {
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function docker(...args: string[]): Promise<RunResult> {
  return run(DOCKER, args, { env });
}

/** A build with either CLI, run in the context directory. */
function build(cli: 'docker' | 'berth', dir: string, ...args: string[]): Promise<RunResult> {
  return cli === 'docker' ? run(DOCKER, ['build', ...args], { env, cwd: dir, timeoutMs: 120_000 }) : run(process.execPath, [BERTH, 'build', ...args], { env, cwd: dir, timeoutMs: 120_000 });
}

async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

let contexts = 0;
/** A fresh context directory holding `files` (names with "/" make directories). */
function context(files: Record<string, string | Buffer>): string {
  const dir = join(work, `ctx-${++contexts}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** The step lines ("Step 2/5 : ...") of a build's output. */
const steps = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('Step '));
/** Output with image and container IDs (12 hex) replaced, to compare two builds that made different ones. */
const withoutIds = (out: string): string => out.replace(/\b[0-9a-f]{12}\b/g, '<id>');
const builtId = (out: string): string => /^Successfully built ([0-9a-f]{12})$/m.exec(out)?.[1] ?? '';

test('every instruction, with the docker CLI: the output, the image config, the files, and the image runs', async () => {
  const dir = context({
    'app/hello.txt': 'hello from the context\n',
    'app/nested/deep.txt': 'deep\n',
    'conf.txt': 'conf\n',
  });
  execFileSync('tar', ['-C', join(dir, 'app'), '-czf', join(dir, 'bundle.tgz'), 'nested']);
  execFileSync('tar', ['-C', join(dir, 'app'), '-cJf', join(dir, 'bundle.txz'), 'hello.txt']);
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      '# syntax=docker/dockerfile:1',
      'ARG BASE=base:1',
      'FROM ${BASE}',
      'MAINTAINER Build Tester <bt@example.com>',
      'LABEL org.example.name="built app" version=1',
      'ARG GREETING=hi',
      'ENV APP_HOME=/srv/app \\',
      '    MODE=${GREETING:-none}',
      'WORKDIR $APP_HOME',
      'RUN echo "$GREETING from RUN" > run.txt && echo to-stderr >&2',
      'RUN ["/bin/sh", "-c", "echo exec form > exec.txt"]',
      'SHELL ["/bin/sh", "-ec"]',
      'RUN echo "shell is $0" > shell.txt',
      'COPY app/hello.txt conf.txt ./',
      'COPY --chown=1000:1000 --chmod=640 app/nested/deep.txt /owned/',
      'COPY --chown=user:user app/nested /owned-dir/',
      'ADD bundle.tgz /unpacked/',
      'ADD bundle.txz /unpacked-xz',
      'USER user',
      'RUN id -u > /tmp/uid',
      'EXPOSE 8080 53/udp',
      'VOLUME ["/data"]',
      'STOPSIGNAL SIGUSR1',
      'HEALTHCHECK --interval=5s --retries=3 CMD test -f /srv/app/run.txt',
      'ONBUILD RUN echo child build',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["cat run.txt exec.txt shell.txt hello.txt /tmp/uid"]',
      '',
    ].join('\n'),
  );
  const r = await build('docker', dir, '-t', 'every:1', '--build-arg', 'GREETING=hello', '--label', 'extra=from-cli', '.');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /DEPRECATED: The legacy builder is deprecated/, 'the docker CLI took the classic builder');
  const lines = steps(r.stdout);
  assert.equal(lines.length, 26, 'every instruction and --label as a step');
  assert.equal(lines[0], 'Step 1/26 : ARG BASE=base:1');
  assert.equal(lines[1], 'Step 2/26 : FROM ${BASE}');
  assert.equal(lines[5], 'Step 6/26 : ENV APP_HOME=/srv/app     MODE=${GREETING:-none}');
  assert.equal(lines[25], 'Step 26/26 : LABEL extra=from-cli');
  assert.match(r.stdout, /^Step 8\/26 : RUN echo "\$GREETING from RUN" > run.txt && echo to-stderr >&2\n ---> Running in [0-9a-f]{12}\n\u001b\[91mto-stderr\n\u001b\[0m ---> Removed intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/m);
  assert.match(r.stdout, /^Step 12\/26 : COPY app\/hello.txt conf.txt \.\/\n ---> [0-9a-f]{12}\n/m, 'COPY runs no container');
  assert.match(r.stdout, /\nSuccessfully built [0-9a-f]{12}\nSuccessfully tagged every:1\n$/);

  const inspect = JSON.parse(await ok('image', 'inspect', 'every:1'))[0];
  const c = inspect.Config;
  assert.equal(inspect.Author, 'Build Tester <bt@example.com>');
  assert.deepEqual(c.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_HOME=/srv/app', 'MODE=hello']);
  assert.deepEqual(c.Labels, { 'org.example.name': 'built app', version: '1', extra: 'from-cli' });
  assert.equal(c.WorkingDir, '/srv/app');
  assert.equal(c.User, 'user');
  assert.deepEqual(c.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGUSR1');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'test -f /srv/app/run.txt'], Interval: 5e9, Retries: 3 });
  assert.deepEqual(c.OnBuild, ['RUN echo child build']);
  assert.deepEqual(c.Shell, ['/bin/sh', '-ec']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(c.Cmd, ['cat run.txt exec.txt shell.txt hello.txt /tmp/uid']);
  assert.notEqual(inspect.Parent, '', 'a built image has its previous step as parent');

  assert.equal(await ok('run', '--rm', 'every:1'), 'hello from RUN\nexec form\nshell is /bin/sh\nhello from the context\n1000\n');
  const files = await ok('run', '--rm', '--entrypoint', 'sh', 'every:1', '-c', 'ls -ln /owned /owned-dir /unpacked/nested /unpacked-xz; cat /srv/app/conf.txt');
  assert.match(files, /^\/owned:\n.*\n-rw-r-----\s+1 1000\s+1000\s+5 .* deep\.txt$/m, '--chown and --chmod');
  assert.match(files, /^\/owned-dir:\n.*\n-rw-r--r--\s+1 1000\s+1000\s+5 .* deep\.txt$/m, '--chown with names from the image');
  assert.match(files, /^\/unpacked\/nested:\n.*\n-rw-r--r--\s+1 0\s+0\s+5 .* deep\.txt$/m, 'ADD unpacked the gzip tar');
  assert.match(files, /^\/unpacked-xz:\n.*\n-rw-r--r--\s+1 0\s+0\s+23 .* hello\.txt$/m, 'ADD unpacked the xz tar');
  assert.match(files, /^conf$/m);
  const history = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'every:1');
  assert.match(history, /^\/bin\/sh -ec #\(nop\)  HEALTHCHECK &\{\["CMD-SHELL" "test -f \/srv\/app\/run\.txt"\] "5s" "0s" "0s" "0s" '\\x03'\}$/m);
  assert.match(history, /^\|1 GREETING=hello \/bin\/sh -c echo "\$GREETING from RUN" > run\.txt && echo to-stderr >&2$/m, 'RUN is recorded with the build args it saw');
  assert.match(history, /^\/bin\/sh -ec #\(nop\) COPY --chown=1000:1000 --chmod=640 file:[0-9a-f]{64} in \/owned\/ $/m);

  // ONBUILD runs in a build FROM the image.
  const child = context({ Dockerfile: 'FROM every:1\nRUN echo second\n' });
  const rc = await build('docker', child, '-t', 'every-child:1', '.');
  assert.equal(rc.code, 0, rc.stderr);
  assert.match(rc.stdout, /^Step 1\/2 : FROM every:1\n# Executing 1 build trigger\n ---> Running in [0-9a-f]{12}\nchild build\n/m);
  assert.deepEqual(JSON.parse(await ok('image', 'inspect', '--format', '{{json .Config.OnBuild}}', 'every-child:1')), null, 'triggers do not pass on');
  assert.equal((await ok('volume', 'ls', '-q')).trim(), '', "the steps' anonymous volumes are gone with their containers");
  assert.equal((await ok('ps', '-aq')).trim(), '', 'no intermediate container is left');
});

test('berth build prints exactly what docker build prints, and exits as it does', async () => {
  const dir = context({ 'a.txt': 'a\n', Dockerfile: 'FROM base:1\nENV X=1\nRUN echo out && echo err >&2\nCOPY a.txt /\nCMD ["cat", "/a.txt"]\n' });
  const first = await build('docker', dir, '-t', 'same:1', '.');
  assert.equal(first.code, 0, first.stderr);
  // Both builds now come from the cache, so even the IDs are the same.
  const viaBerth = await build('berth', dir, '-t', 'same:1', '.');
  const viaDocker = await build('docker', dir, '-t', 'same:1', '.');
  assert.equal(viaBerth.code, 0, viaBerth.stderr);
  assert.equal(viaBerth.stdout, viaDocker.stdout);
  assert.match(viaBerth.stdout, /^Sending build context to Docker daemon  3\.072kB\r\r\nStep 1\/5 : FROM base:1\n/);
  // Without the cache, the same lines with other IDs.
  const fresh = await build('berth', dir, '--no-cache', '-t', 'same:2', '.');
  assert.equal(withoutIds(fresh.stdout), withoutIds((await build('docker', dir, '--no-cache', '-t', 'same:2', '.')).stdout));
  assert.equal(fresh.stdout.includes('Using cache'), false);
  assert.equal(await ok('run', '--rm', 'same:2'), 'a\n');
  for (const args of [['-q'], ['--iidfile', join(work, 'iid-berth')]]) {
    const b = await build('berth', dir, ...args, '.');
    const k = await build('docker', dir, ...args.map((a) => a.replace('iid-berth', 'iid-docker')), '.');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, k.stdout, args.join(' '));
  }
  assert.match(readFileSync(join(work, 'iid-berth'), 'utf8'), /^sha256:[0-9a-f]{64}$/);
  assert.equal(readFileSync(join(work, 'iid-berth'), 'utf8'), readFileSync(join(work, 'iid-docker'), 'utf8'));
  assert.match((await build('berth', dir, '-q', '.')).stdout, /^sha256:[0-9a-f]{64}\n$/);
});

test('the cache: every step again from it, a changed file invalidating from its COPY on', async () => {
  const dir = context({ 'first.txt': '1\n', 'second.txt': '2\n', Dockerfile: 'FROM base:1\nRUN echo one > /one\nCOPY first.txt /\nRUN echo two > /two\nCOPY second.txt /\nRUN cat /first.txt /second.txt > /both\n' });
  const first = await build('docker', dir, '-t', 'cached:1', '.');
  assert.equal(first.code, 0, first.stderr);
  assert.equal((first.stdout.match(/Using cache/g) ?? []).length, 0);
  const again = await build('berth', dir, '-t', 'cached:1', '.');
  assert.equal((again.stdout.match(/ ---> Using cache\n/g) ?? []).length, 5, 'every step after FROM');
  assert.equal(builtId(again.stdout), builtId(first.stdout));
  writeFileSync(join(dir, 'second.txt'), '2, changed\n');
  const changed = await build('docker', dir, '-t', 'cached:2', '.');
  assert.equal(changed.code, 0, changed.stderr);
  const hits = changed.stdout.split('Step ').slice(1).map((s) => s.includes(' ---> Using cache'));
  assert.deepEqual(hits, [false, true, true, true, false, false], 'FROM, 3 hits, then the changed COPY and what follows run again');
  assert.equal(await ok('run', '--rm', 'cached:2', 'cat', '/both'), '1\n2, changed\n');
  // A different build arg is a different RUN.
  const arg = context({ Dockerfile: 'FROM base:1\nARG V\nRUN echo $V > /v\n' });
  assert.equal((await build('docker', arg, '--build-arg', 'V=1', '.')).code, 0);
  const sameArg = await build('docker', arg, '--build-arg', 'V=1', '.');
  assert.match(sameArg.stdout, /Step 3\/3 : RUN echo \$V > \/v\n ---> Using cache\n/);
  const otherArg = await build('docker', arg, '--build-arg', 'V=2', '.');
  assert.match(otherArg.stdout, /Step 3\/3 : RUN echo \$V > \/v\n ---> Running in /);
});

test('multi-stage: the final stage copies from earlier ones by name and index; --target stops at a stage', async () => {
  const dir = context({
    'src.txt': 'source\n',
    Dockerfile: [
      'FROM base:1 AS builder',
      'COPY src.txt /work/',
      'RUN mkdir -p /out && tr a-z A-Z < /work/src.txt > /out/result.txt && chown 1000:1000 /out/result.txt',
      'FROM base:1 AS other',
      'RUN echo other > /other.txt',
      'FROM base:1',
      'COPY --from=builder /out/ /app/',
      'COPY --from=1 /other.txt /app/',
      'COPY --from=base:1 /etc/passwd /app/passwd',
      'CMD ["sh", "-c", "cat /app/result.txt /app/other.txt; ls -ln /app/result.txt; wc -l < /app/passwd"]',
      '',
    ].join('\n'),
  });
  for (const cli of ['docker', 'berth'] as const) {
    const r = await build(cli, dir, '-t', `multi-${cli}:1`, '.');
    assert.equal(r.code, 0, r.stderr);
    const out = await ok('run', '--rm', `multi-${cli}:1`);
    assert.match(out, /^SOURCE\nother\n-rw-r--r--\s+1 1000\s+1000\s+7 .* \/app\/result\.txt\n3\n$/, 'COPY --from keeps the owner it had');
  }
  const target = await build('docker', dir, '--target', 'builder', '-t', 'multi-target:1', '.');
  assert.equal(target.code, 0, target.stderr);
  assert.deepEqual(
    steps(target.stdout).map((l) => l.replace(/ : .*/, '')),
    ['Step 1/3', 'Step 2/3', 'Step 3/3'],
  );
  assert.equal(await ok('run', '--rm', 'multi-target:1', 'cat', '/out/result.txt'), 'SOURCE\n');
  const missing = await build('docker', dir, '--target', 'nope', '.');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Error response from daemon: target stage "nope" could not be found\n$/);
  const self = context({ Dockerfile: 'FROM base:1\nCOPY --from=0 /etc/passwd /x\n' });
  const r = await build('docker', self, '.');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /invalid from flag value 0: refers to current build stage\n$/);
});

test('VOLUME: what RUN writes there before the VOLUME is kept, after it discarded', async () => {
  const dir = context({
    Dockerfile: 'FROM base:1\nRUN mkdir -p /vol && echo before > /vol/before\nVOLUME /vol\nRUN echo after > /vol/after && echo outside > /outside\nCOPY Dockerfile /vol/copied\n',
  });
  for (const cli of ['docker', 'berth'] as const) {
    const r = await build(cli, dir, '--no-cache', '-t', `vol-${cli}:1`, '.');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ok('run', '--rm', `vol-${cli}:1`, 'sh', '-c', 'ls /vol; cat /outside'), 'before\ncopied\noutside\n', 'COPY is not a RUN: it writes into the image');
  }
  assert.equal((await ok('volume', 'ls', '-q')).trim(), '');
});

test('.dockerignore: what it excludes is not sent, and COPY of it fails with Docker\'s message', async () => {
  const dir = context({
    '.dockerignore': '# secrets\nsecret.txt\nlogs\n*.md\n!KEEP.md\n',
    'secret.txt': 'secret\n',
    'logs/a.log': 'log\n',
    'README.md': 'readme\n',
    'KEEP.md': 'kept\n',
    'keep.txt': 'keep\n',
    Dockerfile: 'FROM base:1\nCOPY . /ctx/\nCMD ["ls", "-A", "/ctx"]\n',
  });
  for (const cli of ['docker', 'berth'] as const) {
    const r = await build(cli, dir, '-t', `ignore-${cli}:1`, '.');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ok('run', '--rm', `ignore-${cli}:1`), '.dockerignore\nDockerfile\nKEEP.md\nkeep.txt\n');
  }
  writeFileSync(join(dir, 'Dockerfile'), 'FROM base:1\nCOPY secret.txt /\n');
  for (const cli of ['docker', 'berth'] as const) {
    const r = await build(cli, dir, '.');
    assert.equal(r.code, 1, cli);
    assert.match(r.stdout + r.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat secret\.txt: file does not exist\n$/, cli);
  }
  // The daemon drops the Dockerfile and .dockerignore when .dockerignore names them.
  const self = context({ '.dockerignore': 'Dockerfile\n.dockerignore\n', 'a.txt': 'a\n', Dockerfile: 'FROM base:1\nCOPY . /ctx/\n' });
  assert.equal((await build('docker', self, '-t', 'ignore-self:1', '.')).code, 0);
  assert.equal(await ok('run', '--rm', 'ignore-self:1', 'ls', '-A', '/ctx'), 'a.txt\n');
});

test('build args: defaults, --build-arg, meta ARGs, predefined proxies, and the unused ones reported', async () => {
  const dir = context({
    Dockerfile: [
      'ARG TAG=1',
      'FROM base:${TAG}',
      'ARG TAG',
      'ARG NAME=default',
      'ARG EMPTY',
      'RUN echo "tag=$TAG name=$NAME empty=${EMPTY:-unset} proxy=$HTTP_PROXY" > /args',
      '',
    ].join('\n'),
  });
  const r = await build('docker', dir, '-t', 'args:1', '--build-arg', 'NAME=cli', '--build-arg', 'HTTP_PROXY=http://proxy:3128', '--build-arg', 'UNUSED=x', '.');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n\[Warning\] One or more build-args \[UNUSED\] were not consumed\nSuccessfully built /);
  assert.equal(await ok('run', '--rm', 'args:1', 'cat', '/args'), 'tag=1 name=cli empty=unset proxy=http://proxy:3128\n');
  assert.equal((await ok('image', 'inspect', '--format', '{{json .Config.Env}}', 'args:1')).includes('proxy'), false, 'ARGs are not left in the image');
  const history = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'args:1');
  assert.match(history, /^\|2 NAME=cli TAG=1 \/bin\/sh -c echo/m, 'an undeclared proxy stays out of the recorded command');
});

test('failures: a failing RUN, an unknown instruction, a missing source, refused options, with Docker\'s texts and exit codes', async () => {
  const failing = context({ Dockerfile: 'FROM base:1\nRUN echo partial > /p && exit 3\n' });
  for (const cli of ['docker', 'berth'] as const) {
    const r = await build(cli, failing, '.');
    assert.equal(r.code, 3, `${cli}: the CLI exits with the RUN's code`);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo partial > \/p && exit 3' returned a non-zero code: 3\n$/);
  }
  const left = (await ok('ps', '-aq', '--filter', 'status=exited')).trim().split('\n').filter(Boolean);
  assert.equal(left.length, 2, 'without --force-rm the failed step\'s container stays, as with dockerd');
  await ok('rm', ...left);
  const forced = await build('docker', failing, '--force-rm', '.');
  assert.equal(forced.code, 3);
  assert.match(forced.stdout, / ---> Removed intermediate container [0-9a-f]{12}\n$/);
  assert.equal((await ok('ps', '-aq')).trim(), '');

  const unknown = context({ Dockerfile: 'FROM base:1\nRUNN echo x\n' });
  for (const cli of ['docker', 'berth'] as const) {
    const r = await build(cli, unknown, '.');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error response from daemon: dockerfile parse error on line 2: unknown instruction: RUNN \(did you mean RUN\?\)\n$/);
  }
  const missing = context({ Dockerfile: 'FROM base:1\nCOPY nothere.txt /\n' });
  const r = await build('berth', missing, '.');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'COPY failed: file not found in build context or excluded by .dockerignore: stat nothere.txt: file does not exist\n');
  const cases: Array<[string, RegExp]> = [
    ['FROM base:1\nRUN --mount=type=cache,target=/x true\n', /the --mount option requires BuildKit/],
    ['FROM base:1\nADD http://example.invalid/file /\n', /ADD of a URL is not supported/],
    ['FROM base:1\nCOPY a b c\n', /When using COPY with more than one source file, the destination must be a directory and end with a \//],
    ['FROM 127.0.0.1:1/nosuch:1\n', /127\.0\.0\.1:1/],
  ];
  for (const [dockerfile, message] of cases) {
    const dir = context({ a: 'a', b: 'b', Dockerfile: dockerfile });
    const res = await build('docker', dir, '.');
    assert.equal(res.code, 1, dockerfile);
    assert.match(res.stderr, message);
  }
  const bad = await build('docker', missing, '--ulimit', 'nofile=10:10', '.');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--ulimit is not supported by berth's builder/);
});

test('intermediate images: hidden from images, listed with -a, deleted with the image they lead to', async () => {
  const dir = context({ Dockerfile: 'FROM base:1\nENV A=1\nRUN echo x > /x\nCMD ["sh"]\n' });
  const r = await build('docker', dir, '--no-cache', '-t', 'chain:1', '.');
  assert.equal(r.code, 0, r.stderr);
  const ids = [...r.stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]!);
  assert.equal(ids.length, 4, 'FROM and three steps');
  const visible = await ok('images', '-q', '--no-trunc');
  const all = await ok('images', '-aq');
  for (const id of ids.slice(1, 3)) {
    assert.equal(all.includes(id), true, `${id} with -a`);
    assert.equal(visible.includes(id), false, `${id} hidden without -a`);
  }
  const deleting = await ok('image', 'inspect', '--format', '{{.Id}}', ids[1]!);
  const rm = await docker('rmi', ids[1]!);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /conflict: unable to delete [0-9a-f]{12} \(cannot be forced\) - image has dependent child images/);
  const rmi = await ok('rmi', 'chain:1');
  assert.match(rmi, new RegExp(`^Untagged: chain:1\nDeleted: sha256:${ids[3]}`));
  assert.equal(rmi.includes(`Deleted: ${deleting.trim()}`), true, 'the parents go with it');
  assert.equal((await ok('images', '-aq')).includes(ids[1]!), false);
  assert.equal((await ok('images', '-q', 'base:1')).trim().length > 0, true, 'the base image stays');
});

test('docker-compose 1.29 builds through the Engine API (docker-py) and through the docker CLI', async () => {
  const dir = context({
    'web/Dockerfile': 'FROM base:1\nARG MSG=default\nRUN echo "built $MSG" > /msg\nCMD ["cat", "/msg"]\n',
    'docker-compose.yml': 'version: "3.8"\nservices:\n  web:\n    build:\n      context: ./web\n      args:\n        MSG: by-compose\n    image: composed:1\n',
  });
  for (const viaCli of ['0', '1']) {
    const r = await run('docker-compose', ['build', '--no-cache'], { env: { ...env, COMPOSE_DOCKER_CLI_BUILD: viaCli, PATH: `/usr/local/bin:${process.env.PATH ?? ''}` }, cwd: dir, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /Step 3\/4 : RUN echo "built \$MSG" > \/msg\n/);
    assert.match(r.stdout + r.stderr, /Successfully tagged composed:1\n/);
    assert.equal(await ok('run', '--rm', 'composed:1'), 'built by-compose\n');
  }
});

test('a dangling build result goes with its steps at image prune; builder prune has no cache of its own to remove', async () => {
  const dir = context({ Dockerfile: 'FROM base:1\nENV PRUNE=1\nRUN echo p > /p\n' });
  const r = await build('docker', dir, '--no-cache', '.');
  assert.equal(r.code, 0, r.stderr);
  const leaf = builtId(r.stdout);
  const pruned = await ok('image', 'prune', '-f');
  assert.match(pruned, new RegExp(`^Deleted Images:\ndeleted: sha256:${leaf}`));
  assert.equal((pruned.match(/^deleted: sha256:/gm) ?? []).length >= 3, true, 'the leaf and its two step images');
  assert.equal((await ok('images', '-q', 'base:1')).trim().length > 0, true);
  for (const cli of ['docker', 'berth'] as const) {
    const res = cli === 'docker' ? await docker('builder', 'prune', '-f') : await run(process.execPath, [BERTH, 'builder', 'prune', '-f'], { env });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'Total reclaimed space: 0B\n');
  }
});

test('a build whose client goes away stops, and its RUN container is removed', async () => {
  const dir = context({ Dockerfile: 'FROM base:1\nRUN echo started && sleep 300\n' });
  const cli = spawn(DOCKER, ['build', '.'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const closed = new Promise((resolve) => cli.on('close', resolve));
  await waitFor(() => /^started$/m.test(out), 'the RUN to start');
  const id = /Running in ([0-9a-f]{12})/.exec(out)![1]!;
  cli.kill('SIGKILL');
  await closed;
  // Waits for the removal; a container removed already answers 404.
  const waited = await api(d.socket, 'POST', `/containers/${id}/wait?condition=removed`);
  assert.ok(waited.status === 200 || waited.status === 404, waited.text);
  await waitFor(async () => (await ok('ps', '-aq')).trim() === '', 'the build to leave no container');
});
