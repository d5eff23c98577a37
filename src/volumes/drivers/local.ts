// The `local` driver: a directory per volume under <data-root>/volumes, laid
// out as Docker lays it out (spec 2.3), optionally backed by a mount(2) of a
// tmpfs, bind or block device chosen by the `type`, `device`, `o` options.
import { mkdir, readdir, readFile, rm, stat, access } from 'node:fs/promises';
import { mkdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { Logger } from 'pino';
import type { DriverVolume, MountingDriver, SizedDriver, StagingDriver } from '../driver.js';
import { InvalidParameter, SystemError, Conflict, NotFound, errorText } from '../../errors.js';
import { validateLocalName } from '../names.js';
import { directorySize, writeFileAtomic } from '../../util/fs.js';
import { mount, unmount, mountsUnder, MountError } from '../../util/mount.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { exchangePaths, syncFilesystem } from '../../fs/exchange.js';
import { parseMountOptions, mountErrorText } from './mount-options.js';
import { ramInBytes } from '../../go/units.js';
import { goErrnoText } from '../../util/go-errno.js';

const VALID_OPTIONS = new Set(['type', 'device', 'o', 'size']);
// Scratch directories under the volume root; their names are not valid volume names.
const STAGING = '.staging';
const TRASH = '.trash';
// docker: spec 3.1 — each key requires the others listed, checked in this order.
const MANDATORY: Array<[string, string[]]> = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

interface OptsFile {
  MountType: string;
  MountOpts: string;
  MountDevice: string;
  Quota: { Size: number };
}

interface LocalVolumeState {
  opts: OptsFile | null;
  /** Active references (container starts, copy-ups). */
  refs: Set<string>;
  /** _data currently has our mount on it. */
  mounted: boolean;
}

export class LocalDriver implements MountingDriver, SizedDriver, StagingDriver {
  readonly name = 'local';
  readonly scope = 'local' as const;
  private readonly volumes = new Map<string, LocalVolumeState>();

  constructor(
    readonly root: string,
    private readonly log?: Logger,
  ) {}

  /** Scans the volume root: every NAME/ holding _data or opts.json is a volume (spec 2.4). */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    await this.clearScratch();
    const mounted = new Set(mountsUnder(this.root).map((m) => m.mountPoint));
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      // Scratch dirs (cleared above) and anything else that is not a valid volume name.
      if (entry.name.startsWith('.')) continue;
      const dir = join(this.root, entry.name);
      const hasData = await exists(join(dir, '_data'));
      const opts = await readOptsFile(join(dir, 'opts.json'));
      if (!hasData && !opts) continue;
      this.volumes.set(entry.name, { opts, refs: new Set(), mounted: mounted.has(join(dir, '_data')) });
    }
  }

  private scratchCounter = 0;
  /** Unique within this daemon's lifetime; scratch dirs are cleared at start. */
  private scratchName(): string {
    return `${process.pid}-${++this.scratchCounter}`;
  }

  private async clearScratch(): Promise<void> {
    for (const d of [STAGING, TRASH]) {
      await rm(join(this.root, d), { recursive: true, force: true }).catch(() => undefined);
      await mkdir(join(this.root, d), { mode: 0o700 });
    }
  }

  validateOptions(options: Record<string, string> | null): void {
    if (!options || Object.keys(options).length === 0) return;
    for (const key of Object.keys(options)) {
      if (!VALID_OPTIONS.has(key)) throw new InvalidParameter(`invalid option: ${JSON.stringify(key)}`);
    }
    if (options.type === 'cifs' && options.device) {
      if (/^\/\/[^/]*:\d+/.test(options.device)) {
        throw new InvalidParameter("port not allowed in CIFS device URL, include 'port' in 'o='");
      }
    }
    if ('size' in options) {
      let size: number;
      try {
        size = ramInBytes(options.size ?? '');
      } catch (e) {
        throw new InvalidParameter((e as Error).message);
      }
      // No xfs project quota support here (spec 3.1).
      if (size > 0) throw new InvalidParameter('quota size requested but no quota support');
    }
    for (const [key, required] of MANDATORY) {
      if (!Object.hasOwn(options, key)) continue;
      for (const r of required) {
        if (!Object.hasOwn(options, r)) throw new InvalidParameter(`missing required option: ${JSON.stringify(r)}`);
      }
    }
  }

  async create(name: string, options: Record<string, string> | null, commit?: () => void): Promise<DriverVolume> {
    validateLocalName(name);
    this.validateOptions(options);
    const existing = this.volumes.get(name);
    const dir = join(this.root, name);
    if (existing) {
      commit?.();
      return { name, mountpoint: join(dir, '_data'), createdAt: await ctimeMs(dir) };
    }
    // Build the volume in a staging directory and rename it into place, so a
    // crash never leaves half a volume behind (init() clears the staging dirs).
    // These are metadata-only syscalls: sync calls beat a threadpool round trip.
    // Staging and trash have their own parent directories, so building and
    // deleting volumes does not contend for the lock of the volume root.
    const staging = join(this.root, STAGING, this.scratchName());
    let opts: OptsFile | null = null;
    /** Set when the directory was made by hand: adopted, and never taken away again. */
    let adopted = false;
    try {
      mkdirSync(staging, { mode: 0o701 });
      mkdirSync(join(staging, '_data'), { mode: 0o755 });
      if (options && Object.keys(options).length > 0) {
        opts = {
          MountType: options.type ?? '',
          MountOpts: options.o ?? '',
          MountDevice: options.device ?? '',
          Quota: { Size: 0 },
        };
        await writeFileAtomic(join(staging, 'opts.json'), JSON.stringify(opts), 0o600);
      }
      renameSync(staging, dir);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') {
        // A directory of that name appeared by hand: adopt it as docker would.
        mkdirSync(join(dir, '_data'), { recursive: true, mode: 0o755 });
        adopted = true;
      } else {
        throw new SystemError(`error while creating volume root path '${dir}': mkdir ${dir}: ${goErrnoText(e)}`);
      }
    }
    if (commit) {
      try {
        commit();
      } catch (e) {
        // Not recorded: the volume must not exist either (a crash here leaves the directory, adopted at start).
        if (!adopted) this.discard(dir);
        throw e;
      }
    }
    this.volumes.set(name, { opts, refs: new Set(), mounted: false });
    return { name, mountpoint: join(dir, '_data'), createdAt: Date.now() };
  }

  /** Moves a directory to the trash and deletes it in the background. */
  private discard(dir: string): void {
    const trash = join(this.root, TRASH, this.scratchName());
    try {
      renameSync(dir, trash);
    } catch (e) {
      this.log?.warn({ dir, err: errorText(e) }, 'could not move a volume directory to the trash');
      return;
    }
    void rm(trash, { recursive: true, force: true }).catch((e) => this.log?.warn({ dir, err: errorText(e) }, 'deleting volume data failed'));
  }

  async remove(name: string, commit?: () => void): Promise<void> {
    const state = this.volumes.get(name);
    const dir = join(this.root, name);
    if (!state) {
      if (!(await exists(dir))) {
        commit?.();
        return;
      }
    }
    if (state && state.refs.size > 0) throw new Conflict('volume has active mounts');
    // The driver tracks its own mounts (init() read mountinfo once), so no per-remove scan.
    if (state?.mounted) {
      // Unmounted, the volume stays usable: the next user mounts it again.
      await unmount(join(dir, '_data'), { lazy: true });
      if (state) state.mounted = false;
    }
    // Never delete outside the volume root, even through a symlink.
    const real = safeRealpath(dir);
    const realRoot = safeRealpath(this.root);
    if (!real.startsWith(realRoot + sep)) {
      throw new SystemError(`unable to remove a directory outside of the local volume root ${realRoot}: ${real}`);
    }
    // Rename first: the volume is gone at once and atomically, yet its data
    // can still be put back if the commit fails. It is deleted in the
    // background only once committed (init() empties the trash of a crash).
    const trash = join(this.root, TRASH, this.scratchName());
    let moved = true;
    try {
      renameSync(real, trash);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SystemError(`error removing volume path '${dir}': ${goErrnoText(e)}`);
      moved = false;
    }
    if (commit) {
      try {
        commit();
      } catch (e) {
        if (moved) {
          try {
            renameSync(trash, real);
          } catch (undo) {
            this.log?.error({ volume: name, trash, err: errorText(undo) }, 'could not put back the data of a volume whose removal failed');
          }
        }
        throw e;
      }
    }
    this.volumes.delete(name);
    if (moved) void rm(trash, { recursive: true, force: true }).catch((e) => this.log?.warn({ volume: name, err: errorText(e) }, 'deleting volume data failed'));
  }

  async get(name: string): Promise<DriverVolume | undefined> {
    if (!this.volumes.has(name)) return undefined;
    const dir = join(this.root, name);
    return { name, mountpoint: join(dir, '_data'), createdAt: await ctimeMs(dir) };
  }

  async list(): Promise<DriverVolume[]> {
    return [...this.volumes.keys()].map((name) => ({ name, mountpoint: this.path(name) }));
  }

  has(name: string): boolean {
    return this.volumes.has(name);
  }

  path(name: string): string {
    return join(this.root, name, '_data');
  }

  /** _data itself: the data is there (while mounted, for option-backed volumes). */
  dataPath(name: string): string {
    return this.path(name);
  }

  /**
   * Staged contents are built under the volume root's staging directory: the
   * same filesystem as every plain volume's _data, and cleared at start, so a
   * crash mid-import leaves nothing behind.
   */
  stage(name: string): string {
    validateLocalName(name);
    const state = this.volumes.get(name);
    if (state && this.needsMount(name)) {
      throw new InvalidParameter(`volume ${name} is backed by a mount (type ${state.opts?.MountType || 'none'}); only plain local volumes can be imported into or cloned`);
    }
    const dir = join(this.root, STAGING, this.scratchName());
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch (e) {
      throw new SystemError(`cannot make a staging directory for volume ${name}: ${goErrnoText(e)}`);
    }
    return dir;
  }

  flushStaged(staged: string): void {
    try {
      syncFilesystem(staged);
    } catch (e) {
      throw new SystemError(`cannot flush the new data to disk: ${goErrnoText(e)}`);
    }
  }

  /**
   * Swaps the staged tree with _data in one renameat2(RENAME_EXCHANGE):
   * there is no moment without a _data. The old data, now at the staged
   * path, goes to the trash.
   */
  commitStaged(name: string, staged: string): void {
    if (!this.volumes.has(name)) throw new NotFound('no such volume');
    if (this.needsMount(name)) throw new InvalidParameter(`volume ${name} is backed by a mount; its data cannot be replaced`);
    try {
      exchangePaths(staged, this.path(name));
    } catch (e) {
      throw new SystemError(`cannot put the new data of volume ${name} in place: ${goErrnoText(e)}`);
    }
    this.discard(staged);
  }

  async discardStaged(staged: string): Promise<void> {
    await rm(staged, { recursive: true, force: true });
  }

  async size(name: string): Promise<number> {
    return directorySize(this.path(name));
  }

  /** True when the volume needs a mount(2) (its options name a device or type). */
  needsMount(name: string): boolean {
    const o = this.volumes.get(name)?.opts;
    return !!o && (o.MountDevice !== '' || o.MountType !== '');
  }

  async mount(name: string, ref: string): Promise<string> {
    const state = this.volumes.get(name);
    if (!state) throw new NotFound(`no such volume`);
    const target = this.path(name);
    const o = state.opts;
    if (o && (o.MountDevice !== '' || o.MountType !== '') && !state.mounted) {
      await this.doMount(o, target);
      state.mounted = true;
      this.log?.info({ volume: name, type: o.MountType }, 'volume mounted');
    }
    state.refs.add(ref);
    return target;
  }

  async unmount(name: string, ref: string): Promise<void> {
    const state = this.volumes.get(name);
    if (!state) return;
    state.refs.delete(ref);
    if (state.refs.size === 0 && state.mounted) {
      await unmount(this.path(name), { lazy: true });
      state.mounted = false;
      this.log?.info({ volume: name }, 'volume unmounted');
    }
  }

  private async doMount(o: OptsFile, target: string): Promise<void> {
    const parsed = parseMountOptions(o.MountOpts);
    const fail = (cause: string): never => {
      throw new SystemError(`failed to mount local volume: ${mountErrorText(o.MountDevice, target, parsed, cause)}`);
    };
    const isBind = (parsed.flags & 0x1000) !== 0;
    if (isBind && !(await exists(o.MountDevice))) fail('no such file or directory');
    if (o.MountType === 'nfs' || o.MountType === 'cifs') parsed.data = await resolvedAddr(parsed.data);
    try {
      await mount(o.MountDevice, target, o.MountType === 'none' && isBind ? '' : o.MountType, parsed.flags, parsed.data, parsed.propagation);
    } catch (e) {
      fail(e instanceof MountError ? e.errnoText : errorText(e));
    }
  }
}

/**
 * The kernel's nfs and cifs clients take an IP address: a host name in
 * `addr=` is resolved first, as Docker's local driver does.
 */
async function resolvedAddr(data: string): Promise<string> {
  const m = /(?:^|,)addr=([^,]*)/.exec(data);
  const host = m?.[1];
  if (!host || isIP(host) !== 0) return data;
  let ip: string;
  try {
    ip = (await lookup(host)).address;
  } catch (e) {
    throw new SystemError(`error resolving passed in network volume address: lookup ${host}: ${(e as NodeJS.ErrnoException).code === 'ENOTFOUND' ? 'no such host' : errorText(e)}`);
  }
  return data.replace(`addr=${host}`, `addr=${ip}`);
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

async function readOptsFile(p: string): Promise<OptsFile | null> {
  try {
    const parsed = JSON.parse(await readFile(p, 'utf8')) as Partial<OptsFile>;
    return {
      MountType: parsed.MountType ?? '',
      MountOpts: parsed.MountOpts ?? '',
      MountDevice: parsed.MountDevice ?? '',
      Quota: { Size: parsed.Quota?.Size ?? 0 },
    };
  } catch {
    return null;
  }
}

async function ctimeMs(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).ctimeMs;
  } catch {
    return undefined;
  }
}

