// Every libc function the filesystem code calls through koffi, declared at
// once. Worker threads do this while they start (src/util/worker.ts): a
// thread terminated while koffi declares a function aborts the whole
// process (koffi throws into an environment that is shutting down), and a
// worker is only terminated once it has started.
import { loadLibcBindings } from '../util/libc.js';
import { loadCopyBindings } from './copy-range.js';
import { loadExtentBindings } from './extents.js';
import { loadNodeBindings } from './nodes.js';
import { loadReflinkBindings } from './reflink.js';
import { loadXattrBindings } from './xattrs.js';

export function loadFsBindings(): void {
  loadLibcBindings();
  loadCopyBindings();
  loadExtentBindings();
  loadNodeBindings();
  loadReflinkBindings();
  loadXattrBindings();
}
