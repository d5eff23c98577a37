// The /images endpoints over a real socket, for what the route itself owns:
// API-version rules on the views, and image events coming from the service
// once each (the route publishes none of its own).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startDaemon, unmountUnder, type TestDaemon, removeNetworkDevices } from '../helpers/daemon.js';
import { api } from '../helpers/http.js';
import { makeSaveArchive, makeTar } from '../images/helpers.js';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d.stop();
  removeNetworkDevices(d.dataRoot);
  unmountUnder(d.dir);
  rmSync(d.dir, { recursive: true, force: true });
});

const call = (method: string, path: string, body?: unknown, opts?: Parameters<typeof api>[4]) => api(d.socket, method, path, body, opts);
const filters = (f: unknown) => encodeURIComponent(JSON.stringify(f));
const tar = (content: string): Buffer => makeTar([{ path: 'f', content }]);

test('a dangling image is listed with <none> placeholders before API 1.43 only', async () => {
  const r = await call('POST', '/images/create?fromSrc=-', undefined, { rawBody: tar('dangling\n'), contentType: 'application/x-tar' });
  assert.equal(r.status, 200);
  const id = (r.json as { status: string }).status;
  const old = await call('GET', '/v1.42/images/json');
  const cur = await call('GET', '/v1.43/images/json');
  const pick = (list: unknown) => (list as Array<{ Id: string; RepoTags: string[]; RepoDigests: string[] }>).find((i) => i.Id === id);
  assert.deepEqual([pick(old.json)?.RepoTags, pick(old.json)?.RepoDigests], [['<none>:<none>'], ['<none>@<none>']]);
  assert.deepEqual([pick(cur.json)?.RepoTags, pick(cur.json)?.RepoDigests], [[], []]);
  assert.equal((await call('DELETE', `/images/${id}`)).status, 200);
});

test('import, load, tag and rmi each publish their image events once', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const imp = await call('POST', '/images/create?fromSrc=-&repo=apiev&tag=1&changes=LABEL%20k%3Dv', undefined, {
    rawBody: tar('imported\n'),
    contentType: 'application/x-tar',
  });
  const imported = (imp.json as { status: string }).status;
  const load = await call('POST', '/images/load', undefined, {
    rawBody: makeSaveArchive([{ layers: [tar('loaded\n')], repoTags: ['apiev:loaded'] }]),
    contentType: 'application/x-tar',
  });
  assert.match(load.text, /Loaded image: apiev:loaded/);
  const loaded = ((await call('GET', '/images/apiev:loaded/json')).json as { Id: string }).Id;
  assert.equal((await call('POST', '/images/apiev:1/tag?repo=apiev&tag=2')).status, 201);
  assert.equal((await call('DELETE', '/images/apiev:2')).status, 200);
  assert.equal((await call('DELETE', `/images/${imported}`)).status, 200);
  assert.equal((await call('DELETE', '/images/apiev:loaded')).status, 200);
  const until = Math.floor(Date.now() / 1000) + 1;

  const r = await call('GET', `/events?since=${since}&until=${until}&filters=${filters({ type: ['image'] })}`);
  const events = r.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } })
    .filter((e) => e.Actor.ID === imported || e.Actor.ID === loaded);
  assert.deepEqual(
    events.map((e) => [e.Action, e.Actor.ID, e.Actor.Attributes.name]),
    [
      ['import', imported, imported],
      ['load', loaded, loaded],
      ['tag', imported, 'apiev:2'],
      ['untag', imported, imported],
      ['untag', imported, imported],
      ['delete', imported, imported],
      ['untag', loaded, loaded],
      ['delete', loaded, loaded],
    ],
  );
  assert.equal(events[0]!.Actor.Attributes.k, 'v', 'labels are attributes');
});
