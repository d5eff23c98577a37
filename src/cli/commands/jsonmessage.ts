// docker's pkg/jsonmessage DisplayJSONMessagesStream: the newline-delimited
// JSON progress stream of /images/create, /images/load, push and friends,
// printed as the docker CLI prints it. On a terminal each item (layer) keeps
// its own line, redrawn in place with its bar; elsewhere progress updates
// are skipped and every other message is a line. An `error` message ends the
// stream with that error.
import { CliError } from '../errors.js';
import { progressString, type JSONMessage } from '../../go/jsonmessage.js';

export type { JSONMessage };

export interface DisplayOptions {
  /** Redraw items in place (stdout is a terminal). */
  terminal?: boolean;
  /** Terminal width for the bar (moby draws it only above 110 columns). */
  columns?: number;
  /** Aux messages (push's digest) go here instead of the output. */
  onAux?: (aux: unknown) => void;
}

const hasDetail = (jm: JSONMessage): boolean => jm.progressDetail !== undefined;

/** An error message of the stream, with its code (a failing RUN's exit status; 0 when it has none). */
export class JSONStreamError extends CliError {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

function failure(jm: JSONMessage): CliError | undefined {
  if (!jm.errorDetail && !jm.error) return undefined;
  if (jm.errorDetail?.code === 401) return new CliError('authentication is required');
  return new JSONStreamError(jm.errorDetail?.message ?? jm.error ?? '', jm.errorDetail?.code ?? 0);
}

/** One message as text ('' for progress updates, which a non-terminal skips). */
export function formatJSONMessage(jm: JSONMessage, opts: DisplayOptions = {}): string {
  const err = failure(jm);
  if (err) throw err;
  const terminal = opts.terminal === true;
  const bar = hasDetail(jm) ? progressString(jm.progressDetail!, opts.columns ?? 80) : '';
  let out = '';
  let endl = '';
  if (terminal && !jm.stream && hasDetail(jm)) {
    // Clear the line and return to its start: the item is redrawn in place.
    out += '\x1b[2K\r';
    endl = '\r';
  } else if (hasDetail(jm) && bar !== '') {
    return '';
  }
  if (jm.id) out += `${jm.id}: `;
  if (jm.from) out += `(from ${jm.from}) `;
  if (hasDetail(jm) && terminal) out += `${jm.status ?? ''} ${bar}${endl}`;
  else if (jm.progress) out += `${jm.status ?? ''} ${jm.progress}${endl}`;
  else if (jm.stream) out += `${jm.stream}${endl}`;
  else if (jm.aux !== undefined && jm.status === undefined) return '';
  else out += `${jm.status ?? ''}${endl}\n`;
  return out;
}

/** Reads a JSON-message stream and writes it to `out`; rejects with the first error message. */
export async function displayJSONMessages(input: NodeJS.ReadableStream, out: NodeJS.WritableStream, opts: DisplayOptions = {}): Promise<void> {
  const terminal = opts.terminal === true;
  /** Line of each item, counted from the first item's line. */
  let lines = new Map<string, number>();
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
    if (jm.aux !== undefined && opts.onAux !== undefined) {
      opts.onAux(jm.aux);
      return;
    }
    let diff = 0;
    if (jm.id && (hasDetail(jm) || jm.progress)) {
      let at = lines.get(jm.id);
      if (at === undefined) {
        at = lines.size;
        lines.set(jm.id, at);
        if (terminal) out.write('\n');
      }
      diff = lines.size - at;
      if (terminal && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      // Output that is not an item's progress starts a fresh set of lines.
      lines = new Map();
    }
    const text = formatJSONMessage(jm, opts);
    if (text !== '') out.write(text);
    if (jm.id && terminal && diff > 0) out.write(`\x1b[${diff}B`);
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

/** Display options for stdout as the docker CLI picks them. */
export function stdoutDisplay(onAux?: (aux: unknown) => void): DisplayOptions {
  return { terminal: process.stdout.isTTY === true, columns: process.stdout.columns, ...(onAux ? { onAux } : {}) };
}
