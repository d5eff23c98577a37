// Exec routes: create, start (hijacked unless Detach), resize, inspect.
import type { Router } from '../router.js';
import { readJsonObject, sendJson } from '../http.js';
import { hijack, splice } from '../hijack.js';
import type { ExecService } from '../../containers/exec.js';
import { errorText } from '../../errors.js';

/** What the exec routes need of the exec service. */
export type ExecBackend = Pick<ExecService, 'create' | 'finished' | 'inspect' | 'resize' | 'start'>;

export function registerExecRoutes(router: Router, execs: ExecBackend): void {
  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    const body = await readJsonObject(ctx.req);
    sendJson(ctx.res, 201, { Id: execs.create(ctx.params.id!, body) });
  });

  router.add('POST', '/exec/{id}/start', async (ctx) => {
    const body = await readJsonObject(ctx.req, ctx.body);
    const detach = body.Detach === true;
    const info = execs.inspect(ctx.params.id!);
    const tty = body.Tty === true || (info.ProcessConfig as { tty: boolean }).tty;
    if (detach) {
      await execs.start(ctx.params.id!, { detach: true, tty });
      ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '0' });
      ctx.res.end();
      return;
    }
    // docker answers 101 first; a process that fails to start reports into the
    // stream, and exec inspect gives its 126/127.
    const h = hijack(ctx, tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    let attachment;
    try {
      attachment = await execs.start(ctx.params.id!, { detach: false, tty });
    } catch (e) {
      const text = Buffer.from(`${errorText(e)}\r\n`);
      if (tty) h.out.write(text);
      else {
        const header = Buffer.alloc(8);
        header[0] = 1;
        header.writeUInt32BE(text.length, 4);
        h.out.write(Buffer.concat([header, text]));
      }
      h.out.end();
      return;
    }
    if (!attachment) {
      h.out.end();
      return;
    }
    splice(attachment, h, { endWithAttachment: false });
    await attachment.done;
    // The client inspects the exit code as soon as the stream ends: record it first.
    await execs.finished(ctx.params.id!);
    h.out.end();
  });

  router.add('POST', '/exec/{id}/resize', async (ctx) => {
    await execs.resize(ctx.params.id!, Number(ctx.query.get('h') ?? 0), Number(ctx.query.get('w') ?? 0));
    ctx.res.writeHead(200, { 'Content-Length': '0' });
    ctx.res.end();
  });

  router.add('GET', '/exec/{id}/json', (ctx) => {
    sendJson(ctx.res, 200, execs.inspect(ctx.params.id!));
  });
}
