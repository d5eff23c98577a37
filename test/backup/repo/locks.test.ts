// Locks: shared locks coexist, an exclusive lock excludes everything and
// names the holder, a dead process's lock (same host and boot) is stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { Conflict } from '../../../src/errors.js';
import { sealEnvelope } from '../../../src/backup/repo/envelope.js';
import { isStale, listLocks, type LockDoc } from '../../../src/backup/repo/lock.js';
import { processStartTime } from '../../../src/util/proc.js';
import { newRepository } from '../../helpers/backup.js';
import type { MemoryTarget } from '../../helpers/memory-target.js';

test('shared locks coexist; an exclusive one waits for none of them and is refused, naming the holder', async () => {
  const { repo } = await newRepository();
  const a = await repo.lock('shared', 'backup');
  const b = await repo.lock('shared', 'restore');
  await assert.rejects(repo.lock('exclusive', 'prune'), (e: Error) => e instanceof Conflict && /shared lock of (backup|restore)/.test(e.message));
  await a.release();
  await b.release();
  const x = await repo.lock('exclusive', 'prune');
  await assert.rejects(repo.lock('shared', 'backup'), (e: Error) => e instanceof Conflict && /exclusive lock of prune/.test(e.message));
  await x.release();
  assert.deepEqual(await listLocks(repo.target, { aead: repo.config.aead, metadataKey: repo.secrets.write.metadata }), []);
});

test('a lock of a process that is gone is stale and does not block', async () => {
  const { repo, target } = await newRepository();
  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
  const now = new Date().toISOString();
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const doc: LockDoc = { version: 1, kind: 'exclusive', operation: 'prune', host: hostname(), pid: dead, startTime: '1', bootId, created: now, refreshed: now };
  const alive = { ...doc, pid: process.pid, startTime: processStartTime(process.pid)! };
  assert.equal(isStale(doc), true);
  assert.equal(isStale(alive), false);
  // A pid now used by another process than the holder's: stale.
  assert.equal(isStale({ ...alive, startTime: '1' }), true);
  assert.equal(isStale({ ...alive, refreshed: new Date(Date.now() - 31 * 60_000).toISOString() }), true);
  const name = 'f'.repeat(64);
  await target.put('locks', name, sealEnvelope(repo.config.aead, repo.secrets.write.metadata, 'locks', name, Buffer.from(JSON.stringify(doc))));
  const shared = await repo.lock('shared', 'backup');
  await shared.release();
  // The next exclusive locker clears it away.
  const x = await repo.lock('exclusive', 'prune');
  await x.release();
  assert.deepEqual((target as MemoryTarget).names('locks'), []);
});
