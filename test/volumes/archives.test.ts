// VolumeArchives over a real VolumeService and local driver: the staging
// swap is atomic, failures leave the target as it was and take away what
// they created, running users are refused or warned about, drivers without
// the staging ability are refused cleanly, and events come at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { exportTree } from '../../src/archive/tree.js';
import { Conflict, InvalidParameter, NotImplemented } from '../../src/errors.js';
import { VolumeArchives } from '../../src/volumes/archives.js';
import { volumeService, type ServiceFixture } from '../helpers/volume-service.js';
import { ScratchDriver } from './scratch-driver.js';

interface Published {
  action: string;
  id: string;
  attributes: Record<string, string>;
}

function archives(f: ServiceFixture, running: Map<string, string[]> = new Map()): { va: VolumeArchives; published: Published[] } {
  const published: Published[] = [];
  const va = new VolumeArchives({
    volumes: f.service,
    events: { publish: (_type, action, id, attributes = {}) => published.push({ action, id, attributes }) },
    log: pino({ level: 'silent' }),
    runningUsers: (v) => running.get(v) ?? [],
  });
  return { va, published };
}

/** A tar (berth's own writer) of a directory holding `files`. */
async function tarOf(f: ServiceFixture, files: Record<string, string>): Promise<Buffer> {
  const dir = join(f.root, `src-${Object.keys(files).join('-')}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const chunks: Buffer[] = [];
  for await (const c of exportTree(dir)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A body that yields `tar` up to `at`, then waits for release(); atHalf resolves when it is there. */
function gated(tar: Buffer, at: number): { body: AsyncGenerator<Buffer>; atHalf: Promise<void>; release: () => void } {
  let release!: () => void;
  const halfway = new Promise<void>((r) => (release = r));
  let reachedHalf!: () => void;
  const atHalf = new Promise<void>((r) => (reachedHalf = r));
  async function* body(): AsyncGenerator<Buffer> {
    yield tar.subarray(0, at);
    reachedHalf();
    await halfway;
    yield tar.subarray(at);
  }
  return { body: body(), atHalf, release };
}

const dataOf = (f: ServiceFixture, vol: string) => join(f.root, 'volumes', vol, '_data');
const stagingOf = (f: ServiceFixture) => readdirSync(join(f.root, 'volumes', '.staging'));

test('an import swaps the new data in at once: while it streams the volume shows its old data', async (t) => {
  const f = await volumeService(t);
  const { va } = archives(f);
  await f.service.create({ name: 'vol' });
  writeFileSync(join(dataOf(f, 'vol'), 'old'), 'old\n');
  const tar = await tarOf(f, { new1: 'a\n', new2: 'b\n' });
  const { body, atHalf, release } = gated(tar, 1536);
  const done = va.import('vol', body, { replace: true });
  await atHalf;
  assert.deepEqual(readdirSync(dataOf(f, 'vol')), ['old']);
  release();
  const r = await done;
  assert.equal(r.created, false);
  assert.deepEqual(readdirSync(dataOf(f, 'vol')).sort(), ['new1', 'new2']);
  assert.deepEqual(stagingOf(f), []);
});

test('a body that fails midway changes nothing, and a volume the import would have created does not exist', async (t) => {
  const f = await volumeService(t);
  const { va, published } = archives(f);
  const tar = await tarOf(f, { x: 'x'.repeat(5000) });
  async function* broken(): AsyncGenerator<Buffer> {
    yield tar.subarray(0, 2048);
    throw new Error('the client went away');
  }
  await f.service.create({ name: 'kept' });
  writeFileSync(join(dataOf(f, 'kept'), 'precious'), 'p\n');
  await assert.rejects(va.import('kept', broken(), { replace: true }), /the client went away/);
  assert.equal(readFileSync(join(dataOf(f, 'kept'), 'precious'), 'utf8'), 'p\n');
  assert.deepEqual(readdirSync(dataOf(f, 'kept')), ['precious']);

  await assert.rejects(va.import('made', broken()), /the client went away/);
  assert.equal(f.service.find('made'), undefined);
  assert.equal(existsSync(join(f.root, 'volumes', 'made')), false);
  assert.deepEqual(stagingOf(f), []);
  assert.deepEqual(
    published.map((e) => e.action),
    [],
    'no import event for a failed import',
  );
});

test('non-empty without replace and replace under running containers are refused before the body is read', async (t) => {
  const f = await volumeService(t);
  const running = new Map<string, string[]>();
  const { va } = archives(f, running);
  await f.service.create({ name: 'full' });
  writeFileSync(join(dataOf(f, 'full'), 'f'), 'f\n');
  let read = false;
  async function* untouched(): AsyncGenerator<Buffer> {
    read = true;
    yield Buffer.alloc(0);
  }
  await assert.rejects(va.import('full', untouched()), (e: unknown) => {
    assert.ok(e instanceof Conflict);
    assert.equal(e.message, 'volume full is not empty: use --replace to replace its contents');
    return true;
  });
  running.set('full', ['web', 'db']);
  await assert.rejects(va.import('full', untouched(), { replace: true }), /volume full is in use by running container\(s\) web, db: stop them before replacing its contents/);
  assert.equal(read, false);

  // A container that starts using the volume while the archive streams makes the swap refuse.
  running.clear();
  await f.service.create({ name: 'racing' });
  const tar = await tarOf(f, { r: 'r\n' });
  async function* startsMidway(): AsyncGenerator<Buffer> {
    yield tar.subarray(0, 512);
    running.set('racing', ['late']);
    yield tar.subarray(512);
  }
  await assert.rejects(va.import('racing', startsMidway(), { replace: true }), /in use by running container\(s\) late/);
  assert.deepEqual(readdirSync(dataOf(f, 'racing')), []);
});

test('export warns about running users, mounts a mount-backed volume while it streams, and publishes at the end', async (t) => {
  const f = await volumeService(t);
  const running = new Map([['tv', ['writer']]]);
  const { va, published } = archives(f, running);
  await f.service.create({ name: 'tv', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
  const exp = await va.export('tv');
  assert.deepEqual(exp.warnings, ['volume data is in use by running container(s) writer; the export is not a point-in-time copy']);
  assert.equal(exp.totals.files, 1);
  assert.equal(published.length, 0);
  const chunks: Buffer[] = [];
  for await (const c of exp.stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).length % 512, 0);
  assert.deepEqual(published, [{ action: 'export', id: 'tv', attributes: { driver: 'local' } }]);
  // Unmounted again once the stream closed: removing it works.
  await exp.released;
  await f.service.remove('tv');

  await f.service.create({ name: 'tv2', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
  const tar = await tarOf(f, { a: 'a\n' });
  await assert.rejects(va.import('tv2', Readable.from([tar]), { replace: true }), (e: unknown) => {
    assert.ok(e instanceof InvalidParameter);
    assert.match(e.message, /volume tv2 is backed by a mount \(type tmpfs\); only plain local volumes can be imported into or cloned/);
    return true;
  });
});

test('clone copies data, labels and options, refuses an existing target, and publishes clone with its source', async (t) => {
  const f = await volumeService(t);
  const { va, published } = archives(f);
  await f.service.create({ name: 'src', labels: { team: 'a' } });
  writeFileSync(join(dataOf(f, 'src'), 'f'), 'data\n');
  const r = await va.clone('src', 'dst');
  assert.equal(r.files, 2);
  assert.equal(readFileSync(join(dataOf(f, 'dst'), 'f'), 'utf8'), 'data\n');
  assert.deepEqual(f.service.find('dst')?.labels, { team: 'a' });
  assert.deepEqual(published.at(-1), { action: 'clone', id: 'dst', attributes: { driver: 'local', source: 'src' } });
  await assert.rejects(va.clone('src', 'dst'), (e: unknown) => e instanceof Conflict && e.message === 'volume dst already exists');
  await assert.rejects(va.clone('src', ''), InvalidParameter);
  await assert.rejects(va.clone('src', 'a/b'), InvalidParameter);
  assert.equal(f.service.find('a/b'), undefined);
});

test('a driver without the staging ability: import and clone say so, and the volumes they created are gone', async (t) => {
  const f = await volumeService(t, (root) => [new ScratchDriver(join(root, 'scratch'))]);
  const { va } = archives(f);
  await f.service.create({ name: 'sv', driver: 'scratch' });
  const tar = await tarOf(f, { a: 'a\n' });
  await assert.rejects(va.import('sv', Readable.from([tar]), { replace: true }), (e: unknown) => {
    assert.ok(e instanceof NotImplemented);
    assert.equal(e.message, 'volume sv: driver scratch cannot have its data replaced');
    return true;
  });
  await assert.rejects(va.clone('sv', 'sv-copy'), NotImplemented);
  assert.equal(f.service.find('sv-copy'), undefined);
  assert.ok(f.service.find('sv'));
});

test('a volume an import creates appears only with its complete data, create event first, then import', async (t) => {
  const f = await volumeService(t);
  const { va, published } = archives(f);
  const tar = await tarOf(f, { a: 'a\n', b: 'b\n' });
  const { body, atHalf, release } = gated(tar, 1536);
  const done = va.import('fresh', body);
  await atHalf;
  assert.equal(f.service.find('fresh'), undefined, 'not visible while its data streams');
  assert.deepEqual(f.events.filter((e) => e.Actor.ID === 'fresh'), []);
  release();
  const r = await done;
  assert.equal(r.created, true);
  assert.deepEqual(readdirSync(dataOf(f, 'fresh')).sort(), ['a', 'b']);
  assert.deepEqual(f.events.filter((e) => e.Actor.ID === 'fresh').map((e) => e.Action), ['create']);
  assert.deepEqual(published.map((e) => e.action), ['import']);

  // An invalid name is refused before anything is read or made.
  await assert.rejects(va.import('x', Readable.from([tar])), InvalidParameter);
  assert.deepEqual(stagingOf(f), []);
});
