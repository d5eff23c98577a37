// Shared benchmark plumbing: an Engine API client over a unix socket with
// keep-alive, timing helpers and a berthd on a throwaway data root.
import { Agent, request } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { killContainers, removeNetworkDevices, unmountUnder } from '../test/helpers/daemon.js';

export const BERTHD = resolve(import.meta.dirname, '..', 'src', 'daemon-main.js');

export class SocketClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  constructor(readonly socketPath: string, readonly prefix = '/v1.41') {}

  call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    return new Promise((res, rej) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socketPath,
          agent: this.agent,
          method,
          path: this.prefix + path,
          headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {},
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', rej);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)]!;
}

export interface LatencyStats {
  median: number;
  p99: number;
  n: number;
}

export async function measure(n: number, fn: (i: number) => Promise<void>): Promise<LatencyStats> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { median: percentile(samples, 50), p99: percentile(samples, 99), n };
}

export async function startBerthd(): Promise<{ socket: string; dir: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const socket = join(dir, 'berth.sock');
  const child: ChildProcess = spawn(process.execPath, [BERTHD, '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '-H', `unix://${socket}`, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const client = new SocketClient(socket, '');
  for (let i = 0; i < 200; i++) {
    try {
      await client.call('GET', '/_ping');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  client.close();
  return {
    socket,
    dir,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      // What the daemon left on the host: containers, its bridges and firewall table, mounts under its root.
      const root = join(dir, 'root');
      killContainers(root);
      removeNetworkDevices(root);
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function fmt(ms: number): string {
  return ms < 10 ? ms.toFixed(3) : ms.toFixed(1);
}
