// A local S3 server for tests (s3rver), run in a process of its own by
// test/helpers/s3rver.ts: argv[2] is its directory, argv[3...] buckets to
// create. Prints {"port":N} once it listens on 127.0.0.1, and exits when its
// stdin closes, so it never outlives the test that started it.
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void server.close().finally(() => process.exit(0));
});
