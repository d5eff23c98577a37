// The walk of a live tree: an entry that vanishes between its directory's
// listing and its stat is left out when the caller says so (a backup's first
// pass: the recheck under the freeze decides), and is an error otherwise (an
// export must not miss a file); the stat-only plan skips it either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanTree } from '../../src/archive/tree-scan.js';
import { planTree } from '../../src/archive/tree-plan.js';

function tree(t: import('node:test').TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-scan-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'd'));
  for (const f of ['a', 'b', 'c']) writeFileSync(join(root, 'd', f), f);
  return root;
}

test('an entry removed after its directory was listed: left out with `vanished`, an error without', (t) => {
  for (const tolerant of [true, false]) {
    const root = tree(t);
    const vanished: string[] = [];
    const walk = scanTree(root, undefined, undefined, tolerant ? { vanished: (rel) => vanished.push(rel.toString()) } : {});
    const seen: string[] = [];
    const take = () => {
      for (const e of walk) {
        seen.push(e.rel.toString());
        // d's children were listed before d/a came: remove the next one before it is stat'ed.
        if (e.rel.toString() === 'd/a') rmSync(join(root, 'd', 'b'));
      }
    };
    if (tolerant) {
      take();
      assert.deepEqual(seen, ['', 'd', 'd/a', 'd/c']);
      assert.deepEqual(vanished, ['d/b']);
    } else {
      assert.throws(take, /ENOENT/);
    }
  }
});

test('the plan of a tree counts what is there', async (t) => {
  const root = tree(t);
  const plan = await planTree(root, 2);
  assert.equal(plan.totals.files, 5);
  assert.equal(plan.totals.bytes, 3);
});
