// Where a backup repository's files live (docs/backups.md, "Target"): a flat
// store of named files grouped by kind. Data, index and snapshot files are
// named by their content and never change once written; only locks and the
// config are replaced. Every method is safe to retry.

export type FileKind = 'config' | 'keys' | 'data' | 'index' | 'snapshots' | 'locks';

export const FILE_KINDS: readonly FileKind[] = ['config', 'keys', 'data', 'index', 'snapshots', 'locks'];

export interface TargetFile {
  name: string;
  size: number;
}

export interface Target {
  /** "local:/abs/path" or "s3:bucket/prefix", for messages and listings. */
  readonly location: string;
  /** The whole file; rejects with NotFound (src/errors.ts) when it is missing. */
  get(kind: FileKind, name: string): Promise<Buffer>;
  /** `length` bytes at `offset`; NotFound when missing; a file shorter than asked is an error. */
  getRange(kind: FileKind, name: string, offset: number, length: number): Promise<Buffer>;
  /**
   * Stores a file and resolves once it is durable. The body may stream (no
   * temporary copy of its size is made); a file is never visible half-written.
   */
  put(kind: FileKind, name: string, body: Buffer | AsyncIterable<Buffer>): Promise<void>;
  /** Removes a file; a missing one is not an error. */
  delete(kind: FileKind, name: string): Promise<void>;
  list(kind: FileKind): AsyncIterable<TargetFile>;
  /** The file's size, or undefined when it does not exist. */
  stat(kind: FileKind, name: string): Promise<TargetFile | undefined>;
  /** Releases connections (S3); the target is not used after. */
  close(): void;
}
