import type { RepositoriesMigration } from './migration.js';

/**
 * Repositories may now hold digest references ("name@sha256:<manifest>",
 * recorded by pull and push) beside tags, as Docker's do. The content is
 * unchanged; the version makes an older berth, which would read a digest
 * reference as a tag, refuse the file instead.
 */
export const digestReferences: RepositoriesMigration = {
  version: 2,
  name: 'digest-references',
  up(doc) {
    return doc;
  },
};
