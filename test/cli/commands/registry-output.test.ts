// The CLI side of pulls and pushes: moby's progress bar text, the terminal
// redraw of per-layer lines, `docker history`'s table, and credentials in
// config.json as the docker CLI writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { progressString } from '../../../src/go/jsonmessage.js';
import { displayJSONMessages, formatJSONMessage } from '../../../src/cli/commands/jsonmessage.js';
import { renderHistory } from '../../../src/cli/commands/image-history.js';
import { eraseAuth, registryAuthHeader, storeAuth, storedAuth } from '../../../src/cli/docker-config.js';
import { decodeAuthHeader } from '../../../src/registry/auth.js';

test('JSONProgress.String(): the bar above 110 columns, counts, current beyond total', () => {
  assert.equal(progressString({ current: 1_000_000, total: 2_000_000 }, 200), `[${'='.repeat(25)}>${' '.repeat(25)}]      1MB/2MB`);
  assert.equal(progressString({ current: 1_000_000, total: 2_000_000 }, 80), '     1MB/2MB');
  assert.equal(progressString({ current: 3_000_000, total: 2_000_000 }, 200), `[${'='.repeat(50)}>] ` + '     3MB');
  assert.equal(progressString({ current: 512 }, 200), '    512B');
  assert.equal(progressString({}, 200), '');
  assert.equal(progressString({ current: 5, total: 10, units: 'items' }, 80), '5/10 items');
});

test('on a terminal each layer keeps its line and is redrawn in place', async () => {
  const input = new PassThrough();
  let out = '';
  const done = displayJSONMessages(input, { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream, { terminal: true, columns: 120 });
  input.end(
    [
      '{"status":"Pulling from library/busybox","id":"latest"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}',
      '{"status":"Downloading","progressDetail":{"current":1,"total":2},"progress":"[==>  ]","id":"aaa"}',
      '{"status":"Digest: sha256:x"}',
    ].join('\n') + '\n',
  );
  await done;
  const bar = progressString({ current: 1, total: 2 }, 120);
  assert.equal(
    out,
    'latest: Pulling from library/busybox\n' +
      '\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B' +
      '\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B' +
      `\x1b[2A\x1b[2K\raaa: Downloading ${bar}\r\x1b[2B` +
      'Digest: sha256:x\n',
  );
  // Not on a terminal: progress updates are dropped, steps are lines.
  assert.equal(formatJSONMessage({ status: 'Downloading', progressDetail: { current: 1, total: 2 }, progress: '[=>]', id: 'aaa' }), '');
  assert.equal(formatJSONMessage({ status: 'Retrying in 5 seconds', progressDetail: {}, id: 'aaa' }), 'aaa: Retrying in 5 seconds\n');
});

test('push aux messages go to the callback, not the output', async () => {
  const input = new PassThrough();
  let out = '';
  const aux: unknown[] = [];
  const done = displayJSONMessages(input, { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream, { onAux: (a) => aux.push(a) });
  input.end('{"status":"v1: digest: sha256:d size: 527"}\n{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:d","Size":527}}\n');
  await done;
  assert.equal(out, 'v1: digest: sha256:d size: 527\n');
  assert.deepEqual(aux, [{ Tag: 'v1', Digest: 'sha256:d', Size: 527 }]);
});

test('docker history: the table, human and not, and --no-trunc', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const items = [
    { Id: `sha256:${'a'.repeat(64)}`, Created: now / 1000 - 120, CreatedBy: 'sh -c\techo a long command that goes on and on and on', Tags: ['x:1'], Size: 1234, Comment: 'msg' },
    { Id: '<missing>', Created: 946_684_800, CreatedBy: 'layer 0', Tags: null, Size: 1_984_303, Comment: '' },
  ];
  assert.equal(
    renderHistory(items, {}, now),
    'IMAGE          CREATED         CREATED BY                                      SIZE      COMMENT\n' +
      'aaaaaaaaaaaa   2 minutes ago   sh -c echo a long command that goes on and o…   1.23kB    msg\n' +
      '<missing>      N/A             layer 0                                         1.98MB    \n',
  );
  assert.equal(renderHistory(items, { quiet: true }, now), 'aaaaaaaaaaaa\n<missing>\n');
  assert.match(renderHistory(items, { human: false, trunc: false }, now), /^IMAGE\s+CREATED AT\s+CREATED BY\s+SIZE\s+COMMENT\nsha256:a{64}\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)\s+sh -c echo a long command that goes on and on and on\s+1234\s+msg\n/);
});

test('credentials are stored in config.json as the docker CLI stores them, keeping other keys', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
  const saved = process.env.DOCKER_CONFIG;
  process.env.DOCKER_CONFIG = dir;
  t.after(() => {
    if (saved === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'default', auths: { 'https://legacy.example:5000': { auth: Buffer.from('old:pw').toString('base64') } } }));
  assert.equal(storeAuth({ username: 'me', password: 'secret', serveraddress: 'reg.example:5000' }), true);
  assert.equal(storeAuth({ username: 'me', password: 'secret', serveraddress: 'reg.example:5000' }), false, 'unchanged: not rewritten');
  const text = readFileSync(join(dir, 'config.json'), 'utf8');
  assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600);
  assert.match(text, /^\{\n\t"currentContext": "default",\n\t"auths": \{/);
  assert.deepEqual(JSON.parse(text).auths['reg.example:5000'], { auth: Buffer.from('me:secret').toString('base64') });
  assert.deepEqual(storedAuth('reg.example:5000'), { username: 'me', password: 'secret', serveraddress: 'reg.example:5000' });
  assert.deepEqual(storedAuth('legacy.example:5000'), { username: 'old', password: 'pw', serveraddress: 'legacy.example:5000' }, 'a legacy URL key matches by host');
  assert.deepEqual(decodeAuthHeader(registryAuthHeader('docker.io')), {}, 'no Docker Hub credentials: an empty AuthConfig');
  assert.equal(eraseAuth(['reg.example:5000', 'http://reg.example:5000']), true);
  assert.deepEqual(storedAuth('reg.example:5000'), {});
});
