// The shape of <data-root>/image/repositories.json, one migration per file
// (see docs/data-root.md). The image store keeps this file rather than
// berth.db, so its version is a field of the document, `SchemaVersion`
// (absent: version 0, the shape before versioning).
import type { RepositoriesDocument, RepositoriesMigration } from './migration.js';
import { schemaVersion } from './001-schema-version.js';
import { digestReferences } from './002-digest-references.js';

export type { RepositoriesDocument, RepositoriesMigration };

// Append only, as berth.db's migrations.
export const repositoriesMigrations: readonly RepositoriesMigration[] = [schemaVersion, digestReferences];

/** The SchemaVersion this berth writes. */
export const REPOSITORIES_SCHEMA_VERSION = repositoriesMigrations.at(-1)!.version;

/**
 * Brings a parsed repositories.json up to `steps`' last version; `upgraded`
 * says whether it changed (then the caller writes it back).
 */
export function upgradeRepositories(
  parsed: unknown,
  steps: readonly RepositoriesMigration[] = repositoriesMigrations,
): { doc: RepositoriesDocument; upgraded: boolean } {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('repositories.json is not a JSON object');
  const current = (parsed as RepositoriesDocument).SchemaVersion ?? 0;
  const latest = steps.at(-1)?.version ?? 0;
  if (typeof current !== 'number' || !Number.isInteger(current) || current < 0) {
    throw new Error(`repositories.json: SchemaVersion ${JSON.stringify(current)} is not a version`);
  }
  if (current > latest) throw new Error(`repositories.json schema version ${current} is newer than this berth supports (${latest})`);
  let doc = parsed as RepositoriesDocument;
  for (const m of steps) if (m.version > current) doc = { ...m.up(doc), SchemaVersion: m.version };
  return { doc, upgraded: current < latest };
}
