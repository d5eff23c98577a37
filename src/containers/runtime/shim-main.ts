// Entry point of a shim process: `node shim-main.js --config <shim.json> [--ready-fd N]`.
// spawnShim() starts it detached (new session, stdio on <stateDir>/shim.log);
// it reports readiness as one JSON line on the ready fd once its socket
// listens, then closes that fd so nothing ties it to its spawner.
import { readFileSync, writeSync, closeSync } from 'node:fs';
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

async function main(): Promise<void> {
  const configPath = argValue('--config');
  const readyArg = argValue('--ready-fd');
  const readyFd = readyArg !== undefined ? Number(readyArg) : undefined;
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
    process.stderr.write(`${new Date().toISOString()} shim ${config.id}: uncaught: ${e.stack ?? errorText(e)}\n`);
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
