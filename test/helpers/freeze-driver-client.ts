// Starts test/helpers/freeze-driver.ts on a test daemon's data root and
// socket (the daemon stopped first: one berthd per data root) and talks to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { TestDaemon } from './daemon.js';

const DRIVER = join(import.meta.dirname, 'freeze-driver.js');

export interface FreezeDriver {
  process: ChildProcess;
  send(command: object): void;
  /** The next answer line, parsed. */
  next(): Promise<Record<string, any>>;
  logs(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFreezeDriver(d: TestDaemon): Promise<FreezeDriver> {
  await d.stop();
  const child = spawn(process.execPath, [DRIVER, d.dataRoot, d.execRoot, d.socket], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const answers: Array<Record<string, any>> = [];
  const waiters: Array<(a: Record<string, any>) => void> = [];
  let ended = false;
  const fail: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const a = JSON.parse(line) as Record<string, any>;
    const w = waiters.shift();
    if (w) w(a);
    else answers.push(a);
  });
  child.once('exit', () => {
    ended = true;
    for (const f of fail.splice(0)) f();
  });
  const exited = (): Promise<void> => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r())));
  const driver: FreezeDriver = {
    process: child,
    send: (command) => child.stdin!.write(JSON.stringify(command) + '\n'),
    next: () => {
      const queued = answers.shift();
      if (queued) return Promise.resolve(queued);
      if (ended) return Promise.reject(new Error(`the freeze driver exited: ${stderr}`));
      return new Promise((resolve, reject) => {
        waiters.push(resolve);
        fail.push(() => reject(new Error(`the freeze driver exited: ${stderr}`)));
      });
    },
    logs: () => stderr,
    async kill9() {
      const done = exited();
      child.kill('SIGKILL');
      await done;
    },
    async stop() {
      const done = exited();
      child.stdin!.end();
      child.kill('SIGTERM');
      await done;
    },
  };
  const ready = await driver.next();
  if (ready.ready !== true) throw new Error(`the freeze driver did not start: ${stderr}`);
  return driver;
}
