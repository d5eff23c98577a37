import type { Migration } from './migration.js';

/**
 * Scheduled backups: the policies and the results of their recent runs
 * (docs/backups.md). Repository secrets are not in the database: a policy
 * names where they are (`credentials`, src/backup/credentials.ts).
 */
export const backupPolicies: Migration = {
  version: 4,
  name: 'backup-policies',
  up(db) {
    db.exec(`
      CREATE TABLE backup_policies (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        selector    TEXT NOT NULL,
        schedule    TEXT NOT NULL,
        jitter_ms   INTEGER NOT NULL DEFAULT 0,
        retention   TEXT NOT NULL,
        repository  TEXT NOT NULL,
        credentials TEXT NOT NULL,
        consistency TEXT NOT NULL CHECK (consistency IN ('freeze', 'stop', 'none')),
        tags        TEXT NOT NULL DEFAULT '[]',
        created_at  INTEGER NOT NULL
      );
      CREATE TABLE backup_runs (
        id          INTEGER PRIMARY KEY,
        policy      TEXT NOT NULL REFERENCES backup_policies(id) ON DELETE CASCADE,
        started_at  INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        snapshots   TEXT NOT NULL DEFAULT '[]',
        bytes_added INTEGER NOT NULL DEFAULT 0,
        freeze_ms   INTEGER,
        error       TEXT
      );
      CREATE INDEX backup_runs_policy ON backup_runs(policy, started_at);
    `);
  },
};
