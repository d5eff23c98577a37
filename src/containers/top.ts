// `docker top`: the host's ps(1) output, kept to the container's processes,
// as dockerd does it (daemon/top_unix.go): ps runs with the client's
// arguments (default -ef) and -q with the container's pids, then again
// without -q when those arguments refuse it; rows are kept by their PID
// column.
import { execFile } from 'node:child_process';
import { InvalidParameter, SystemError } from '../errors.js';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** dockerd's validatePSArgs: a "KEY=PID..." format specifier may only name the pid column. */
function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw new InvalidParameter(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** strings.Fields on ASCII white space only. */
function fields(line: string): string[] {
  return line.split(/[\t\n\f\r ]+/).filter((f) => f !== '');
}

/** dockerd's parsePSOutput: the rows of `pids`, with thread lines ("-" pid) after a kept row. */
export function parsePsOutput(output: string, pids: ReadonlySet<number>): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex === -1) throw new SystemError("Couldn't find PID field in ps output");
  const processes: string[][] = [];
  const keep = (f: string[]): void => {
    // Extra fields belong to the last column (a command with spaces).
    processes.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]);
  };
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const f = fields(line);
    const pidField = f[pidIndex] ?? '';
    if (pidField === '-') {
      if (previousKept) keep(f);
      continue;
    }
    if (!/^\d+$/.test(pidField)) throw new SystemError(`Unexpected pid '${pidField}': strconv.Atoi: parsing ${JSON.stringify(pidField)}: invalid syntax`);
    previousKept = pids.has(Number(pidField));
    if (previousKept) keep(f);
  }
  return { Titles: titles, Processes: processes };
}

function runPs(args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; stderr: string; message: string }> {
  return new Promise((resolve) => {
    execFile('ps', args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) resolve({ ok: false, stderr, message: err.message });
      else resolve({ ok: true, stdout });
    });
  });
}

/** The processes among `pids` as `ps <psArgs>` shows them. */
export async function top(pids: number[], psArgs: string): Promise<TopResult> {
  const argsText = psArgs === '' ? '-ef' : psArgs;
  validatePsArgs(argsText);
  const args = argsText.split(' ');
  let r = await runPs([...args, `-q${pids.join(',')}`]);
  // Some ps options (such as f) cannot be used with q: again without it.
  if (!r.ok) r = await runPs(args);
  if (!r.ok) {
    const first = r.stderr.split('\n')[0];
    throw new SystemError(`ps: ${first ? first : r.message}`);
  }
  return parsePsOutput(r.stdout, new Set(pids));
}
