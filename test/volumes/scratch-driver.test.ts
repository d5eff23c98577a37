// The scratch test driver, with all its abilities and reduced to the core
// interface, against the driver conformance suite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { driverConformance } from './driver-conformance.js';
import { ScratchDriver, coreOnly } from './scratch-driver.js';

function scratchRoot(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-scratch-driver-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

const options = {
  persistent: true,
  validOptions: { mode: '0700' },
  invalidOptions: { options: { size: '1m' }, message: /^invalid option: "size"$/ },
};

driverConformance({
  name: 'scratch',
  storage(t) {
    const root = scratchRoot(t);
    return () => new ScratchDriver(root);
  },
  ...options,
});

driverConformance({
  name: 'scratch reduced to the core interface',
  storage(t) {
    const root = scratchRoot(t);
    return () => coreOnly(new ScratchDriver(root), 'core');
  },
  ...options,
});
