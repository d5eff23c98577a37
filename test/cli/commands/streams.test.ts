import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Demuxer, demuxBuffer, frame, StreamError } from '../../../src/cli/commands/stdcopy.js';
import { pumpStreams, type HijackedConn } from '../../../src/cli/commands/hijack.js';
import { displayJSONMessages, formatJSONMessage } from '../../../src/cli/commands/jsonmessage.js';
import { indentJSON, renderInspectOutput, templateData } from '../../../src/cli/commands/inspect.js';
import { NIL_MAP } from '../../../src/go/template.js';
import { INSPECT_OUTPUT, INSPECT_RAW } from './docker-goldens.js';

test('demultiplexes the bytes the daemon sent in the spec capture', () => {
  const live = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 4]), Buffer.from('err\n'), Buffer.from([1, 0, 0, 0, 0, 0, 0, 4]), Buffer.from('out\n')]);
  const { stdout, stderr } = demuxBuffer(live);
  assert.equal(stdout.toString(), 'out\n');
  assert.equal(stderr.toString(), 'err\n');
});

test('frames split across chunks at every byte', () => {
  const data = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world\n'), frame(0, 'in'), frame(1, '')]);
  for (let cut = 0; cut <= data.length; cut++) {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const d = new Demuxer({ stdout: (c) => out.push(c), stderr: (c) => err.push(c) });
    d.push(data.subarray(0, cut));
    d.push(data.subarray(cut));
    assert.equal(Buffer.concat(out).toString(), 'hello world\nin');
    assert.equal(Buffer.concat(err).toString(), 'oops');
    assert.equal(d.leftover, 0);
  }
});

test('stream 3 and unknown stream ids are errors', () => {
  assert.throws(() => demuxBuffer(frame(3, 'boom')), (e: unknown) => e instanceof StreamError && e.message === 'error from daemon in stream: boom');
  // docker checks the id as soon as the header is in, before the payload
  assert.throws(() => new Demuxer({ stdout: () => undefined, stderr: () => undefined }).push(Buffer.from([4, 0, 0, 0, 0, 0, 0, 9])), /Unrecognized input header: 4/);
});

function fakeConn(): { conn: HijackedConn; daemon: PassThrough; fromClient: PassThrough } {
  const daemon = new PassThrough();
  const fromClient = new PassThrough();
  const input = fromClient as unknown as HijackedConn['input'];
  return { conn: { output: daemon, input, head: Buffer.alloc(0), close: () => daemon.destroy() }, daemon, fromClient };
}

function sink(): { w: NodeJS.WritableStream; text: () => string } {
  const chunks: Buffer[] = [];
  const w = new PassThrough();
  w.on('data', (c: Buffer) => chunks.push(c));
  return { w, text: () => Buffer.concat(chunks).toString() };
}

test('pumpStreams: demux without a TTY, stdin forwarded and half-closed at EOF', async () => {
  const { conn, daemon, fromClient } = fakeConn();
  const out = sink();
  const err = sink();
  const stdin = new PassThrough();
  let sent = '';
  let ended = false;
  fromClient.on('data', (c: Buffer) => (sent += c.toString()));
  fromClient.on('end', () => (ended = true));
  const h = pumpStreams(conn, { tty: false, stdout: out.w, stderr: err.w, stdin });
  stdin.end('input\n');
  daemon.write(frame(1, 'a'));
  daemon.write(frame(2, 'b'));
  daemon.end(frame(1, 'c'));
  assert.deepEqual(await h.done, { detached: false });
  await new Promise((r) => setImmediate(r));
  assert.equal(out.text(), 'ac');
  assert.equal(err.text(), 'b');
  assert.equal(sent, 'input\n');
  assert.ok(ended, 'stdin EOF half-closes the connection');
});

test('pumpStreams: raw copy with a TTY, ctrl-p ctrl-q detaches', async () => {
  const { conn, daemon, fromClient } = fakeConn();
  const out = sink();
  const stdin = new PassThrough();
  let sent = '';
  fromClient.on('data', (c: Buffer) => (sent += c.toString()));
  const h = pumpStreams(conn, { tty: true, stdout: out.w, stdin });
  daemon.write(Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]));
  stdin.write('ls\r');
  await new Promise((r) => setImmediate(r));
  stdin.write(Buffer.from([0x10, 0x11]));
  assert.deepEqual(await h.done, { detached: true });
  assert.deepEqual([...Buffer.from(out.text())], [1, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(sent, 'ls\r');
});

test('pumpStreams: a stream error rejects', async () => {
  const { conn, daemon } = fakeConn();
  const h = pumpStreams(conn, { tty: false, stdout: sink().w, stderr: sink().w });
  daemon.write(frame(3, 'bad things'));
  await assert.rejects(h.done, /error from daemon in stream: bad things/);
});

test('JSON message streams (import, load, pull)', async () => {
  assert.equal(formatJSONMessage({ stream: 'Loaded image: busybox:latest\n' }), 'Loaded image: busybox:latest\n');
  assert.equal(formatJSONMessage({ status: 'sha256:abc' }), 'sha256:abc\n');
  assert.equal(formatJSONMessage({ status: 'Downloading', id: 'abc', progressDetail: { current: 1, total: 2 }, progress: '[=>  ]' }), '');
  assert.equal(formatJSONMessage({ status: 'Pull complete', id: 'abc', progressDetail: {} }), 'abc: Pull complete\n');
  const input = new PassThrough();
  const out = sink();
  const done = displayJSONMessages(input, out.w);
  input.write('{"stream":"Loaded image: a:1\\n"}\r\n{"str');
  input.end('eam":"Loaded image ID: sha256:1\\n"}\n{"errorDetail":{"message":"archive/tar: invalid tar header"},"error":"archive/tar: invalid tar header"}\n');
  await assert.rejects(done, /^CliError: archive\/tar: invalid tar header$|archive\/tar: invalid tar header/);
  assert.equal(out.text(), 'Loaded image: a:1\nLoaded image ID: sha256:1\n');
});

test("inspect output is the daemon's JSON re-indented as Go's json.Indent does", () => {
  assert.equal(renderInspectOutput([INSPECT_RAW], undefined), INSPECT_OUTPUT);
  assert.equal(renderInspectOutput([], undefined), '[]\n');
  assert.equal(renderInspectOutput(['{"a":1}', '{"b":[]}'], 'json'), '[{"a":1},{"b":[]}]\n');
  assert.equal(indentJSON('{"a":{},"b":[1,{"c":"x\\"y"}]}'), '{\n    "a": {},\n    "b": [\n        1,\n        {\n            "c": "x\\"y"\n        }\n    ]\n}');
});

test('inspect templates: null maps print as map[], no escape processing', () => {
  assert.equal(renderInspectOutput([INSPECT_RAW], '{{.State.ExitCode}} {{.Config.Labels}} {{json .Config.Cmd}}'), '3 map[] ["sh"]\n');
  assert.equal(renderInspectOutput(['{"Name":"/c1"}'], 'a\\tb{{.Name}}'), 'a\\tb/c1\n');
  assert.equal((templateData({ Labels: null, Env: null }) as Record<string, unknown>).Labels, NIL_MAP);
});
