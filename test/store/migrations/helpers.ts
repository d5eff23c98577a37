// Databases at a given schema version, built with the real earlier migrations.
import Database from 'better-sqlite3';
import type { Database as DB } from 'better-sqlite3';
import { migrate } from '../../../src/store/db.js';
import { migrations } from '../../../src/store/migrations/index.js';

/** An in-memory database brought up to `version` (0: empty) by the migrations up to it. */
export function databaseAt(version: number): DB {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.filter((m) => m.version <= version));
  return db;
}

/** Applies the one migration that follows the database's current version. */
export function upgradeTo(db: DB, version: number): void {
  migrate(db, migrations.filter((m) => m.version <= version));
}

export function userVersion(db: DB): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function columns(db: DB, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
}
