// <data-root>/freeze.json: the containers a backup freeze has paused, so a
// berthd killed in the middle of a freeze thaws them at its next start.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

interface JournalFile {
  /** IDs of containers a freeze paused (or is about to pause) and has not thawed yet. */
  containers: string[];
}

export class FreezeJournal {
  constructor(readonly path: string) {}

  /** The recorded container IDs; none when the file is missing or unreadable. */
  read(): string[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = JSON.parse(text) as Partial<JournalFile>;
      return Array.isArray(parsed.containers) ? parsed.containers.filter((id): id is string => typeof id === 'string') : [];
    } catch {
      return [];
    }
  }

  /**
   * Replaces the list; an empty one removes the file. Written whole and
   * renamed into place, so a killed berthd leaves the old or the new list.
   * No fsync: the journal only matters while containers outlive berthd, and
   * after an OS crash no container is left to thaw.
   */
  write(ids: Iterable<string>): void {
    const containers = [...new Set(ids)].sort();
    if (containers.length === 0) {
      rmSync(this.path, { force: true });
      return;
    }
    const tmp = join(dirname(this.path), `.${basename(this.path)}.tmp-${randomBytes(6).toString('hex')}`);
    const file: JournalFile = { containers };
    try {
      writeFileSync(tmp, JSON.stringify(file) + '\n', { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
}
