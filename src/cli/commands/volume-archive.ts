// `berth volume export | import | clone`: the client side of
// docs/volume-archives.md. Streams archives between the daemon and a file or
// stdio, reads the daemon's JSON-lines replies, and drives the progress display.
import { unlink } from 'node:fs/promises';
import { closeSync, createReadStream, createWriteStream, fstatSync, fsyncSync, openSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { decompressor } from '../../archive/compression.js';
import { once } from 'node:events';
import { Transform, type Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { ApiClient, DaemonError } from '../client.js';
import { CliError } from '../errors.js';
import { ProgressDisplay, type ProgressMode } from '../progress.js';
import { readMessages, type JsonMessage } from '../json-messages.js';
import { TarCounter } from '../tar-count.js';
import { goPathError } from '../../util/go-errno.js';

const enc = encodeURIComponent;

export const TERMINAL_REFUSAL = 'berth: refusing to write a tar archive to a terminal; use -o FILE or redirect stdout';

type Stderr = NodeJS.WritableStream;

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function daemonError(status: number, text: string): DaemonError {
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // a plain-text error body
  }
  return new DaemonError(status, message || `status ${status}`);
}

/**
 * Sends a request and resolves with a successful response; an error status
 * becomes a DaemonError. A daemon that refuses before reading a streamed body
 * makes the upload fail with EPIPE/ECONNRESET: the response wins over that.
 */
async function call(
  api: ApiClient,
  method: string,
  path: string,
  query: Record<string, string | undefined>,
  body?: Readable,
  bodyLength?: number,
  extraHeaders: Record<string, string> = {},
): Promise<IncomingMessage> {
  const v = await api.apiVersion();
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string> = body ? { 'Content-Type': 'application/x-tar', ...extraHeaders } : { ...extraHeaders };
    // A known length is sent as such: a chunked upload costs the daemon's parser several times more.
    if (body && bodyLength !== undefined) headers['Content-Length'] = String(bodyLength);
    const req = api.open(method, `/v${v}${path}`, { query, headers }, (res) => {
      answered = true;
      const status = res.statusCode ?? 500;
      if (status < 400) {
        resolve(res);
        return;
      }
      if (body) {
        body.unpipe(req);
        body.destroy();
      }
      const refused = res.headers[FD_REFUSED] !== undefined;
      readBody(res).then((text) => reject(refused ? new FdRefused(daemonError(status, text).message) : daemonError(status, text)), reject);
    });
    req.on('error', (e) => {
      if (answered) return;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') {
        reject(new CliError(`Cannot connect to the berth daemon at ${api.endpoint.host}. Is berthd running?`));
      } else reject(e);
    });
    if (body) {
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    } else req.end();
  });
}

/** The daemon could not use the descriptor the CLI offered: send the archive over the connection instead. */
class FdRefused extends Error {}

const FD_REFUSED = 'x-berth-fd-refused';

/**
 * Whether the archive file itself can be handed to the daemon (a local
 * unix socket and a regular file): berthd then reads or writes it directly
 * instead of the data passing through this process. BERTH_NO_FD_HANDOFF=1
 * turns it off.
 */
async function canHandOver(api: ApiClient, fd: number): Promise<boolean> {
  if (api.endpoint.socketPath === undefined || process.env.BERTH_NO_FD_HANDOFF) return false;
  try {
    if (!fstatSync(fd).isFile()) return false;
  } catch {
    return false;
  }
  // A daemon that does not say it takes descriptors would read an empty body instead.
  return (await api.pingHeaders())['berth-fd-handoff'] === '1';
}

function warnFromHeaders(res: IncomingMessage, stderr: Stderr): void {
  const w = res.headers['x-berth-warning'];
  for (const text of Array.isArray(w) ? w : w ? [w] : []) stderr.write(`WARNING: ${text}\n`);
}

function headerNumber(res: IncomingMessage, name: string): number | undefined {
  const v = res.headers[name];
  const n = typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export interface ExportOptions {
  output?: string;
  compress: 'none' | 'gzip' | 'zstd';
  progress: ProgressMode;
}

/** GET /volumes/NAME/export into FILE or stdout; a missing or non-ok trailer is a failure and removes FILE. */
export async function exportVolume(api: ApiClient, name: string, opts: ExportOptions, stdout = process.stdout, stderr: Stderr = process.stderr): Promise<void> {
  const toFile = opts.output !== undefined && opts.output !== '-';
  if (!toFile && stdout.isTTY) throw new CliError(TERMINAL_REFUSAL);
  const fd = toFile ? openSync(opts.output!, 'w', 0o644) : undefined;
  const query = { compress: opts.compress === 'none' ? undefined : opts.compress };
  const outFd = fd ?? (stdout as { fd?: number }).fd;
  const handOver = outFd !== undefined && (await canHandOver(api, outFd));
  let res: IncomingMessage;
  try {
    res = await call(api, 'GET', `/volumes/${enc(name)}/export`, query, undefined, undefined, handOver ? { 'X-Berth-Output-Fd': String(outFd) } : {});
  } catch (e) {
    await removeOutput(fd, opts.output);
    throw e;
  }
  warnFromHeaders(res, stderr);
  if (res.headers['content-type'] === 'application/json') {
    // The daemon wrote the archive into our file itself, and synced it; we only hear how it went.
    const progress = new ProgressDisplay(opts.progress, 'Exporting', 'Exported', name, stderr as never);
    try {
      const end = await readMessages(res, 'Exported', (m) => progress.update(bytesFromDetail(m)));
      if (fd !== undefined) closeSync(fd);
      progress.finish(true, bytesFromDetail(end) as { bytes: number; files: number });
    } catch (e) {
      progress.finish(false);
      await removeOutput(fd, opts.output);
      throw e;
    }
    return;
  }
  const totalBytes = headerNumber(res, 'x-berth-total-bytes');
  const totalFiles = headerNumber(res, 'x-berth-total-files');
  const progress = new ProgressDisplay(opts.progress, 'Exporting', 'Exported', name, stderr as never);
  // The tar is counted as it passes, through a decoder when it is compressed.
  const counter = new TarCounter();
  const decoder = decompressor(opts.compress);
  decoder?.on('data', (c: Buffer) => counter.push(c));
  // A damaged stream shows up in the trailer or the reader; the counter only stops counting.
  decoder?.on('error', () => undefined);
  progress.update({ totalBytes, totalFiles });
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (decoder) decoder.write(chunk);
      else counter.push(chunk);
      progress.update({ bytes: counter.bytes, files: counter.files });
      cb(null, chunk);
    },
  });
  try {
    // Reading from the daemon and writing out overlap: a stream pipeline, not a read-then-write loop.
    if (fd !== undefined) {
      await pipeline(res, meter, createWriteStream('', { fd, autoClose: false, highWaterMark: 1 << 20 }));
      fsyncSync(fd);
    } else {
      await pipeline(res, meter, stdout, { end: false });
      if ((stdout as NodeJS.WriteStream).writableNeedDrain) await once(stdout, 'drain');
    }
    if (!res.complete) throw new CliError('export failed: the connection to the daemon was closed before the archive ended');
    const status = res.trailers['x-berth-export-status'];
    if (status === undefined) throw new CliError('export failed: the daemon did not confirm the end of the archive (no X-Berth-Export-Status trailer)');
    if (status !== 'ok') throw new DaemonError(500, status.replace(/^error:\s*/, ''));
    if (fd !== undefined) closeSync(fd);
    if (decoder) {
      const ended = once(decoder, 'end').catch(() => undefined);
      decoder.end();
      await ended;
    }
    progress.finish(true, { bytes: counter.bytes, files: counter.files });
  } catch (e) {
    progress.finish(false);
    res.destroy();
    decoder?.destroy();
    await removeOutput(fd, opts.output);
    if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error).message === 'aborted') {
      throw new CliError('export failed: the connection to the daemon was closed before the archive ended');
    }
    throw e;
  }
}

/** A failed export leaves no file behind (an output on stdout cannot be taken back). */
async function removeOutput(fd: number | undefined, output: string | undefined): Promise<void> {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
  await unlink(output!).catch(() => undefined);
}

type VolumeMessage = JsonMessage & { created?: boolean; reflinked?: boolean };

function countFromDetail(m: VolumeMessage): { files?: number; totalBytes?: number; totalFiles?: number } {
  const d = m.progressDetail ?? {};
  const out: { files?: number; totalBytes?: number; totalFiles?: number } = {};
  if (typeof d.files === 'number') out.files = d.files;
  if (typeof d.total === 'number') out.totalBytes = d.total;
  if (typeof d.totalFiles === 'number') out.totalFiles = d.totalFiles;
  return out;
}

/** Bytes and files (done and in all) from a progress message. */
function bytesFromDetail(m: VolumeMessage): { bytes?: number; files?: number; totalBytes?: number; totalFiles?: number } {
  const d = m.progressDetail ?? {};
  return { ...countFromDetail(m), ...(typeof d.current === 'number' ? { bytes: d.current } : {}) };
}

/** Opens the archive to import: FILE (its size is the progress total) or stdin. */
function openArchive(source: string): { input: () => Readable; fd: number; size?: number } {
  if (source === '-') {
    if (process.stdin.isTTY) throw new CliError('berth: refusing to read a tar archive from a terminal; give FILE or pipe the archive into stdin');
    let size: number | undefined;
    try {
      const st = fstatSync(0);
      if (st.isFile()) size = st.size;
    } catch {
      // unknown size
    }
    return { input: () => process.stdin, fd: 0, size };
  }
  let size: number | undefined;
  try {
    const st = statSync(source);
    if (st.isDirectory()) throw new CliError(`read ${source}: is a directory`);
    if (st.isFile()) size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(goPathError(e, 'open', source));
  }
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (e) {
    throw new CliError(`open ${source}: ${(e as Error).message}`);
  }
  return { input: () => createReadStream('', { fd, highWaterMark: 1 << 20 }), fd, size };
}

/** POST /volumes/NAME/import with FILE or stdin as the body. */
export async function importVolume(
  api: ApiClient,
  name: string,
  source: string,
  opts: { replace: boolean; progress: ProgressMode },
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: Stderr = process.stderr,
): Promise<void> {
  const archive = openArchive(source);
  const { size } = archive;
  const query = { replace: opts.replace ? '1' : undefined };
  let sent = 0;
  let progress: ProgressDisplay | undefined;
  let res: IncomingMessage | undefined;
  if (await canHandOver(api, archive.fd)) {
    // The daemon reads the file itself; it reports how far into the archive it is.
    try {
      res = await call(api, 'POST', `/volumes/${enc(name)}/import`, query, undefined, undefined, { 'X-Berth-Input-Fd': String(archive.fd), 'Content-Length': '0' });
    } catch (e) {
      if (!(e instanceof FdRefused)) throw e;
    }
  }
  if (!res) {
    const input = archive.input();
    const counting = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        progress?.update({ bytes: sent });
        cb(null, chunk);
      },
    });
    input.on('error', (e) => counting.destroy(e));
    input.pipe(counting);
    res = await call(api, 'POST', `/volumes/${enc(name)}/import`, query, counting, size);
  }
  warnFromHeaders(res, stderr);
  progress = new ProgressDisplay(opts.progress, 'Importing', 'Imported', name, stderr as never);
  progress.update({ bytes: sent, totalBytes: size });
  const archiveBytes = (m: VolumeMessage): { bytes?: number } => (typeof m.progressDetail?.archiveBytes === 'number' ? { bytes: (sent = m.progressDetail.archiveBytes) } : {});
  try {
    await readMessages(res, 'Imported', (m) => progress!.update({ ...countFromDetail(m), ...archiveBytes(m) }));
    progress.finish(true, { bytes: sent });
  } catch (e) {
    progress.finish(false);
    throw e;
  }
  stdout.write(`${name}\n`);
}

/** POST /volumes/SRC/clone?name=DST. */
export async function cloneVolume(
  api: ApiClient,
  source: string,
  target: string,
  opts: { progress: ProgressMode },
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: Stderr = process.stderr,
): Promise<void> {
  const res = await call(api, 'POST', `/volumes/${enc(source)}/clone`, { name: target });
  warnFromHeaders(res, stderr);
  const progress = new ProgressDisplay(opts.progress, 'Cloning', 'Cloned', `${source} to ${target}`, stderr as never);
  progress.update({ totalBytes: headerNumber(res, 'x-berth-total-bytes'), totalFiles: headerNumber(res, 'x-berth-total-files') });
  try {
    await readMessages(res, 'Cloned', (m) => progress.update(bytesFromDetail(m)));
    progress.finish(true);
  } catch (e) {
    progress.finish(false);
    throw e;
  }
  stdout.write(`${target}\n`);
}
