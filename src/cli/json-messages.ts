// The daemon's JSON-lines answers to long operations (Docker's jsonmessage
// shape): progress lines, one end line, or an error line.
import type { IncomingMessage } from 'node:http';
import { DaemonError } from './client.js';
import { CliError } from './errors.js';

export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number; files?: number; totalFiles?: number; archiveBytes?: number; bytesAdded?: number; phase?: string };
  error?: string;
  errorDetail?: { message?: string };
  [field: string]: unknown;
}

/** Reads a JSON-lines reply; resolves with the `endStatus` message, throws the failure line or a stream cut before the end. */
export async function readMessages(res: IncomingMessage, endStatus: string, onMessage: (m: JsonMessage) => void): Promise<JsonMessage> {
  let buf = '';
  let end: JsonMessage | undefined;
  const handle = (line: string): void => {
    const t = line.trim();
    if (t === '') return;
    let m: JsonMessage;
    try {
      m = JSON.parse(t) as JsonMessage;
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
