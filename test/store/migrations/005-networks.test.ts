// Migration 5 adds networks, endpoints and published ports to a version-4
// database; container records move to shape 2 (a container on the old
// private namespace is on the default bridge network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkRecords } from '../../../src/networks/records.js';
import { columns, databaseAt, upgradeTo, userVersion } from './helpers.js';

test('migration 5 (networks): tables made; private containers on the default bridge, host and none ones on none', () => {
  const db = databaseAt(4);
  const insert = db.prepare('INSERT INTO containers (id, name, record, record_version) VALUES (?, ?, ?, 1)');
  insert.run('a'.repeat(64), 'private', JSON.stringify({ id: 'a', networkMode: 'private' }));
  insert.run('b'.repeat(64), 'host', JSON.stringify({ id: 'b', networkMode: 'host' }));
  insert.run('c'.repeat(64), 'none', JSON.stringify({ id: 'c', networkMode: 'none' }));

  upgradeTo(db, 5);
  assert.equal(userVersion(db), 5);
  assert.deepEqual(columns(db, 'networks'), ['id', 'name', 'record']);
  assert.deepEqual(columns(db, 'network_endpoints'), ['network', 'container', 'record']);
  assert.deepEqual(columns(db, 'published_ports'), ['container', 'ports']);
  const rows = db.prepare('SELECT name, record, record_version FROM containers ORDER BY name').all() as Array<{ name: string; record: string; record_version: number }>;
  assert.deepEqual(
    rows.map((r) => [r.name, JSON.parse(r.record), r.record_version]),
    [
      ['host', { id: 'b', networkMode: 'host', networks: {} }, 2],
      ['none', { id: 'c', networkMode: 'none', networks: {} }, 2],
      ['private', { id: 'a', networkMode: 'bridge', networks: { bridge: { aliases: [], links: [] } } }, 2],
    ],
  );

  // The records class reads and writes what the migration made; an endpoint needs its network.
  const records = new NetworkRecords(db);
  assert.throws(() => db.prepare('INSERT INTO network_endpoints VALUES (?, ?, ?)').run('nope', 'x', '{}'), /FOREIGN KEY/);
  records.putPorts('a'.repeat(64), [{ containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 }]);
  assert.deepEqual([...records.publishedPorts().keys()], ['a'.repeat(64)]);
  db.close();
});
