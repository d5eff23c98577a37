import type { DB } from '../store/db.js';
import type { ContainerRecord } from './types.js';

/**
 * The shape of the ContainerRecord JSON this berth writes (the containers
 * table's record_version column). A change to that shape bumps it, with a
 * migration in src/store/migrations/ that rewrites older rows.
 */
export const CONTAINER_RECORD_VERSION = 2;

/** How often records the database refused are written again. */
const RETRY_MS = 1000;

/**
 * Container records in SQLite, one JSON document per container. A fact that
 * happened whatever the disk says (a container exited) is recorded with
 * `recordFact`: if the database refuses it (a full disk), reads see it at once
 * and it is written as soon as the database takes it.
 */
export class ContainerRecords {
  private readonly stmts;
  /** Records newer than their row: the write failed and is retried. */
  private readonly unsaved = new Map<string, ContainerRecord>();
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(db: DB) {
    this.stmts = {
      get: db.prepare<[string], { record: string }>('SELECT record FROM containers WHERE id = ?'),
      byName: db.prepare<[string], { record: string }>('SELECT record FROM containers WHERE name = ?'),
      all: db.prepare<[], { record: string }>('SELECT record FROM containers'),
      insert: db.prepare('INSERT INTO containers (id, name, record, record_version) VALUES (?, ?, ?, ?)'),
      update: db.prepare('UPDATE containers SET name = ?, record = ?, record_version = ? WHERE id = ?'),
      delete: db.prepare('DELETE FROM containers WHERE id = ?'),
    };
  }

  private parse(r: { record: string } | undefined): ContainerRecord | undefined {
    if (!r) return undefined;
    const c = JSON.parse(r.record) as ContainerRecord;
    const newer = this.unsaved.get(c.id);
    return newer ? structuredClone(newer) : c;
  }

  get(id: string): ContainerRecord | undefined {
    return this.parse(this.stmts.get.get(id));
  }

  byName(name: string): ContainerRecord | undefined {
    return this.parse(this.stmts.byName.get(name));
  }

  all(): ContainerRecord[] {
    return this.stmts.all.all().map((r) => this.parse(r)!);
  }

  insert(c: ContainerRecord): void {
    this.stmts.insert.run(c.id, c.name, JSON.stringify(c), CONTAINER_RECORD_VERSION);
  }

  update(c: ContainerRecord): void {
    this.stmts.update.run(c.name, JSON.stringify(c), CONTAINER_RECORD_VERSION, c.id);
    this.unsaved.delete(c.id);
  }

  /** Like update, but never fails: a refused write is kept in memory and retried. */
  recordFact(c: ContainerRecord): { saved: boolean; error?: unknown } {
    try {
      this.update(c);
      return { saved: true };
    } catch (error) {
      this.unsaved.set(c.id, structuredClone(c));
      this.retryTimer ??= setInterval(() => this.flush(), RETRY_MS).unref();
      return { saved: false, error };
    }
  }

  /** Writes the records kept in memory; true when none is left. */
  flush(): boolean {
    for (const c of this.unsaved.values()) {
      try {
        this.update(c);
      } catch {
        // Still refused: next round.
      }
    }
    if (this.unsaved.size === 0 && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = null;
    }
    return this.unsaved.size === 0;
  }

  delete(id: string): void {
    // An unsaved record stays until flushed (a no-op on a deleted row): this
    // delete may be part of a transaction that is rolled back.
    this.stmts.delete.run(id);
  }
}
