// conmon's attach socket as SeqpacketConnection sees it, with a SOCK_SEQPACKET
// server in Python (Node cannot listen on one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SeqpacketConnection } from '../../src/util/seqpacket.js';

/** A server that accepts one connection, sends `packets`, closes it and then creates `closedFlag`. */
function serve(socketPath: string, closedFlag: string, packets: string[]) {
  const script = `
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1)
print('listening', flush=True)
c, _ = s.accept()
for p in sys.argv[3:]: c.send(p.encode())
c.close()
open(sys.argv[2], 'w').close()
`;
  return spawn('python3', ['-c', script, socketPath, closedFlag, ...packets], { stdio: ['ignore', 'pipe', 'inherit'] });
}

test('the packets a peer sent before closing arrive although a write to it failed (EPIPE)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seqpacket-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'attach');
  const closedFlag = join(dir, 'closed');
  const server = serve(socketPath, closedFlag, ['\x02out', '\x03err']);
  await once(server.stdout!, 'data');
  const conn = SeqpacketConnection.connect(socketPath);
  // Within this turn of the event loop, before libuv reads: the peer closes, then the write fails.
  const flag = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(closedFlag)) Atomics.wait(flag, 0, 0, 2);
  const received: string[] = [];
  const errors: string[] = [];
  conn.on('packet', (p: Buffer) => received.push(p.toString('latin1')));
  conn.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
  // (events.once would reject at the 'error' event.)
  const closed = new Promise((resolve) => conn.once('close', resolve));
  conn.send(Buffer.from('stdin'), () => undefined);
  await closed;
  assert.deepEqual(received, ['\x02out', '\x03err']);
  assert.ok(errors.every((c) => c === 'EPIPE' || c === 'ECONNRESET'), errors.join(', '));
  await once(server, 'exit');
});
