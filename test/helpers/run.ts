// Runs the real docker CLI or the berth CLI and captures everything.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BERTH } from './daemon.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

// The docker CLI 28.2 these machines ship; DOCKER_CLI overrides, `docker` on PATH is the fallback.
export const DOCKER = process.env.DOCKER_CLI ?? (existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker');

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    // A CLI that exits before reading its (empty) stdin must not fail the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export function docker(env: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> {
  return run(DOCKER, args, { env });
}

export function berth(env: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> {
  return run(process.execPath, ['--', BERTH, ...args], { env });
}

/** Runs the docker CLI and returns its stdout; a non-zero exit fails the test with its stderr. */
export async function dockerOk(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const r = await docker(env, ...args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Both CLIs, for tests that assert they answer the same. */
export const CLIS = [
  { name: 'docker', run: docker },
  { name: 'berth', run: berth },
] as const;
