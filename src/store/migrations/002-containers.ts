import type { Migration } from './migration.js';

/** Container records, one JSON document per container. */
export const containers: Migration = {
  version: 2,
  name: 'containers',
  up(db) {
    db.exec(`
      CREATE TABLE containers (
        id     TEXT PRIMARY KEY,
        name   TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
      );
    `);
  },
};
