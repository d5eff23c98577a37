// Image events come from the image service itself, with dockerd's actor
// (the image ID) and attributes (the image's labels plus `name`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSaveArchive, makeStore, makeTar, streamOf } from './helpers.js';

const simple = (): Buffer => makeTar([{ path: 'f', content: 'x\n' }]);

function brief(e: { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } }): unknown {
  return { type: e.Type, action: e.Action, id: e.Actor.ID, attrs: e.Actor.Attributes };
}

test('import, tag, untag and delete publish image events with labels and name', async (t) => {
  const { store, events } = makeStore(t);
  const rec = await store.importRootfs(streamOf(simple()), { reference: 'ev:1', changes: ['LABEL team=blue'] });
  await store.tag('ev:1', 'ev:2');
  await store.remove('ev:2');
  await store.remove(rec.id, { force: false });
  assert.deepEqual(events().map(brief), [
    { type: 'image', action: 'import', id: rec.id, attrs: { team: 'blue', name: rec.id } },
    { type: 'image', action: 'tag', id: rec.id, attrs: { team: 'blue', name: 'ev:2' } },
    { type: 'image', action: 'untag', id: rec.id, attrs: { team: 'blue', name: rec.id } },
    { type: 'image', action: 'untag', id: rec.id, attrs: { team: 'blue', name: rec.id } },
    { type: 'image', action: 'delete', id: rec.id, attrs: { name: rec.id } },
  ]);
  assert.equal(events()[0]?.status, 'import', 'legacy status field is kept for image events');
});

test('load publishes one load event per image, tagged or not', async (t) => {
  const { store, events } = makeStore(t);
  const archive = makeSaveArchive([
    { layers: [simple()], repoTags: ['a:1', 'a:2'], config: { Labels: { k: 'v' } } },
    { layers: [simple()], config: { Cmd: ['other'] } },
  ]);
  await store.load(streamOf(archive));
  const [tagged, untagged] = [store.resolve('a:1').id, store.list({ dangling: true })[0]!.id];
  assert.deepEqual(events().map(brief), [
    { type: 'image', action: 'load', id: tagged, attrs: { k: 'v', name: tagged } },
    { type: 'image', action: 'load', id: untagged, attrs: { name: untagged } },
  ]);
});

test('a failed import or load publishes nothing', async (t) => {
  const { store, events } = makeStore(t);
  await assert.rejects(store.importRootfs(streamOf(Buffer.from('not a tar archive, not at all'.repeat(40)))));
  await assert.rejects(store.load(streamOf(makeTar([{ path: 'nothing-here', content: 'x' }]))));
  await assert.rejects(store.tag('missing', 'x:1'), { name: 'NotFound' });
  assert.deepEqual(events(), []);
});
