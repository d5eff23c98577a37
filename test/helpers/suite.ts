// One berthd with the test images for a whole test file: started before its
// tests, cleaned up after them, with the docker CLI pointed at it.
import { before, after } from 'node:test';
import { startDaemon, type TestDaemon } from './daemon.js';
import { importTestImages } from './images.js';
import { docker, dockerOk, type RunResult } from './run.js';

export interface DaemonSuite {
  /** The daemon (set once the file's `before` has run). */
  readonly d: TestDaemon;
  /** The docker CLI against it. */
  docker(...args: string[]): Promise<RunResult>;
  /** The docker CLI against it; a non-zero exit fails the test. Resolves with stdout. */
  ok(...args: string[]): Promise<string>;
}

export function useDaemonWithImages(): DaemonSuite {
  let daemon: (TestDaemon & { cleanup: () => Promise<void> }) | undefined;
  before(async () => {
    daemon = await startDaemon();
    await importTestImages(daemon.env);
  });
  after(async () => {
    await daemon?.cleanup();
  });
  const d = (): TestDaemon => {
    if (!daemon) throw new Error('the daemon starts in the test file\'s before hook');
    return daemon;
  };
  return {
    get d() {
      return d();
    },
    docker: (...args) => docker(d().env, ...args),
    ok: (...args) => dockerOk(d().env, ...args),
  };
}
