import type { Migration } from './migration.js';

/** Volume metadata and the references (container IDs) that keep a volume in use. */
export const volumes: Migration = {
  version: 1,
  name: 'volumes',
  up(db) {
    db.exec(`
      CREATE TABLE volumes (
        name       TEXT PRIMARY KEY,
        driver     TEXT NOT NULL,
        labels     TEXT,
        options    TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE volume_refs (
        volume TEXT NOT NULL REFERENCES volumes(name) ON DELETE CASCADE,
        ref    TEXT NOT NULL,
        PRIMARY KEY (volume, ref)
      ) WITHOUT ROWID;
      CREATE INDEX volume_refs_ref ON volume_refs(ref);
    `);
  },
};
