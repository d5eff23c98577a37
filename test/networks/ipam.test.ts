// IPAM and IPv4 arithmetic: moby's default pools and their order, subnets
// avoiding taken ones and the host's routes, addresses from an ip-range,
// static addresses, and ValidateIPAM's messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateAddress, checkStaticAddress, choosePool, defaultSubnets, hostRoutes, macForAddress, validateIpamConfig } from '../../src/networks/ipam.js';
import { formatIPv4, formatPrefix, overlaps, parseCidr, parseIPv4 } from '../../src/networks/ipv4.js';

const ip = (s: string): number => parseIPv4(s)!;
const prefix = (s: string) => parseCidr(s)!.prefix;

test('parseIPv4 and parseCidr read what Go\'s net package reads', () => {
  assert.equal(formatIPv4(ip('10.0.0.1')), '10.0.0.1');
  for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', '', 'a.b.c.d']) assert.equal(parseIPv4(bad), undefined, bad);
  assert.equal(formatPrefix(prefix('10.1.2.3/16')), '10.1.0.0/16');
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('10.0.0.0'), undefined);
  assert.ok(overlaps(prefix('10.0.0.0/8'), prefix('10.5.0.0/16')));
  assert.ok(!overlaps(prefix('10.0.0.0/16'), prefix('10.1.0.0/16')));
});

test('default pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s; the first free one is taken', () => {
  const subnets = defaultSubnets().map(formatPrefix);
  assert.equal(subnets[0], '172.17.0.0/16');
  assert.equal(subnets[14], '172.31.0.0/16');
  assert.equal(subnets[15], '192.168.0.0/20');
  assert.equal(subnets.length, 31);
  const p = choosePool(undefined, [prefix('172.17.0.0/16'), prefix('172.18.5.0/24')]);
  assert.equal(formatPrefix(p.subnet), '172.19.0.0/16');
  assert.equal(formatIPv4(p.gateway), '172.19.0.1');
  assert.throws(() => choosePool(undefined, [prefix('0.0.0.0/0')]), /could not find an available, non-overlapping IPv4 address pool/);
});

test('a configured subnet: overlap refused; gateway the first address unless given; addresses from the ip-range, lowest free first', () => {
  assert.throws(() => choosePool({ Subnet: '10.0.0.0/24' }, [prefix('10.0.0.0/16')]), /Pool overlaps with other one on this address space/);
  const pool = choosePool({ Subnet: '10.0.0.0/24', IPRange: '10.0.0.128/25', Gateway: '10.0.0.254', AuxiliaryAddresses: { host: '10.0.0.129' } }, []);
  assert.equal(formatIPv4(pool.gateway), '10.0.0.254');
  assert.equal(formatIPv4(allocateAddress(pool, new Set())!), '10.0.0.128');
  assert.equal(formatIPv4(allocateAddress(pool, new Set([ip('10.0.0.128')]))!), '10.0.0.130', 'the auxiliary address is skipped');
  const small = choosePool({ Subnet: '10.9.0.0/30' }, []);
  assert.equal(formatIPv4(small.gateway), '10.9.0.1');
  assert.equal(formatIPv4(allocateAddress(small, new Set())!), '10.9.0.2');
  assert.equal(allocateAddress(small, new Set([ip('10.9.0.2')])), undefined, 'network, gateway and broadcast are never handed out');
});

test('static addresses: outside the subnet, the gateway, or in use are refused', () => {
  const pool = choosePool({ Subnet: '10.0.0.0/24' }, []);
  assert.equal(formatIPv4(checkStaticAddress(pool, '10.0.0.50', new Set())), '10.0.0.50');
  assert.throws(() => checkStaticAddress(pool, '10.0.1.5', new Set()), /no configured subnet or ip-range contain the IP address 10.0.1.5/);
  assert.throws(() => checkStaticAddress(pool, '10.0.0.1', new Set()), /Address already in use/);
  assert.throws(() => checkStaticAddress(pool, '10.0.0.7', new Set([ip('10.0.0.7')])), /Address already in use/);
  assert.throws(() => checkStaticAddress(pool, 'nope', new Set()), /invalid IPv4 address: nope/);
});

test('ValidateIPAM: every problem listed, IPv6 entries checked only with IPv6 enabled', () => {
  assert.doesNotThrow(() => validateIpamConfig([{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1', IPRange: '10.0.0.0/25' }], false));
  assert.throws(() => validateIpamConfig([{ Subnet: '10.0.0.1/24' }], false), { message: 'invalid network config:\ninvalid subnet 10.0.0.1/24: it should be 10.0.0.0/24' });
  assert.throws(() => validateIpamConfig([{ Subnet: 'x' }], false), { message: 'invalid network config:\ninvalid subnet x: invalid CIDR block notation' });
  assert.throws(() => validateIpamConfig([{ Subnet: '10.0.0.0/24', Gateway: '10.1.0.1', IPRange: '10.0.0.0/16' }], false), {
    message:
      'invalid network config:\n* invalid ip-range 10.0.0.0/16: CIDR block is bigger than its parent subnet 10.0.0.0/24\n* invalid gateway 10.1.0.1: parent subnet 10.0.0.0/24 doesn\'t contain this address',
  });
  assert.doesNotThrow(() => validateIpamConfig([{ Subnet: 'fd00::/64' }], true));
});

test('host routes from /proc/net/route; MACs derived from the address as Docker 20.10', () => {
  const table = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
    'eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
    'eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' +
    'br-x\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n';
  assert.deepEqual(hostRoutes(table).map((r) => `${r.iface} ${formatPrefix(r.prefix)}`), ['eth0 10.0.0.0/24', 'br-x 172.18.0.0/16']);
  assert.equal(macForAddress(ip('172.17.0.2')), '02:42:ac:11:00:02');
});
