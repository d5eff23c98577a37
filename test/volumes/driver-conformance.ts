// The behaviour every volume driver must have, as one suite run against each
// driver (test/volumes/*-driver.test.ts), in the manner of containerd's
// content and snapshot test suites. Optional abilities (mount on use, size,
// data access) are tested where the driver has them and skipped otherwise.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound } from '../../src/errors.js';
import { givesDataAccess, mountsOnUse, reportsSize, type VolumeDriver } from '../../src/volumes/driver.js';

export interface DriverSubject {
  /** The suite's name in the test report. */
  name: string;
  /**
   * Makes fresh storage for one test (cleaned up through `t`) and returns a
   * function that opens a driver on it, not yet initialised; calling it
   * again opens the same storage anew (a daemon restart).
   */
  storage(t: TestContext): () => VolumeDriver;
  /** The driver keeps its volumes across a re-open. */
  persistent: boolean;
  /** Options the driver accepts at create. */
  validOptions: Record<string, string>;
  /** Options the driver refuses, and the message it refuses them with. */
  invalidOptions: { options: Record<string, string>; message: RegExp };
}

export function driverConformance(subject: DriverSubject): void {
  const opened = async (t: TestContext): Promise<{ driver: VolumeDriver; reopen: () => Promise<VolumeDriver> }> => {
    const open = subject.storage(t);
    const driver = open();
    await driver.init();
    return {
      driver,
      async reopen() {
        const again = open();
        await again.init();
        return again;
      },
    };
  };
  const names = async (driver: VolumeDriver): Promise<string[]> => (await driver.list()).map((v) => v.name).sort();
  /** Writes a file into the volume when the driver gives direct data access; returns its path. */
  const writeData = (driver: VolumeDriver, volume: string, bytes: number): string | undefined => {
    if (!givesDataAccess(driver)) return undefined;
    const file = join(driver.dataPath(volume), 'payload');
    writeFileSync(file, 'x'.repeat(bytes));
    return file;
  };

  describe(`volume driver conformance: ${subject.name}`, () => {
    test('fresh storage holds no volumes', async (t) => {
      const { driver } = await opened(t);
      assert.deepEqual(await driver.list(), []);
      assert.equal(await driver.get('nothing'), undefined);
    });

    test('create, then get, list and path agree', async (t) => {
      const { driver } = await opened(t);
      let commits = 0;
      const created = await driver.create('vol1', null, () => commits++);
      assert.equal(commits, 1);
      assert.equal(created.name, 'vol1');
      assert.equal(created.mountpoint, driver.path('vol1'));
      const got = await driver.get('vol1');
      assert.equal(got?.name, 'vol1');
      assert.equal(got?.mountpoint, driver.path('vol1'));
      assert.deepEqual(await names(driver), ['vol1']);
      assert.deepEqual(
        (await driver.list()).map((v) => v.mountpoint),
        [driver.path('vol1')],
      );
    });

    test('creating an existing name returns it, commits again and keeps its data', async (t) => {
      const { driver } = await opened(t);
      await driver.create('twice', null);
      const file = writeData(driver, 'twice', 10);
      let commits = 0;
      const again = await driver.create('twice', null, () => commits++);
      assert.equal(again.name, 'twice');
      assert.equal(commits, 1);
      assert.deepEqual(await names(driver), ['twice']);
      if (file) assert.equal(readFileSync(file, 'utf8'), 'x'.repeat(10));
    });

    test('a create whose commit fails leaves no volume and rethrows', async (t) => {
      const { driver } = await opened(t);
      const failure = new Error('disk full');
      await assert.rejects(
        driver.create('uncommitted', null, () => {
          throw failure;
        }),
        (e: unknown) => e === failure,
      );
      assert.equal(await driver.get('uncommitted'), undefined);
      assert.deepEqual(await names(driver), []);
      await driver.create('uncommitted', null);
      assert.deepEqual(await names(driver), ['uncommitted']);
    });

    test('remove takes the volume away; removing an unknown name is not an error', async (t) => {
      const { driver } = await opened(t);
      await driver.create('keep', null);
      await driver.create('drop', null);
      let commits = 0;
      await driver.remove('drop', () => commits++);
      assert.equal(commits, 1);
      assert.equal(await driver.get('drop'), undefined);
      assert.deepEqual(await names(driver), ['keep']);
      await driver.remove('never-made', () => commits++);
      assert.equal(commits, 2);
      assert.deepEqual(await names(driver), ['keep']);
    });

    test('a remove whose commit fails keeps the volume and its data', async (t) => {
      const { driver } = await opened(t);
      await driver.create('stays', null);
      const file = writeData(driver, 'stays', 100);
      const failure = new Error('disk full');
      await assert.rejects(
        driver.remove('stays', () => {
          throw failure;
        }),
        (e: unknown) => e === failure,
      );
      assert.ok(await driver.get('stays'));
      assert.deepEqual(await names(driver), ['stays']);
      if (file) assert.equal(readFileSync(file, 'utf8'), 'x'.repeat(100));
      await driver.remove('stays');
      assert.equal(await driver.get('stays'), undefined);
    });

    test('options: accepted ones create, refused ones fail with InvalidParameter and create nothing', async (t) => {
      const { driver } = await opened(t);
      await assert.rejects(driver.create('refused', subject.invalidOptions.options), (e: unknown) => {
        assert.ok(e instanceof InvalidParameter, `InvalidParameter, got ${String(e)}`);
        assert.match(e.message, subject.invalidOptions.message);
        return true;
      });
      assert.equal(await driver.get('refused'), undefined);
      const v = await driver.create('accepted', subject.validOptions);
      assert.equal(v.name, 'accepted');
      assert.deepEqual(await names(driver), ['accepted']);
    });

    test('a name with a path separator is refused with InvalidParameter', async (t) => {
      const { driver } = await opened(t);
      await assert.rejects(driver.create('a/b', null), InvalidParameter);
      assert.deepEqual(await names(driver), []);
    });

    test('mount on use: references are counted and block removal until the last is released', async (t) => {
      const { driver } = await opened(t);
      if (!mountsOnUse(driver)) {
        t.skip('the driver does not mount on use');
        return;
      }
      await assert.rejects(driver.mount('unknown', 'r1'), NotFound);
      await driver.create('used', null);
      assert.equal(driver.needsMount('used'), false, 'a volume without options needs no mount');
      const first = await driver.mount('used', 'r1');
      const second = await driver.mount('used', 'r2');
      assert.equal(first, second);
      assert.ok(statSync(first).isDirectory());
      await assert.rejects(driver.remove('used'), Conflict);
      await driver.unmount('used', 'r1');
      await assert.rejects(driver.remove('used'), Conflict);
      // Releasing what was never taken changes nothing.
      await driver.unmount('used', 'r1');
      await driver.unmount('used', 'never-taken');
      await driver.unmount('unknown', 'r1');
      await assert.rejects(driver.remove('used'), Conflict);
      await driver.unmount('used', 'r2');
      await driver.remove('used');
      assert.equal(await driver.get('used'), undefined);
    });

    test('size counts the bytes written into a volume', async (t) => {
      const { driver } = await opened(t);
      if (!reportsSize(driver) || !givesDataAccess(driver)) {
        t.skip('the driver does not report sizes with direct data access');
        return;
      }
      await driver.create('sized', null);
      assert.equal(await driver.size('sized'), 0);
      writeData(driver, 'sized', 4096);
      assert.ok((await driver.size('sized')) >= 4096);
    });

    test('data access: files written at dataPath are what a mounted user sees', async (t) => {
      const { driver } = await opened(t);
      if (!givesDataAccess(driver)) {
        t.skip('the driver gives no direct data access');
        return;
      }
      await driver.create('direct', null);
      const file = writeData(driver, 'direct', 3)!;
      const seen = mountsOnUse(driver) ? await driver.mount('direct', 'reader') : driver.path('direct');
      assert.equal(readFileSync(join(seen, 'payload'), 'utf8'), 'xxx');
      if (mountsOnUse(driver)) await driver.unmount('direct', 'reader');
      assert.ok(existsSync(file));
    });

    test('volumes, their options and their data survive a re-open; removed ones stay gone', async (t) => {
      const { driver, reopen } = await opened(t);
      if (!subject.persistent) {
        t.skip('the driver does not persist volumes');
        return;
      }
      await driver.create('plain', null);
      await driver.create('optioned', subject.validOptions);
      await driver.create('removed', null);
      await driver.remove('removed');
      writeData(driver, 'plain', 5);
      const needsMountBefore = mountsOnUse(driver) ? driver.needsMount('optioned') : undefined;
      const again = await reopen();
      assert.deepEqual(await names(again), ['optioned', 'plain']);
      assert.equal((await again.get('plain'))?.mountpoint, again.path('plain'));
      assert.equal(await again.get('removed'), undefined);
      if (givesDataAccess(again)) assert.equal(readFileSync(join(again.dataPath('plain'), 'payload'), 'utf8'), 'xxxxx');
      if (mountsOnUse(again)) assert.equal(again.needsMount('optioned'), needsMountBefore);
    });
  });
}
