import type { Migration } from './migration.js';

/**
 * Each container row says which shape its `record` JSON has, so a later
 * change to ContainerRecord can be a migration that rewrites the rows still
 * in the old shape. Rows written before this migration have shape 1, the
 * shape this migration was written against.
 */
export const containerRecordVersion: Migration = {
  version: 3,
  name: 'container-record-version',
  up(db) {
    db.exec('ALTER TABLE containers ADD COLUMN record_version INTEGER NOT NULL DEFAULT 1');
  },
};
