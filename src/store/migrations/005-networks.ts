import type { Migration } from './migration.js';

/**
 * Networks: the networks themselves (bridge, host and none included), the
 * endpoints of running containers on bridge networks (their addresses, so
 * they are kept across a berthd restart), and the ports running containers
 * publish. Container records move to shape 2: a container that had a
 * private namespace with only loopback (the default network before
 * networks existed) is on the default bridge network.
 */
export const networks: Migration = {
  version: 5,
  name: 'networks',
  up(db) {
    db.exec(`
      CREATE TABLE networks (
        id     TEXT PRIMARY KEY,
        name   TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
      );
      CREATE TABLE network_endpoints (
        network   TEXT NOT NULL REFERENCES networks(id),
        container TEXT NOT NULL,
        record    TEXT NOT NULL,
        PRIMARY KEY (network, container)
      ) WITHOUT ROWID;
      CREATE INDEX network_endpoints_container ON network_endpoints(container);
      CREATE TABLE published_ports (
        container TEXT PRIMARY KEY,
        ports     TEXT NOT NULL
      );
    `);
    const rows = db.prepare<[], { id: string; record: string }>('SELECT id, record FROM containers WHERE record_version = 1').all();
    const update = db.prepare('UPDATE containers SET record = ?, record_version = 2 WHERE id = ?');
    for (const row of rows) {
      const record = JSON.parse(row.record) as Record<string, unknown>;
      if (record.networkMode === 'private') {
        record.networkMode = 'bridge';
        record.networks = { bridge: { aliases: [], links: [] } };
      } else {
        record.networks = {};
      }
      update.run(JSON.stringify(record), row.id);
    }
  },
};
