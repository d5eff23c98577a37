// Shared steps of the backup tests: a repository on a memory target with a
// cheap passphrase key, and a whole backup (phase 1, the recheck standing
// in for a freeze, phase 2) of a directory.
import { after, before } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository, type InitOptions } from '../../src/backup/repo/repository.js';
import { startBackup, type BackupOptions, type SnapshotMeta } from '../../src/backup/engine/backup.js';
import type { SnapshotRecord } from '../../src/backup/repo/snapshot.js';
import type { Target } from '../../src/backup/targets/target.js';
import { MemoryTarget } from './memory-target.js';

export const PASSWORD = 'correct horse battery staple';
/** scrypt is what makes opening slow on purpose; tests keep it cheap. */
export const CHEAP_SCRYPT = { N: 1024, r: 8, p: 1 };

export async function newRepository(target: Target = new MemoryTarget(), opts: Partial<InitOptions> = {}): Promise<{ repo: Repository; target: Target }> {
  const repo = await Repository.init(target, { password: PASSWORD, scrypt: CHEAP_SCRYPT, ...opts });
  return { repo, target };
}

export function volumeMeta(name: string, extra: Partial<SnapshotMeta> = {}): SnapshotMeta {
  return { volume: { name }, consistency: { mode: 'freeze', freezeMs: 0 }, ...extra };
}

/** A full backup of `root`: scan, recheck (as under a freeze), finish. */
export async function backupTree(repo: Repository, root: string, volume: string, opts: BackupOptions = {}): Promise<SnapshotRecord> {
  const session = await startBackup(repo, opts);
  try {
    const live = await session.scan(root);
    const frozen = await live.recheck();
    return await session.finish(frozen, volumeMeta(volume));
  } finally {
    await session.abort();
  }
}

/**
 * A temporary directory for one test file, made before its tests and
 * removed after them (call at the top of the file); fresh() makes a new
 * empty directory in it.
 */
export function scratchSpace(prefix: string): { readonly root: string; fresh: () => string } {
  let root = '';
  let counter = 0;
  before(() => {
    root = mkdtempSync(join(tmpdir(), `berth-${prefix}-`));
  });
  after(() => rmSync(root, { recursive: true, force: true }));
  return {
    get root() {
      return root;
    },
    fresh: () => {
      const d = join(root, `dir-${++counter}`);
      mkdirSync(d);
      return d;
    },
  };
}
