// berthd killed with SIGKILL and started again: what it left half-done is
// finished by the new daemon (containers that exited meanwhile, AutoRemove
// containers, starts cut short), and running containers are taken back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../helpers/daemon.js';
import { importTestImages } from '../helpers/images.js';
import { api } from '../helpers/http.js';
import { docker } from '../helpers/run.js';
import { buildBusyboxRootfs } from '../helpers/busybox.js';
import Database from 'better-sqlite3';
import { createContainer } from '../../src/containers/runtime/conmon.js';
import { Runc } from '../../src/containers/runtime/runc.js';
import { Reaper } from '../../src/util/reaper.js';
import { buildSpec, writeSpec } from '../../src/containers/runtime/oci-spec.js';
import { isConmonOf } from '../../src/containers/monitor.js';

/** Waits until `cond` holds, checking every 50 ms; fails after `timeoutMs`. */
async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('after kill -9, a running container is taken back and one that exited meanwhile is exited with its code', async (t) => {
  const d = await startDaemon(t);
  await importTestImages(d.env);
  const ctl = mkdtempSync(join(tmpdir(), 'berth-ctl-'));
  t.after(() => rmSync(ctl, { recursive: true, force: true }));
  const keeps = await docker(d.env, 'run', '-d', '--name', 'keeps-running', 'busybox', 'sh', '-c', 'echo up; while true; do sleep 0.1; done');
  assert.equal(keeps.code, 0, keeps.stderr);
  const exits = await docker(d.env, 'run', '-d', '--name', 'exits', '-v', `${ctl}:/ctl`, 'busybox', 'sh', '-c', 'while [ ! -e /ctl/go ]; do sleep 0.1; done; exit 7');
  assert.equal(exits.code, 0, exits.stderr);
  const keepsPid = (await api(d.socket, 'GET', '/containers/keeps-running/json')).json.State.Pid as number;
  await d.kill9();
  writeFileSync(join(ctl, 'go'), '');
  const exitFile = join(d.execRoot, 'exits', exits.stdout.trim());
  await waitFor(() => existsSync(exitFile), 'the container to exit while berthd is down');
  await d.restart();

  const gone = await api(d.socket, 'GET', '/containers/exits/json');
  assert.equal(gone.json.State.Status, 'exited');
  assert.equal(gone.json.State.ExitCode, 7);
  const back = await api(d.socket, 'GET', '/containers/keeps-running/json');
  assert.equal(back.json.State.Status, 'running');
  assert.equal(back.json.State.Pid, keepsPid);
  assert.equal((await docker(d.env, 'logs', 'keeps-running')).stdout, 'up\n');
  const stop = await docker(d.env, 'stop', '-t', '1', 'keeps-running');
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal((await api(d.socket, 'GET', '/containers/keeps-running/json')).json.State.Status, 'exited');
  const rm = await docker(d.env, 'rm', 'keeps-running', 'exits');
  assert.equal(rm.code, 0, rm.stderr);
});

test('after kill -9, --rm containers that exited or never started are removed at restore with their anonymous volumes', async (t) => {
  const d = await startDaemon(t);
  await importTestImages(d.env);
  const ctl = mkdtempSync(join(tmpdir(), 'berth-ctl-'));
  t.after(() => rmSync(ctl, { recursive: true, force: true }));

  const created = await docker(d.env, 'create', '--rm', '--name', 'never-started', '-v', '/anon', '-v', 'named-a:/n', 'busybox', 'true');
  assert.equal(created.code, 0, created.stderr);
  const running = await docker(
    d.env,
    'run', '-d', '--rm', '--name', 'exits-while-down', '-v', '/anon', '-v', 'named-b:/n', '-v', `${ctl}:/ctl`,
    'busybox', 'sh', '-c', 'while [ ! -e /ctl/go ]; do sleep 0.1; done; exit 4',
  );
  assert.equal(running.code, 0, running.stderr);
  const ids = { never: created.stdout.trim(), exits: running.stdout.trim() };
  const anonymous: string[] = [];
  for (const id of Object.values(ids)) {
    const c = await api(d.socket, 'GET', `/containers/${id}/json`);
    assert.equal(c.status, 200);
    for (const m of c.json.Mounts as Array<{ Type: string; Name?: string; Destination: string }>) {
      if (m.Type === 'volume' && m.Destination === '/anon') anonymous.push(m.Name!);
    }
  }
  assert.equal(anonymous.length, 2);

  await d.kill9();
  // The container exits while no daemon watches it.
  writeFileSync(join(ctl, 'go'), '');
  const exitFile = join(d.execRoot, 'exits', ids.exits);
  await waitFor(() => existsSync(exitFile), 'the container to exit');
  await d.restart();

  for (const [what, id] of Object.entries(ids)) {
    assert.equal((await api(d.socket, 'GET', `/containers/${id}/json`)).status, 404, `${what} was removed`);
  }
  for (const name of anonymous) assert.equal((await api(d.socket, 'GET', `/volumes/${name}`)).status, 404, `anonymous volume ${name} was removed`);
  // Named volumes stay, no longer in use by anything.
  for (const name of ['named-a', 'named-b']) {
    const rm = await docker(d.env, 'volume', 'rm', name);
    assert.equal(rm.code, 0, rm.stderr);
  }
  const ps = await docker(d.env, 'ps', '-aq');
  assert.equal(ps.stdout.trim(), '');
});

test('after kill -9 during starts, restore ends the monitor of a never-started container and adopts a container whose start was not recorded', async (t) => {
  const d = await startDaemon(t);
  await importTestImages(d.env);
  const created = await docker(d.env, 'create', '--name', 'cut-short', 'busybox', 'sleep', '600');
  assert.equal(created.code, 0, created.stderr);
  const running = await docker(d.env, 'run', '-d', '--name', 'unrecorded', 'busybox', 'sleep', '600');
  assert.equal(running.code, 0, running.stderr);
  const ids = { cutShort: created.stdout.trim(), unrecorded: running.stdout.trim() };
  const pid = (await api(d.socket, 'GET', `/containers/${ids.unrecorded}/json`)).json.State.Pid as number;
  assert.ok(pid > 0);
  await d.kill9();
  // What a daemon killed in the middle of two starts leaves: a container
  // created under its monitor but not started, and a started container
  // still recorded as created.
  const bundle = join(d.dataRoot, 'containers', ids.cutShort);
  const rootfs = buildBusyboxRootfs(join(d.dir, 'cut-short-rootfs'));
  writeSpec(bundle, buildSpec({ args: ['sleep', '600'], rootfs }));
  const stateDir = join(d.execRoot, 'containers', ids.cutShort);
  const { conmonPid } = await createContainer(
    { conmon: 'conmon', runc: new Runc({ root: join(d.dataRoot, 'runtime') }), reaper: new Reaper() },
    { id: ids.cutShort, name: 'cut-short', bundle, stateDir, exitDir: join(d.execRoot, 'exits'), logPath: join(bundle, `${ids.cutShort}.log`), tty: false, openStdin: false, stdinOnce: false },
  );
  assert.ok(isConmonOf(conmonPid, ids.cutShort));
  const db = new Database(join(d.dataRoot, 'berth.db'));
  const row = db.prepare<[string], { record: string }>('SELECT record FROM containers WHERE id = ?').get(ids.unrecorded)!;
  const rec = JSON.parse(row.record) as { state: { status: string; pid: number } };
  rec.state = { ...rec.state, status: 'created', pid: 0 };
  db.prepare('UPDATE containers SET record = ? WHERE id = ?').run(JSON.stringify(rec), ids.unrecorded);
  db.close();

  await d.restart();
  await waitFor(() => !isConmonOf(conmonPid, ids.cutShort), 'the monitor of the never-started container to end');
  const cut = await api(d.socket, 'GET', `/containers/${ids.cutShort}/json`);
  assert.equal(cut.json.State.Status, 'created');
  const adopted = await api(d.socket, 'GET', `/containers/${ids.unrecorded}/json`);
  assert.equal(adopted.json.State.Status, 'running');
  assert.equal(adopted.json.State.Pid, pid);
  const stop = await docker(d.env, 'stop', '-t', '0', 'unrecorded');
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal((await api(d.socket, 'GET', `/containers/${ids.unrecorded}/json`)).json.State.Status, 'exited');
  // The never-started container still starts normally.
  const start = await docker(d.env, 'start', 'cut-short');
  assert.equal(start.code, 0, start.stderr);
  const rm = await docker(d.env, 'rm', '-f', 'cut-short', 'unrecorded');
  assert.equal(rm.code, 0, rm.stderr);
});

test('after kill -9 in the middle of imports, the replaced volume is as it was, the new one does not exist, no staging is left', async (t) => {
  const d = await startDaemon(t);
  assert.equal((await api(d.socket, 'POST', '/volumes/create', { Name: 'kept' })).status, 201);
  const data = join(d.dataRoot, 'volumes', 'kept', '_data');
  writeFileSync(join(data, 'precious'), 'do not lose me\n');
  const staging = join(d.dataRoot, 'volumes', '.staging');
  // An archive of many small files, sent without its end: the import is under way, never finished.
  const { encodeMember } = await import('../../src/archive/tar/writer.js');
  const { request } = await import('node:http');
  const req = request({ socketPath: d.socket, method: 'POST', path: '/volumes/kept/import?replace=1', headers: { 'Content-Type': 'application/x-tar' } });
  req.on('error', () => undefined); // the daemon dies under it
  for (let i = 0; i < 2000; i++) {
    const body = Buffer.from(`file ${i}\n`);
    req.write(Buffer.concat([encodeMember({ type: 'file', path: Buffer.from(`./f${i}`), mode: 0o644, uid: 0, gid: 0, size: body.length, mtimeNs: 0n }), body, Buffer.alloc(512 - body.length)]));
  }
  // And one into a volume the import creates.
  const fresh = request({ socketPath: d.socket, method: 'POST', path: '/volumes/fresh/import', headers: { 'Content-Type': 'application/x-tar' } });
  fresh.on('error', () => undefined);
  for (let i = 0; i < 2000; i++) {
    fresh.write(Buffer.concat([encodeMember({ type: 'file', path: Buffer.from(`./g${i}`), mode: 0o644, uid: 0, gid: 0, size: 0, mtimeNs: 0n })]));
  }
  await waitFor(() => readdirSync(staging).filter((s) => readdirSync(join(staging, s)).length > 100).length === 2, 'both imports to be unpacking into staging');
  await d.kill9();
  req.destroy();
  fresh.destroy();
  await d.restart();
  assert.equal((await api(d.socket, 'GET', '/volumes/fresh')).status, 404, 'no volume left by the interrupted import');
  assert.deepEqual(readdirSync(data), ['precious']);
  assert.equal(readFileSync(join(data, 'precious'), 'utf8'), 'do not lose me\n');
  assert.deepEqual(readdirSync(staging), []);
  // The volume is usable: a fresh import into it works.
  const again = await api(d.socket, 'POST', '/volumes/kept/import?replace=1', undefined, {
    contentType: 'application/x-tar',
    rawBody: Buffer.concat([encodeMember({ type: 'file', path: Buffer.from('./new'), mode: 0o644, uid: 0, gid: 0, size: 0, mtimeNs: 0n }), Buffer.alloc(1024)]),
  });
  assert.equal(again.status, 200, again.text);
  assert.match(again.text, /"status":"Imported"/);
  assert.deepEqual(readdirSync(data), ['new']);
});
