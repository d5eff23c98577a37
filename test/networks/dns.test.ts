// The embedded resolver's wire format and answers: names of containers on
// the asker's networks answered here (A, empty AAAA, PTR), the rest
// forwarded, NXDOMAIN when there is nowhere to forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_A, TYPE_AAAA, TYPE_PTR, parseQuery, reverseIPv4 } from '../../src/networks/dns/message.js';
import { resolveQuery, type DnsScope } from '../../src/networks/dns/resolver.js';
import { parseIPv4 } from '../../src/networks/ipv4.js';

function query(name: string, type: number, id = 0x1234): Buffer {
  const header = Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([header, ...labels, Buffer.from([0, type >> 8, type & 255, 0, 1])]);
}

const scope: DnsScope = {
  lookup: (name) => (name === 'web' ? [parseIPv4('172.18.0.2')!] : undefined),
  reverse: (a) => (a === parseIPv4('172.18.0.2') ? 'web.front' : undefined),
  upstream: () => [],
};

test('queries parse (lower-cased names); non-queries do not', () => {
  const q = parseQuery(query('Web.Front', TYPE_A))!;
  assert.deepEqual(q.question, { name: 'web.front', type: TYPE_A, class: 1 });
  assert.equal(parseQuery(Buffer.alloc(5)), undefined);
  assert.equal(reverseIPv4('2.0.18.172.in-addr.arpa'), parseIPv4('172.18.0.2'));
});

test('a container name gets an A record with TTL 600; AAAA an empty answer; PTR the name.network', async () => {
  const forwarder = { forward: async () => undefined };
  const a = (await resolveQuery(query('web', TYPE_A), scope, forwarder))!;
  assert.equal(a.readUInt16BE(0), 0x1234);
  assert.equal(a.readUInt16BE(2) & 0x000f, 0, 'NOERROR');
  assert.equal(a.readUInt16BE(6), 1, 'one answer');
  assert.deepEqual([...a.subarray(a.length - 4)], [172, 18, 0, 2]);
  assert.equal(a.readUInt32BE(a.length - 10), 600);
  const aaaa = (await resolveQuery(query('web', TYPE_AAAA), scope, forwarder))!;
  assert.equal(aaaa.readUInt16BE(6), 0);
  assert.equal(aaaa.readUInt16BE(2) & 0x000f, 0);
  const ptr = (await resolveQuery(query('2.0.18.172.in-addr.arpa', TYPE_PTR), scope, forwarder))!;
  assert.ok(ptr.includes(Buffer.from('front')));
});

test('unknown names: NXDOMAIN without upstream servers, forwarded otherwise (SERVFAIL when nobody answers)', async () => {
  const nx = (await resolveQuery(query('example.com', TYPE_A), scope, { forward: async () => undefined }))!;
  assert.equal(nx.readUInt16BE(2) & 0x000f, 3);
  const asked: string[][] = [];
  const answer = Buffer.from('answer');
  const forwarded = await resolveQuery(query('example.com', TYPE_A), { ...scope, upstream: () => ['10.0.0.2'] }, {
    forward: async (_m: Buffer, servers: readonly string[]) => {
      asked.push([...servers]);
      return answer;
    },
  });
  assert.equal(forwarded, answer);
  assert.deepEqual(asked, [['10.0.0.2']]);
  const failed = (await resolveQuery(query('example.com', TYPE_A), { ...scope, upstream: () => ['10.0.0.2'] }, { forward: async () => undefined }))!;
  assert.equal(failed.readUInt16BE(2) & 0x000f, 2);
});
