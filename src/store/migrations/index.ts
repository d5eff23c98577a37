// The schema of <data-root>/berth.db, one migration per file. The layout
// they build, with the shape of every JSON column, is drawn in
// docs/data-root.md.
import type { Migration } from './migration.js';
import { volumes } from './001-volumes.js';
import { containers } from './002-containers.js';
import { containerRecordVersion } from './003-container-record-version.js';
import { backupPolicies } from './004-backup-policies.js';
import { networks } from './005-networks.js';

export type { Migration };

// Append only: a layout change is a new file with the next version, and a
// test in test/store/migrations/ that upgrades a database of the version before.
export const migrations: readonly Migration[] = [volumes, containers, containerRecordVersion, backupPolicies, networks];
