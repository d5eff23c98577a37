// `docker exec`: extra processes in a running container, each under its own
// conmon (its exec mode), which runs `runc exec` once a client could attach.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, NotFound, InvalidParameter, errorText } from '../errors.js';
import { generateId } from '../util/random-id.js';
import { capabilitySet, resolveUser } from './runtime/oci-spec.js';
import { ExecMonitor, RuntimeStartError, resizeTerminal } from './runtime/conmon.js';
import { AttachHub, FrameDecoder, type Attachment } from './runtime/attach-hub.js';
import { killProcessTree } from '../util/proc.js';
import type { Reaper } from '../util/reaper.js';
import type { ContainerService } from './service.js';
import type { EventSink } from '../events/bus.js';
import { isRunning, type ContainerRecord } from './types.js';

export interface ExecConfig {
  Cmd: string[];
  Env: string[];
  WorkingDir: string;
  User: string;
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Privileged: boolean;
}

/** What a captured exec (a backup hook) did. */
export interface CapturedExec {
  /** The process's exit code; 128+9 when it was killed at its timeout. */
  exitCode: number;
  /** stdout and stderr as they came, interleaved: at most the last CAPTURE_LIMIT bytes. */
  output: string;
  /** True when the timeout passed and the process (and its children) were killed. */
  timedOut: boolean;
}

/** How much of a captured exec's output is kept (its end, where errors are). */
export const CAPTURE_LIMIT = 64 * 1024;

interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  /** conmon's directory for this exec (attach socket, ctl fifo, process.json), while it runs. */
  dir?: string;
  done?: Promise<void>;
}

/**
 * dockerd's refusals for an exec (daemon/exec.go): a stopped container, and
 * a paused one; the paused message names the container as the request did.
 */
function checkExecutable(c: ContainerRecord, ref: string): void {
  if (c.state.status === 'restarting') throw new Conflict(`Container ${c.id} is restarting, wait until the container is running`);
  if (!isRunning(c.state)) throw new Conflict(`container ${c.id} is not running`);
  if (c.state.status === 'paused') throw new Conflict(`Container ${ref} is paused, unpause the container before exec`);
}

export class ExecService {
  private readonly execs = new Map<string, ExecRecord>();

  constructor(
    private readonly containers: ContainerService,
    private readonly events: EventSink,
    private readonly reaper: Reaper,
  ) {}

  create(ref: string, body: Record<string, unknown>): string {
    const c = this.containers.resolve(ref);
    checkExecutable(c, ref);
    const cmd = Array.isArray(body.Cmd) ? (body.Cmd as string[]) : typeof body.Cmd === 'string' ? [body.Cmd] : [];
    if (cmd.length === 0) throw new InvalidParameter('No exec command specified');
    const id = generateId();
    this.execs.set(id, {
      id,
      containerId: c.id,
      config: {
        Cmd: cmd,
        Env: Array.isArray(body.Env) ? (body.Env as string[]) : [],
        WorkingDir: typeof body.WorkingDir === 'string' ? body.WorkingDir : '',
        User: typeof body.User === 'string' ? body.User : '',
        Tty: body.Tty === true,
        AttachStdin: body.AttachStdin === true,
        AttachStdout: body.AttachStdout !== false,
        AttachStderr: body.AttachStderr !== false,
        Privileged: body.Privileged === true,
      },
      running: false,
      exitCode: null,
      pid: 0,
    });
    this.events.publish('container', `exec_create: ${cmd.join(' ')}`, c.id, { name: c.name, execID: id });
    return id;
  }

  private get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw new NotFound(`No such exec instance: ${id}`);
    return e;
  }

  /**
   * Starts the process. With `attach`, the returned attachment carries its
   * stdio (frames without a TTY); the exit code is recorded when it ends.
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean }): Promise<Attachment | null> {
    const e = this.get(id);
    if (e.running || e.exitCode !== null) throw new Conflict(`Error: Exec command ${id} has already run`);
    const c = this.containers.resolve(e.containerId);
    checkExecutable(c, c.id);
    const bundle = this.containers.containerDir(c.id);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
      process: Record<string, unknown> & { env?: string[] };
      root: { path: string };
    };
    const tty = opts.tty ?? e.config.Tty;
    const user = resolveUser(spec.root.path, e.config.User || c.config.User || undefined);
    const env = [...(spec.process.env ?? [])];
    for (const kv of e.config.Env) {
      const key = kv.split('=')[0];
      const i = env.findIndex((x) => x.split('=')[0] === key);
      if (i >= 0) env[i] = kv;
      else env.push(kv);
    }
    if (tty && !env.some((x) => x.startsWith('TERM='))) env.push('TERM=xterm');
    const process = {
      ...spec.process,
      terminal: tty,
      args: e.config.Cmd,
      env,
      cwd: e.config.WorkingDir || (spec.process.cwd as string) || '/',
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    };
    delete (process as Record<string, unknown>).consoleSize;
    if (e.config.Privileged) {
      // docker exec --privileged: the process gets every capability the runtime can grant.
      const all = capabilitySet([], [], { privileged: true, available: this.containers.host().capabilities });
      (process as Record<string, unknown>).capabilities = { bounding: all, effective: all, permitted: all };
    }
    const dir = join(this.containers.stateDir(c.id), 'exec', id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const processFile = join(dir, 'process.json');
    writeFileSync(processFile, JSON.stringify(process), { mode: 0o600 });
    const stdin = e.config.AttachStdin && !opts.detach;
    let monitor: ExecMonitor;
    try {
      monitor = await ExecMonitor.spawn(this.containers.conmon, { containerId: c.id, execId: id, dir, processFile, tty, stdin });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    // conmon left for berthd (its subreaper): reaped when it exits.
    void this.reaper.watch(monitor.conmonPid);
    e.dir = dir;
    const hub = new AttachHub({ socketPath: join(dir, 'attach'), tty, openStdin: stdin, stdinOnce: true, warn: () => undefined });
    let attachment: Attachment | null = null;
    if (!opts.detach) attachment = hub.attach({ stdin: e.config.AttachStdin, stdout: e.config.AttachStdout, stderr: e.config.AttachStderr });
    e.running = true;
    this.events.publish('container', `exec_start: ${e.config.Cmd.join(' ')}`, c.id, { name: c.name, execID: id });
    e.done = monitor.exit.then((exit) => {
      e.running = false;
      e.exitCode = exit.exitCode;
      hub.finish();
      rmSync(dir, { recursive: true, force: true });
      e.dir = undefined;
      if (e.pid > 0) this.events.publish('container', 'exec_die', c.id, { name: c.name, execID: id, exitCode: String(exit.exitCode) });
    });
    try {
      e.pid = await monitor.begin();
    } catch (err) {
      await e.done;
      attachment?.close();
      throw err instanceof RuntimeStartError ? err.apiError : err;
    }
    return attachment;
  }

  /**
   * Runs `cmd` in a running container without a client attached (backup
   * hooks): collects its output, and kills it with every process it started
   * when it runs past `timeoutMs`. The exec is forgotten once it is over.
   */
  async runCaptured(ref: string, cmd: string[], opts: { timeoutMs: number }): Promise<CapturedExec> {
    const id = this.create(ref, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    try {
      let attachment: Attachment;
      try {
        attachment = (await this.start(id, { detach: false, tty: false }))!;
      } catch (err) {
        // The command could not be started (sh missing: 126/127, as docker exec reports it).
        const code = this.get(id).exitCode;
        if (code === null) throw err;
        return { exitCode: code, output: errorText(err), timedOut: false };
      }
      const chunks: Buffer[] = [];
      let kept = 0;
      const decoder = new FrameDecoder((_stream, payload) => {
        chunks.push(Buffer.from(payload));
        kept += payload.length;
        while (kept - chunks[0]!.length >= CAPTURE_LIMIT) kept -= chunks.shift()!.length;
      });
      attachment.output.on('data', (d: Buffer) => decoder.push(d));
      const e = this.get(id);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (e.running && e.pid > 0) killProcessTree(e.pid);
      }, opts.timeoutMs);
      try {
        await Promise.all([attachment.done, e.done]);
      } finally {
        clearTimeout(timer);
      }
      const output = Buffer.concat(chunks);
      return {
        exitCode: e.exitCode ?? 126,
        output: output.subarray(Math.max(0, output.length - CAPTURE_LIMIT)).toString('utf8'),
        timedOut,
      };
    } finally {
      this.execs.delete(id);
    }
  }

  /** Waits until the process has exited and its exit code is recorded. */
  async finished(id: string): Promise<void> {
    await this.get(id).done;
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const e = this.get(id);
    if (!e.dir || !e.running) throw new Conflict(`exec ${id} is not running`);
    if (!e.config.Tty) return;
    try {
      resizeTerminal(e.dir, h, w);
    } catch (err) {
      throw new Conflict(`cannot resize exec ${id}: ${errorText(err)}`, { cause: err });
    }
  }

  inspect(id: string): Record<string, unknown> {
    const e = this.get(id);
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: {
        tty: e.config.Tty,
        entrypoint: e.config.Cmd[0],
        arguments: e.config.Cmd.slice(1),
        privileged: e.config.Privileged,
        user: e.config.User,
      },
      OpenStdin: e.config.AttachStdin,
      OpenStderr: e.config.AttachStderr,
      OpenStdout: e.config.AttachStdout,
      CanRemove: false,
      ContainerID: e.containerId,
      DetachKeys: '',
      Pid: e.pid,
    };
  }
}
