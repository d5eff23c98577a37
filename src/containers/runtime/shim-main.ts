// Entry point of a shim process: `node shim-main.js --config <shim.json> [--ready-fd N]`,
// or `--standby --ready-fd N`: start Node ahead of time and wait for the config
// path as one line on fd N (a ShimPool hides Node's start-up this way).
// spawnShim() starts it detached (new session, stdio on <stateDir>/shim.log);
// it reports readiness as one JSON line on the ready fd once its socket
// listens, then closes that fd so nothing ties it to its spawner.
import { readFileSync, readSync, writeSync, closeSync } from 'node:fs';
import { runShim, type ShimConfig } from './shim.js';
import { errorText } from '../../errors.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

function notify(fd: number | undefined, msg: object): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, `${JSON.stringify(msg)}\n`);
    closeSync(fd);
  } catch {
    /* the spawner is gone: carry on */
  }
}

/** One line from fd, blocking; '' when the other end closed first. */
function readLineSync(fd: number): string {
  const buf = Buffer.alloc(4096);
  let line = '';
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 5);
        continue;
      }
      return '';
    }
    if (n === 0) return '';
    line += buf.subarray(0, n).toString('utf8');
    const nl = line.indexOf('\n');
    if (nl !== -1) return line.slice(0, nl);
  }
}

// stdout and stderr are a file on the data root: when it is full, a failed
// write must not become an 'error' event nobody handles (a crash that would
// lose the container's exit status).
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

async function main(): Promise<void> {
  const readyArg = argValue('--ready-fd');
  const readyFd = readyArg !== undefined ? Number(readyArg) : undefined;
  let configPath = argValue('--config');
  if (process.argv.includes('--standby')) {
    if (readyFd === undefined) process.exit(2);
    configPath = readLineSync(readyFd);
    // The pool (berthd) went away before handing us a container.
    if (configPath === '') process.exit(0);
  }
  if (!configPath) {
    process.stderr.write('usage: shim-main --config <shim.json> [--ready-fd N]\n');
    process.exit(2);
  }
  let config: ShimConfig;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as ShimConfig;
  } catch (e) {
    notify(readyFd, { ready: false, error: `reading ${configPath}: ${errorText(e)}` });
    process.exit(2);
  }
  process.on('uncaughtException', (e) => {
    // Keep supervising: the container must not lose its shim over a bug in a side path.
    try {
      process.stderr.write(`${new Date().toISOString()} shim ${config.id}: uncaught: ${e.stack ?? errorText(e)}\n`);
    } catch {
      /* the log's disk is full */
    }
  });
  try {
    await runShim(config, () => notify(readyFd, { ready: true, pid: process.pid }));
  } catch (e) {
    notify(readyFd, { ready: false, error: errorText(e) });
    process.stderr.write(`${new Date().toISOString()} shim ${config.id}: ${errorText(e)}\n`);
    process.exit(1);
  }
  process.exit(0);
}

void main();
