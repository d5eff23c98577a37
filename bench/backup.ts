// Backups (issue 9): a first backup of the 1 GiB mixed data set of
// bench/volume-archive.ts, an incremental one after 1% of its files
// changed, a restore, and a 2 GiB database-like file backed up before and
// after 5,243 scattered 4 KiB writes (what the second backup adds). Every
// operation is a process of its own (bench/backup-run.ts) timed from here,
// its peak RSS taken by /usr/bin/time. Next to restic when `command -v
// restic` finds it: the same data and steps, interleaved in one run (the
// tools of a step in rotated order each round), shown as ratios.
// BENCH_BACKUP_BYTES sets the data set (default 1 GiB), BENCH_DB_BYTES the
// database file (default 2 GiB), BENCH_ROUNDS the rounds (default 1).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildDataSet } from './volume-archive.js';

const SIZE = Number(process.env.BENCH_BACKUP_BYTES ?? 1024 ** 3);
const DB_SIZE = Number(process.env.BENCH_DB_BYTES ?? 2 * 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const DB_WRITES = 5243;
const RUN = resolve(import.meta.dirname, 'backup-run.js');
const PASSWORD = 'bench password';
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

interface Sample {
  seconds: number;
  /** User plus system CPU seconds: on a machine others share, steadier than wall time. */
  cpu: number;
  rssMiB: number;
  out: string;
}

/** Runs a command under /usr/bin/time after a sync (untimed): wall and CPU seconds, peak RSS, stdout. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Sample {
  spawnSync('sync');
  const rssFile = join(tmpdir(), `berth-bench-rss-${process.pid}`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, cmd, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}: ${r.stderr.toString().trim().slice(-500)}`);
  const [rssKiB, user, system] = readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
  rmSync(rssFile, { force: true });
  return { seconds, cpu: user + system, rssMiB: rssKiB / 1024, out: r.stdout.toString() };
}

/** Bytes in a directory tree (a repository's size). */
function treeBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? treeBytes(p) : statSync(p).size;
  }
  return n;
}

/** A tool under test: its repository and how it runs each step. */
interface Tool {
  name: string;
  repo: string;
  init(): void;
  backup(root: string, volume: string): Sample;
  restore(dir: string): Sample;
}

function berth(base: string, round: number): Tool {
  const repo = join(base, `berth-repo-${round}`);
  const cache = join(base, `berth-cache-${round}`);
  const env = { BERTH_PASSWORD: PASSWORD };
  const run = (...args: string[]): Sample => timed(process.execPath, [RUN, ...args], env);
  let last = '';
  return {
    name: 'berth',
    repo,
    init: () => void run('init', repo),
    backup: (root, volume) => {
      const s = run('backup', repo, root, volume, cache);
      last = (JSON.parse(s.out) as { snapshot: string }).snapshot;
      return s;
    },
    restore: (dir) => run('restore', repo, last, dir),
  };
}

function restic(base: string, round: number): Tool {
  const repo = join(base, `restic-repo-${round}`);
  const env = { RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: join(base, `restic-cache-${round}`) };
  const run = (...args: string[]): Sample => timed('restic', ['-r', repo, ...args], env);
  return {
    name: 'restic',
    repo,
    init: () => void run('init', '-q'),
    backup: (root) => run('backup', '-q', '--json', root),
    restore: (dir) => run('restore', 'latest', '--target', dir),
  };
}

/** Writes `size` bytes of random data (unique, incompressible) to `path`. */
function randomFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  for (let off = 0; off < size; off += 1 << 20) writeSync(fd, randomBytes(Math.min(1 << 20, size - off)));
  closeSync(fd);
}

/** Rewrites 1% of the data set's small files with new content of their size. */
function changeOnePercent(root: string): number {
  const files: string[] = [];
  for (const d of readdirSync(root)) if (d.startsWith('d')) for (const f of readdirSync(join(root, d))) files.push(join(root, d, f));
  const chosen = new Set<number>();
  while (chosen.size < Math.ceil(files.length / 100)) chosen.add(randomInt(files.length));
  for (const i of chosen) randomFile(files[i]!, statSync(files[i]!).size);
  return chosen.size;
}

/** 4 KiB written at each of `n` random 4 KiB-aligned places of the file. */
function scatteredWrites(path: string, n: number): void {
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  for (let i = 0; i < n; i++) writeSync(fd, randomBytes(4096), 0, 4096, randomInt(size / 4096) * 4096);
  closeSync(fd);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchBackup(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'berth-bench-backup-'));
  try {
    const data = join(base, 'data');
    const set = buildDataSet(data, SIZE);
    const dbDir = join(base, 'db');
    mkdirSync(dbDir);
    randomFile(join(dbDir, 'database'), DB_SIZE);
    const withRestic = has('restic');
    const results = new Map<string, Map<string, Sample[]>>();
    const add = (tool: string, step: string, s: Sample): void => {
      const m = results.get(tool) ?? new Map<string, Sample[]>();
      results.set(tool, m);
      m.set(step, [...(m.get(step) ?? []), s]);
    };
    const added = new Map<string, number[]>();
    const rotated = <T>(xs: T[], round: number): T[] => xs.map((_, i) => xs[(i + round) % xs.length]!);
    let changed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const tools = [berth(base, round), ...(withRestic ? [restic(base, round)] : [])];
      for (const t of tools) t.init();
      for (const t of rotated(tools, round)) add(t.name, 'first backup', t.backup(data, 'data'));
      changed = changeOnePercent(data);
      for (const t of rotated(tools, round)) add(t.name, 'incremental (1%)', t.backup(data, 'data'));
      for (const t of rotated(tools, round)) {
        const out = join(base, `out-${t.name}`);
        add(t.name, 'restore', t.restore(out));
        rmSync(out, { recursive: true, force: true });
      }
      for (const t of rotated(tools, round)) add(t.name, 'db first backup', t.backup(dbDir, 'db'));
      scatteredWrites(join(dbDir, 'database'), DB_WRITES);
      for (const t of rotated(tools, round)) {
        const before = treeBytes(t.repo);
        add(t.name, 'db after writes', t.backup(dbDir, 'db'));
        added.set(t.name, [...(added.get(t.name) ?? []), treeBytes(t.repo) - before]);
      }
      for (const t of tools) rmSync(t.repo, { recursive: true, force: true });
    }
    const bytesOf: Record<string, number> = { 'first backup': set.bytes, 'incremental (1%)': set.bytes, restore: set.bytes, 'db first backup': DB_SIZE, 'db after writes': DB_SIZE };
    console.log(`\nbackup: ${set.files} files, ${(set.bytes / 1e6).toFixed(0)} MB mixed + a ${(DB_SIZE / 1e6).toFixed(0)} MB database file; ${changed} files changed for the incremental; median of ${ROUNDS} round(s), warm page cache, repositories in ${tmpdir()}`);
    for (const step of Object.keys(bytesOf)) {
      const b = results.get('berth')!.get(step)!;
      const bs = median(b.map((s) => s.seconds));
      const bc = median(b.map((s) => s.cpu));
      let line = `  ${step.padEnd(18)} berth ${bs.toFixed(2).padStart(6)} s ${((bytesOf[step]! / bs) / 1e6).toFixed(0).padStart(5)} MB/s  cpu ${bc.toFixed(2).padStart(6)} s  RSS ${median(b.map((s) => s.rssMiB)).toFixed(0).padStart(4)} MiB`;
      if (step === 'incremental (1%)') line += `  (in-process ${(median(b.map((s) => (JSON.parse(s.out) as { ms: number }).ms)) / 1000).toFixed(2)} s)`;
      const r = results.get('restic')?.get(step);
      if (r) {
        const rs = median(r.map((s) => s.seconds));
        const rc = median(r.map((s) => s.cpu));
        line += ` | restic ${rs.toFixed(2).padStart(6)} s  cpu ${rc.toFixed(2).padStart(6)} s  RSS ${median(r.map((s) => s.rssMiB)).toFixed(0).padStart(4)} MiB | berth is x${(rs / bs).toFixed(2)} as fast, x${(rc / bc).toFixed(2)} in CPU`;
      }
      console.log(line);
    }
    const addedLine = [...added].map(([tool, xs]) => `${tool} ${(median(xs) / 1e6).toFixed(1)} MB`).join(', ');
    console.log(`  database after ${DB_WRITES} scattered 4 KiB writes, repository growth: ${addedLine}  (target: berth <= 200 MB)`);
    console.log('  (targets: first backup >= 250 MB/s, incremental <= 1 s, restore >= 200 MB/s; cpu: user + system seconds of the process)');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
