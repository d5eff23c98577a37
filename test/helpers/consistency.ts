import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { api } from './http.js';

/** Asserts the API's volume list and the volume directories on disk agree exactly. */
export async function assertStoreMatchesDisk(socket: string, dataRoot: string): Promise<string[]> {
  const r = await api(socket, 'GET', '/volumes');
  assert.equal(r.status, 200);
  const listed = (r.json.Volumes as Array<{ Name: string }>).map((v) => v.Name).sort();
  const volumesDir = join(dataRoot, 'volumes');
  const onDisk = readdirSync(volumesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  assert.deepEqual(listed, onDisk, 'volume list and directories differ');
  for (const name of onDisk) assert.ok(existsSync(join(volumesDir, name, '_data')), `${name} has no _data`);
  // Removed volumes' data is deleted in the background: give it a moment.
  const scratch = (d: string) => (existsSync(join(volumesDir, d)) ? readdirSync(join(volumesDir, d)) : []);
  const leftovers = () => [...scratch('.staging'), ...scratch('.trash')];
  for (let i = 0; i < 100 && leftovers().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(leftovers(), [], 'interrupted creates or removals left staging dirs behind');
  return listed;
}
