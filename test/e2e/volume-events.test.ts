// Volume events of a container's life through the docker CLI: the volume
// service publishes mount at start and unmount at exit, with docker's attributes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { dockerOk } from '../helpers/run.js';
import { importTestImages } from '../helpers/images.js';

let d: TestDaemon & { cleanup: () => Promise<void> };
const ok = (...args: string[]): Promise<string> => dockerOk(d.env, ...args);

before(async () => {
  d = await startDaemon();
  await importTestImages(d.env);
});
after(async () => {
  await d.cleanup();
});

test('a container start and exit publish volume mount and unmount events', async (t) => {
  t.after(() => ok('rm', '-f', 'evc').catch(() => undefined));
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = (await ok('run', '-d', '--name', 'evc', '-v', 'evvol:/e:ro', 'busybox', 'true')).trim();
  assert.equal((await ok('wait', 'evc')).trim(), '0');
  const until = Math.floor(Date.now() / 1000) + 1;
  const lines = await ok('events', '--since', String(since), '--until', String(until), '--filter', 'type=volume', '--filter', 'volume=evvol', '--format', '{{.Action}} {{json .Actor.Attributes}}');
  assert.equal(
    lines,
    [
      'create {"driver":"local"}',
      `mount {"container":"${id}","destination":"/e","driver":"local","propagation":"","read/write":"false"}`,
      `unmount {"container":"${id}","driver":"local"}`,
      '',
    ].join('\n'),
  );
});
