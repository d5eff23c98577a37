// The behaviour every backup Target must have (docs/backups.md, "Target"), as
// one suite run against each target: local.test.ts and s3.test.ts.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InvalidParameter, NotFound, SystemError } from '../../../src/errors.js';
import { failsWith } from '../../helpers/errors.js';
import { FILE_KINDS, type FileKind, type Target, type TargetFile } from '../../../src/backup/targets/target.js';

export interface TargetSubject {
  /** The suite's name in the test report. */
  name: string;
  /** A fresh, empty target for one test, removed through `t` after it. */
  open(t: TestContext): Promise<Target>;
  /** What the target's location looks like. */
  location: RegExp;
}

const MiB = 1024 * 1024;

// The collector, to measure live memory rather than garbage not yet collected.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

export async function listed(target: Target, kind: FileKind): Promise<TargetFile[]> {
  const files: TargetFile[] = [];
  for await (const file of target.list(kind)) files.push(file);
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A file name as the repository makes them: the config's fixed one, hex IDs for the rest. */
export function fileName(kind: FileKind): string {
  return kind === 'config' ? 'config' : randomBytes(32).toString('hex');
}

/**
 * Yields `total` random bytes in `chunk`-sized pieces, then throws `failure`
 * if given. `onPull` runs each time the consumer asks for more, the last time
 * included (when the whole body has been taken).
 */
export async function* generated(
  total: number,
  options: { chunk?: number; hash?: ReturnType<typeof createHash>; onPull?: () => void; failure?: Error } = {},
): AsyncGenerator<Buffer> {
  const chunk = options.chunk ?? MiB;
  for (let sent = 0; sent < total; sent += chunk) {
    const piece = randomBytes(Math.min(chunk, total - sent));
    options.hash?.update(piece);
    options.onPull?.();
    yield piece;
  }
  options.onPull?.();
  if (options.failure) throw options.failure;
}

async function* chunked(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < body.length; at += size) yield body.subarray(at, at + size);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function targetConformance(subject: TargetSubject): void {
  describe(`backup target conformance: ${subject.name}`, () => {
    test('a fresh target has a location, lists nothing and stats nothing', async (t) => {
      const target = await subject.open(t);
      assert.match(target.location, subject.location);
      for (const kind of FILE_KINDS) {
        assert.deepEqual(await listed(target, kind), [], kind);
        assert.equal(await target.stat(kind, fileName(kind)), undefined, kind);
      }
    });

    test('put, then get, getRange, stat and list agree for every kind; delete removes', async (t) => {
      const target = await subject.open(t);
      const files = FILE_KINDS.map((kind) => ({ kind, name: fileName(kind), body: randomBytes(1000 + FILE_KINDS.indexOf(kind)) }));
      for (const { kind, name, body } of files) await target.put(kind, name, body);
      for (const { kind, name, body } of files) {
        assert.deepEqual(await target.get(kind, name), body, kind);
        assert.deepEqual(await target.getRange(kind, name, 10, 100), body.subarray(10, 110), kind);
        assert.deepEqual(await target.stat(kind, name), { name, size: body.length }, kind);
        // Each kind lists its own file and no other kind's.
        assert.deepEqual(await listed(target, kind), [{ name, size: body.length }], kind);
      }
      for (const { kind, name } of files) {
        await target.delete(kind, name);
        assert.equal(await target.stat(kind, name), undefined, kind);
        assert.deepEqual(await listed(target, kind), [], kind);
        await assert.rejects(target.get(kind, name), NotFound);
      }
    });

    test('data files with many leading characters are all listed, with their sizes', async (t) => {
      const target = await subject.open(t);
      const names = ['00', '00ff', '0a1b', 'ff00', 'ffff', 'ab12', 'ab34', 'ab56'].map((p) => p + randomBytes(8).toString('hex'));
      await Promise.all(names.map((name, i) => target.put('data', name, Buffer.alloc(i, 'x'))));
      assert.deepEqual(
        await listed(target, 'data'),
        names.map((name, i) => ({ name, size: i })).sort((a, b) => (a.name < b.name ? -1 : 1)),
      );
    });

    test('getRange reads exactly the bytes asked for, and a file shorter than the range is an error naming it', async (t) => {
      const target = await subject.open(t);
      const name = fileName('data');
      const body = randomBytes(4096);
      await target.put('data', name, body);
      for (const [offset, length] of [
        [0, 4096],
        [0, 1],
        [4095, 1],
        [1000, 2000],
        [4096, 0],
        [0, 0],
      ] as const) {
        assert.deepEqual(await target.getRange('data', name, offset, length), body.subarray(offset, offset + length), `${offset}+${length}`);
      }
      for (const [offset, length] of [
        [4000, 200],
        [4096, 1],
        [5000, 10],
        [5000, 0],
      ] as const) {
        await assert.rejects(target.getRange('data', name, offset, length), failsWith(SystemError, target.location, name, 'short read'));
      }
      await assert.rejects(target.getRange('data', name, -1, 10), InvalidParameter);
      await assert.rejects(target.getRange('data', name, 0, 1.5), InvalidParameter);
    });

    test('a missing file is NotFound for get and getRange, naming it; stat says undefined; delete is quiet', async (t) => {
      const target = await subject.open(t);
      await target.put('data', fileName('data'), Buffer.from('other'));
      for (const kind of FILE_KINDS) {
        const name = fileName(kind);
        for (const read of [() => target.get(kind, name), () => target.getRange(kind, name, 0, 1), () => target.getRange(kind, name, 0, 0)]) {
          await assert.rejects(read(), failsWith(NotFound, target.location, name));
        }
        assert.equal(await target.stat(kind, name), undefined);
        await target.delete(kind, name);
      }
    });

    test('putting a content-addressed file again keeps one file; locks and the config are replaced', async (t) => {
      const target = await subject.open(t);
      const data = fileName('data');
      const bytes = randomBytes(500);
      await target.put('data', data, bytes);
      await target.put('data', data, Buffer.from(bytes));
      assert.deepEqual(await target.get('data', data), bytes);
      assert.deepEqual(await listed(target, 'data'), [{ name: data, size: 500 }]);
      for (const kind of ['locks', 'config'] as const) {
        const name = fileName(kind);
        await target.put(kind, name, Buffer.from('first version'));
        await target.put(kind, name, Buffer.from('second'));
        assert.equal((await target.get(kind, name)).toString(), 'second');
        assert.deepEqual(await listed(target, kind), [{ name, size: 6 }]);
      }
    });

    test('empty bodies, given whole or streamed, make empty files', async (t) => {
      const target = await subject.open(t);
      const whole = fileName('index');
      const streamed = fileName('index');
      await target.put('index', whole, Buffer.alloc(0));
      await target.put('index', streamed, generated(0));
      for (const name of [whole, streamed]) {
        assert.deepEqual(await target.get('index', name), Buffer.alloc(0));
        assert.deepEqual(await target.stat('index', name), { name, size: 0 });
      }
    });

    test('a streamed body of unknown length, 40 MiB, arrives whole without being held in memory', { timeout: 120_000 }, async (t) => {
      const target = await subject.open(t);
      const name = fileName('data');
      const total = 40 * MiB;
      const hash = createHash('sha256');
      // Sampled, after a collection, as each chunk is asked for: what the target holds while it streams
      // (a target that gathered the body would hold all of it at the last pull).
      const liveBuffers = () => {
        collectGarbage();
        return process.memoryUsage().arrayBuffers;
      };
      const before = liveBuffers();
      let peak = before;
      await target.put('data', name, generated(total, { hash, onPull: () => (peak = Math.max(peak, liveBuffers())) }));
      const growth = peak - before;
      t.diagnostic(`buffers grew by ${(growth / MiB).toFixed(1)} MiB at most`);
      // Loose on purpose: the parts in flight fit, a copy of the body does not.
      assert.ok(growth < total, `buffers grew by ${(growth / MiB).toFixed(1)} MiB while streaming ${total / MiB} MiB`);
      assert.deepEqual(await target.stat('data', name), { name, size: total });
      assert.equal(sha256(await target.get('data', name)), hash.digest('hex'));
      const tail = await target.getRange('data', name, total - 10, 10);
      assert.equal(tail.length, 10);
    });

    test('concurrent puts, of different names and of one name, all land whole', async (t) => {
      const target = await subject.open(t);
      const distinct = Array.from({ length: 12 }, () => ({ name: fileName('data'), body: randomBytes(64 * 1024) }));
      const same = { name: fileName('data'), body: randomBytes(256 * 1024) };
      await Promise.all([
        ...distinct.map(({ name, body }) => target.put('data', name, body)),
        ...Array.from({ length: 4 }, () => target.put('data', same.name, chunked(same.body, 32 * 1024))),
        ...Array.from({ length: 4 }, () => target.put('data', same.name, same.body)),
      ]);
      assert.deepEqual(await target.get('data', same.name), same.body);
      for (const { name, body } of distinct) assert.deepEqual(await target.get('data', name), body);
      assert.equal((await listed(target, 'data')).length, distinct.length + 1);
    });

    test('a put whose body fails midway rejects with the body\'s own error and leaves nothing visible', { timeout: 120_000 }, async (t) => {
      const target = await subject.open(t);
      for (const size of [1024, 20 * MiB]) {
        const name = fileName('data');
        const failure = new Error(`the source broke after ${size} bytes`);
        await assert.rejects(target.put('data', name, generated(size, { failure })), (e) => e === failure);
        assert.equal(await target.stat('data', name), undefined, `${size}`);
        await assert.rejects(target.get('data', name), NotFound);
      }
      assert.deepEqual(await listed(target, 'data'), []);
    });

    test('names that are not plain file names, and unknown kinds, are refused', async (t) => {
      const target = await subject.open(t);
      for (const name of ['', '.', '..', '../escape', 'a/b', '.hidden', 'x.tmp-0123456789ab', 'sp ace', 'a'.repeat(256)]) {
        await assert.rejects(target.put('index', name, Buffer.from('x')), InvalidParameter, JSON.stringify(name));
        await assert.rejects(target.get('index', name), InvalidParameter, JSON.stringify(name));
      }
      await assert.rejects(target.put('data', 'a', Buffer.from('x')), InvalidParameter, 'a data name needs two characters for its directory');
      await assert.rejects(target.stat('bogus' as FileKind, 'name'), InvalidParameter);
      await assert.rejects(async () => {
        for await (const file of target.list('bogus' as FileKind)) assert.fail(`listed ${file.name}`);
      }, InvalidParameter);
    });
  });
}
