// berthd's nftables script, and published-port requests from HostConfig.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rulesetScript } from '../../src/networks/firewall.js';
import { parsePortKey, portMap, portRequests } from '../../src/networks/ports.js';
import { defaultBridgeDevice, firewallTable } from '../../src/networks/host-names.js';

test('the ruleset: bridges isolated from each other, internal networks closed, masquerading by subnet; only the delete when there are none', () => {
  const script = rulesetScript(
    [
      { device: 'br-a', subnet: '172.18.0.0/16', internal: false, masquerade: true },
      { device: 'br-b', subnet: '172.19.0.0/16', internal: false, masquerade: false },
      { device: 'br-i', subnet: '172.20.0.0/16', internal: true, masquerade: true },
    ],
    'berth_test',
  );
  assert.match(script, /^table inet berth_test\ndelete table inet berth_test\ntable inet berth_test \{/);
  assert.match(script, /iifname "br-a" oifname \{ "br-b", "br-i" \} drop/);
  assert.match(script, /iifname "br-i" oifname != "br-i" drop/);
  assert.match(script, /oifname "br-i" iifname != "br-i" drop/);
  assert.match(script, /ip saddr 172\.18\.0\.0\/16 oifname != "br-a" masquerade/);
  assert.doesNotMatch(script, /172\.19\.0\.0\/16 .*masquerade/);
  assert.doesNotMatch(script, /172\.20\.0\.0\/16 .*masquerade/);
  assert.equal(rulesetScript([], 'berth'), 'table inet berth\ndelete table inet berth\n');
});

test('host-wide names: fixed on the default data root, derived from any other', () => {
  assert.equal(defaultBridgeDevice('/var/lib/berth'), 'berth0');
  assert.equal(firewallTable('/var/lib/berth'), 'berth');
  assert.match(defaultBridgeDevice('/tmp/x/root'), /^bth-[0-9a-f]{8}$/);
  assert.notEqual(defaultBridgeDevice('/tmp/x/root'), defaultBridgeDevice('/tmp/y/root'));
  assert.ok(defaultBridgeDevice('/tmp/x/root').length <= 15, 'fits IFNAMSIZ');
});

test('port requests: bindings with host IP and ranges, -P\'s exposed ports, dockerd\'s refusals', () => {
  assert.deepEqual(parsePortKey('53/UDP'), { port: 53, protocol: 'udp' });
  assert.throws(() => parsePortKey('80/icmp'), /invalid proto: icmp/);
  const reqs = portRequests(
    { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostPort: '5300-5310' }] }, PublishAllPorts: true },
    { '80/tcp': {}, '443/tcp': {} },
  );
  assert.deepEqual(reqs, [
    { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPorts: [8080, 8080] },
    { containerPort: 53, protocol: 'udp', hostIp: '', hostPorts: [5300, 5310] },
    { containerPort: 443, protocol: 'tcp', hostIp: '', hostPorts: [0, 0] },
  ]);
  assert.throws(() => portRequests({ PortBindings: { '80/tcp': [{ HostIp: 'nope' }] } }, {}), /invalid IP address: nope/);
  assert.throws(() => portRequests({ PortBindings: { '80/tcp': [{ HostPort: '9-1' }] } }, {}), /invalid hostPort: 9-1/);
  assert.deepEqual(portMap([{ containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 }], { '80/tcp': {}, '9000/udp': {} }), {
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
    '9000/udp': null,
  });
});
