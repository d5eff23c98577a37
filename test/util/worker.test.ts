// Terminating a worker while it loads koffi's addon once aborted berthd
// (a fatal napi_throw): terminateWorker waits until the worker has loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const WORKER_MODULE = new URL('../../src/util/worker.js', import.meta.url).href;
const EXPORT_MODULE = new URL('../../src/archive/tree-export.js', import.meta.url).href;

test('workers terminated at every moment of their start leave the process running', () => {
  // In a child process: an abort there is an exit status here, not the end of the test runner.
  const script = `
    const { startWorker, terminateWorker } = await import(${JSON.stringify(WORKER_MODULE)});
    for (let i = 0; i < 150; i++) {
      const w = startWorker(${JSON.stringify(EXPORT_MODULE)}, 'tree-export-worker', { root: '/nonexistent', topName: '.', credits: 1 });
      w.on('error', () => {});
      await new Promise((r) => w.once('online', r));
      const delay = (i % 75) * 0.3;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      await terminateWorker(w);
    }
    process.stdout.write('done');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.signal, null, r.stderr.slice(0, 2000));
  assert.equal(r.status, 0, r.stderr.slice(0, 2000));
  assert.equal(r.stdout, 'done');
});
