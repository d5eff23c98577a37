// Plays a berthd that starts a container and then dies: creates the
// container under conmon, starts it, prints the pids, and kills itself.
// Usage: node spawn-monitor.js '{"settings": MonitorSettings, "runcRoot": DIR, "exitDir": DIR}'
import { pino } from 'pino';
import { ContainerMonitor, type MonitorSettings } from '../../../src/containers/monitor.js';
import { ExitWatcher } from '../../../src/containers/runtime/exit-watcher.js';
import { Runc } from '../../../src/containers/runtime/runc.js';
import { Reaper } from '../../../src/util/reaper.js';

const { settings, runcRoot, exitDir } = JSON.parse(process.argv[2] ?? '{}') as { settings: MonitorSettings; runcRoot: string; exitDir: string };
const runc = new Runc({ root: runcRoot });
const reaper = new Reaper();
const deps = { conmon: { conmon: 'conmon', runc, reaper }, exits: new ExitWatcher(exitDir), reaper, log: pino({ level: 'silent' }) };
const m = await ContainerMonitor.create(deps, settings);
await m.start();
process.stdout.write(`${JSON.stringify({ conmonPid: m.conmonPid, pid: m.pid })}\n`, () => {
  process.kill(process.pid, 'SIGKILL');
});
