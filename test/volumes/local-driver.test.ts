// The local driver against the driver conformance suite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LocalDriver } from '../../src/volumes/drivers/local.js';
import { unmountUnder } from '../helpers/daemon.js';
import { driverConformance } from './driver-conformance.js';

driverConformance({
  name: 'local',
  storage(t) {
    const root = mkdtempSync(join(tmpdir(), 'berth-local-driver-'));
    t.after(() => {
      unmountUnder(root);
      rmSync(root, { recursive: true, force: true });
    });
    return () => new LocalDriver(join(root, 'volumes'), pino({ level: 'silent' }));
  },
  persistent: true,
  validOptions: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' },
  invalidOptions: { options: { foo: 'bar' }, message: /^invalid option: "foo"$/ },
});
