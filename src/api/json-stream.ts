// dockerd's progress answers (pull, push, load, build): JSON messages, one a
// line, flushed as they come. As with moby's WriteFlusher, a failure before
// the first message is still an ordinary error answer (a status and
// {"message"}); after it, the failure is the stream's last message. The
// request's signal aborts when the client goes away.
import type { RequestContext } from './http.js';
import { errorText } from '../errors.js';
import { CodedJSONError, type JSONMessage } from '../go/jsonmessage.js';
import { Progress } from '../images/progress.js';

export interface JsonStream {
  progress: Progress;
  /** Sends one message as it is. */
  write(m: JSONMessage): void;
  /** Aborted when the client disconnects before the answer ends. */
  signal: AbortSignal;
  /** Ends the stream, or rethrows `e` for a status answer when nothing was sent yet. */
  finish(e?: unknown): void;
}

export function openJsonStream(ctx: RequestContext): JsonStream {
  const { res } = ctx;
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(new Error('the client went away'));
  });
  const write = (m: JSONMessage): void => {
    if (!res.headersSent) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
    }
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(m) + '\n');
  };
  return {
    progress: new Progress(write),
    write,
    signal: abort.signal,
    finish(e?: unknown): void {
      if (e !== undefined) {
        if (!res.headersSent) throw e;
        const message = errorText(e);
        write({ errorDetail: e instanceof CodedJSONError ? { code: e.code, message } : { message }, error: message });
      }
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
      if (!res.writableEnded) res.end();
    },
  };
}
