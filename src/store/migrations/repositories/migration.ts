/** The parsed JSON of <data-root>/image/repositories.json. */
export type RepositoriesDocument = Record<string, unknown>;

/** One step of repositories.json's shape; `version` is the SchemaVersion it leaves. */
export interface RepositoriesMigration {
  version: number;
  name: string;
  up(doc: RepositoriesDocument): RepositoriesDocument;
}
