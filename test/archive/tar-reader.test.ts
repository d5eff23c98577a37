import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { openMaybeCompressed, readTar, type TarHeader } from '../../src/archive/tar/reader.js';
import { makeTar, streamOf } from '../images/helpers.js';

async function entries(buf: Buffer): Promise<{ headers: Array<TarHeader & { body: string }>; digest: string; compressed: string }> {
  const opened = await openMaybeCompressed(streamOf(buf, 333) as AsyncIterable<Buffer>);
  const headers: Array<TarHeader & { body: string }> = [];
  for await (const e of readTar(opened.reader)) {
    const chunks: Buffer[] = [];
    if (e.header.path.startsWith('read')) for await (const c of e.body()) chunks.push(c);
    headers.push({ ...e.header, body: Buffer.concat(chunks).toString() });
  }
  await opened.reader.drain();
  return { headers, digest: opened.digest(), compressed: opened.compressed };
}

test('tar reader: ustar, PAX, GNU long names, xattrs, devices; gzip by magic; digest of the whole stream', async () => {
  const long = 'd/'.repeat(80) + 'file';
  const tar = makeTar([
    { path: 'read-me', content: 'x'.repeat(1000), mode: 0o4755, uid: 12, gid: 34 },
    { path: long, content: 'skipped body' },
    { path: 'short', gnuLongName: 'gnu/' + 'n'.repeat(150) },
    { path: 'attr', pax: { 'SCHILY.xattr.user.k': 'v\u00e9', mtime: '1234.5' } },
    { path: 'dev', type: 'block', devmajor: 8, devminor: 1 },
    { path: 'l', type: 'symlink', linkpath: 'y'.repeat(120) },
    { path: 'read-last', content: 'end' },
  ]);
  for (const input of [tar, gzipSync(tar)]) {
    const { headers, digest, compressed } = await entries(input);
    assert.equal(compressed, input === tar ? 'none' : 'gzip');
    assert.equal(digest, 'sha256:' + createHash('sha256').update(tar).digest('hex'), 'digest covers the end-of-archive padding');
    assert.deepEqual(
      headers.map((h) => h.path),
      ['read-me', long, 'gnu/' + 'n'.repeat(150), 'attr', 'dev', 'l', 'read-last'],
    );
    const [first] = headers;
    assert.equal(first!.body, 'x'.repeat(1000));
    assert.equal(first!.mode, 0o4755);
    assert.equal(first!.uid, 12);
    assert.equal(first!.gid, 34);
    assert.equal(headers[3]!.xattrs.get('user.k')!.toString('utf8'), 'v\u00e9');
    assert.equal(headers[3]!.mtime.getTime(), 1234500);
    assert.equal(headers[4]!.type, 'blockdev');
    assert.equal(headers[4]!.devmajor, 8);
    assert.equal(headers[5]!.linkpath, 'y'.repeat(120));
    assert.equal(headers[6]!.body, 'end');
  }
});

test('tar reader: refuses bzip2/xz/zstd with a clear message', async () => {
  for (const [magic, name] of [
    [Buffer.from('BZh91AY&SY'), 'bzip2'],
    [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]), 'xz'],
    [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]), 'zstd'],
  ] as const) {
    await assert.rejects(openMaybeCompressed(streamOf(magic) as AsyncIterable<Buffer>), { name: 'InvalidParameter', message: new RegExp(name) });
  }
});
