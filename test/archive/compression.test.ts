// Compression told by content: every format the command-line tools write is
// decoded, whatever the chunking; corrupt or truncated data is an
// InvalidArchive error, never a short stream; what export writes the tools read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { compressor, decompressed, detectCompression } from '../../src/archive/compression.js';
import { InvalidArchive } from '../../src/errors.js';

const TOOLS = ['gzip', 'bzip2', 'xz', 'zstd'] as const;
// Compressible but not trivial: random blocks repeated.
const PLAIN = Buffer.concat(Array.from({ length: 64 }, (_, i) => (i % 4 === 0 ? randomBytes(4096) : Buffer.alloc(4096, i))));

function chunks(data: Buffer, step: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += step) parts.push(data.subarray(i, i + step));
  return Readable.from(parts);
}

async function readAll(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

for (const tool of TOOLS) {
  test(`${tool} data is detected and decoded in any chunking; truncated ${tool} data is an InvalidArchive`, async () => {
    const packed = execFileSync(tool, ['-c'], { input: PLAIN, maxBuffer: 1 << 26 });
    assert.equal(detectCompression(packed), tool);
    for (const step of [1, 5, 4096, packed.length]) {
      const { kind, tar } = await decompressed(chunks(packed, step));
      assert.equal(kind, tool);
      assert.ok((await readAll(tar)).equals(PLAIN), `${tool}, step ${step}`);
    }
    const { tar } = await decompressed(chunks(packed.subarray(0, Math.floor(packed.length / 2)), 1000));
    await assert.rejects(readAll(tar), (e: unknown) => {
      assert.ok(e instanceof InvalidArchive, String(e));
      assert.match(e.message, new RegExp(`^invalid archive: ${tool} data is corrupt or truncated`));
      return true;
    });
  });
}

test('plain data, short data and empty input pass through untouched', async () => {
  for (const data of [PLAIN, Buffer.from('ab'), Buffer.alloc(0)]) {
    const { kind, tar } = await decompressed(chunks(data, 3));
    assert.equal(kind, 'none');
    assert.ok((await readAll(tar)).equals(data));
  }
});

test('an error of the input stream reaches the reader of the decoded stream', async () => {
  const packed = execFileSync('gzip', ['-c'], { input: PLAIN });
  async function* failing(): AsyncGenerator<Buffer> {
    yield packed.subarray(0, 100);
    throw new Error('connection reset');
  }
  const { tar } = await decompressed(failing());
  await assert.rejects(readAll(tar), /connection reset/);
});

for (const kind of ['gzip', 'zstd'] as const) {
  test(`what export writes as ${kind} the ${kind} tool decodes`, async () => {
    const c = compressor(kind);
    const out = readAll(c);
    c.end(PLAIN);
    const packed = await out;
    assert.equal(detectCompression(packed), kind);
    assert.ok(execFileSync(kind, ['-dc'], { input: packed, maxBuffer: 1 << 26 }).equals(PLAIN));
  });
}
