// The two-phase backup's consistency: what changes between phase 1 and the
// freeze is captured under the freeze, so the snapshot is the tree as it
// was at the freeze (not after it); a writer updating two files in order
// (in one volume or across two sharing a freeze) is never seen half-done;
// files touched within the racy window are captured though their stat did
// not move; on a reflink filesystem captures are reflinks. The freeze here
// is SIGSTOP of the writer process, waited on until /proc says it stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backupGroup, startBackup } from '../../../src/backup/engine/backup.js';
import { restoreSnapshot } from '../../../src/backup/engine/restore.js';
import { processState } from '../../../src/util/proc.js';
import { fullManifest } from '../../helpers/tree-manifest.js';
import { newRepository, scratchSpace, volumeMeta } from '../../helpers/backup.js';

const scratch = scratchSpace('backup-freeze');
const freshDir = scratch.fresh;


test('changes between phase 1 and the freeze are in the snapshot; changes after the thaw are not', async () => {
  const { repo } = await newRepository();
  const root = freshDir();
  mkdirSync(join(root, 'dir'));
  writeFileSync(join(root, 'grows'), 'first line\n');
  writeFileSync(join(root, 'goes'), 'gone soon\n');
  writeFileSync(join(root, 'dir', 'mode'), 'mode changes\n');
  writeFileSync(join(root, 'rewritten'), randomBytes(100_000));
  const session = await startBackup(repo);
  const live = await session.scan(root);
  // The application writes while the backup reads...
  writeFileSync(join(root, 'grows'), 'first line\nsecond line\n');
  rmSync(join(root, 'goes'));
  writeFileSync(join(root, 'dir', 'new'), 'made after the scan\n');
  chmodSync(join(root, 'dir', 'mode'), 0o600);
  renameSync(join(root, 'dir'), join(root, 'moved'));
  writeFileSync(join(root, 'rewritten'), randomBytes(100_000));
  // ...then the freeze: the tree as it is now is what the snapshot must hold.
  const frozen = await live.recheck();
  const atFreeze = fullManifest(root);
  // After the thaw the application goes on: none of this may leak into the snapshot.
  writeFileSync(join(root, 'rewritten'), randomBytes(100_000));
  writeFileSync(join(root, 'grows'), 'third line\n');
  writeFileSync(join(root, 'moved', 'later'), 'after the thaw\n');
  const snap = await session.finish(frozen, volumeMeta('v'));
  assert.ok(frozen.captured >= 4, `${frozen.captured} captured`);
  assert.ok(frozen.gone >= 2 && frozen.added >= 1);
  const out = freshDir();
  await restoreSnapshot(repo, snap.id, out);
  assert.deepEqual(fullManifest(out), atFreeze);
});

test('a file touched within the racy window is captured though its stat did not move', async () => {
  const { repo } = await newRepository();
  const root = freshDir();
  writeFileSync(join(root, 'just-written'), 'fresh\n');
  const session = await startBackup(repo);
  const live = await session.scan(root);
  const frozen = await live.recheck();
  assert.equal(frozen.captured, 1);
  await session.finish(frozen, volumeMeta('v'));
});

/** A process writing `seq` (16 bytes, in place) to each file in turn, forever; a file later in the list never runs ahead of an earlier one. */
function startWriter(files: string[]): ChildProcess {
  for (const f of files) writeFileSync(f, '0'.padStart(16, '0'));
  const script = `
    const fs = require('fs');
    const fds = ${JSON.stringify(files)}.map((f) => fs.openSync(f, 'r+'));
    for (let seq = 1; ; seq++) for (const fd of fds) fs.writeSync(fd, String(seq).padStart(16, '0'), 0);
  `;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

/** The freeze of these tests: SIGSTOP, waiting until the process is stopped; SIGCONT after, whatever happened. */
async function frozenWhile<T>(child: ChildProcess, inside: () => Promise<T>): Promise<T> {
  child.kill('SIGSTOP');
  while (processState(child.pid!) !== 'T') await sleep(1);
  try {
    return await inside();
  } finally {
    child.kill('SIGCONT');
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Waits until the writer has gone round at least `n` times (its first file holds its count). */
async function writerPast(file: string, n: number): Promise<void> {
  while (Number(readFileSync(file, 'utf8')) < n) await sleep(1);
}

test('a writer updating two files in order is never seen half-done', async () => {
  const { repo } = await newRepository();
  const root = freshDir();
  const [a, b] = [join(root, 'a'), join(root, 'b')];
  const writer = startWriter([a, b]);
  try {
    for (let round = 0; round < 5; round++) {
      await writerPast(a, 1000 * (round + 1));
      const session = await startBackup(repo);
      const live = await session.scan(root);
      const frozen = await frozenWhile(writer, () => live.recheck());
      const snap = await session.finish(frozen, volumeMeta('pair'));
      const out = freshDir();
      await restoreSnapshot(repo, snap.id, out);
      const [x, y] = [Number(readFileSync(join(out, 'a'), 'utf8')), Number(readFileSync(join(out, 'b'), 'utf8'))];
      assert.ok(x === y || x === y + 1, `round ${round}: a=${x} b=${y}`);
    }
  } finally {
    await stop(writer);
  }
});

test('two volumes share one freeze and one group: a writer across them is never seen half-done', async () => {
  const { repo } = await newRepository();
  const [v1, v2] = [freshDir(), freshDir()];
  writeFileSync(join(v1, 'payload'), randomBytes(200_000));
  const writer = startWriter([join(v1, 'seq'), join(v2, 'seq')]);
  try {
    await writerPast(join(v1, 'seq'), 1000);
    const snapshots = await backupGroup(
      repo,
      [
        { root: v1, meta: { volume: { name: 'db-data' } } },
        { root: v2, meta: { volume: { name: 'db-wal' } } },
      ],
      // The runner's measure (pauses and thaws included) is what the snapshots record.
      async (inside) => ({ result: await frozenWhile(writer, inside), frozenMs: 1234.4 }),
    );
    assert.equal(snapshots.length, 2);
    assert.ok(snapshots[0]!.group && snapshots[0]!.group === snapshots[1]!.group);
    assert.equal(snapshots[0]!.consistency.mode, 'freeze');
    assert.equal(snapshots[0]!.consistency.freezeMs, 1234);
    assert.equal(snapshots[1]!.consistency.freezeMs, 1234);
    const [o1, o2] = [freshDir(), freshDir()];
    await restoreSnapshot(repo, snapshots[0]!.id, o1);
    await restoreSnapshot(repo, snapshots[1]!.id, o2);
    const [x, y] = [Number(readFileSync(join(o1, 'seq'), 'utf8')), Number(readFileSync(join(o2, 'seq'), 'utf8'))];
    assert.ok(x === y || x === y + 1, `data=${x} wal=${y}`);
  } finally {
    await stop(writer);
  }
});

test('consistency none: phase 1 alone, said so in the snapshot', async () => {
  const { repo } = await newRepository();
  const root = freshDir();
  writeFileSync(join(root, 'f'), 'x');
  const session = await startBackup(repo);
  const live = await session.scan(root);
  const snap = await session.finish(live, { volume: { name: 'v' }, consistency: { mode: 'none', freezeMs: 0 } });
  assert.equal((await repo.loadSnapshot(snap.id)).consistency.mode, 'none');
  const out = freshDir();
  await restoreSnapshot(repo, snap.id, out);
  assert.equal(readFileSync(join(out, 'f'), 'utf8'), 'x');
});

/** A reflink XFS loop image mounted under `dir`, or undefined where mkfs.xfs or loop mounts are not available. */
function xfsImage(dir: string): { mnt: string; release: () => void } | undefined {
  if (spawnSync('sh', ['-c', 'command -v mkfs.xfs']).status !== 0) return undefined;
  const img = join(dir, 'xfs.img');
  const mnt = join(dir, 'xfs');
  mkdirSync(mnt);
  const run = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  if (!(run('truncate', ['-s', '512M', img]) && run('mkfs.xfs', ['-q', '-m', 'reflink=1', img]) && run('mount', ['-o', 'loop', img, mnt]))) {
    rmSync(img, { force: true });
    return undefined;
  }
  return {
    mnt,
    release: () => {
      // A lazy unmount when something (another test's scan of /) still has it open.
      if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
      rmSync(img, { force: true });
    },
  };
}

test('on a reflink filesystem the captures under the freeze are reflinks', async (t) => {
  const xfs = xfsImage(freshDir());
  if (!xfs) return t.skip('no XFS loop image on this host');
  try {
    const { repo } = await newRepository();
    const root = join(xfs.mnt, 'volume');
    mkdirSync(root);
    writeFileSync(join(root, 'big'), randomBytes(8 << 20));
    const session = await startBackup(repo);
    const live = await session.scan(root, { captureDir: join(xfs.mnt, 'capture') });
    writeFileSync(join(root, 'big'), randomBytes(8 << 20));
    const frozen = await live.recheck();
    const atFreeze = fullManifest(root);
    assert.ok(frozen.captured >= 1);
    assert.equal(frozen.reflinked, frozen.captured);
    writeFileSync(join(root, 'big'), randomBytes(8 << 20));
    const snap = await session.finish(frozen, volumeMeta('xfs'));
    assert.equal(existsSync(join(xfs.mnt, 'capture')), false, 'the capture directory is removed');
    const out = freshDir();
    await restoreSnapshot(repo, snap.id, out);
    assert.deepEqual(fullManifest(out).map((e) => [e.path, e.content]), atFreeze.map((e) => [e.path, e.content]));
  } finally {
    xfs.release();
  }
});
