// Freeze time of consistent backups of a live volume: 20 backups of a
// 10,000-file volume while its container keeps writing small files, each
// through `berth volume backup` on berthd. The figure is the time the
// container spent frozen, as the snapshot records it (FreezeMs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildBusyboxRootfs } from '../test/helpers/busybox.js';
import { fmt, percentile, startBerthd } from './lib.js';

const BERTH = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const FILES = Number(process.env.BENCH_FREEZE_FILES ?? 10_000);
const BACKUPS = Number(process.env.BENCH_FREEZE_BACKUPS ?? 20);

export async function benchBackupFreeze(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-freeze-'));
  const d = await startBerthd();
  const env = { ...process.env, BERTH_HOST: `unix://${d.socket}`, BERTH_PASSWORD: 'bench-freeze' };
  const berth = (args: string[]): string => execFileSync(process.execPath, [BERTH, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const root = buildBusyboxRootfs(join(work, 'rootfs'));
    const image = join(work, 'busybox.tar');
    execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', image, '.']);
    berth(['import', image, 'bench-busybox']);
    // The volume's 10,000 files, written from the host into its data directory.
    berth(['volume', 'create', 'live']);
    const data = join(d.dir, 'root', 'volumes', 'live', '_data');
    for (let dir = 0; dir < FILES / 100; dir++) {
      mkdirSync(join(data, `d${dir}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(data, `d${dir}`, `f${f}`), `file ${dir}/${f}\n`.repeat(1 + (f % 40)));
    }
    berth(['run', '-d', '--name', 'writer', '-v', 'live:/data', 'bench-busybox', 'sh', '-c', 'mkdir -p /data/w; i=0; while true; do i=$((i+1)); echo $i > /data/w/$((i % 500)); done']);
    const repo = join(work, 'repo');
    berth(['backup', 'init', '--repo', repo]);
    const freezes: number[] = [];
    const walls: number[] = [];
    for (let i = 0; i < BACKUPS; i++) {
      const t0 = process.hrtime.bigint();
      const out = berth(['volume', 'backup', '--repo', repo, '--progress', 'none', '--json', 'live']);
      walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const snap = JSON.parse(out.trim().split('\n').at(-1)!) as { FreezeMs: number; Consistency: string };
      if (snap.Consistency !== 'freeze') throw new Error(`backup ${i} was not taken under a freeze: ${snap.Consistency}`);
      freezes.push(snap.FreezeMs);
    }
    freezes.sort((a, b) => a - b);
    walls.sort((a, b) => a - b);
    process.stdout.write(
      `backup freeze: ${BACKUPS} backups of a ${FILES}-file volume, its container writing small files throughout\n` +
        `  freeze time   median ${fmt(percentile(freezes, 50))} ms  p99 ${fmt(percentile(freezes, 99))} ms  max ${fmt(freezes.at(-1)!)} ms  (target p99 <= 200 ms)\n` +
        `  backup wall   median ${fmt(percentile(walls, 50))} ms  p99 ${fmt(percentile(walls, 99))} ms\n`,
    );
  } finally {
    try {
      berth(['rm', '-f', 'writer']);
    } catch {
      // Never started, or already gone.
    }
    await d.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
