// Volume export / import / clone through the berth CLI and berthd, next to
// GNU tar (issue 8's reference flags) and podman volume export/import when
// podman is installed, interleaved in the same run so the ratios compare like
// with like. Everything lives on a reflink XFS loop image when one can be
// made (clone needs it), else in the temp dir (no clone figure).
// BENCH_ARCHIVE_BYTES sets the data set size (default 1 GiB), BENCH_ROUNDS the rounds (default 2).
import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, writeSync, rmSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:http';

const SIZE = Number(process.env.BENCH_ARCHIVE_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const TAR_FLAGS = ['--format=posix', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-S'];
const BERTHD = resolve(import.meta.dirname, '..', 'src', 'daemon-main.js');
const BERTH = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const CODEC = resolve(import.meta.dirname, 'codec-run.js');

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}: ${r.stderr.toString().trim() || `exit ${r.status}`}`);
}

/**
 * Seconds one command takes, or the error it fails with. Dirty pages of the
 * steps before are written back first (untimed), so no tool pays for
 * another's writes.
 */
function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number | Error {
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  try {
    sh(cmd, args, env);
  } catch (e) {
    return e as Error;
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Many small files (60% of the bytes, 4-64 KiB, 1000 a directory) and four large ones, `size` bytes in all (bench/backup.ts uses it too). */
export function buildDataSet(root: string, size = SIZE): { files: number; bytes: number } {
  mkdirSync(root, { recursive: true });
  const pool = randomBytes(1 << 20);
  let bytes = 0;
  let files = 0;
  const write = (path: string, size: number) => {
    const fd = openSync(path, 'w');
    for (let off = 0; off < size; ) {
      const n = Math.min(pool.length, size - off);
      writeSync(fd, pool, (off * 7) % (pool.length - n + 1), n);
      off += n;
    }
    closeSync(fd);
    bytes += size;
    files++;
  };
  const small = size * 0.6;
  for (let i = 0; bytes < small; i++) {
    const dir = join(root, `d${Math.floor(i / 1000)}`);
    if (i % 1000 === 0) mkdirSync(dir);
    write(join(dir, `f${i}`), 4096 + ((i * 2654435761) % 61440));
  }
  const large = Math.floor((size - bytes) / 4);
  for (let i = 0; i < 4; i++) write(join(root, `large${i}`), large);
  return { files, bytes };
}

/** A reflink XFS loop image mounted at `mnt`, or undefined when this host cannot make one. */
function xfsImage(dir: string): { mnt: string; release: () => void } | undefined {
  if (!has('mkfs.xfs')) return undefined;
  const img = join(dir, 'xfs.img');
  const mnt = join(dir, 'xfs');
  try {
    mkdirSync(mnt);
    sh('truncate', ['-s', String(Math.max(SIZE * 6, 2 * 1024 ** 3)), img]);
    sh('mkfs.xfs', ['-q', '-m', 'reflink=1', img]);
    sh('mount', ['-o', 'loop', img, mnt]);
  } catch (e) {
    console.error(`volume-archive bench: no XFS loop image (${(e as Error).message}); running in ${dir} without clone`);
    return undefined;
  }
  return {
    mnt,
    release: () => {
      spawnSync('umount', ['-l', mnt]);
      rmSync(img, { force: true });
    },
  };
}

async function startDaemon(dataRoot: string, socket: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BERTHD, '--data-root', dataRoot, '-H', `unix://${socket}`, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 300; i++) {
    const up = await new Promise<boolean>((r) => {
      const req = request({ socketPath: socket, path: '/_ping' }, (res) => {
        res.resume();
        r(true);
      });
      req.on('error', () => r(false));
      req.end();
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('berthd did not come up');
}

type Sample = number | Error;
const row = (name: string, samples: Sample[], files: number, bytes: number, ref?: Sample[]) => {
  const good = samples.filter((s): s is number => typeof s === 'number').sort((a, b) => a - b);
  if (good.length === 0) return `  ${name.padEnd(22)} failed: ${(samples[0] as Error).message.slice(0, 100)}`;
  const s = good[Math.floor(good.length / 2)]!;
  const refGood = (ref ?? []).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  const r = refGood[Math.floor(refGood.length / 2)];
  const ratio = r !== undefined ? `  berth is x${(s / r).toFixed(2)} as fast` : '';
  const all = good.length > 1 ? `  [${good.map((x) => x.toFixed(2)).join(' ')}]` : '';
  return `  ${name.padEnd(22)} ${s.toFixed(3).padStart(8)} s  ${((bytes / s) / 1e6).toFixed(0).padStart(6)} MB/s  ${(files / s).toFixed(0).padStart(8)} files/s${ratio}${all}`;
};

export async function benchVolumeArchive(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'berth-bench-archive-'));
  const xfs = xfsImage(base);
  const root = xfs?.mnt ?? base;
  let daemon: ChildProcess | undefined;
  try {
    const data = join(root, 'data');
    const set = buildDataSet(data);
    const socket = join(base, 'berth.sock');
    const dataRoot = join(root, 'berth');
    daemon = await startDaemon(dataRoot, socket);
    const env = { ...process.env, BERTH_HOST: `unix://${socket}` };
    const berth = (...args: string[]) => timed(process.execPath, ['--', BERTH, ...args], env);
    sh(process.execPath, ['--', BERTH, 'volume', 'create', 'bench-src'], env);
    sh('cp', ['-a', `${data}/.`, join(dataRoot, 'volumes', 'bench-src', '_data')]);
    const srcDir = join(dataRoot, 'volumes', 'bench-src', '_data');
    const podman = has('podman')
      ? (...args: string[]) => timed('podman', ['--root', join(root, 'podman'), '--runroot', join(base, 'podman-run'), '--storage-driver', 'vfs', ...args])
      : undefined;
    const gnuTar = join(root, 'gnu.tar');
    sh('tar', [...TAR_FLAGS, '-C', srcDir, '-cf', gnuTar, '.']);
    if (podman) {
      podman('volume', 'create', 'bench-src');
      podman('volume', 'import', 'bench-src', gnuTar);
    }
    const out = join(root, 'out.tar');
    const s: Record<string, Sample[]> = {};
    const add = (k: string, v: Sample) => (s[k] ??= []).push(v);
    // Each round runs the tools of a group in a rotated order: on this kind of
    // machine the first large writer after memory was freed pays for getting it
    // back, and no tool should always be the one that pays.
    const rotated = <T>(steps: T[], round: number): T[] => steps.map((_, i) => steps[(i + round) % steps.length]!);
    for (let round = 0; round < ROUNDS; round++) {
      // Export, each tool writing its archive to the same filesystem.
      const exports: Array<[string, () => Sample]> = [
        ['berth export', () => berth('volume', 'export', 'bench-src', '-o', out, '--progress', 'none')],
        // The codec alone (no daemon, no HTTP): where the time of the berth export goes.
        ['berth codec export', () => timed(process.execPath, [CODEC, 'export', srcDir, out])],
        ['GNU tar -c', () => timed('tar', [...TAR_FLAGS, '-C', srcDir, '-cf', out, '.'])],
        // berth fsyncs the archive before it reports success; the same for tar.
        ['GNU tar -c + fsync', () => timed('sh', ['-c', 'tar "$@" && sync "$OUT"', 'tar', ...TAR_FLAGS, '-C', srcDir, '-cf', out, '.'], { ...process.env, OUT: out })],
      ];
      if (podman) exports.push(['podman volume export', () => podman('volume', 'export', 'bench-src', '-o', out)]);
      for (const [name, run] of rotated(exports, round)) {
        add(name, run());
        rmSync(out, { force: true });
      }
      // Import of the same GNU tar archive.
      const x = join(root, `x${round}`);
      const imports: Array<[string, () => Sample, () => void]> = [
        ['berth import', () => berth('volume', 'import', `bench-imp-${round}`, gnuTar, '--progress', 'none'), () => sh(process.execPath, ['--', BERTH, 'volume', 'rm', '-f', `bench-imp-${round}`], env)],
        ['berth codec import', () => timed(process.execPath, [CODEC, 'import', gnuTar, x]), () => rmSync(x, { recursive: true, force: true })],
        ['GNU tar -xp', () => (mkdirSync(x), timed('tar', [...TAR_FLAGS, '-xpf', gnuTar, '-C', x])), () => rmSync(x, { recursive: true, force: true })],
        // berth syncs the filesystem before it swaps the imported data in; the same for tar.
        ['GNU tar -xp + syncfs', () => (mkdirSync(x), timed('sh', ['-c', 'tar "$@" && sync -f "$X"', 'tar', ...TAR_FLAGS, '-xpf', gnuTar, '-C', x], { ...process.env, X: x })), () => rmSync(x, { recursive: true, force: true })],
      ];
      if (podman) {
        imports.push([
          'podman volume import',
          () => (podman('volume', 'create', `bench-imp-${round}`), podman('volume', 'import', `bench-imp-${round}`, gnuTar)),
          () => void podman('volume', 'rm', '-f', `bench-imp-${round}`),
        ]);
      }
      for (const [name, run, cleanup] of rotated(imports, round)) {
        add(name, run());
        cleanup();
      }
      if (xfs) {
        add('berth clone (reflink)', berth('volume', 'clone', 'bench-src', `bench-clone-${round}`, '--progress', 'none'));
        spawnSync(process.execPath, ['--', BERTH, 'volume', 'rm', '-f', `bench-clone-${round}`], { env });
      }
    }
    console.log(`\nvolume export/import/clone: ${set.files} files, ${(set.bytes / 1e6).toFixed(0)} MB, median of ${ROUNDS} interleaved rounds, warm page cache, on ${xfs ? 'a reflink XFS loop image' : root}`);
    console.log(row('berth export', s['berth export']!, set.files, set.bytes));
    console.log(row('berth codec export', s['berth codec export']!, set.files, set.bytes));
    console.log(row('GNU tar -c', s['GNU tar -c']!, set.files, set.bytes, s['berth export']));
    console.log(row('GNU tar -c + fsync', s['GNU tar -c + fsync']!, set.files, set.bytes, s['berth export']));
    if (podman) console.log(row('podman volume export', s['podman volume export']!, set.files, set.bytes, s['berth export']));
    console.log(row('berth import', s['berth import']!, set.files, set.bytes));
    console.log(row('berth codec import', s['berth codec import']!, set.files, set.bytes));
    console.log(row('GNU tar -xp', s['GNU tar -xp']!, set.files, set.bytes, s['berth import']));
    console.log(row('GNU tar -xp + syncfs', s['GNU tar -xp + syncfs']!, set.files, set.bytes, s['berth import']));
    if (podman) console.log(row('podman volume import', s['podman volume import']!, set.files, set.bytes, s['berth import']));
    if (xfs) console.log(row('berth clone (reflink)', s['berth clone (reflink)']!, set.files, set.bytes));
    console.log("  ('berth is xN as fast': that tool's time over berth's; targets: >= 1 vs GNU tar, >= 2 vs podman, clone < 1 s)");
  } finally {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon!.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    if (existsSync(join(root, 'berth'))) spawnSync('sh', ['-c', `grep -o " ${root}/berth[^ ]*" /proc/self/mountinfo | xargs -r -n1 umount -l`]);
    xfs?.release();
    rmSync(base, { recursive: true, force: true });
  }
}
