// POST /build (the classic builder: the body is the context, the query the
// options, the answer a JSON-message stream) and POST /build/prune. With
// q=1 the builder's output is held back and only the image ID is sent, or,
// when the build fails, everything held back and then the error, as dockerd
// does; a failure before any output is an ordinary error answer.
import type { Router } from '../router.js';
import { queryBool, sendJson } from '../http.js';
import { openJsonStream } from '../json-stream.js';
import { versionAtLeast } from '../version.js';
import { decodeBuildOptions } from '../decode/build-options.js';
import { BuildOutput } from '../../build/output.js';
import type { BuildRequest } from '../../build/builder.js';
import type { EventSink } from '../../events/bus.js';
import type { JSONMessage } from '../../go/jsonmessage.js';

export interface BuildBackend {
  build(req: BuildRequest): Promise<string>;
}

export function registerBuildRoutes(router: Router, backend: BuildBackend, events: EventSink): void {
  router.add('POST', '/build', async (ctx) => {
    const options = decodeBuildOptions(ctx.query, ctx.apiVersion, ctx.req.headers);
    const quiet = queryBool(ctx.query, 'q');
    const stream = openJsonStream(ctx);
    const held: JSONMessage[] = [];
    const output = new BuildOutput(quiet ? (m) => held.push(m) : stream.write, versionAtLeast(ctx.apiVersion, '1.30'));
    let id: string;
    try {
      id = await backend.build({ context: ctx.req, options, output, signal: stream.signal });
    } catch (e) {
      for (const m of held) stream.write(m);
      stream.finish(e);
      return;
    }
    if (quiet) stream.write({ stream: `${id}\n` });
    stream.finish();
  });

  // berth's classic builder caches in images (`docker image prune` removes them); there is no BuildKit cache to prune.
  router.add(
    'POST',
    '/build/prune',
    (ctx) => {
      ctx.req.resume();
      events.publish('builder', 'prune', '', { reclaimed: '0' });
      sendJson(ctx.res, 200, { CachesDeleted: null, SpaceReclaimed: 0 });
    },
    { minVersion: '1.31' },
  );
}
