// Schema of <data-root>/berth.db (SQLite, WAL), under PRAGMA user_version:
//
//   volumes      name TEXT PK, driver TEXT, labels TEXT (JSON or NULL: docker's
//                null-vs-{} distinction survives), options TEXT (JSON or NULL),
//                created_at INTEGER (ms, from the volume dir's ctime)
//   volume_refs  (volume, ref) PK: who references a volume (container IDs);
//                "in use" and "dangling" are about this set only (spec 6.3)
//   containers   id TEXT PK (64 hex), name TEXT UNIQUE (without the leading
//                slash), record TEXT (JSON ContainerRecord: config, host
//                config, resolved mounts, state)
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
  {
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
  },
];
