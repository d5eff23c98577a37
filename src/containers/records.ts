import type { DB } from '../store/db.js';
import type { ContainerRecord } from './types.js';

/** Container records in SQLite, one JSON document per container. */
export class ContainerRecords {
  private readonly stmts;

  constructor(db: DB) {
    this.stmts = {
      get: db.prepare<[string], { record: string }>('SELECT record FROM containers WHERE id = ?'),
      byName: db.prepare<[string], { record: string }>('SELECT record FROM containers WHERE name = ?'),
      all: db.prepare<[], { record: string }>('SELECT record FROM containers'),
      insert: db.prepare('INSERT INTO containers (id, name, record) VALUES (?, ?, ?)'),
      update: db.prepare('UPDATE containers SET name = ?, record = ? WHERE id = ?'),
      delete: db.prepare('DELETE FROM containers WHERE id = ?'),
    };
  }

  get(id: string): ContainerRecord | undefined {
    const r = this.stmts.get.get(id);
    return r ? (JSON.parse(r.record) as ContainerRecord) : undefined;
  }

  byName(name: string): ContainerRecord | undefined {
    const r = this.stmts.byName.get(name);
    return r ? (JSON.parse(r.record) as ContainerRecord) : undefined;
  }

  all(): ContainerRecord[] {
    return this.stmts.all.all().map((r) => JSON.parse(r.record) as ContainerRecord);
  }

  insert(c: ContainerRecord): void {
    this.stmts.insert.run(c.id, c.name, JSON.stringify(c));
  }

  update(c: ContainerRecord): void {
    this.stmts.update.run(c.name, JSON.stringify(c), c.id);
  }

  delete(id: string): void {
    this.stmts.delete.run(id);
  }
}
