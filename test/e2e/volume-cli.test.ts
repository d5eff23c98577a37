// The docker CLI (28.2) and the berth CLI against berthd: outputs, exit codes
// and messages of spec section 4 and edge cases 34–39, 80.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startDaemon, unmountUnder, type TestDaemon, removeNetworkDevices } from '../helpers/daemon.js';
import { CLIS, docker, berth } from '../helpers/run.js';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d.stop();
  removeNetworkDevices(d.dataRoot);
  unmountUnder(d.dir);
  rmSync(d.dir, { recursive: true, force: true });
});

for (const cli of CLIS) {
  const run = (...args: string[]) => cli.run(d.env, ...args);
  const p = cli.name; // prefix volume names per CLI so the two runs don't collide

  test(`${cli.name}: ls with no volumes prints only the header`, async () => {
    const r = await run('volume', 'ls', '-f', `name=^${p}-none$`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'DRIVER    VOLUME NAME\n');
  });

  test(`${cli.name}: create, ls natural order, quiet, format`, async () => {
    for (const n of [`${p}-v10`, `${p}-v2`, `${p}-v1`]) {
      const r = await run('volume', 'create', '--label', 'env=prod', '--label', 'tier', n);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${n}\n`);
    }
    const ls = await run('volume', 'ls', '-f', `name=^${p}-v`);
    assert.equal(ls.stdout, `DRIVER    VOLUME NAME\nlocal     ${p}-v1\nlocal     ${p}-v2\nlocal     ${p}-v10\n`);
    const q = await run('volume', 'ls', '-q', '-f', `name=^${p}-v`);
    assert.equal(q.stdout, `${p}-v1\n${p}-v2\n${p}-v10\n`);
    const f = await run('volume', 'ls', '-q', '--format', '{{.Name}}:{{.Driver}}:{{.Scope}}:{{.Label "env"}}', '-f', `name=^${p}-v1$`);
    assert.equal(f.stdout, `${p}-v1:local:local:prod\n`);
    const table = await run('volume', 'ls', '--format', 'table {{.Name}}\t{{.Scope}}\t{{.Links}}', '-f', `name=^${p}-v1$`);
    assert.equal(table.stdout, `VOLUME NAME   SCOPE     LINKS\n${`${p}-v1`.padEnd(14)}local     N/A\n`);
    const json = await run('volume', 'ls', '--format', 'json', '-f', `name=^${p}-v1$`);
    assert.deepEqual(JSON.parse(json.stdout), {
      Availability: 'N/A',
      Driver: 'local',
      Group: 'N/A',
      Labels: JSON.parse(json.stdout).Labels,
      Links: 'N/A',
      Mountpoint: `${d.dataRoot}/volumes/${p}-v1/_data`,
      Name: `${p}-v1`,
      Scope: 'local',
      Size: 'N/A',
      Status: 'N/A',
    });
    assert.deepEqual(JSON.parse(json.stdout).Labels.split(',').sort(), ['env=prod', 'tier=']);
    assert.equal(Object.keys(JSON.parse(json.stdout)).join(','), 'Availability,Driver,Group,Labels,Links,Mountpoint,Name,Scope,Size,Status');
  });

  test(`${cli.name}: inspect output, formats and a missing name (edge 38)`, async () => {
    const r = await run('volume', 'inspect', `${p}-v1`, `${p}-missing`);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: get ${p}-missing: no such volume\n`);
    const arr = JSON.parse(r.stdout);
    assert.equal(arr.length, 1);
    assert.match(r.stdout, /^\[\n    \{\n        "CreatedAt": "/);
    assert.match(r.stdout, /\n        "Options": null,\n/);
    const onlyMissing = await run('volume', 'inspect', `${p}-missing`);
    assert.equal(onlyMissing.stdout, '[]\n');
    assert.equal(onlyMissing.code, 1);
    const tmpl = await run('volume', 'inspect', '--format', '{{.Name}} {{json .Options}} {{.Options}} {{index .Labels "env"}} {{len .Labels}}', `${p}-v1`);
    assert.equal(tmpl.stdout, `${p}-v1 null map[] prod 2\n`);
    const compact = await run('volume', 'inspect', '--format', 'json', `${p}-v1`);
    assert.equal(JSON.parse(compact.stdout)[0].Name, `${p}-v1`);
    assert.equal(compact.stdout.includes('\n    '), false);
  });

  test(`${cli.name}: rm continues past errors and -f on missing is quiet (edge 39)`, async () => {
    await run('volume', 'create', `${p}-ra`);
    await run('volume', 'create', `${p}-rb`);
    const r = await run('volume', 'rm', `${p}-ra`, `${p}-missing`, `${p}-rb`);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, `${p}-ra\n${p}-rb\n`);
    assert.equal(r.stderr, `Error response from daemon: get ${p}-missing: no such volume\n`);
    const f = await run('volume', 'rm', '-f', `${p}-missing`);
    assert.equal(f.code, 0);
    assert.equal(f.stdout, `${p}-missing\n`);
  });

  test(`${cli.name}: prune prompt, cancel and confirm (edge 34)`, async () => {
    const anon = (await run('volume', 'create')).stdout.trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    const no = await cli.run(d.env, 'volume', 'prune');
    assert.equal(no.code, 0);
    assert.equal(no.stdout, 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    const still = await run('volume', 'inspect', anon);
    assert.equal(still.code, 0);
    const yes = await run('volume', 'prune', '-f', '--filter', 'label!=env');
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, new RegExp(`^Deleted Volumes:\\n(?:[0-9a-f]{64}\\n)*${anon}\\n(?:[0-9a-f]{64}\\n)*\\nTotal reclaimed space: 0B\\n$`));
    const none = await run('volume', 'prune', '-f', '--filter', 'label=never');
    assert.equal(none.stdout, 'Total reclaimed space: 0B\n');
    const conflicting = await run('volume', 'prune', '-a', '-f', '--filter', 'all=1');
    assert.equal(conflicting.code, 1);
    assert.match(conflicting.stderr, /conflicting options: cannot specify both --all and --filter all=1/);
  });

  test(`${cli.name}: usage errors`, async () => {
    const noArgs = await run('volume', 'inspect');
    assert.equal(noArgs.code, 1);
    assert.match(noArgs.stderr, new RegExp(`'${cli.name} volume inspect' requires at least 1 argument`));
    const extra = await run('volume', 'prune', 'x');
    assert.equal(extra.code, 1);
    assert.match(extra.stderr, new RegExp(`'${cli.name} volume prune' accepts no arguments`));
    const label = await run('volume', 'create', '--label', '=x', `${p}-bad`);
    assert.equal(label.code, 125);
    assert.match(label.stderr, /invalid argument "=x" for "--label" flag: invalid label '=x': empty name/);
    const filter = await run('volume', 'ls', '-f', 'foo');
    assert.equal(filter.code, 125);
    assert.match(filter.stderr, /invalid argument "foo" for "-f, --filter" flag: bad format of filter \(expected name=value\)/);
    const both = await run('volume', 'create', '--name', 'a1', 'b1');
    assert.equal(both.code, 1);
    assert.match(both.stderr, /conflicting options: cannot specify a volume-name through both --name and as a positional arg/);
    const daemonErr = await run('volume', 'create', 'a');
    assert.equal(daemonErr.code, 1);
    assert.equal(daemonErr.stderr, 'Error response from daemon: create a: volume name is too short, names should be at least two alphanumeric characters\n');
  });
}

test('docker and berth print the same for the same commands', async () => {
  await docker(d.env, 'volume', 'create', '--label', 'x=1', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'same-1');
  for (const args of [
    ['volume', 'ls'],
    ['volume', 'ls', '-q'],
    ['volume', 'ls', '--format', '{{.Name}}\t{{.Mountpoint}}'],
    ['volume', 'ls', '--format', 'table {{.Name}}\t{{.Scope}}\t{{.Driver}}'],
    ['volume', 'ls', '-f', 'dangling=true', '-f', 'label=x=1'],
    ['volume', 'ls', '--format', 'raw'],
    ['volume', 'inspect', 'same-1'],
    ['volume', 'inspect', '--format', '{{.Options}} {{.Labels}} {{.CreatedAt}}', 'same-1'],
    ['volume', 'inspect', 'nope-1', 'same-1'],
    ['volume', 'rm', 'nope-2'],
    ['system', 'df'],
    ['system', 'df', '-v'],
  ]) {
    const a = await docker(d.env, ...args);
    const b = await berth(d.env, ...args);
    assert.equal(b.stdout, a.stdout, `stdout of ${args.join(' ')}`);
    assert.equal(b.stderr, a.stderr, `stderr of ${args.join(' ')}`);
    assert.equal(b.code, a.code, `exit code of ${args.join(' ')}`);
  }
});

test('berth says clearly when berthd is not running', async () => {
  const r = await berth({ ...process.env, BERTH_HOST: `unix://${d.dir}/nothing.sock` }, 'volume', 'ls');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Cannot connect to the berth daemon at unix://${d.dir}/nothing.sock. Is berthd running?\n`);
});

for (const cli of CLIS) {
  test(`${cli.name}: labels named __proto__ and constructor are kept and filtered like any other`, async () => {
    const n = `${cli.name}-proto`;
    const c = await cli.run(d.env, 'volume', 'create', '--label', '__proto__=x', '--label', 'constructor', n);
    assert.equal(c.code, 0, c.stderr);
    const inspect = await cli.run(d.env, 'volume', 'inspect', '--format', '{{json .Labels}} {{index .Labels "__proto__"}}', n);
    assert.equal(inspect.stdout, '{"__proto__":"x","constructor":""} x\n');
    const byLabel = await cli.run(d.env, 'volume', 'ls', '-q', '-f', 'label=__proto__=x');
    assert.equal(byLabel.stdout, `${n}\n`);
    // `constructor` is no label of a volume that lacks it (a plain object would say it is).
    const other = `${cli.name}-plain`;
    assert.equal((await cli.run(d.env, 'volume', 'create', other)).code, 0);
    const byCtor = await cli.run(d.env, 'volume', 'ls', '-q', '-f', 'label=constructor', '-f', `name=^${cli.name}-`);
    assert.equal(byCtor.stdout, `${n}\n`);
    assert.equal((await cli.run(d.env, 'volume', 'rm', n, other)).code, 0);
  });
}
