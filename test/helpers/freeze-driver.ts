// A berthd in a process of its own whose freeze and backup hooks a test
// drives (no API serves them yet): it takes JSON commands on stdin, one per
// line, and answers on stdout, one JSON line each. The docker CLI talks to it
// on its socket as to any berthd; a test can kill it with -9 mid-freeze.
//
//   {"op":"freeze","ids":[...],"work":"ok"|"fail"|"hang"|"until-abort","maxMs":N}
//     ok: returns the runc states seen under the freeze; fail: throws "work failed";
//     hang: never settles; until-abort: settles only when the freeze aborts it.
//     Answers {"frozen":{id: runc status},"journal":freeze.json's content or null} when the work starts, then
//     {"result":...,"frozenMs":N} or {"error":message,"name":class}.
//   {"op":"hooks","phase":"pre"|"post","ids":[...]}
//     Answers {"report":{...}} or {"error":message,"name":class,"results":[...]}.
//   {"op":"users","volume":NAME}
//     Answers {"users":[...]} (ContainerService.usersOf).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { Daemon } from '../../src/daemon.js';
import { ExecService } from '../../src/containers/exec.js';
import { Reaper } from '../../src/util/reaper.js';
import { BackupHookFailed, runBackupHooks, type HookPhase } from '../../src/backup/hooks.js';

type Command =
  | { op: 'freeze'; ids: string[]; work: 'ok' | 'fail' | 'hang' | 'until-abort'; maxMs: number }
  | { op: 'hooks'; phase: HookPhase; ids: string[] }
  | { op: 'users'; volume: string };

const [dataRoot, execRoot, socket] = process.argv.slice(2);
if (!dataRoot || !execRoot || !socket) throw new Error('usage: freeze-driver DATA_ROOT EXEC_ROOT SOCKET');

const journalPath = join(dataRoot, 'freeze.json');
const daemon = new Daemon({ dataRoot, execRoot, hosts: [`unix://${socket}`], logger: pino({ level: 'debug' }, pino.destination(2)) });
await daemon.start();
const execs = new ExecService(daemon.containers, daemon.events, new Reaper());

function answer(o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

async function runtimeStates(ids: string[]): Promise<Record<string, string>> {
  const states: Record<string, string> = {};
  // A container that never started has no runtime state: "none".
  for (const id of ids) states[id] = await daemon.containers.runc.state(id).then((s) => s.status, () => 'none');
  return states;
}

async function freeze(cmd: Extract<Command, { op: 'freeze' }>): Promise<void> {
  const { result, frozenMs } = await daemon.containers.freeze(
    cmd.ids,
    async (signal) => {
      const states = await runtimeStates(cmd.ids);
      // The journal as it stands under the freeze (the test cannot read it then: the work may already have ended).
      const journal = existsSync(journalPath) ? (JSON.parse(readFileSync(journalPath, 'utf8')) as unknown) : null;
      answer({ frozen: states, journal });
      if (cmd.work === 'fail') throw new Error('work failed');
      if (cmd.work === 'hang') await new Promise(() => undefined);
      if (cmd.work === 'until-abort') await new Promise((resolve) => signal.addEventListener('abort', resolve));
      return states;
    },
    { maxMs: cmd.maxMs },
  );
  answer({ result, frozenMs });
}

async function hooks(cmd: Extract<Command, { op: 'hooks' }>): Promise<void> {
  try {
    const report = await runBackupHooks(cmd.phase, cmd.ids, {
      container: (id) => {
        const c = daemon.containers.resolve(id);
        return { id: c.id, name: c.name, labels: c.config.Labels ?? {} };
      },
      exec: (id, argv, opts) => execs.runCaptured(id, argv, opts),
    });
    answer({ report });
  } catch (e) {
    answer({ error: (e as Error).message, name: (e as Error).name, results: e instanceof BackupHookFailed ? e.results : undefined });
  }
}

answer({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const cmd = JSON.parse(line) as Command;
  const done = cmd.op === 'freeze' ? freeze(cmd) : cmd.op === 'hooks' ? hooks(cmd) : Promise.resolve(answer({ users: daemon.containers.usersOf(cmd.volume) }));
  done.catch((e: Error) => answer({ error: e.message, name: e.name }));
}
await daemon.stop();
