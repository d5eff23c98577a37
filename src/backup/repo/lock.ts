// Repository locks (docs/backup-format.md, "Locks"): shared for operations
// that add or read, exclusive for those that delete what others may use.
// A lock is a file written before the check for conflicting ones, kept
// fresh while held, and stale when its holder stopped refreshing it or is
// a dead process of this host's current boot.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Conflict, NotFound } from '../../errors.js';
import { isProcessRunning, processStartTime } from '../../util/proc.js';
import type { Target } from '../targets/target.js';
import type { Aead } from './crypto.js';
import { openEnvelope, sealEnvelope } from './envelope.js';

export type LockKind = 'shared' | 'exclusive';

export interface LockDoc {
  version: 1;
  kind: LockKind;
  operation: string;
  host: string;
  pid: number;
  /** The holder's start time (/proc/PID/stat): a pid reused by another process does not keep the lock alive. */
  startTime: string;
  bootId: string;
  created: string;
  refreshed: string;
}

export const LOCK_REFRESH_MS = 5 * 60_000;
export const LOCK_STALE_MS = 30 * 60_000;

let bootIdCache: string | undefined;
function bootId(): string {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = '';
    }
  }
  return bootIdCache;
}

/** Whether a lock no longer protects anything: not refreshed in time, or its process of this boot is gone. */
export function isStale(doc: LockDoc, now = Date.now()): boolean {
  if (now - Date.parse(doc.refreshed) > LOCK_STALE_MS) return true;
  const here = doc.host === hostname() && doc.bootId !== '' && doc.bootId === bootId();
  return here && !isProcessRunning(doc.pid, doc.startTime);
}

export function decodeLock(plaintext: Buffer): LockDoc | undefined {
  try {
    const d = JSON.parse(plaintext.toString('utf8')) as LockDoc;
    const ok =
      d.version === 1 &&
      (d.kind === 'shared' || d.kind === 'exclusive') &&
      typeof d.operation === 'string' &&
      typeof d.host === 'string' &&
      Number.isSafeInteger(d.pid) &&
      typeof d.startTime === 'string' &&
      typeof d.bootId === 'string' &&
      !Number.isNaN(Date.parse(d.created)) &&
      !Number.isNaN(Date.parse(d.refreshed));
    return ok ? d : undefined;
  } catch {
    return undefined;
  }
}

function describe(d: LockDoc): string {
  const ageS = Math.round((Date.now() - Date.parse(d.created)) / 1000);
  return `${d.kind} lock of ${d.operation} on ${d.host} (pid ${d.pid}), taken ${ageS} s ago`;
}

export interface LockKeys {
  aead: Aead;
  metadataKey: Buffer;
}

export class RepositoryLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    private readonly target: Target,
    private readonly keys: LockKeys,
    readonly name: string,
    private doc: LockDoc,
  ) {}

  private async write(): Promise<void> {
    const body = sealEnvelope(this.keys.aead, this.keys.metadataKey, 'locks', this.name, Buffer.from(JSON.stringify(this.doc)));
    await this.target.put('locks', this.name, body);
  }

  /**
   * Takes a lock of `kind` for `operation`: writes it, then refuses
   * (Conflict, naming the holder) when a live lock conflicts. An exclusive
   * locker removes the stale locks it finds.
   */
  static async acquire(target: Target, keys: LockKeys, kind: LockKind, operation: string): Promise<RepositoryLock> {
    const now = new Date().toISOString();
    const doc: LockDoc = { version: 1, kind, operation, host: hostname(), pid: process.pid, startTime: processStartTime(process.pid) ?? '', bootId: bootId(), created: now, refreshed: now };
    const lock = new RepositoryLock(target, keys, randomBytes(32).toString('hex'), doc);
    await lock.write();
    try {
      for await (const f of target.list('locks')) {
        if (f.name === lock.name) continue;
        const other = await readLock(target, keys, f.name);
        if (other === 'gone') continue;
        if (other === 'unreadable' || isStale(other)) {
          if (kind === 'exclusive') await target.delete('locks', f.name);
          continue;
        }
        if (kind === 'exclusive' || other.kind === 'exclusive') {
          throw new Conflict(`the repository ${target.location} is locked: ${describe(other)}`);
        }
      }
    } catch (e) {
      await target.delete('locks', lock.name);
      throw e;
    }
    lock.timer = setInterval(() => void lock.refresh().catch(() => undefined), LOCK_REFRESH_MS);
    lock.timer.unref();
    return lock;
  }

  async refresh(): Promise<void> {
    if (this.released) return;
    this.doc = { ...this.doc, refreshed: new Date().toISOString() };
    await this.write();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.target.delete('locks', this.name);
  }
}

/** A lock's document; 'gone' when it was removed meanwhile, 'unreadable' when it does not decrypt or decode. */
async function readLock(target: Target, keys: LockKeys, name: string): Promise<LockDoc | 'gone' | 'unreadable'> {
  let file: Buffer;
  try {
    file = await target.get('locks', name);
  } catch (e) {
    if (e instanceof NotFound) return 'gone';
    throw e;
  }
  try {
    return decodeLock(openEnvelope(keys.metadataKey, 'locks', name, file)) ?? 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** Every lock of the repository with whether it is stale (for listings and `check`). */
export async function listLocks(target: Target, keys: LockKeys): Promise<Array<{ name: string; doc: LockDoc; stale: boolean }>> {
  const out: Array<{ name: string; doc: LockDoc; stale: boolean }> = [];
  for await (const f of target.list('locks')) {
    const doc = await readLock(target, keys, f.name);
    if (doc !== 'gone' && doc !== 'unreadable') out.push({ name: f.name, doc, stale: isStale(doc) });
  }
  return out;
}
