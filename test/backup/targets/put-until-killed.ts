// Child process for local.test.ts: starts a streamed put on a LocalTarget
// (argv[2] the root, argv[3] the data file's name), says "writing" once the
// first MiB is in the temporary file, and then waits, mid-put, to be killed.
import { LocalTarget } from '../../../src/backup/targets/local.js';

const [root = '', name = ''] = process.argv.slice(2);

async function* body(): AsyncGenerator<Buffer> {
  yield Buffer.alloc(1024 * 1024, 'a');
  // Asked for the next chunk: the first one has been written.
  process.stdout.write('writing\n');
  await new Promise(() => setInterval(() => {}, 60_000));
}

await new LocalTarget(root).put('data', name, body());
