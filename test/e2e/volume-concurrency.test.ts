// Many parallel creates, removes and prunes over the socket; afterwards the
// store and the directories agree exactly. Then the same under kill -9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../helpers/daemon.js';
import { api } from '../helpers/http.js';
import { assertStoreMatchesDisk } from '../helpers/consistency.js';

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

test('parallel creates, removes and prunes leave store and disk in agreement', async (t) => {
  const d = await startDaemon(t);
  const ops = Array.from({ length: 600 }, (_, i) => i);
  const statuses = new Map<string, number>();
  const count = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);
  await pool(ops, 32, async (i) => {
    // A fixed pseudo-random sequence, so names see every kind of operation.
    const name = `cc-${(i * 7919) % 40}`;
    const kind = Math.floor(i / 7) % 10;
    if (kind < 5) {
      const r = await api(d.socket, 'POST', '/volumes/create', kind === 0 ? {} : { Name: name });
      assert.equal(r.status, 201, r.text);
      count('create');
    } else if (kind < 9) {
      const r = await api(d.socket, 'DELETE', `/volumes/${name}`);
      assert.ok(r.status === 204 || r.status === 404, `${r.status} ${r.text}`);
      count(`rm-${r.status}`);
    } else {
      const r = await api(d.socket, 'POST', `/volumes/prune?filters=${encodeURIComponent('{"all":["true"]}')}`);
      assert.ok(r.status === 200 || r.status === 409, `${r.status} ${r.text}`);
      if (r.status === 409) assert.equal(r.json.message, 'a prune operation is already running');
      count(`prune-${r.status}`);
    }
  });
  assert.ok((statuses.get('rm-204') ?? 0) > 0, 'some removes succeeded');
  await assertStoreMatchesDisk(d.socket, d.dataRoot);
  // And the same after a clean restart.
  await d.restart();
  await assertStoreMatchesDisk(d.socket, d.dataRoot);
});

test('kill -9 during load: after restart nothing acknowledged is lost and nothing is orphaned', async (t) => {
  const d = await startDaemon(t);
  const created = new Set<string>();
  const removed = new Set<string>();
  const attemptedRemove = new Set<string>();
  let stop = false;
  let i = 0;
  // The kill comes once the load is under way (40 creates acknowledged), however slow the machine.
  let underWay!: () => void;
  const loadRunning = new Promise<void>((r) => (underWay = r));
  const worker = async () => {
    while (!stop) {
      const n = i++;
      const name = `crash-${n}`;
      try {
        const r = await api(d.socket, 'POST', '/volumes/create', { Name: name, Labels: { n: String(n) } });
        if (r.status === 201) {
          created.add(name);
          if (created.size === 40) underWay();
        }
        if (n % 3 === 0) {
          const victim = `crash-${n - 3}`;
          attemptedRemove.add(victim);
          const rr = await api(d.socket, 'DELETE', `/volumes/${victim}`);
          if (rr.status === 204) removed.add(victim);
        }
      } catch {
        return; // the daemon died under us
      }
    }
  };
  const workers = Array.from({ length: 16 }, worker);
  await loadRunning;
  await d.kill9();
  stop = true;
  await Promise.all(workers);
  assert.ok(created.size > 20, `load ran (${created.size} creates acknowledged)`);
  await d.restart();
  const listed = new Set(await assertStoreMatchesDisk(d.socket, d.dataRoot));
  for (const name of created) {
    if (attemptedRemove.has(name)) continue;
    assert.ok(listed.has(name), `acknowledged volume ${name} was lost`);
    const v = await api(d.socket, 'GET', `/volumes/${name}`);
    assert.deepEqual(v.json.Labels, { n: name.slice('crash-'.length) }, 'labels survive');
  }
  for (const name of removed) assert.ok(!listed.has(name), `acknowledged removal of ${name} came back`);
});
