// The archive codec alone, as a process of its own (no daemon, no HTTP), for
// bench/volume-archive.ts: `export ROOT FILE` writes and fsyncs the tar;
// `import FILE DIR` extracts into the empty DIR and syncs its filesystem.
import { createReadStream, createWriteStream, fsyncSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { exportTree, extractTree } from '../src/archive/tree.js';
import { syncFilesystem } from '../src/fs/exchange.js';

const [op, a, b] = process.argv.slice(2);
if (op === 'export' && a && b) {
  const fd = openSync(b, 'w');
  await pipeline(exportTree(a, { worker: true }), createWriteStream('', { fd, autoClose: false, highWaterMark: 1 << 20 }));
  fsyncSync(fd);
  closeSync(fd);
} else if (op === 'import' && a && b) {
  mkdirSync(b);
  await extractTree(createReadStream(a, { highWaterMark: 1 << 20 }), b);
  syncFilesystem(b);
} else {
  console.error('usage: codec-run export ROOT FILE | import FILE DIR');
  process.exit(2);
}
