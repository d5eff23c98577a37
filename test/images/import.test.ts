import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { busyboxTar } from '../helpers/busybox.js';
import { makeStore, streamOf, sha256, mountedUnder } from './helpers.js';
import { inspectJson, summaries } from './views.js';

const CHANGES = [
  'CMD ["sh"]',
  'ENTRYPOINT /bin/echo',
  'ENV A=1 B="two words"',
  'ENV C 3 and more',
  'WORKDIR /app',
  'WORKDIR sub',
  'VOLUME /data /other',
  'VOLUME ["/json"]',
  'USER nobody',
  'EXPOSE 80 53/udp',
  'LABEL org.example.name="berth test" version=1',
];

test('import of a busybox tar with --change values; inspect shows Config', async (t) => {
  const { store, dir } = makeStore(t);
  const tarPath = busyboxTar(dir);
  const tarBytes = readFileSync(tarPath);
  const rec = await store.importRootfs(createReadStream(tarPath), { reference: 'bb:imported', changes: CHANGES, message: 'from test' });

  assert.match(rec.id, /^sha256:[a-f0-9]{64}$/);
  assert.deepEqual(rec.repoTags, ['bb:imported']);
  assert.deepEqual(rec.layers, [`sha256:${sha256(tarBytes)}`], 'diff_id is the sha256 of the tar');

  const ins = inspectJson(store, 'bb:imported');
  assert.equal(ins.Id, rec.id);
  assert.deepEqual(ins.RepoTags, ['bb:imported']);
  assert.deepEqual(ins.RepoDigests, []);
  assert.equal(ins.Comment, 'from test');
  assert.equal(ins.Os, 'linux');
  assert.ok(ins.Architecture.length > 0);
  assert.ok(ins.Size > 1_000_000, 'size counts the busybox binary');
  assert.equal(ins.GraphDriver.Name, 'overlay2');
  assert.deepEqual(ins.RootFS, { Type: 'layers', Layers: rec.layers });
  assert.notEqual(ins.Metadata.LastTagTime, '0001-01-01T00:00:00Z');
  const c = ins.Config;
  assert.deepEqual(c.Cmd, ['sh']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/bin/echo']);
  assert.deepEqual(c.Env, ['A=1', 'B=two words', 'C=3 and more']);
  assert.equal(c.WorkingDir, '/app/sub');
  assert.deepEqual({ ...c.Volumes }, { '/data': {}, '/other': {}, '/json': {} });
  assert.equal(c.User, 'nobody');
  assert.deepEqual({ ...c.ExposedPorts }, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual({ ...c.Labels }, { 'org.example.name': 'berth test', version: '1' });
  // Docker prints every Config key.
  for (const k of ['Hostname', 'Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Image', 'OnBuild']) {
    assert.ok(k in c, `Config.${k} present`);
  }

  // The layer is unpacked once, with symlinks, modes and content intact.
  const diff = store.layerDir(rec.layers[0]!)!;
  assert.equal(readlinkSync(join(diff, 'bin', 'sh')), 'busybox');
  assert.equal(lstatSync(join(diff, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(lstatSync(join(diff, 'bin', 'busybox')).mode & 0o777, 0o755);
  assert.equal(readFileSync(join(diff, 'data', 'image-file'), 'utf8'), 'from the image\n');
  assert.equal(lstatSync(join(diff, 'bin', 'busybox')).size, lstatSync('/bin/busybox').size);

  // CMD after ENTRYPOINT keeps CMD; ENTRYPOINT alone resets it.
  const rec2 = await store.importRootfs(streamOf(tarBytes), { changes: ['CMD echo hi'] });
  assert.deepEqual(rec2.config.config?.Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(rec2.repoTags, []);
  assert.deepEqual(rec2.layers, rec.layers, 'same tar → same layer');
  assert.equal(store.layerRefCount(rec.layers[0]!), 2, 'two images share the layer');
  assert.equal(mountedUnder(dir).length, 0);
});

test('import of a gzip tar, dangling image, list and resolve forms', async (t) => {
  const { store, dir } = makeStore(t);
  const tarBytes = readFileSync(busyboxTar(dir));
  const importStartSec = Math.floor(Date.now() / 1000);
  const rec = await store.importRootfs(streamOf(gzipSync(tarBytes)), {});
  const importEndSec = Math.ceil(Date.now() / 1000);
  assert.deepEqual(rec.layers, [`sha256:${sha256(tarBytes)}`], 'diff_id is of the uncompressed tar');
  assert.deepEqual(rec.repoTags, []);
  assert.equal(rec.config.history?.[0]?.comment, 'Imported from -');

  const [s] = summaries(store);
  assert.ok(s);
  assert.equal(s.Id, rec.id);
  assert.deepEqual(s.RepoTags, []);
  assert.deepEqual(s.RepoDigests, []);
  assert.equal(s.ParentId, '');
  assert.equal(s.SharedSize, -1);
  assert.equal(s.Containers, -1);
  assert.equal(s.Labels, null);
  assert.equal(typeof s.Created, 'number');
  assert.ok(s.Created >= importStartSec && s.Created <= importEndSec, `Created ${s.Created} lies within the import`);
  assert.deepEqual(summaries(store, { legacyNone: true })[0]?.RepoTags, ['<none>:<none>']);
  assert.deepEqual(summaries(store, { legacyNone: true })[0]?.RepoDigests, ['<none>@<none>']);

  const hex = rec.id.slice(7);
  assert.equal(store.resolve(rec.id).id, rec.id);
  assert.equal(store.resolve(hex).id, rec.id);
  assert.equal(store.resolve(hex.slice(0, 12)).id, rec.id);
  assert.equal(store.resolve(hex.slice(0, 1)).id, rec.id, 'one-character prefix, as docker');
  assert.equal(store.resolve(`sha256:${hex.slice(0, 5)}`).id, rec.id);

  await store.tag(hex.slice(0, 8), 'docker.io/library/mybox:1.0');
  assert.deepEqual(store.resolve('mybox:1.0').repoTags, ['mybox:1.0']);
  assert.equal(store.resolve('docker.io/library/mybox:1.0').id, rec.id);
  assert.equal(store.resolve('library/mybox:1.0').id, rec.id);
  assert.equal(store.resolve('index.docker.io/library/mybox:1.0').id, rec.id);
  assert.throws(() => store.resolve('mybox'), { name: 'NotFound', message: 'No such image: mybox' });
  await store.tag('mybox:1.0', 'mybox');
  assert.equal(store.resolve('mybox').id, rec.id, 'tag defaults to latest');
  assert.deepEqual(store.resolve('mybox:latest').repoTags, ['mybox:1.0', 'mybox:latest']);
  assert.throws(() => store.resolve('nope'), { name: 'NotFound', message: 'No such image: nope' });
  assert.throws(() => inspectJson(store, 'sha256:' + 'f'.repeat(64)), { name: 'NotFound' });
  assert.deepEqual(store.list({ dangling: true }), []);
  assert.equal(store.list({ reference: 'mybox' }).length, 1);
  assert.equal(store.list({ reference: 'other*' }).length, 0);
});

test('import validates reference and changes before reading the stream', async (t) => {
  const { store } = makeStore(t);
  const never = streamOf(Buffer.alloc(0));
  await assert.rejects(store.importRootfs(never, { changes: ['RUN echo hi'] }), {
    name: 'InvalidParameter',
    message: 'RUN is not a valid change command',
  });
  await assert.rejects(store.importRootfs(never, { changes: ['from scratch'] }), { message: 'from is not a valid change command' });
  await assert.rejects(store.importRootfs(never, { reference: 'Upper:tag' }), { name: 'InvalidParameter', message: /invalid reference format/ });
  await assert.rejects(store.importRootfs(never, { reference: 'a@sha256:' + 'a'.repeat(64) }), { name: 'InvalidParameter' });
  await assert.rejects(store.importRootfs(streamOf(Buffer.from('this is not a tar archive at all, not even close'.repeat(20)))), {
    name: 'InvalidParameter',
  });
  assert.equal(store.list().length, 0);
  assert.ok(!existsSync(join(store.root, 'layers', 'x')));
});

test('store survives a restart: tags, LastTagTime and layers are reloaded', async (t) => {
  const { store, dir, reopen } = makeStore(t);
  const tarBytes = readFileSync(busyboxTar(dir));
  const rec = await store.importRootfs(streamOf(tarBytes), { reference: 'persist:me', changes: ['ENV X=1'] });
  const before = inspectJson(store, 'persist:me');
  const again = reopen();
  const after = inspectJson(again, 'persist:me');
  assert.deepEqual(after, before);
  assert.equal(again.layerRefCount(rec.layers[0]!), 1);
  const state = JSON.parse(readFileSync(join(store.root, 'repositories.json'), 'utf8'));
  assert.deepEqual(state.Repositories, { persist: { 'persist:me': rec.id } });
  const config = readFileSync(join(store.root, 'imagedb', `${rec.id.slice(7)}.json`));
  assert.equal(`sha256:${sha256(config)}`, rec.id, 'image ID is the sha256 of the stored config');
});
