// Network flags of run/create: the body the docker CLI 28.2 sends for the
// same flags (captured from it against a fake daemon).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCreateBody, ContainerParseError, parsePublish, type BuildContext } from '../../../src/cli/commands/container-opts.js';

const ctx: BuildContext = { cwd: '/tmp', env: {}, command: 'create' };

test('-p, --expose, --network-alias, --ip, --add-host and --dns as the docker CLI sends them', () => {
  const { body } = buildCreateBody(
    {
      publish: ['127.0.0.1:8080:80', '53/udp', '9000-9001:7000-7001', '[::1]::81'],
      expose: ['90'],
      network: ['n'],
      networkAlias: ['x'],
      ip: '10.0.0.5',
      addHost: ['a:1.2.3.4'],
      dns: ['9.9.9.9'],
      dnsSearch: ['s.org'],
      dnsOption: ['ndots:2'],
    },
    'busybox',
    [],
    ctx,
  );
  const b = body as unknown as Record<string, any>;
  assert.deepEqual(b.ExposedPorts, { '53/udp': {}, '7000/tcp': {}, '7001/tcp': {}, '80/tcp': {}, '81/tcp': {}, '90/tcp': {} });
  const h = b.HostConfig;
  assert.deepEqual(h.PortBindings, {
    '53/udp': [{ HostIp: '', HostPort: '' }],
    '7000/tcp': [{ HostIp: '', HostPort: '9000' }],
    '7001/tcp': [{ HostIp: '', HostPort: '9001' }],
    '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
    '81/tcp': [{ HostIp: '::1', HostPort: '' }],
  });
  assert.deepEqual([h.Dns, h.DnsSearch, h.DnsOptions, h.ExtraHosts, h.NetworkMode, h.PublishAllPorts], [['9.9.9.9'], ['s.org'], ['ndots:2'], ['a:1.2.3.4'], 'n', false]);
  const ep = b.NetworkingConfig.EndpointsConfig.n;
  assert.deepEqual([ep.IPAMConfig, ep.Aliases, ep.Links], [{ IPv4Address: '10.0.0.5' }, ['x'], null]);
});

test('-p refusals', () => {
  assert.throws(() => parsePublish(['80/icmp'], []), ContainerParseError);
  assert.throws(() => parsePublish(['1:2:3:4'], []), /invalid port format/);
  assert.throws(() => parsePublish(['8000-8002:80-81'], []), /invalid ranges specified/);
  assert.deepEqual(parsePublish(['8000-8010:80'], []).bindings, { '80/tcp': [{ HostIp: '', HostPort: '8000-8010' }] });
});
