// Long operations answer 200 with JSON lines (Docker's jsonmessage shape, as
// POST /images/load and /images/create stream): progress lines, then an end
// line, or `{"errorDetail":{"message"},"error"}`. The response begins only
// once the operation is accepted: a refusal before that is an ordinary
// Docker error response with its status code.
import type { ServerResponse } from 'node:http';
import { errorText } from '../errors.js';

/** Header values cannot hold line breaks or non-Latin-1 text. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

export class JsonLines {
  started = false;
  constructor(private readonly res: ServerResponse) {}

  /** Sends the 200 and its headers: from here on failures are error lines. */
  start(headers: Record<string, string | string[]> = {}): void {
    if (this.started) return;
    this.res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
    this.res.flushHeaders();
    this.started = true;
  }

  line(o: unknown): void {
    if (!this.started) return;
    if (!this.res.destroyed) this.res.write(JSON.stringify(o) + '\n');
  }

  error(e: unknown): void {
    const message = errorText(e);
    this.line({ errorDetail: { message }, error: message });
  }
}

/**
 * Runs `op` answering with JSON lines: a failure before `reply.start` is
 * thrown (the router answers with Docker's error), one after is the error
 * line. `signal` aborts when the client goes away.
 */
export async function answerWithJsonLines(res: ServerResponse, op: (reply: JsonLines, signal: AbortSignal) => Promise<void>): Promise<void> {
  const reply = new JsonLines(res);
  const abort = new AbortController();
  res.on('close', () => abort.abort(new Error('the client went away')));
  try {
    await op(reply, abort.signal);
  } catch (e) {
    if (!reply.started) throw e;
    reply.error(e);
  }
  res.end();
}
