// A Target in memory (docs/backups.md, "Target"), for repository and engine
// tests: the files are a map the test can read, damage or remove.
import { NotFound } from '../../src/errors.js';
import type { FileKind, Target, TargetFile } from '../../src/backup/targets/target.js';

export class MemoryTarget implements Target {
  readonly location = 'memory:';
  readonly files = new Map<string, Buffer>();
  /** Counts of calls by method, for tests that look at what an operation read or wrote. */
  readonly calls = { get: 0, getRange: 0, put: 0, delete: 0, list: 0, stat: 0 };

  private static key(kind: FileKind, name: string): string {
    return `${kind}/${name}`;
  }

  private file(kind: FileKind, name: string): Buffer {
    const f = this.files.get(MemoryTarget.key(kind, name));
    if (!f) throw new NotFound(`${kind}/${name} does not exist`);
    return f;
  }

  /** Nothing to release (the Target interface has close() for S3's connections). */
  close(): void {}

  async get(kind: FileKind, name: string): Promise<Buffer> {
    this.calls.get++;
    return Buffer.from(this.file(kind, name));
  }

  async getRange(kind: FileKind, name: string, offset: number, length: number): Promise<Buffer> {
    this.calls.getRange++;
    const f = this.file(kind, name);
    if (offset + length > f.length) throw new Error(`${kind}/${name}: ${length} bytes at ${offset} lie past its end (${f.length})`);
    return Buffer.from(f.subarray(offset, offset + length));
  }

  async put(kind: FileKind, name: string, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    this.calls.put++;
    const parts: Buffer[] = [];
    if (Buffer.isBuffer(body)) parts.push(body);
    else for await (const b of body) parts.push(b);
    this.files.set(MemoryTarget.key(kind, name), Buffer.concat(parts));
  }

  async delete(kind: FileKind, name: string): Promise<void> {
    this.calls.delete++;
    this.files.delete(MemoryTarget.key(kind, name));
  }

  async *list(kind: FileKind): AsyncIterable<TargetFile> {
    this.calls.list++;
    const prefix = `${kind}/`;
    for (const [k, v] of [...this.files]) if (k.startsWith(prefix)) yield { name: k.slice(prefix.length), size: v.length };
  }

  async stat(kind: FileKind, name: string): Promise<TargetFile | undefined> {
    this.calls.stat++;
    const f = this.files.get(MemoryTarget.key(kind, name));
    return f ? { name, size: f.length } : undefined;
  }

  /** The names of one kind's files. */
  names(kind: FileKind): string[] {
    return [...this.files.keys()].filter((k) => k.startsWith(`${kind}/`)).map((k) => k.slice(kind.length + 1)).sort();
  }
}
