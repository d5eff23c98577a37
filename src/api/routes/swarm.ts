// What a dockerd outside a swarm answers for swarm mode, and for managed
// plugins when it has none: berth runs no swarm and manages no plugins (its
// volume plugins are the legacy socket kind, which /plugins never lists).
// `docker node ls`, `service`, `secret`, `config`, `stack` then print
// dockerd's own message instead of a 404.
import type { Router } from '../router.js';
import { sendJson } from '../http.js';
import { HttpError } from '../errors.js';
import { NOT_A_SWARM_MANAGER } from '../../errors.js';

const NOT_IN_A_SWARM = 'This node is not part of a swarm';

export function registerSwarmRoutes(router: Router): void {
  const unavailable = (message: string) => (): never => {
    throw new HttpError(503, message);
  };
  router.add('GET', '/swarm', unavailable(NOT_A_SWARM_MANAGER));
  router.add('GET', '/swarm/unlockkey', unavailable(NOT_A_SWARM_MANAGER));
  router.add('POST', '/swarm/update', unavailable(NOT_A_SWARM_MANAGER));
  router.add('POST', '/swarm/leave', unavailable(NOT_IN_A_SWARM));
  router.add('POST', '/swarm/unlock', unavailable(NOT_IN_A_SWARM));
  for (const path of ['/swarm/init', '/swarm/join']) {
    router.add('POST', path, () => {
      throw new HttpError(501, 'berth does not run swarm mode');
    });
  }
  for (const kind of ['nodes', 'services', 'tasks', 'secrets', 'configs']) {
    router.add('GET', `/${kind}`, unavailable(NOT_A_SWARM_MANAGER));
    router.add('GET', `/${kind}/{id}`, unavailable(NOT_A_SWARM_MANAGER));
    router.add('DELETE', `/${kind}/{id}`, unavailable(NOT_A_SWARM_MANAGER));
    router.add('POST', `/${kind}/create`, unavailable(NOT_A_SWARM_MANAGER));
    router.add('POST', `/${kind}/{id}/update`, unavailable(NOT_A_SWARM_MANAGER));
    router.add('GET', `/${kind}/{id}/logs`, unavailable(NOT_A_SWARM_MANAGER));
  }
  // No managed plugins: an empty list, as dockerd with none installed.
  router.add('GET', '/plugins', (ctx) => sendJson(ctx.res, 200, []));
}
