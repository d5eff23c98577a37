import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALIGN_DATA_FROM, encodeMember, END_OF_ARCHIVE, paddingFor, type TarMember } from '../../src/archive/tar/writer.js';
import { ByteReader, readTar } from '../../src/archive/tar/reader.js';
import { exportTreeToFd } from '../../src/archive/tree.js';

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

test('encodeMember with an archive offset: a large file\'s data starts on 4 KiB, the member reads back the same; small files and other types are unchanged', async () => {
  const size = ALIGN_DATA_FROM + 123;
  const members: TarMember[] = [
    { path: Buffer.from('./big'), type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtimeNs: 0n },
    { path: Buffer.from(`./${'n'.repeat(180)}`), type: 'file', mode: 0o600, uid: 70000, gid: 5, size, mtimeNs: 1700000000123456789n, xattrs: new Map([['user.k', Buffer.from([0, 1, 2])]]) },
  ];
  for (const m of members) {
    for (let at = 0; at < 3 * 4096; at += 512) {
      const head = encodeMember(m, at);
      assert.equal((at + head.length) % 4096, 0, `data aligned for member at ${at}`);
      const data = Buffer.alloc(size, 7);
      const tar = Buffer.concat([Buffer.alloc(at), head, data, Buffer.alloc(paddingFor(size)), END_OF_ARCHIVE]);
      const reader = new ByteReader(once(tar));
      await reader.read(at);
      const got = [];
      for await (const e of readTar(reader)) got.push(e.header);
      assert.equal(got.length, 1);
      assert.deepEqual(got[0]!.pathBytes, m.path);
      assert.equal(got[0]!.size, size);
      assert.equal(got[0]!.uid, m.uid);
      assert.equal(got[0]!.mtimeNs, m.mtimeNs);
      assert.deepEqual(got[0]!.xattrs, m.xattrs ?? new Map());
    }
  }
  const small: TarMember = { path: Buffer.from('./small'), type: 'file', mode: 0o644, uid: 0, gid: 0, size: ALIGN_DATA_FROM - 1, mtimeNs: 0n };
  assert.deepEqual(encodeMember(small, 512), encodeMember(small));
  const dir: TarMember = { path: Buffer.from('./d'), type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeNs: 0n };
  assert.deepEqual(encodeMember(dir, 512), encodeMember(dir));
});

test('an exported tree with large files: GNU tar lists and extracts it without a warning, byte for byte', { skip: spawnSync('tar', ['--version']).status !== 0 }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-align-'));
  try {
    const src = join(base, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a'), 'x');
    writeFileSync(join(src, 'sub', 'big1'), Buffer.alloc(ALIGN_DATA_FROM + 4321, 1));
    writeFileSync(join(src, 'sub', 'small'), Buffer.alloc(3000, 2));
    writeFileSync(join(src, 'big2'), Buffer.alloc(2 * ALIGN_DATA_FROM, 3));
    const out = join(base, 'out.tar');
    const fd = openSync(out, 'w');
    await exportTreeToFd(src, fd);
    closeSync(fd);
    const dst = join(base, 'dst');
    mkdirSync(dst);
    const x = spawnSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '-xpf', out, '-C', dst]);
    assert.equal(x.status, 0, x.stderr.toString());
    assert.equal(x.stderr.toString(), '');
    for (const f of ['a', 'sub/big1', 'sub/small', 'big2']) assert.deepEqual(readFileSync(join(dst, f)), readFileSync(join(src, f)), f);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
