import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildCreateBody, ContainerParseError, dedupeEnv, FlagValueError, parseKeyValueFile, parseRestartPolicy,
  validateAttach, validateEnv, type BuildContext, type ContainerFlags,
} from '../../../src/cli/commands/container-opts.js';
import { buildExecBody } from '../../../src/cli/commands/container.js';
import { CREATE_BODIES } from './docker-goldens.js';

const ENV_FILE = 'E1=v1\n# comment\n\n  E2\nE3=a b \nFOO\n';
const ctx: BuildContext = {
  cwd: '/tmp/mock',
  env: { PATH: '/usr/bin', HOME: '/root', FOO: 'fooval' },
  command: 'create',
  readFile: (p) => {
    if (p === '/tmp/mock/env.list') return ENV_FILE;
    const e = new Error(`ENOENT: ${p}`) as NodeJS.ErrnoException;
    e.code = 'ENOENT';
    throw e;
  },
};

/** docker builds Env through a Go map, so its order is random: compare sorted. */
function normalise(body: string): unknown {
  const o = JSON.parse(body) as { Env: string[] | null };
  if (o.Env) o.Env = [...o.Env].sort();
  return o;
}

function created(flags: ContainerFlags, image: string, args: string[] = [], c: BuildContext = ctx): { url: string; body: unknown } {
  const req = buildCreateBody(flags, image, args, c);
  const url = `/v1.47/containers/create${req.name ? `?name=${req.name}` : ''}`;
  return { url, body: normalise(JSON.stringify(req.body)) };
}

function golden(i: number, edit: (s: string) => string = (s) => s): { url: string; body: unknown } {
  const g = CREATE_BODIES[i]!;
  return { url: g.url, body: normalise(edit(g.body)) };
}

test('create body: -v binds, anonymous volumes, ./relative binds, -e KEY from the environment, labels, --rm', () => {
  // docker create --rm -v vol:/data -v /anon -v ./rel:/r -e FOO -e BAR=1 -e NOTSET -l a=b busybox echo hi
  const got = created(
    { rm: true, volume: ['vol:/data', '/anon', './rel:/r'], env: ['FOO', 'BAR=1', 'NOTSET'], label: ['a=b'] },
    'busybox',
    ['echo', 'hi'],
  );
  assert.deepEqual(got, golden(0));
  // The bytes too, apart from the Env order.
  assert.equal(JSON.stringify(buildCreateBody({ rm: true, volume: ['vol:/data', '/anon', './rel:/r'], env: ['BAR=1', 'FOO', 'NOTSET'], label: ['a=b'] }, 'busybox', ['echo', 'hi'], ctx).body).replace(/"Env":\[[^\]]*\]/, ''), CREATE_BODIES[0]!.body.replace(/"Env":\[[^\]]*\]/, ''));
});

test('create body: entrypoint reset, workdir, user, read-only, network none, hostname, stop signal/timeout, restart, volumes-from, volume-driver, tmpfs, mounts, -it, --name', () => {
  const got = created(
    {
      entrypoint: '',
      workdir: '/x',
      user: 'u',
      readOnly: true,
      network: ['none'],
      hostname: 'hh',
      stopSignal: 'SIGUSR1',
      stopTimeout: '7',
      restart: 'on-failure:3',
      volumesFrom: ['a:ro', 'b'],
      volumeDriver: 'foo',
      tmpfs: ['/t:size=1m', '/u'],
      mount: ['type=tmpfs,dst=/m', 'type=volume,src=v,dst=/v,volume-nocopy'],
      interactive: true,
      tty: true,
      name: 'nm',
    },
    'busybox',
    ['true'],
  );
  // The docker CLI also sends an empty VolumeOptions.DriverConfig ({}) once any
  // volume-* key is used; berth's --mount parser (src/mounts/cli-parse.ts) leaves it out.
  assert.deepEqual(got, golden(1, (s) => s.replace(',"DriverConfig":{}', '')));
});

test('create body: --env-file (pass-through keys looked up, unknown ones dropped), later -e wins, bare labels, network host', () => {
  const got = created(
    { entrypoint: 'sh -c', envFile: ['/tmp/mock/env.list'], env: ['X=1', 'X=2'], label: ['k', 'k2=v'], rm: true, restart: 'no', network: ['host'] },
    'busybox',
  );
  assert.deepEqual(got, golden(2));
});

test('create body: -i sets StdinOnce, --restart always, --network default, -a', () => {
  assert.deepEqual(created({ interactive: true, restart: 'always', network: ['default'] }, 'busybox'), golden(3));
  assert.deepEqual(created({ attach: ['stdout', 'STDIN'] }, 'busybox'), golden(4));
});

test('run -d drops the attach fields', () => {
  const { body } = buildCreateBody({ detach: true, interactive: true }, 'busybox', [], { ...ctx, command: 'run' });
  assert.equal(body.AttachStdin, false);
  assert.equal(body.AttachStdout, false);
  assert.equal(body.AttachStderr, false);
  assert.equal(body.StdinOnce, false);
  assert.equal(body.OpenStdin, true);
  // create keeps them
  assert.equal(buildCreateBody({ detach: true }, 'busybox', [], ctx).body.AttachStdout, true);
});

test('ConsoleSize comes from the terminal; several networks each get an endpoint', () => {
  const { body } = buildCreateBody({ network: ['a', 'b'] }, 'busybox', [], { ...ctx, consoleSize: [24, 80] });
  assert.deepEqual(body.HostConfig.ConsoleSize, [24, 80]);
  assert.equal(body.HostConfig.NetworkMode, 'a');
  assert.deepEqual(Object.keys(body.NetworkingConfig.EndpointsConfig), ['a', 'b']);
  assert.throws(() => buildCreateBody({ network: ['a', 'a'] }, 'busybox', [], ctx), /network "a" is specified multiple times/);
});

test('flag value errors carry pflag wording', () => {
  const flagErr = (flags: ContainerFlags, text: string) =>
    assert.throws(
      () => buildCreateBody(flags, 'busybox', [], ctx),
      (e: unknown) => e instanceof FlagValueError && e.message === text,
    );
  flagErr({ env: ['=x'] }, 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x');
  flagErr({ label: ['=x'] }, `invalid argument "=x" for "-l, --label" flag: invalid label '=x': empty name`);
  flagErr({ attach: ['foo'] }, 'invalid argument "foo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
  flagErr({ mount: ['type=foo,bar'] }, `invalid argument "type=foo,bar" for "--mount" flag: invalid field 'bar' must be a key=value pair`);
  flagErr({ stopTimeout: 'x' }, 'invalid argument "x" for "--stop-timeout" flag: strconv.ParseInt: parsing "x": invalid syntax');
});

test('parse errors (docker: <msg> + --help hint, exit 125)', () => {
  const parseErr = (flags: ContainerFlags, text: string) =>
    assert.throws(
      () => buildCreateBody(flags, 'busybox', [], ctx),
      (e: unknown) => e instanceof ContainerParseError && e.message === text,
    );
  parseErr({ envFile: ['/nonexist'] }, 'open /nonexist: no such file or directory');
  parseErr({ rm: true, restart: 'always' }, 'conflicting options: cannot specify both --restart and --rm');
  parseErr({ restart: 'on-failure:x' }, 'invalid restart policy format: maximum retry count must be an integer');
  parseErr({ restart: ':3' }, 'invalid restart policy format: no policy provided before colon');
  parseErr({ volume: [''] }, 'invalid empty volume spec');
  parseErr({ volume: [':/x'] }, 'invalid spec: :/x: empty section between colons');
  parseErr({ volume: ['/a:/b:ro:extra'] }, 'invalid spec: /a:/b:ro:extra: too many colons');
  // --rm with restart "no" (or empty) is fine
  assert.equal(buildCreateBody({ rm: true, restart: 'no' }, 'busybox', [], ctx).body.HostConfig.AutoRemove, true);
});

test('-v: what becomes a bind and what an anonymous volume, as the docker CLI splits it', () => {
  const { body } = buildCreateBody({ volume: ['a:/x', 'x::/y', 'ab', '~/x:/y', 'v:/x:ro', 'v:/x:ro'] }, 'busybox', [], ctx);
  assert.deepEqual(body.Volumes, { 'a:/x': {}, ab: {} });
  assert.deepEqual(body.HostConfig.Binds, ['x::/y', '~/x:/y', 'v:/x:ro']);
});

test('validateEnv / validateAttach / env files / restart policies', () => {
  assert.equal(validateEnv('A', { A: '1' }), 'A=1');
  assert.equal(validateEnv('A', {}), 'A');
  assert.equal(validateEnv('A=', { A: '1' }), 'A=');
  assert.equal(validateAttach('STDERR'), 'stderr');
  assert.deepEqual(parseKeyValueFile('\uFEFFA=1\r\n  B=x \n', 'f'), ['A=1', 'B=x '], 'BOM, CR and leading blanks stripped; values kept');
  assert.throws(() => parseKeyValueFile('A B=1\n', 'bad.env'), /invalid env file \(bad\.env\): variable 'A B' contains whitespaces/);
  assert.throws(() => parseKeyValueFile('=1\n', 'bad.env'), /no variable name on line '=1'/);
  assert.deepEqual(parseKeyValueFile('K\n#c\nL=2\n', 'labels'), ['K', 'L=2']);
  assert.deepEqual(parseKeyValueFile('K\nM\n', 'env', (k) => (k === 'K' ? 'v' : undefined)), ['K=v']);
  assert.deepEqual(dedupeEnv(['A=1', 'B', 'A=2', 'C=3']), ['A=2', 'B', 'C=3']);
  assert.deepEqual(parseRestartPolicy('no'), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.deepEqual(parseRestartPolicy(''), {});
});

test('exec body as docker exec sends it', () => {
  const env = { HOME: '/root' };
  // docker exec -e A=1 -e HOME -w /tmp -u 1000 c1 sh -c 'exit 5'
  assert.equal(
    JSON.stringify(buildExecBody({ env: ['A=1', 'HOME'], workdir: '/tmp', user: '1000' }, ['sh', '-c', 'exit 5'], env, '/', [0, 0])),
    '{"User":"1000","Privileged":false,"Tty":false,"AttachStdin":false,"AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":["A=1","HOME=/root"],"WorkingDir":"/tmp","Cmd":["sh","-c","exit 5"]}',
  );
  // docker exec -d c1 sleep 10
  assert.equal(
    JSON.stringify(buildExecBody({ detach: true }, ['sleep', '10'], env, '/', [0, 0])),
    '{"User":"","Privileged":false,"Tty":false,"AttachStdin":false,"AttachStderr":false,"AttachStdout":false,"Detach":true,"DetachKeys":"","Env":null,"WorkingDir":"","Cmd":["sleep","10"]}',
  );
  // docker exec -t c1 ls (stdout not a terminal)
  assert.equal(
    JSON.stringify(buildExecBody({ tty: true }, ['ls'], env, '/', [0, 0])),
    '{"User":"","Privileged":false,"Tty":true,"ConsoleSize":[0,0],"AttachStdin":false,"AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":null,"WorkingDir":"","Cmd":["ls"]}',
  );
  // docker exec -i c1 cat
  assert.equal(
    JSON.stringify(buildExecBody({ interactive: true }, ['cat'], env, '/', [0, 0])),
    '{"User":"","Privileged":false,"Tty":false,"AttachStdin":true,"AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":null,"WorkingDir":"","Cmd":["cat"]}',
  );
});
