// Plays a berthd that starts a container and then dies: spawns a shim,
// starts the container, prints the shim's pid, and kills itself with SIGKILL.
// Usage: node spawn-helper.js '<SpawnShimOptions as JSON>'
import { spawnShim } from '../../../src/containers/runtime/shim-client.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof spawnShim>[0];
const handle = await spawnShim(opts);
const { pid } = await handle.start();
process.stdout.write(`${JSON.stringify({ shimPid: handle.shimPid, pid })}\n`, () => {
  process.kill(process.pid, 'SIGKILL');
});
