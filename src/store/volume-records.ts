import type { DB } from './db.js';

export interface VolumeRecord {
  readonly name: string;
  readonly driver: string;
  /** null and {} are different to docker clients (spec 1.3). */
  readonly labels: Record<string, string> | null;
  readonly options: Record<string, string> | null;
  readonly createdAt: number;
}

interface Row {
  name: string;
  driver: string;
  labels: string | null;
  options: string | null;
  created_at: number;
}

function fromRow(r: Row): VolumeRecord {
  return Object.freeze({
    name: r.name,
    driver: r.driver,
    labels: r.labels === null ? null : (JSON.parse(r.labels) as Record<string, string>),
    options: r.options === null ? null : (JSON.parse(r.options) as Record<string, string>),
    createdAt: r.created_at,
  });
}

/**
 * Volume metadata and references: SQLite is the truth, with a write-through
 * in-memory copy so reads (inspect, ls of 10,000 volumes) never touch disk.
 * Records are immutable objects; a change replaces the object.
 */
export class VolumeRecords {
  private readonly stmts;
  private volumes = new Map<string, VolumeRecord>();
  private refsByVolume = new Map<string, Set<string>>();

  constructor(private readonly db: DB) {
    this.stmts = {
      all: db.prepare<[], Row>('SELECT * FROM volumes'),
      insert: db.prepare(
        'INSERT INTO volumes (name, driver, labels, options, created_at) VALUES (@name, @driver, @labels, @options, @created_at)',
      ),
      setCreatedAt: db.prepare('UPDATE volumes SET created_at = ? WHERE name = ?'),
      delete: db.prepare('DELETE FROM volumes WHERE name = ?'),
      allRefs: db.prepare<[], { volume: string; ref: string }>('SELECT volume, ref FROM volume_refs'),
      addRef: db.prepare('INSERT OR IGNORE INTO volume_refs (volume, ref) VALUES (?, ?)'),
      removeRef: db.prepare('DELETE FROM volume_refs WHERE volume = ? AND ref = ?'),
      removeRefEverywhere: db.prepare('DELETE FROM volume_refs WHERE ref = ?'),
    };
    this.reload();
  }

  /** Rebuilds the in-memory copy from SQLite. */
  reload(): void {
    this.volumes = new Map(this.stmts.all.all().map((r) => [r.name, fromRow(r)]));
    this.refsByVolume = new Map();
    for (const { volume, ref } of this.stmts.allRefs.all()) this.refSet(volume).add(ref);
  }

  private refSet(volume: string): Set<string> {
    let s = this.refsByVolume.get(volume);
    if (!s) {
      s = new Set();
      this.refsByVolume.set(volume, s);
    }
    return s;
  }

  get(name: string): VolumeRecord | undefined {
    return this.volumes.get(name);
  }

  all(): VolumeRecord[] {
    return [...this.volumes.values()];
  }

  insert(v: VolumeRecord): void {
    this.stmts.insert.run({
      name: v.name,
      driver: v.driver,
      labels: v.labels === null ? null : JSON.stringify(v.labels),
      options: v.options === null ? null : JSON.stringify(v.options),
      created_at: Math.round(v.createdAt),
    });
    this.volumes.set(v.name, Object.freeze({ ...v }));
  }

  setCreatedAt(name: string, createdAt: number): void {
    this.stmts.setCreatedAt.run(Math.round(createdAt), name);
    const v = this.volumes.get(name);
    if (v) this.volumes.set(name, Object.freeze({ ...v, createdAt: Math.round(createdAt) }));
  }

  delete(name: string): void {
    this.stmts.delete.run(name);
    this.volumes.delete(name);
    this.refsByVolume.delete(name);
  }

  refs(name: string): string[] {
    return [...(this.refsByVolume.get(name) ?? [])];
  }

  refCount(name: string): number {
    return this.refsByVolume.get(name)?.size ?? 0;
  }

  /** volume name → reference IDs, for every referenced volume. */
  refCounts(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [volume, refs] of this.refsByVolume) if (refs.size > 0) out.set(volume, [...refs]);
    return out;
  }

  addRef(name: string, ref: string): void {
    this.stmts.addRef.run(name, ref);
    this.refSet(name).add(ref);
  }

  removeRef(name: string, ref: string): void {
    this.stmts.removeRef.run(name, ref);
    this.refsByVolume.get(name)?.delete(ref);
  }

  removeRefEverywhere(ref: string): void {
    this.stmts.removeRefEverywhere.run(ref);
    for (const refs of this.refsByVolume.values()) refs.delete(ref);
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      // The rollback undid SQLite, not the in-memory copy.
      this.reload();
      throw e;
    }
  }
}
