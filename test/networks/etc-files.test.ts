// /etc/hosts and /etc/resolv.conf as dockerd writes them for containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddedResolvConf, extraHostLine, hostNetworkHostsFile, hostsFile, plainResolvConf, upstreamServers } from '../../src/networks/etc-files.js';

const none = { dns: [], dnsSearch: [], dnsOptions: [] };

test('hosts: the default entries, --add-host entries, then the container\'s addresses with its name', () => {
  assert.equal(
    hostsFile({ hostname: 'web', domainname: 'example.com', extraHosts: ['db:10.0.0.5', 'v6=[::1]'], addresses: ['172.18.0.2'] }),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' +
      '10.0.0.5\tdb\n::1\tv6\n172.18.0.2\tweb.example.com web\n',
  );
  assert.equal(extraHostLine('host.docker.internal:10.1.1.1'), '10.1.1.1\thost.docker.internal');
  assert.equal(hostNetworkHostsFile('127.0.0.1 localhost', ['a:1.2.3.4']), '127.0.0.1 localhost\n1.2.3.4\ta\n');
});

test('resolv.conf: loopback servers dropped on the default bridge (Google\'s when none is left); the embedded resolver on user-defined networks', () => {
  assert.equal(plainResolvConf('nameserver 127.0.0.53\nsearch lan\n', none), 'search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(plainResolvConf('nameserver 10.0.0.2\nnameserver 127.0.0.1\n', none), 'nameserver 10.0.0.2\n');
  assert.equal(plainResolvConf('nameserver 10.0.0.2\n', { dns: ['1.1.1.1'], dnsSearch: ['x.org'], dnsOptions: ['ndots:2'] }), 'search x.org\nnameserver 1.1.1.1\noptions ndots:2\n');
  assert.equal(embeddedResolvConf('nameserver 10.0.0.2\nsearch lan\noptions edns0\n', none), 'search lan\nnameserver 127.0.0.11\noptions edns0 ndots:0\n');
  assert.equal(embeddedResolvConf('nameserver 10.0.0.2\n', { ...none, dnsOptions: ['ndots:3'] }), 'nameserver 127.0.0.11\noptions ndots:3\n');
  assert.deepEqual(upstreamServers('nameserver 127.0.0.53\n', none), ['127.0.0.53']);
  assert.deepEqual(upstreamServers('nameserver 127.0.0.53\n', { ...none, dns: ['9.9.9.9'] }), ['9.9.9.9']);
});
