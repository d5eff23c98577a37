// An in-process VolumeService on a temp data root, for unit tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { openDatabase } from '../../src/store/db.js';
import { VolumeRecords } from '../../src/store/volume-records.js';
import { LocalDriver } from '../../src/volumes/drivers/local.js';
import { VolumeService } from '../../src/volumes/service.js';
import { DriverRegistry } from '../../src/volumes/driver-registry.js';
import type { VolumeDriver } from '../../src/volumes/driver.js';
import { EventBus, type EngineEvent } from '../../src/events/bus.js';
import { unmountUnder } from './daemon.js';

export interface ServiceFixture {
  root: string;
  service: VolumeService;
  events: EngineEvent[];
  reopen(): Promise<VolumeService>;
}

/** `extraDrivers` makes drivers registered beside the local one, on the fixture's root (each re-open makes them anew). */
export async function volumeService(t: TestContext, extraDrivers: (root: string) => VolumeDriver[] = () => []): Promise<ServiceFixture> {
  const root = mkdtempSync(join(tmpdir(), 'berth-unit-'));
  const log = pino({ level: 'silent' });
  const events: EngineEvent[] = [];
  const dbs: Array<{ close(): void }> = [];
  const make = async () => {
    const db = openDatabase(join(root, 'berth.db'));
    dbs.push(db);
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    const s = new VolumeService(new VolumeRecords(db), new DriverRegistry([new LocalDriver(join(root, 'volumes'), log), ...extraDrivers(root)]), bus, log);
    await s.restore();
    return s;
  };
  const fixture: ServiceFixture = {
    root,
    service: await make(),
    events,
    async reopen() {
      fixture.service = await make();
      return fixture.service;
    },
  };
  t.after(() => {
    for (const db of dbs) db.close();
    unmountUnder(root);
    rmSync(root, { recursive: true, force: true });
  });
  return fixture;
}
