import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

// Append only. A layout change is a new migration with the next version.
export const migrations: Migration[] = [
  {
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
  },
];
