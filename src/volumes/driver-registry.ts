// The volume drivers a daemon has, by name. The volume service reaches
// drivers only through this registry and the VolumeDriver interface.
import type { VolumeDriver } from './driver.js';

export class DriverRegistry {
  private readonly drivers = new Map<string, VolumeDriver>();

  constructor(drivers: Iterable<VolumeDriver> = []) {
    for (const d of drivers) this.register(d);
  }

  register(driver: VolumeDriver): void {
    // Two drivers under one name would make volume records ambiguous.
    if (this.drivers.has(driver.name)) throw new Error(`volume driver ${driver.name} is already registered`);
    this.drivers.set(driver.name, driver);
  }

  get(name: string): VolumeDriver | undefined {
    return this.drivers.get(name);
  }

  all(): VolumeDriver[] {
    return [...this.drivers.values()];
  }

  names(): string[] {
    return [...this.drivers.keys()].sort();
  }
}
