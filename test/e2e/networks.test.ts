// Networks against a real berthd, runc and the kernel: the network commands
// of both CLIs, containers on user-defined networks reaching each other by
// name and alias through the embedded DNS server, isolation between
// networks, a container on two networks, the default bridge, published TCP
// and UDP ports fetched from the host over loopback, a berthd restart that
// keeps it all, and the bridges and veths gone once their networks and
// containers are. Waits are on states (a name resolving, a port answering),
// never on time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { importTestImages } from '../helpers/images.js';
import { CLIS, docker as runDocker, dockerOk, type RunResult } from '../helpers/run.js';
import { api } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { defaultBridgeDevice } from '../../src/networks/host-names.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
const docker = (...args: string[]): Promise<RunResult> => runDocker(d.env, ...args);
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);
const helpers: ChildProcess[] = [];

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
});
after(async () => {
  for (const h of helpers) h.kill('SIGKILL');
  await d.cleanup();
});

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The veths enslaved to `bridge`. */
function bridgePorts(bridge: string): string[] {
  const out = execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1]!.trim().split('@')[0]!);
}

async function bridgeOf(network: string): Promise<string> {
  const r = await api(d.socket, 'GET', `/networks/${network}`);
  assert.equal(r.status, 200);
  return (r.json.Options['com.docker.network.bridge.name'] as string | undefined) ?? `br-${(r.json.Id as string).slice(0, 12)}`;
}

/** GET http://127.0.0.1:port/path from the host; undefined while nothing answers. */
function httpGet(port: number, path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** One UDP round trip to 127.0.0.1:port; undefined when no answer comes within a second. */
function udpRoundTrip(port: number, message: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, 1000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(message, port, '127.0.0.1');
  });
}

/** Runs `sh -c script` in a throwaway container; its result. */
function sh(networkArgs: string[], script: string): Promise<RunResult> {
  return docker('run', '--rm', ...networkArgs, 'busybox', 'sh', '-c', script);
}

test('network commands: create, ls with filters, inspect, connect, disconnect, rm and prune print what docker prints, in both CLIs', async () => {
  for (const cli of CLIS) {
    const run = (...args: string[]) => cli.run(d.env, ...args);
    const name = `cmdnet-${cli.name}`;
    const created = await run('network', 'create', '--label', 'suite=networks', '--subnet', '10.231.0.0/24', '--gateway', '10.231.0.254', '--ip-range', '10.231.0.128/25', '-o', 'com.docker.network.driver.mtu=1400', name);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const dup = await run('network', 'create', name);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr, `Error response from daemon: network with name ${name} already exists\n`);

    const ls = await run('network', 'ls', '--filter', 'label=suite=networks', '--filter', `name=${name}`);
    assert.equal(ls.code, 0, ls.stderr);
    const lines = ls.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)), [[id.slice(0, 12), name, 'bridge', 'local']]);
    const builtin = await run('network', 'ls', '-f', 'type=builtin', '--format', '{{.Name}} {{.Driver}}');
    assert.equal(builtin.stdout, 'bridge bridge\nhost host\nnone null\n');

    const inspect = await run('network', 'inspect', '-f', '{{json .IPAM.Config}} {{.Internal}} {{index .Options "com.docker.network.driver.mtu"}} {{.Labels}}', name);
    assert.equal(inspect.stdout, `[{"Subnet":"10.231.0.0/24","IPRange":"10.231.0.128/25","Gateway":"10.231.0.254"}] false 1400 map[suite:networks]\n`);
    const generic = await run('inspect', '-f', '{{json .IPAM.Config}} {{.Driver}}', name);
    assert.equal(generic.stdout, '[{"Subnet":"10.231.0.0/24","IPRange":"10.231.0.128/25","Gateway":"10.231.0.254"}] bridge\n', generic.stderr);
    const missing = await run('network', 'inspect', 'no-such-network');
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '[]\n');
    assert.equal(missing.stderr, 'Error response from daemon: network no-such-network not found\n');

    // A created container is connected (an endpoint comes at its start), with a static address and an alias.
    const cname = `cmd-${cli.name}`;
    await ok('create', '--name', cname, 'busybox', 'sleep', '1000');
    const connect = await run('network', 'connect', '--alias', 'svc', '--ip', '10.231.0.200', name, cname);
    assert.equal(connect.code, 0, connect.stderr);
    assert.equal(connect.stdout, '');
    await ok('start', cname);
    assert.equal(
      await ok('inspect', '-f', `{{with index .NetworkSettings.Networks "${name}"}}{{.IPAddress}}/{{.IPPrefixLen}} {{.Gateway}} {{.Aliases}}{{end}}`, cname),
      '10.231.0.200/24 10.231.0.254 [svc]\n',
    );
    const inUse = await run('network', 'rm', name);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, new RegExp(`^Error response from daemon: error while removing network: network ${name} id ${id} has active endpoints\n`));
    const predefined = await run('network', 'rm', 'bridge');
    assert.equal(predefined.code, 1);
    assert.match(predefined.stderr, /^Error response from daemon: bridge is a pre-defined network and cannot be removed\n/);

    const disconnect = await run('network', 'disconnect', name, cname);
    assert.equal(disconnect.code, 0, disconnect.stderr);
    assert.equal((await api(d.socket, 'GET', `/networks/${id}`)).json.Containers[(await ok('inspect', '-f', '{{.Id}}', cname)).trim()], undefined);
    const again = await run('network', 'disconnect', name, cname);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`is not connected to the network ${name}\n$`));
    await ok('rm', '-f', cname);

    const rm = await run('network', 'rm', name);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, `${name}\n`);
    assert.equal(linkExists(`br-${id.slice(0, 12)}`), false, 'the bridge goes with its network');

    await run('network', 'create', '--label', 'prune=yes', `${name}-a`);
    await run('network', 'create', `${name}-b`);
    const prune = await run('network', 'prune', '-f', '--filter', 'label=prune=yes');
    assert.equal(prune.code, 0, prune.stderr);
    assert.equal(prune.stdout, `Deleted Networks:\n${name}-a\n\n`);
    assert.equal((await run('network', 'rm', `${name}-b`)).code, 0);
  }
});

test('API: filters, 404s and refusals with dockerd\'s statuses', async () => {
  const bad = await api(d.socket, 'GET', `/networks?filters=${encodeURIComponent('{"colour":{"red":true}}')}`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.message, "invalid filter 'colour'");
  const type = await api(d.socket, 'GET', `/networks?filters=${encodeURIComponent('{"type":{"odd":true}}')}`);
  assert.equal(type.status, 400);
  assert.equal((await api(d.socket, 'GET', '/networks/nope')).status, 404);
  assert.equal((await api(d.socket, 'DELETE', '/networks/nope')).status, 404);
  assert.equal((await api(d.socket, 'DELETE', '/networks/host')).status, 403);
  const host = await api(d.socket, 'POST', '/networks/create', { Name: 'second-host', Driver: 'host' });
  assert.equal(host.status, 403);
  const plugin = await api(d.socket, 'POST', '/networks/create', { Name: 'x', Driver: 'weave' });
  assert.equal(plugin.status, 404);
  const overlap = await api(d.socket, 'POST', '/networks/create', { Name: 'ov1', IPAM: { Config: [{ Subnet: '10.232.0.0/16' }] } });
  assert.equal(overlap.status, 201);
  const overlap2 = await api(d.socket, 'POST', '/networks/create', { Name: 'ov2', IPAM: { Config: [{ Subnet: '10.232.5.0/24' }] } });
  assert.equal(overlap2.status, 403);
  assert.match(overlap2.json.message, /overlaps/);
  const badSubnet = await api(d.socket, 'POST', '/networks/create', { Name: 'bad', IPAM: { Config: [{ Subnet: '10.233.0.1/24' }] } });
  assert.equal(badSubnet.status, 400);
  const dangling = await api(d.socket, 'GET', `/networks?filters=${encodeURIComponent('{"dangling":{"true":true}}')}`);
  assert.deepEqual(
    (dangling.json as Array<{ Name: string }>).map((n) => n.Name),
    ['ov1'],
  );
  assert.equal((await api(d.socket, 'DELETE', '/networks/ov1')).status, 204);
});

test('containers on one network reach each other by name and alias; another network can neither resolve nor reach them', async () => {
  await ok('network', 'create', 'front');
  await ok('network', 'create', 'elsewhere');
  await ok('run', '-d', '--name', 'web', '--network', 'front', '--network-alias', 'www', 'busybox', 'sh', '-c', 'echo web-page > /tmp/index.html; exec httpd -f -p 80 -h /tmp');
  const webIp = (await ok('inspect', '-f', '{{.NetworkSettings.Networks.front.IPAddress}}', 'web')).trim();
  assert.match(webIp, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(await ok('ps', '--filter', 'network=front', '--format', '{{.Names}} {{.Networks}}'), 'web front\n');
  assert.equal(await ok('ps', '--filter', 'network=elsewhere', '-q'), '');

  const client = await sh(
    ['--network', 'front', '--name', 'client'],
    'cat /etc/resolv.conf; until wget -qO- http://web/index.html; do :; done; wget -qO- http://www/index.html; ping -c1 -W5 web >/dev/null && echo ping-web; ping -c1 -W5 www >/dev/null && echo ping-www; nslookup web 127.0.0.11 | grep -c Address',
  );
  assert.equal(client.code, 0, client.stderr);
  const lines = client.stdout.split('\n');
  assert.ok(lines.includes('nameserver 127.0.0.11'), client.stdout);
  assert.ok(lines.includes('options ndots:0'), client.stdout);
  assert.equal(lines.filter((l) => l === 'web-page').length, 2, client.stdout);
  assert.ok(lines.includes('ping-web') && lines.includes('ping-www'), client.stdout);

  const outsider = await sh(['--network', 'elsewhere'], `nslookup web 127.0.0.11 >/dev/null 2>&1 && echo resolved; ping -c1 -W1 ${webIp} >/dev/null 2>&1 && echo reached; echo done`);
  assert.equal(outsider.code, 0, outsider.stderr);
  assert.equal(outsider.stdout, 'done\n');

  // A container on both networks reaches web, and keeps its other network's name.
  await ok('run', '-d', '--name', 'both', '--network', 'elsewhere', 'busybox', 'sleep', '1000');
  await ok('network', 'connect', 'front', 'both');
  const both = await ok('exec', 'both', 'sh', '-c', 'ip -o -4 addr show | grep -c eth; wget -qO- http://web/index.html; ping -c1 -W5 both >/dev/null && echo self');
  assert.equal(both, '2\nweb-page\nself\n');
  await ok('network', 'disconnect', 'front', 'both');
  assert.equal(await ok('exec', 'both', 'sh', '-c', 'ip -o -4 addr show | grep -c eth'), '1\n');
  const dns = await docker('exec', 'both', 'nslookup', 'web', '127.0.0.11');
  assert.notEqual(dns.code, 0, 'web is not resolved once the container left its network');

  const frontBridge = await bridgeOf('front');
  assert.equal(bridgePorts(frontBridge).length, 1, 'web alone is on front');
  await ok('rm', '-f', 'web', 'both');
  await waitFor(() => bridgePorts(frontBridge).length === 0, 'the veth of a removed container gone');
  await ok('network', 'rm', 'front', 'elsewhere');
  assert.equal(linkExists(frontBridge), false);
});

test('enable_icc=false: containers of the network reach its gateway and names, not each other', async () => {
  await ok('network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'noicc');
  await ok('run', '-d', '--name', 'lonely', '--network', 'noicc', 'busybox', 'sleep', '1000');
  const ip = (await ok('inspect', '-f', '{{.NetworkSettings.Networks.noicc.IPAddress}}', 'lonely')).trim();
  const gateway = (await ok('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'noicc')).trim();
  const r = await sh(['--network', 'noicc'], `ping -c1 -W5 ${gateway} >/dev/null && echo gateway; ping -c1 -W1 ${ip} >/dev/null 2>&1 && echo peer; nslookup lonely 127.0.0.11 >/dev/null && echo named; echo done`);
  assert.equal(r.stdout, 'gateway\nnamed\ndone\n', r.stderr);
  await ok('rm', '-f', 'lonely');
  await ok('network', 'rm', 'noicc');
});

test('--network container:<name>: the other container\'s namespace, hostname and names; refused while it does not run', async () => {
  await ok('network', 'create', 'shared');
  await ok('run', '-d', '--name', 'host-c', '--network', 'shared', '--network-alias', 'hosted', 'busybox', 'sh', '-c', 'echo shared-page > /tmp/index.html; exec httpd -f -p 80 -h /tmp');
  const hostname = (await ok('inspect', '-f', '{{.Config.Hostname}}', 'host-c')).trim();
  const r = await sh(['--network', 'container:host-c'], 'hostname; ip -o -4 addr show eth0 | wc -l; until wget -qO- http://127.0.0.1/index.html; do :; done; wget -qO- http://hosted/index.html');
  assert.equal(r.stdout, `${hostname}\n1\nshared-page\nshared-page\n`, r.stderr);
  const publish = await docker('create', '--network', 'container:host-c', '-p', '80', 'busybox');
  assert.equal(publish.code, 1);
  assert.match(publish.stderr, /conflicting options: port publishing and the container type network mode/);
  await ok('create', '--name', 'joiner', '--network', 'container:host-c', 'busybox', 'true');
  await ok('stop', '-t', '0', 'host-c');
  const refused = await docker('start', 'joiner');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cannot join network namespace of a non running container: [0-9a-f]{64}/);
  assert.equal(await ok('inspect', '-f', '{{.HostConfig.NetworkMode}}', 'joiner'), 'container:host-c\n');
  await ok('rm', '-f', 'joiner', 'host-c');
  await ok('network', 'rm', 'shared');
});

test('the default bridge: docker run without --network gets an address, a default route, /etc/hosts with it and the host\'s servers', async () => {
  const r = await sh(['--hostname', 'box', '--add-host', 'db.local:10.1.2.3'], 'ip -4 route show default; grep box /etc/hosts; grep db.local /etc/hosts; grep -c 127.0.0.11 /etc/resolv.conf');
  const bridge = (await api(d.socket, 'GET', '/networks/bridge')).json;
  assert.equal(bridge.Options['com.docker.network.bridge.name'], defaultBridgeDevice(d.dataRoot));
  const gateway = bridge.IPAM.Config[0].Gateway as string;
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth0`));
  assert.match(lines[1]!, /^\d+\.\d+\.\d+\.\d+\tbox$/);
  assert.equal(lines[2], '10.1.2.3\tdb.local');
  assert.equal(lines[3], '0', 'the default bridge has no embedded DNS');
  assert.notEqual(bridge.Options['com.docker.network.bridge.name'], 'docker0');

  // Legacy links on the default bridge are /etc/hosts entries; on a user-defined network, DNS aliases.
  await ok('run', '-d', '--name', 'linked', 'busybox', 'sleep', '1000');
  const linkedIp = (await ok('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'linked')).trim();
  const viaLink = await sh(['--link', 'linked:ldb'], 'grep ldb /etc/hosts; ping -c1 -W5 ldb >/dev/null && echo reached');
  assert.match(viaLink.stdout, new RegExp(`^${linkedIp.replace(/\./g, '\\.')}\tldb [0-9a-f]{12} linked\nreached\n$`));
  await ok('rm', '-f', 'linked');

  const none = await sh(['--network', 'none'], 'ip -o link show | grep -c eth');
  assert.equal(none.stdout, '0\n');
});

test('published ports: TCP and UDP with a host IP, reached from the host over loopback; docker port and ps show them', async () => {
  await ok('run', '-d', '--name', 'pub', '-p', '127.0.0.1::80', '-p', '127.0.0.1::9999/udp', 'busybox', 'sh', '-c', 'echo published > /tmp/index.html; exec httpd -f -p 80 -h /tmp');
  const port = await ok('port', 'pub');
  const tcp = /^80\/tcp -> 127\.0\.0\.1:(\d+)$/m.exec(port);
  const udp = /^9999\/udp -> 127\.0\.0\.1:(\d+)$/m.exec(port);
  assert.ok(tcp && udp, port);
  const tcpPort = Number(tcp[1]);
  const udpPort = Number(udp[1]);
  let body: string | undefined;
  await waitFor(async () => (body = await httpGet(tcpPort, '/index.html')) !== undefined, 'the published TCP port answering');
  assert.equal(body, 'published\n');
  const ps = await ok('ps', '--filter', 'name=pub', '--format', '{{.Ports}}');
  assert.equal(ps, `127.0.0.1:${tcpPort}->80/tcp, 127.0.0.1:${udpPort}->9999/udp\n`);

  // busybox has no UDP server: an echo server runs in the container's network namespace, from the host.
  const pid = (await ok('inspect', '-f', '{{.State.Pid}}', 'pub')).trim();
  const echo = spawn('nsenter', ['--net=/proc/' + pid + '/ns/net', process.execPath, '-e', "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(9999,()=>console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  helpers.push(echo);
  await new Promise<void>((resolve) => echo.stdout!.once('data', () => resolve()));
  let answer: string | undefined;
  await waitFor(async () => (answer = await udpRoundTrip(udpPort, 'hello')) !== undefined, 'a UDP answer through the published port');
  assert.equal(answer, 'echo:hello');
  echo.kill('SIGKILL');

  // A port in use is refused with dockerd's message, and the container does not start.
  const clash = await docker('run', '-d', '--name', 'clash', '-p', `127.0.0.1:${tcpPort}:80`, 'busybox', 'sleep', '1000');
  assert.notEqual(clash.code, 0);
  assert.match(clash.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${tcpPort} failed: port is already allocated`));
  await ok('rm', '-f', 'clash');

  await ok('stop', '-t', '1', 'pub');
  assert.equal(await httpGet(tcpPort, '/index.html'), undefined, 'a stopped container publishes nothing');
  await ok('rm', 'pub');
});

test('a berthd restart keeps running containers\' addresses, names and published ports', async () => {
  await ok('network', 'create', 'keep');
  await ok('run', '-d', '--name', 'kept', '--network', 'keep', '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'echo kept > /tmp/index.html; exec httpd -f -p 80 -h /tmp');
  const port = Number(/:(\d+)$/.exec((await ok('port', 'kept', '80/tcp')).trim())![1]);
  await waitFor(async () => (await httpGet(port, '/index.html')) !== undefined, 'the published port answering');
  const before = await ok('inspect', '-f', '{{.NetworkSettings.Networks.keep.IPAddress}}', 'kept');
  await d.restart();
  assert.equal(await ok('inspect', '-f', '{{.NetworkSettings.Networks.keep.IPAddress}}', 'kept'), before);
  assert.equal(await ok('port', 'kept', '80/tcp'), `127.0.0.1:${port}\n`);
  assert.equal(await httpGet(port, '/index.html'), 'kept\n');
  const r = await sh(['--network', 'keep'], 'wget -qO- http://kept/index.html');
  assert.equal(r.stdout, 'kept\n', r.stderr);
  const id = (await ok('inspect', '-f', '{{.Id}}', 'kept')).trim();
  assert.ok(isNamespaceMount(join(d.dataRoot, 'netns', id)), 'the namespace berthd made is kept across its restart');
  await ok('rm', '-f', 'kept');
  assert.equal(existsSync(join(d.dataRoot, 'netns', id)), false, 'and goes with the container');
  await ok('network', 'rm', 'keep');
});

function isNamespaceMount(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path && / - nsfs /.test(l));
}

test("a bridge sandbox's namespace is made by berthd before its container, which joins it: loopback up, one file per container, gone at the exit; strays go at berthd's start", async () => {
  const id = (await ok('run', '-d', 'busybox', 'sleep', '60')).trim();
  const file = join(d.dataRoot, 'netns', id);
  assert.ok(isNamespaceMount(file));
  const pid = Number((await ok('inspect', '-f', '{{.State.Pid}}', id)).trim());
  assert.equal(statSync(`/proc/${pid}/ns/net`).ino, statSync(file).ino, 'the container is in that namespace');
  assert.match(await ok('exec', id, 'ip', '-o', 'link', 'show', 'lo'), /<LOOPBACK,UP,LOWER_UP>/);
  assert.match(await ok('exec', id, 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'), /^0\n$/, "Docker's sysctls still apply");
  await ok('rm', '-f', id);
  assert.equal(existsSync(file), false);
  assert.equal(isNamespaceMount(file), false);
  // host and none: no namespace of berthd's (none gets runc's, loopback alone).
  assert.match(await ok('run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link'), /^1: lo: <LOOPBACK,UP,LOWER_UP>[^\n]*\n$/);
  assert.deepEqual(readdirSync(join(d.dataRoot, 'netns')), []);
  writeFileSync(join(d.dataRoot, 'netns', 'left-by-a-crash'), '');
  await d.restart();
  assert.deepEqual(readdirSync(join(d.dataRoot, 'netns')), []);
});

test('two daemons creating networks at once get disjoint subnets and bridges of their own', async (t) => {
  const other = await startDaemon(t);
  const create = (daemon: TestDaemon, name: string) => api(daemon.socket, 'POST', '/networks/create', { Name: name });
  const made = await Promise.all([0, 1, 2, 3].flatMap((i) => [create(d, `par-a${i}`), create(other, `par-b${i}`)]));
  for (const r of made) assert.equal(r.status, 201, r.text);
  const subnets: string[] = [];
  const bridges: string[] = [];
  for (const daemon of [d, other]) {
    const list = (await api(daemon.socket, 'GET', '/networks')).json as Array<{ Name: string; IPAM: { Config: Array<{ Subnet: string }> }; Options: Record<string, string>; Id: string }>;
    for (const n of list) {
      if (n.Name === 'host' || n.Name === 'none') continue;
      subnets.push(n.IPAM.Config[0]!.Subnet);
      bridges.push(n.Options['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
    }
  }
  assert.equal(new Set(subnets).size, subnets.length, `subnets overlap: ${subnets.join(' ')}`);
  assert.equal(new Set(bridges).size, bridges.length);
  for (const b of bridges) assert.ok(linkExists(b), b);
  for (let i = 0; i < 4; i++) {
    assert.equal((await api(d.socket, 'DELETE', `/networks/par-a${i}`)).status, 204);
    assert.equal((await api(other.socket, 'DELETE', `/networks/par-b${i}`)).status, 204);
  }
});
