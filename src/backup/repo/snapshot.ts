// Snapshot documents (docs/backup-format.md, "Snapshots"): one volume's
// tree at one moment, with the volume's metadata and what the backup did.
import { RepositoryCorrupt } from './errors.js';

export type ConsistencyMode = 'freeze' | 'stop' | 'none';
export const CONSISTENCY_MODES: readonly ConsistencyMode[] = ['freeze', 'stop', 'none'];

export interface VolumeInfo {
  name: string;
  driver: string;
  labels: Record<string, string>;
  options: Record<string, string>;
}

export interface SnapshotSummary {
  /** Entries (files, directories, links, ...) in the snapshot. */
  files: number;
  dirs: number;
  /** Apparent bytes of file data. */
  size: number;
  /** Bytes the backup added to the repository (pack bytes of new blobs). */
  bytesAdded: number;
  blobsAdded: number;
  /** Entries that could not be stored (sockets). */
  skipped: number;
  durationMs: number;
}

export interface Snapshot {
  version: 1;
  /** When the backup began reading the tree, ns since the epoch. */
  timeNs: bigint;
  /** The root tree's ID, hex. */
  tree: string;
  parent: string | null;
  host: string;
  volume: VolumeInfo;
  tags: string[];
  group: string | null;
  consistency: { mode: ConsistencyMode; freezeMs: number };
  summary: SnapshotSummary;
  program: string;
}

/** A snapshot with its ID (its file name). */
export interface SnapshotRecord extends Snapshot {
  id: string;
}

/** ns since the epoch as RFC 3339 with nine decimals, UTC. */
export function nsToIso(ns: bigint): string {
  let seconds = ns / 1_000_000_000n;
  let sub = ns % 1_000_000_000n;
  if (sub < 0n) {
    sub += 1_000_000_000n;
    seconds -= 1n;
  }
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${sub.toString().padStart(9, '0')}Z`;
}

const ISO_NS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{9})Z$/;

export function isoToNs(text: string): bigint | undefined {
  const m = ISO_NS.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt(m[2]!);
}

export function encodeSnapshot(s: Snapshot): Buffer {
  const { version, timeNs, ...rest } = s;
  return Buffer.from(JSON.stringify({ version, time: nsToIso(timeNs), ...rest }));
}

const HEX64 = /^[0-9a-f]{64}$/;

function stringMap(v: unknown, what: string, field: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RepositoryCorrupt(`${what} is corrupt: ${field} is not an object`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw new RepositoryCorrupt(`${what} is corrupt: ${field}.${k} is not a string`);
    out[k] = val;
  }
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function decodeSnapshot(plaintext: Buffer, id: string): SnapshotRecord {
  const what = `snapshot ${id.slice(0, 8)}`;
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new RepositoryCorrupt(`${what} is corrupt: not JSON`);
  }
  const fail = (field: string): never => {
    throw new RepositoryCorrupt(`${what} is corrupt: bad ${field}`);
  };
  if (typeof d !== 'object' || d === null || Array.isArray(d)) fail('document');
  if (d.version !== 1) throw new RepositoryCorrupt(`${what} has version ${JSON.stringify(d.version)}, which this berth does not know`);
  const timeNs = typeof d.time === 'string' ? isoToNs(d.time) : undefined;
  if (timeNs === undefined) fail('time');
  if (typeof d.tree !== 'string' || !HEX64.test(d.tree)) fail('tree');
  if (d.parent !== null && (typeof d.parent !== 'string' || !HEX64.test(d.parent))) fail('parent');
  if (typeof d.host !== 'string') fail('host');
  const v = d.volume as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || typeof v.name !== 'string' || v.name === '' || typeof v.driver !== 'string') fail('volume');
  const volume: VolumeInfo = { name: v!.name as string, driver: v!.driver as string, labels: stringMap(v!.labels, what, 'volume.labels'), options: stringMap(v!.options, what, 'volume.options') };
  if (!Array.isArray(d.tags) || !d.tags.every((t) => typeof t === 'string')) fail('tags');
  if (d.group !== null && typeof d.group !== 'string') fail('group');
  const c = d.consistency as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || !CONSISTENCY_MODES.includes(c.mode as ConsistencyMode) || !isCount(c.freezeMs)) fail('consistency');
  const s = d.summary as Record<string, unknown> | null;
  const summaryFields = ['files', 'dirs', 'size', 'bytesAdded', 'blobsAdded', 'skipped', 'durationMs'] as const;
  if (typeof s !== 'object' || s === null || !summaryFields.every((f) => isCount(s[f]))) fail('summary');
  if (typeof d.program !== 'string') fail('program');
  return {
    id,
    version: 1,
    timeNs: timeNs!,
    tree: d.tree as string,
    parent: d.parent as string | null,
    host: d.host as string,
    volume,
    tags: d.tags as string[],
    group: d.group as string | null,
    consistency: { mode: c!.mode as ConsistencyMode, freezeMs: c!.freezeMs as number },
    summary: Object.fromEntries(summaryFields.map((f) => [f, s![f]])) as unknown as SnapshotSummary,
    program: d.program as string,
  };
}
