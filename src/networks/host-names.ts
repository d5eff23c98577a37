// Names berthd gives host-wide objects (the default bridge, its nftables
// table): fixed on the default data root, derived from the data root
// otherwise, so daemons on different data roots (tests run several at once)
// never share one. User-defined networks' bridges are br-<12 hex of the
// network ID>, as dockerd's.
import { createHash } from 'node:crypto';

const DEFAULT_DATA_ROOT = '/var/lib/berth';

/** The per-daemon tag of host-wide names: empty on the default data root. */
export function instanceTag(dataRoot: string): string {
  return dataRoot === DEFAULT_DATA_ROOT ? '' : createHash('sha256').update(dataRoot).digest('hex').slice(0, 8);
}

/** The default bridge's device when --bridge is not given: berth0, or bth-<8 hex>. */
export function defaultBridgeDevice(dataRoot: string): string {
  const tag = instanceTag(dataRoot);
  return tag === '' ? 'berth0' : `bth-${tag}`;
}

/** berthd's nftables table (inet family): berth, or berth_<8 hex>. */
export function firewallTable(dataRoot: string): string {
  const tag = instanceTag(dataRoot);
  return tag === '' ? 'berth' : `berth_${tag}`;
}
