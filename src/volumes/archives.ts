// Volume export, import and clone (docs/volume-archives.md): a volume's data
// as a tar stream, a tar stream as a volume's data, one volume's data as
// another's. Imports and clones build the new data in staging and swap it in
// at once (VolumeService.replaceData), so a failed, truncated or interrupted
// one leaves the target as it was; a volume they create appears only with
// its complete data (VolumeService.createWithData).
import { createWriteStream, fdatasync as fdatasyncCb, read as readCb, readdirSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { cloneTree, exportTree, exportTreeToFd, extractTree, measureTree, type ArchiveFile, type TreeProgress, type TreeTotals } from '../archive/tree.js';
import { compressor, decompressed, detectCompression, LONGEST_MAGIC, type OutputCompression } from '../archive/compression.js';
import { Conflict, InvalidParameter, errorText } from '../errors.js';
import type { EventSink } from '../events/bus.js';
import { generateId } from '../util/random-id.js';
import type { VolumeService } from './service.js';

/** The volume service calls an archive operation needs. */
export type ArchiveVolumes = Pick<VolumeService, 'get' | 'find' | 'mount' | 'unmount' | 'replaceData' | 'createWithData' | 'dataPath'>;

export interface VolumeArchiveDeps {
  volumes: ArchiveVolumes;
  events: EventSink;
  log: Logger;
  /** Names of the running containers that have the volume mounted. */
  runningUsers: (volume: string) => string[];
}

/** What an operation reports once it has been accepted, before data flows. */
export interface ArchiveStart {
  totals?: TreeTotals;
  warnings: string[];
}

export interface VolumeExport extends Required<ArchiveStart> {
  /** The archive; it errors (never ends short) when a file cannot be read. */
  stream: Readable;
  /** Settles once the stream has closed and the volume is released again. */
  released: Promise<void>;
}

export interface ImportOptions {
  replace?: boolean;
  /** Called once the import is accepted and before the body is read: refusals come before it. */
  onAccepted?: (start: ArchiveStart) => void;
  /** With an archive file: `archiveBytes` says how much of it has been read. */
  onProgress?: (p: TreeProgress & { archiveBytes?: number }) => void;
  signal?: AbortSignal;
}

export interface ExportToOptions {
  compress?: OutputCompression;
  /** Called once the volume is mounted and measured, before data flows. */
  onAccepted?: (start: ArchiveStart) => void;
  onProgress?: (p: TreeProgress) => void;
  signal?: AbortSignal;
}

export interface CloneOptions {
  onAccepted?: (start: ArchiveStart) => void;
  onProgress?: (p: TreeProgress) => void;
  signal?: AbortSignal;
}

export interface ImportResult extends TreeProgress {
  created: boolean;
}

export interface CloneResult extends TreeProgress {
  reflinked: boolean;
}

/** From this size on an export is read on a worker thread (its start-up costs tens of milliseconds). */
const WORKER_EXPORT_FILES = 2048;
const WORKER_EXPORT_BYTES = 64 << 20;

function largeExport(totals: TreeTotals): boolean {
  return totals.files >= WORKER_EXPORT_FILES || totals.bytes >= WORKER_EXPORT_BYTES;
}

export class VolumeArchives {
  constructor(private readonly deps: VolumeArchiveDeps) {}

  /**
   * A tar of the volume's data, mounted for as long as the stream is open.
   * Running users do not stop it: they get a warning, as the copy is not a
   * point-in-time one.
   */
  async export(name: string, opts: { compress?: OutputCompression } = {}): Promise<VolumeExport> {
    const { path, driver, totals, release } = await this.openForExport(name);
    try {
      const tar = exportTree(path, { worker: largeExport(totals) });
      const out = compressor(opts.compress ?? 'none');
      tar.on('error', (e) => out.destroy(e));
      out.on('end', () => this.deps.events.publish('volume', 'export', name, { driver }));
      const closed = new Promise<void>((resolve) => out.on('close', resolve));
      out.on('close', () => tar.destroy());
      tar.pipe(out);
      return { stream: out, totals, warnings: this.inUseWarnings(name, 'the export is not a point-in-time copy'), released: closed.then(release) };
    } catch (e) {
      await release();
      throw e;
    }
  }

  /**
   * The same archive written straight into `fd`, an open regular file the
   * caller owns (a client's, handed over): no stream in between. The file
   * is flushed to disk before this resolves; on a failure it holds a partial
   * archive for the caller to remove.
   */
  async exportTo(name: string, fd: number, opts: ExportToOptions = {}): Promise<TreeProgress> {
    const compress = opts.compress ?? 'none';
    if (compress !== 'none') return this.exportCompressedTo(name, fd, compress, opts);
    const { path, driver, release } = await this.mountForExport(name);
    try {
      // The archive is written on a thread from the start; the totals the client's progress needs
      // are measured here meanwhile, and progress is reported once they are out.
      const abort = new AbortController();
      const onAbort = (): void => abort.abort(opts.signal?.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      let accepted = false;
      const exporting = exportTreeToFd(path, fd, { worker: true, writeback: true, signal: abort.signal, onProgress: (p) => accepted && opts.onProgress?.(p) });
      // Settled below in every case; this only keeps an early failure from going unhandled meanwhile.
      exporting.catch(() => undefined);
      let result: TreeProgress;
      try {
        const totals = await measureTree(path);
        accepted = true;
        opts.onAccepted?.({ totals, warnings: this.inUseWarnings(name, 'the export is not a point-in-time copy') });
        result = await exporting;
      } catch (e) {
        abort.abort(e);
        await exporting.catch(() => undefined);
        throw e;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
      await fdatasync(fd);
      this.deps.events.publish('volume', 'export', name, { driver });
      return result;
    } finally {
      await release();
    }
  }

  /** exportTo through a compressor. */
  private async exportCompressedTo(name: string, fd: number, compress: OutputCompression, opts: ExportToOptions): Promise<TreeProgress> {
    const { path, driver, totals, release } = await this.openForExport(name);
    try {
      opts.onAccepted?.({ totals, warnings: this.inUseWarnings(name, 'the export is not a point-in-time copy') });
      const progress: TreeProgress = { bytes: 0, files: 0 };
      const tar = exportTree(path, { worker: largeExport(totals), signal: opts.signal, onProgress: (p) => opts.onProgress?.(Object.assign(progress, p)) });
      await pipeline(tar, compressor(compress), createWriteStream('', { fd, autoClose: false, highWaterMark: 1 << 20 }), { signal: opts.signal });
      await fdatasync(fd);
      this.deps.events.publish('volume', 'export', name, { driver });
      return progress;
    } finally {
      await release();
    }
  }

  /** Mounts the volume for an export and measures it; `release` unmounts (once). */
  private async openForExport(name: string): Promise<{ path: string; driver: string; totals: TreeTotals; release: () => Promise<void> }> {
    const mounted = await this.mountForExport(name);
    try {
      return { ...mounted, totals: await measureTree(mounted.path) };
    } catch (e) {
      await mounted.release();
      throw e;
    }
  }

  /** Mounts the volume for an export; `release` unmounts (once). */
  private async mountForExport(name: string): Promise<{ path: string; driver: string; release: () => Promise<void> }> {
    const { volumes } = this.deps;
    const volume = await volumes.get(name);
    const ref = archiveRef('export');
    const path = await volumes.mount(name, ref);
    let released: Promise<void> | undefined;
    const release = (): Promise<void> =>
      (released ??= volumes.unmount(name, ref).catch((e) => this.deps.log.warn({ volume: name, err: errorText(e) }, 'export: unmount failed')));
    return { path, driver: volume.driver, release };
  }

  /**
   * Unpacks a tar (plain or compressed, told by its first bytes) as the
   * volume's data, creating the volume (local driver) when it is missing.
   * Refuses a non-empty volume unless `replace`, and a replace while running
   * containers use the volume.
   */
  async import(name: string, body: AsyncIterable<Buffer> | ArchiveFile, opts: ImportOptions = {}): Promise<ImportResult> {
    const { volumes, events } = this.deps;
    const replace = opts.replace ?? false;
    const check = (): void => {
      if (!replace && !this.isEmpty(name)) throw new Conflict(`volume ${name} is not empty: use --replace to replace its contents`);
      const users = this.deps.runningUsers(name);
      if (replace && users.length > 0) {
        throw new Conflict(`volume ${name} is in use by running container(s) ${users.join(', ')}: stop them before replacing its contents`);
      }
    };
    // Called once the staging directory exists: every refusal comes before the body is read.
    const unpack = async (dir: string): Promise<TreeProgress> => {
      opts.onAccepted?.({ warnings: [] });
      if (Symbol.asyncIterator in body) {
        const { tar } = await decompressed(body);
        // Streamed, the sender counts what it sent: no archiveBytes.
        return extractTree(tar, dir, { writeback: true, onProgress: (p) => opts.onProgress?.({ bytes: p.bytes, files: p.files }), signal: opts.signal });
      }
      return extractFile(body, dir, opts);
    };
    if (!volumes.find(name)) {
      // A new volume appears only with its data: a failed or interrupted import leaves none.
      const { volume, created, result } = await volumes.createWithData({ name }, unpack, check);
      events.publish('volume', 'import', name, { driver: volume.driver });
      return { ...result, created };
    }
    check();
    const volume = await volumes.get(name);
    const ref = archiveRef('import');
    await volumes.mount(name, ref);
    try {
      // The volume may have been written to, or put to use, while the archive was unpacked.
      const result = await volumes.replaceData(name, unpack, check);
      events.publish('volume', 'import', name, { driver: volume.driver });
      return { ...result, created: false };
    } finally {
      await volumes.unmount(name, ref);
    }
  }

  /** A new volume TARGET with SOURCE's driver, labels, options and data (reflinked where the filesystem can). */
  async clone(source: string, target: string, opts: CloneOptions = {}): Promise<CloneResult> {
    const { volumes, events } = this.deps;
    if (target === '') throw new InvalidParameter('clone: the name of the new volume is required (name=...)');
    const src = await volumes.get(source);
    const exists = (): never => {
      throw new Conflict(`volume ${target} already exists`);
    };
    if (volumes.find(target)) exists();
    const ref = archiveRef('clone');
    const path = await volumes.mount(source, ref);
    try {
      const warnings = this.inUseWarnings(source, 'the clone is not a point-in-time copy');
      const { result } = await volumes.createWithData(
        { name: target, driver: src.driver, driverOpts: src.options, labels: src.labels },
        (dir) =>
          cloneTree(path, dir, {
            onPlanned: (totals) => opts.onAccepted?.({ totals, warnings }),
            onProgress: opts.onProgress,
            signal: opts.signal,
          }),
        exists,
      );
      events.publish('volume', 'clone', target, { driver: src.driver, source });
      return result;
    } finally {
      await volumes.unmount(source, ref);
    }
  }

  private isEmpty(name: string): boolean {
    if (!this.deps.volumes.find(name)) return true;
    try {
      return readdirSync(this.deps.volumes.dataPath(name)).length === 0;
    } catch {
      // Not a readable directory without a mount: not known to be empty.
      return false;
    }
  }

  private inUseWarnings(name: string, consequence: string): string[] {
    const users = this.deps.runningUsers(name);
    return users.length > 0 ? [`volume data is in use by running container(s) ${users.join(', ')}; ${consequence}`] : [];
  }
}

const fdatasync = promisify(fdatasyncCb);
const readAt = promisify(readCb);

/**
 * Unpacks an archive file: a plain tar is read by position (member data
 * copied file to file), a compressed one through its decompressor.
 */
async function extractFile(file: ArchiveFile, dir: string, opts: ImportOptions): Promise<TreeProgress> {
  const offset = file.offset ?? 0;
  const head = Buffer.alloc(LONGEST_MAGIC);
  const kind = detectCompression(head.subarray(0, readSync(file.fd, head, 0, head.length, offset)));
  if (kind === 'none') return extractTree({ fd: file.fd, offset }, dir, { writeback: true, onProgress: opts.onProgress, signal: opts.signal });
  let read = 0;
  // Read by position, never closing the descriptor (its owner does).
  const input = async function* (): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      const { bytesRead } = await readAt(file.fd, chunk, 0, chunk.length, offset + read);
      if (bytesRead === 0) return;
      read += bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  };
  const { tar } = await decompressed(input());
  return extractTree(tar, dir, { writeback: true, onProgress: (p) => opts.onProgress?.({ ...p, archiveBytes: read }), signal: opts.signal });
}

/** A mount reference for one archive operation (never a container ID). */
function archiveRef(op: string): string {
  return `berth-${op}-${generateId().slice(0, 16)}`;
}
