// The real docker-compose 1.29.2 (Debian's package, installed by
// scripts/setup.sh) against berthd: a two-service project where the app
// reaches the db by its service name and writes to a named volume;
// up/down/up keeps the named volume, recreate keeps the anonymous one,
// `down -v` removes the project's volumes and not the external ones; ps,
// logs, run, exec, rm and config. Waits are on states (a file written in a
// volume), never on time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { importTestImages } from '../helpers/images.js';
import { dockerOk, run, type RunResult } from '../helpers/run.js';
import { waitFor } from '../helpers/wait.js';
import { api } from '../helpers/http.js';

const COMPOSE = process.env.DOCKER_COMPOSE ?? '/usr/bin/docker-compose';
const PROJECT = 'shop';

let d: TestDaemon & { cleanup: () => Promise<void> };
let dir: string;
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);

/**
 * `exec` through docker-py's own hijack (COMPOSE_INTERACTIVE_NO_CLI); the
 * rest as compose runs by default, `run` through `docker start --attach`.
 * compose's Python `run` path (dockerpty 0.4.1 on Python 3, whose sockets()
 * is a lazy map) starts the container before it attaches: a quick command's
 * output can be gone before the attach, against any daemon (dockerd happens
 * to be slow enough that its second start runs the command again).
 */
function compose(...args: string[]): Promise<RunResult> {
  const env = args[0] === 'exec' ? { ...d.env, COMPOSE_INTERACTIVE_NO_CLI: '1' } : d.env;
  return run(COMPOSE, ['-p', PROJECT, ...args], { env, cwd: dir, timeoutMs: 120_000 });
}

async function composeOk(...args: string[]): Promise<string> {
  const r = await compose(...args);
  if (r.code !== 0) throw new Error(`docker-compose ${args.join(' ')} failed (${r.code}): ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** The app's record of its runs, once it has one line per expected run. */
async function runsRecorded(count: number): Promise<string> {
  let out = '';
  await waitFor(async () => {
    const r = await compose('exec', '-T', 'app', 'cat', '/data/runs');
    out = r.stdout;
    return r.code === 0 && out.split('\n').filter(Boolean).length >= count;
  }, `${count} run(s) recorded in the app's volume`);
  return out;
}

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
  dir = mkdtempSync(join(tmpdir(), 'berth-compose-'));
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    `version: "3.8"
services:
  db:
    image: busybox
    command: sh -c 'mkdir -p /srv && echo db-says-hi > /srv/index.html; exec httpd -f -p 80 -h /srv'
    labels:
      tier: backend
    tmpfs: /run
  app:
    image: busybox
    # Reaches db by its service name, then records the run in the named volume.
    command: sh -c 'until wget -qO /data/fetched http://db/index.html; do :; done; echo run >> /data/runs; exec sleep 100000'
    depends_on: [db]
    volumes:
      - data:/data
      - /anon
      - type: volume
        source: shared
        target: /shared
        read_only: true
    networks: [default, outside]
  reader:
    image: busybox
    command: "true"
    volumes_from: [app]
volumes:
  data:
  shared:
    external: true
    name: ext-shared
networks:
  outside:
    external: true
    name: ext-net
`,
  );
});
after(async () => {
  await d?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('docker-compose: the app reaches db by service name; named volume kept over down/up, anonymous one over a recreate; down -v removes the project\'s volumes only', async () => {
  await ok('volume', 'create', 'ext-shared');
  await ok('network', 'create', 'ext-net');

  const config = await composeOk('config', '--services');
  assert.deepEqual(config.trim().split('\n').sort(), ['app', 'db', 'reader']);

  await composeOk('up', '-d');
  assert.equal(await runsRecorded(1), 'run\n');
  assert.equal(await composeOk('exec', '-T', 'app', 'cat', '/data/fetched'), 'db-says-hi\n');
  assert.equal(await composeOk('exec', '-T', 'app', 'sh', '-c', 'ping -c1 -W5 shop_db_1 >/dev/null && echo by-container-name'), 'by-container-name\n');

  // Compose's labels, on the containers, the network and the volume, and label filters on each.
  assert.equal(await ok('ps', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', 'label=tier=backend', '--format', '{{.Names}}'), 'shop_db_1\n');
  assert.equal(await ok('network', 'ls', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Name}}'), 'shop_default\n');
  assert.equal(await ok('volume', 'ls', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Name}}'), 'shop_data\n');
  assert.equal(await ok('inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'shop_app_1'), 'ext-net shop_default \n');

  const ps = await composeOk('ps');
  assert.match(ps, /shop_app_1\s.*\sUp/);
  assert.match(ps, /shop_db_1\s.*\sUp/);
  const oneOff = await composeOk('run', '--rm', '-T', 'app', 'wget', '-qO-', 'http://db/index.html');
  assert.equal(oneOff, 'db-says-hi\n');
  // volumes_from: the reader sees the app's named and anonymous volumes.
  assert.equal(await composeOk('run', '--rm', '-T', 'reader', 'cat', '/data/fetched'), 'db-says-hi\n');

  // Recreate: the anonymous volume's data is carried over to the new container.
  await composeOk('exec', '-T', 'app', 'sh', '-c', 'echo anon-data > /anon/kept');
  const before = (await ok('inspect', '-f', '{{.Id}}', 'shop_app_1')).trim();
  await composeOk('up', '-d', '--force-recreate', 'app');
  assert.notEqual((await ok('inspect', '-f', '{{.Id}}', 'shop_app_1')).trim(), before);
  assert.equal(await runsRecorded(2), 'run\nrun\n');
  assert.equal(await composeOk('exec', '-T', 'app', 'cat', '/anon/kept'), 'anon-data\n');

  const logs = await composeOk('logs', '--no-color', 'db');
  assert.match(logs, /Attaching to shop_db_1/);

  // down keeps named volumes; up again finds the data.
  await composeOk('down');
  assert.equal(await ok('ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '-q'), '');
  assert.equal(await ok('network', 'ls', '--filter', 'name=shop_default', '-q'), '');
  assert.match(await ok('volume', 'ls', '-q'), /^shop_data$/m);
  await composeOk('up', '-d');
  assert.equal(await runsRecorded(3), 'run\nrun\nrun\n');

  // rm of a stopped service's container.
  await composeOk('stop', 'app');
  await composeOk('rm', '-f', 'app');
  assert.equal(await ok('ps', '-a', '--filter', 'name=shop_app_1', '-q'), '');

  // down -v: the project's volumes go, the external ones stay.
  await composeOk('down', '-v');
  const volumes = await ok('volume', 'ls', '--format', '{{.Name}}');
  assert.doesNotMatch(volumes, /^shop_data$/m);
  assert.match(volumes, /^ext-shared$/m);
  assert.match(await ok('network', 'ls', '--format', '{{.Name}}'), /^ext-net$/m);
  await ok('network', 'rm', 'ext-net');
});

test('attach with logs=1 replays the output so far (docker-py\'s attach(logs=True)); events filter by label', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  await ok('run', '-d', '--name', 'logged', '--label', 'suite=compose', 'busybox', 'sh', '-c', 'echo one; echo two >&2');
  assert.equal(await ok('wait', 'logged'), '0\n');
  const r = await api(d.socket, 'POST', '/containers/logged/attach?logs=1&stream=1&stdout=1&stderr=1');
  assert.equal(r.status, 200);
  assert.equal(r.text, '\x01\0\0\0\0\0\0\x04one\n\x02\0\0\0\0\0\0\x04two\n');
  const onlyErr = await api(d.socket, 'POST', '/containers/logged/attach?logs=1&stream=0&stderr=1');
  assert.equal(onlyErr.text, '\x02\0\0\0\0\0\0\x04two\n');
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const events = await ok('events', '--since', since, '--until', until, '--filter', 'label=suite=compose', '--filter', 'type=container', '--format', '{{.Actor.Attributes.name}} {{.Action}}');
  assert.deepEqual([...new Set(events.trim().split('\n'))].filter((l) => /create|start|die/.test(l)), ['logged create', 'logged start', 'logged die']);
  // Image label filters (an image committed with a label) and network events by network.
  await ok('commit', '--change', 'LABEL suite=compose', 'logged', 'labelled:1');
  assert.equal(await ok('images', '--filter', 'label=suite=compose', '--format', '{{.Repository}}:{{.Tag}}'), 'labelled:1\n');
  assert.equal(await ok('images', '--filter', 'label=suite=other', '-q'), '');
  await ok('network', 'create', 'evnet');
  await ok('network', 'rm', 'evnet');
  const netEvents = await ok('events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'network=evnet', '--format', '{{.Type}} {{.Action}}');
  assert.equal(netEvents, 'network create\nnetwork destroy\n');
  await ok('rm', 'logged');
  await ok('rmi', 'labelled:1');
});

test('docker-compose: published ports, network aliases, a network with its own subnet and a static address', async (t) => {
  const project = mkdtempSync(join(tmpdir(), 'berth-compose-ports-'));
  writeFileSync(
    join(project, 'docker-compose.yml'),
    `version: "3.8"
services:
  web:
    image: busybox
    command: sh -c 'echo front-page > /tmp/index.html; exec httpd -f -p 80 -h /tmp'
    ports:
      - "127.0.0.1::80"
    networks:
      default:
        aliases: [frontend]
      back:
        ipv4_address: 10.238.0.10
networks:
  back:
    ipam:
      config:
        - subnet: 10.238.0.0/24
`,
  );
  const c = (...args: string[]) => run(COMPOSE, ['-p', 'ports', ...args], { env: d.env, cwd: project, timeoutMs: 120_000 });
  const up = await c('up', '-d');
  t.after(async () => {
    await c('down');
    rmSync(project, { recursive: true, force: true });
  });
  assert.equal(up.code, 0, up.stderr);
  const port = (await c('port', 'web', '80')).stdout.trim();
  assert.match(port, /^127\.0\.0\.1:\d+$/);
  assert.equal(await ok('inspect', '-f', '{{with index .NetworkSettings.Networks "ports_back"}}{{.IPAddress}}{{end}}', 'ports_web_1'), '10.238.0.10\n');
  const r = await dockerRun('--network', 'ports_default', 'frontend');
  assert.equal(r, 'front-page\n');
  const down = await c('down');
  assert.equal(down.code, 0, down.stderr);
  assert.equal(await ok('network', 'ls', '--filter', 'name=ports_', '-q'), '');
});

/** wget of http://<host>/index.html from a throwaway container on `network`, until it answers. */
async function dockerRun(flag: string, network: string, host: string): Promise<string> {
  return ok('run', '--rm', flag, network, 'busybox', 'sh', '-c', `until wget -qO- http://${host}/index.html; do :; done`);
}
