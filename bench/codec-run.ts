// The archive codec alone, as a process of its own (no daemon, no HTTP), for
// bench/volume-archive.ts, doing what berthd does with a file the CLI hands
// it: `export ROOT FILE` writes the tar into FILE on a worker thread and
// fsyncs it; `import FILE DIR` extracts FILE by position into the empty DIR
// and syncs its filesystem.
import { fsyncSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { exportTreeToFd, extractTree } from '../src/archive/tree.js';
import { syncFilesystem } from '../src/fs/exchange.js';

const [op, a, b] = process.argv.slice(2);
if (op === 'export' && a && b) {
  const fd = openSync(b, 'w');
  await exportTreeToFd(a, fd, { worker: true, writeback: true });
  fsyncSync(fd);
  closeSync(fd);
} else if (op === 'import' && a && b) {
  mkdirSync(b);
  const fd = openSync(a, 'r');
  await extractTree({ fd }, b, { writeback: true });
  closeSync(fd);
  syncFilesystem(b);
} else {
  console.error('usage: codec-run export ROOT FILE | import FILE DIR');
  process.exit(2);
}
