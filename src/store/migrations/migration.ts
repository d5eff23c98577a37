import type { Database } from 'better-sqlite3';

/** One step of berth.db's schema; `version` is the PRAGMA user_version it leaves. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
