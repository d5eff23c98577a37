// Listeners for -H: unix sockets (mode 0660) and TCP, which is only allowed
// with TLS client-certificate verification.
import { mkdirSync, chmodSync, unlinkSync, existsSync, lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import { Conflict, InvalidParameter } from '../errors.js';

export interface ListenAddress {
  proto: 'unix' | 'tcp';
  address: string;
  port?: number;
}

export function parseHost(host: string): ListenAddress {
  if (host.startsWith('unix://')) return { proto: 'unix', address: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { proto: 'unix', address: host };
  if (host.startsWith('tcp://')) {
    const rest = host.slice('tcp://'.length);
    const m = /^(\[[^\]]+\]|[^:]*):(\d+)$/.exec(rest);
    if (!m) throw new InvalidParameter(`invalid tcp address: ${host} (expected tcp://HOST:PORT)`);
    return { proto: 'tcp', address: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) };
  }
  throw new InvalidParameter(`invalid host ${host}: use unix:///path or tcp://host:port`);
}

function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function listen(server: Server, addr: ListenAddress): Promise<void> {
  if (addr.proto === 'unix') {
    mkdirSync(dirname(addr.address), { recursive: true, mode: 0o755 });
    if (existsSync(addr.address)) {
      if (!lstatSync(addr.address).isSocket()) throw new Conflict(`${addr.address} exists and is not a socket`);
      if (await socketInUse(addr.address)) throw new Conflict(`another daemon is already listening on ${addr.address}`);
      unlinkSync(addr.address);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(addr.address, 0o660);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
