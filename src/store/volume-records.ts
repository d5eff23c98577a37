import type { DB } from './db.js';

export interface VolumeRecord {
  name: string;
  driver: string;
  /** null and {} are different to docker clients (spec 1.3). */
  labels: Record<string, string> | null;
  options: Record<string, string> | null;
  createdAt: number;
}

interface Row {
  name: string;
  driver: string;
  labels: string | null;
  options: string | null;
  created_at: number;
}

function fromRow(r: Row): VolumeRecord {
  return {
    name: r.name,
    driver: r.driver,
    labels: r.labels === null ? null : (JSON.parse(r.labels) as Record<string, string>),
    options: r.options === null ? null : (JSON.parse(r.options) as Record<string, string>),
    createdAt: r.created_at,
  };
}

/** Volume metadata and references in SQLite; each method is one transaction. */
export class VolumeRecords {
  private readonly stmts;

  constructor(private readonly db: DB) {
    this.stmts = {
      get: db.prepare<[string], Row>('SELECT * FROM volumes WHERE name = ?'),
      all: db.prepare<[], Row>('SELECT * FROM volumes'),
      insert: db.prepare(
        'INSERT INTO volumes (name, driver, labels, options, created_at) VALUES (@name, @driver, @labels, @options, @created_at)',
      ),
      setCreatedAt: db.prepare('UPDATE volumes SET created_at = ? WHERE name = ?'),
      delete: db.prepare('DELETE FROM volumes WHERE name = ?'),
      refs: db.prepare<[string], { ref: string }>('SELECT ref FROM volume_refs WHERE volume = ?'),
      allRefs: db.prepare<[], { volume: string; ref: string }>('SELECT volume, ref FROM volume_refs'),
      addRef: db.prepare('INSERT OR IGNORE INTO volume_refs (volume, ref) VALUES (?, ?)'),
      removeRef: db.prepare('DELETE FROM volume_refs WHERE volume = ? AND ref = ?'),
      removeRefEverywhere: db.prepare('DELETE FROM volume_refs WHERE ref = ?'),
    };
  }

  get(name: string): VolumeRecord | undefined {
    const r = this.stmts.get.get(name);
    return r ? fromRow(r) : undefined;
  }

  all(): VolumeRecord[] {
    return this.stmts.all.all().map(fromRow);
  }

  insert(v: VolumeRecord): void {
    this.stmts.insert.run({
      name: v.name,
      driver: v.driver,
      labels: v.labels === null ? null : JSON.stringify(v.labels),
      options: v.options === null ? null : JSON.stringify(v.options),
      created_at: Math.round(v.createdAt),
    });
  }

  setCreatedAt(name: string, createdAt: number): void {
    this.stmts.setCreatedAt.run(Math.round(createdAt), name);
  }

  delete(name: string): void {
    this.stmts.delete.run(name);
  }

  refs(name: string): string[] {
    return this.stmts.refs.all(name).map((r) => r.ref);
  }

  /** volume name → reference IDs, for every referenced volume. */
  refCounts(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const { volume, ref } of this.stmts.allRefs.all()) {
      const list = out.get(volume);
      if (list) list.push(ref);
      else out.set(volume, [ref]);
    }
    return out;
  }

  addRef(name: string, ref: string): void {
    this.stmts.addRef.run(name, ref);
  }

  removeRef(name: string, ref: string): void {
    this.stmts.removeRef.run(name, ref);
  }

  removeRefEverywhere(ref: string): void {
    this.stmts.removeRefEverywhere.run(ref);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
