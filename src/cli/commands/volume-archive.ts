// `berth volume export | import | clone`: the client side of
// docs/volume-archives.md. Streams archives between the daemon and a file or
// stdio, reads the daemon's JSON-lines replies, and drives the progress display.
import { unlink } from 'node:fs/promises';
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { decompressor } from '../../archive/compression.js';
import { once } from 'node:events';
import { Transform, type Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { ApiClient, DaemonError } from '../client.js';
import { CliError } from '../errors.js';
import { ProgressDisplay, type ProgressMode } from '../progress.js';
import { TarCounter } from '../tar-count.js';

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
): Promise<IncomingMessage> {
  const v = await api.apiVersion();
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string> = body ? { 'Content-Type': 'application/x-tar' } : {};
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
      readBody(res).then((text) => reject(daemonError(status, text)), reject);
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
  const res = await call(api, 'GET', `/volumes/${enc(name)}/export`, { compress: opts.compress === 'none' ? undefined : opts.compress });
  warnFromHeaders(res, stderr);
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
  const fd = toFile ? openSync(opts.output!, 'w', 0o644) : undefined;
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
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      await unlink(opts.output!).catch(() => undefined);
    }
    if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error).message === 'aborted') {
      throw new CliError('export failed: the connection to the daemon was closed before the archive ended');
    }
    throw e;
  }
}

interface VolumeMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number; files?: number; totalFiles?: number };
  created?: boolean;
  reflinked?: boolean;
  error?: string;
  errorDetail?: { message?: string };
}

/** Reads the JSON-lines reply to import/clone; resolves with the end message, throws the failure line. */
async function readMessages(res: IncomingMessage, endStatus: string, onMessage: (m: VolumeMessage) => void): Promise<VolumeMessage> {
  let buf = '';
  let end: VolumeMessage | undefined;
  const handle = (line: string): void => {
    const t = line.trim();
    if (t === '') return;
    let m: VolumeMessage;
    try {
      m = JSON.parse(t) as VolumeMessage;
    } catch {
      throw new CliError(`invalid JSON message from the daemon: ${t.slice(0, 80)}`);
    }
    if (m.errorDetail || m.error) throw new DaemonError(500, m.errorDetail?.message ?? m.error ?? 'unknown error');
    if (m.status === endStatus) end = m;
    onMessage(m);
  };
  for await (const chunk of res as AsyncIterable<Buffer>) {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      handle(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  handle(buf);
  if (!end) throw new CliError(`the daemon closed the stream before reporting "${endStatus}"; the result is unknown`);
  return end;
}

function countFromDetail(m: VolumeMessage): { files?: number; totalBytes?: number; totalFiles?: number } {
  const d = m.progressDetail ?? {};
  const out: { files?: number; totalBytes?: number; totalFiles?: number } = {};
  if (typeof d.files === 'number') out.files = d.files;
  if (typeof d.total === 'number') out.totalBytes = d.total;
  if (typeof d.totalFiles === 'number') out.totalFiles = d.totalFiles;
  return out;
}

/** Opens the archive to import: FILE (its size is the progress total) or stdin. */
function openArchive(source: string): { input: Readable; size?: number } {
  if (source === '-') {
    if (process.stdin.isTTY) throw new CliError('berth: refusing to read a tar archive from a terminal; give FILE or pipe the archive into stdin');
    return { input: process.stdin };
  }
  let size: number | undefined;
  try {
    const st = statSync(source);
    if (st.isDirectory()) throw new CliError(`read ${source}: is a directory`);
    if (st.isFile()) size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`open ${source}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  return { input: createReadStream(source, { highWaterMark: 1 << 20 }), size };
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
  const { input, size } = openArchive(source);
  let sent = 0;
  let progress: ProgressDisplay | undefined;
  const counting = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      progress?.update({ bytes: sent });
      cb(null, chunk);
    },
  });
  input.on('error', (e) => counting.destroy(e));
  input.pipe(counting);
  const res = await call(api, 'POST', `/volumes/${enc(name)}/import`, { replace: opts.replace ? '1' : undefined }, counting, size);
  warnFromHeaders(res, stderr);
  progress = new ProgressDisplay(opts.progress, 'Importing', 'Imported', name, stderr as never);
  progress.update({ bytes: sent, totalBytes: size });
  try {
    await readMessages(res, 'Imported', (m) => progress!.update(countFromDetail(m)));
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
    await readMessages(res, 'Cloned', (m) => {
      const d = m.progressDetail ?? {};
      progress.update({ ...countFromDetail(m), ...(typeof d.current === 'number' ? { bytes: d.current } : {}) });
    });
    progress.finish(true);
  } catch (e) {
    progress.finish(false);
    throw e;
  }
  stdout.write(`${target}\n`);
}
