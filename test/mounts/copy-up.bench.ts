// Copy-up benchmark: `[BENCH_DIR=/dev/shm] node dist/test/mounts/copy-up.bench.js [MB] [runs]` (as root).
// Builds a mixed tree (~100 MB: large, medium and many small files, nested
// dirs, symlinks, hard links) and times three ways of copying it into an
// empty directory, checking each copy with `diff -r --no-dereference`:
//   cp     — copyUp() itself: `cp -a --no-target-directory`
//   tar    — `tar -C src -cf - . | tar -C dst -xpf -` (what old dockerd did)
//   node   — a Node walker (copyFile with reflink if possible, mkdir, symlink,
//            link, lchown, chmod, lutimes); it cannot do device nodes or xattrs.
// Not a test file (the name does not match the test patterns); it only runs
// when executed directly.
import { execFileSync, spawnSync } from 'node:child_process';
import { constants, mkdirSync, mkdtempSync, rmSync, symlinkSync, linkSync, writeFileSync } from 'node:fs';
import { copyFile, chmod, lchown, link, lstat, lutimes, mkdir, readdir, readlink, symlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { copyUp } from '../../src/mounts/copy-up.js';

function buildTree(src: string, scaleMB: number): { files: number; bytes: number } {
  const k = scaleMB / 100;
  let files = 0;
  let bytes = 0;
  const put = (p: string, size: number): void => {
    writeFileSync(p, Buffer.alloc(size, files % 251));
    files++;
    bytes += size;
  };
  for (let i = 0; i < Math.round(10 * k); i++) put(join(src, `large-${i}.bin`), 5 * 1024 * 1024);
  for (let d = 0; d < 20; d++) {
    const dir = join(src, 'medium', `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < Math.round(25 * k); i++) put(join(dir, `m${i}.dat`), 64 * 1024);
  }
  for (let a = 0; a < 30; a++) {
    for (let b = 0; b < 6; b++) {
      const dir = join(src, 'small', `a${a}`, `b${b}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < Math.round(50 * k); i++) put(join(dir, `s${i}.txt`), 2 * 1024);
      symlinkSync(`s0.txt`, join(dir, 'link-rel'));
      symlinkSync('/etc/passwd', join(dir, 'link-abs'));
      linkSync(join(dir, 's1.txt'), join(dir, 'hard-s1'));
    }
  }
  return { files, bytes };
}

async function nodeWalker(src: string, dst: string): Promise<void> {
  // first copy of each multiply-linked inode: later names link to it once it is written
  const inodes = new Map<string, { path: string; done: Promise<void> }>();
  const copyEntry = async (s: string, d: string, top: boolean): Promise<void> => {
    const st = await lstat(s);
    if (st.isDirectory()) {
      if (!top) await mkdir(d);
      const names = await readdir(s);
      await Promise.all(names.map((n) => copyEntry(join(s, n), join(d, n), false)));
      await lchown(d, st.uid, st.gid);
      await chmod(d, st.mode & 0o7777);
      await utimes(d, st.atime, st.mtime);
      return;
    }
    if (st.isSymbolicLink()) {
      await symlink(await readlink(s), d);
      await lchown(d, st.uid, st.gid);
      await lutimes(d, st.atime, st.mtime);
      return;
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const prev = st.nlink > 1 ? inodes.get(key) : undefined;
      if (prev) {
        await prev.done;
        await link(prev.path, d);
        return;
      }
      const done = (async () => {
        await copyFile(s, d, constants.COPYFILE_FICLONE);
        await lchown(d, st.uid, st.gid);
        await chmod(d, st.mode & 0o7777);
        await utimes(d, st.atime, st.mtime);
      })();
      if (st.nlink > 1) inodes.set(key, { path: d, done });
      await done;
      return;
    }
    throw new Error(`node walker: cannot copy special file ${s}`);
  };
  await copyEntry(src, dst, true);
}

function tarPipe(src: string, dst: string): void {
  const r = spawnSync('sh', ['-c', 'tar -C "$1" -cf - . | tar -C "$2" -xpf -', 'sh', src, dst], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('tar pipe failed');
}

function dropCaches(): void {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  } catch {
    // not permitted: warm-cache numbers only
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const scaleMB = Number(process.argv[2] ?? '100');
  const runs = Number(process.argv[3] ?? '3');
  const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'berth-copyup-bench-'));
  try {
    const src = join(work, 'src');
    mkdirSync(src);
    const { files, bytes } = buildTree(src, scaleMB);
    console.log(`tree: ${files} files, ${(bytes / 2 ** 20).toFixed(1)} MiB, 380 symlinks, 180 hard links`);
    const methods: Record<string, (s: string, d: string) => Promise<unknown>> = {
      cp: (s, d) => copyUp(s, d),
      tar: async (s, d) => tarPipe(s, d),
      node: nodeWalker,
    };
    // Each run starts from a clean page cache state: `sync` (and for "cold"
    // runs drop_caches) first, so one run's writeback does not slow the next.
    // Methods are interleaved so drift hits all of them alike.
    for (const cold of [false, true]) {
      const times: Record<string, number[]> = {};
      for (let i = 0; i < runs; i++) {
        for (const [name, fn] of Object.entries(methods)) {
          const dst = join(work, `dst-${name}-${i}`);
          mkdirSync(dst);
          execFileSync('sync');
          if (cold) dropCaches();
          const t0 = process.hrtime.bigint();
          await fn(src, dst);
          (times[name] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6);
          const diff = spawnSync('diff', ['-r', '--no-dereference', src, dst], { encoding: 'utf8' });
          if (diff.status !== 0) throw new Error(`${name}: copy differs:\n${diff.stdout.slice(0, 2000)}`);
          rmSync(dst, { recursive: true, force: true });
        }
      }
      for (const [name, ts] of Object.entries(times)) {
        console.log(`${cold ? 'cold' : 'warm'} ${name.padEnd(4)} median ${median(ts).toFixed(0)} ms  runs ${ts.map((t) => t.toFixed(0)).join(' ')}`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
