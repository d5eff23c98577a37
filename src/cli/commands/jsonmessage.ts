// docker's pkg/jsonmessage for a non-terminal: the newline-delimited JSON
// progress stream of /images/create, /images/load and friends, printed the
// way DisplayJSONMessagesStream prints it. An `error` message ends the
// stream with that error.
import { CliError } from '../errors.js';

export interface JSONMessage {
  stream?: string;
  status?: string;
  id?: string;
  from?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/** One message as text ('' for progress updates, which a non-terminal skips). */
export function formatJSONMessage(jm: JSONMessage): string {
  if (jm.errorDetail || jm.error) {
    const msg = jm.errorDetail?.message ?? jm.error ?? '';
    if (jm.errorDetail?.code === 401) throw new CliError('authentication is required');
    throw new CliError(msg);
  }
  const hasProgress = jm.progressDetail !== undefined && (jm.progressDetail.current !== undefined || jm.progressDetail.total !== undefined);
  if (hasProgress && !jm.stream) return '';
  let out = '';
  if (jm.id) out += `${jm.id}: `;
  if (jm.from) out += `(from ${jm.from}) `;
  if (jm.progress && !hasProgress) out += `${jm.status ?? ''} ${jm.progress}`;
  else if (jm.stream) out += jm.stream;
  else if (jm.aux !== undefined && jm.status === undefined) return '';
  else out += `${jm.status ?? ''}\n`;
  return out;
}

/** Reads a JSON-message stream and writes it to `out`; rejects with the first error message. */
export async function displayJSONMessages(input: NodeJS.ReadableStream, out: NodeJS.WritableStream): Promise<void> {
  let buf = '';
  const handle = (line: string): void => {
    const t = line.trim();
    if (t === '') return;
    let jm: JSONMessage;
    try {
      jm = JSON.parse(t) as JSONMessage;
    } catch {
      throw new CliError(`invalid character in JSON message stream: ${t.slice(0, 40)}`);
    }
    const text = formatJSONMessage(jm);
    if (text !== '') out.write(text);
  };
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      handle(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  handle(buf);
}
