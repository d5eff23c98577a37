import type { RepositoriesMigration } from './migration.js';

/**
 * Before this step the document was Docker's shape, {Repositories,
 * LastTagTime}, with no version; it is unchanged apart from the version it
 * now carries.
 */
export const schemaVersion: RepositoriesMigration = {
  version: 1,
  name: 'schema-version',
  up(doc) {
    return { SchemaVersion: 1, ...doc };
  },
};
