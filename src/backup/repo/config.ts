// The repository's config (docs/backup-format.md, "Config"): its format
// version and the parameters every writer must agree on. Encrypted under
// the metadata key, written once at init.
import { AEADS, type Aead } from './crypto.js';
import { RepositoryCorrupt } from './errors.js';

export const FORMAT_VERSION = 1;

export interface ChunkerParams {
  algorithm: 'fastcdc-gear32';
  min: number;
  avg: number;
  max: number;
  /** Files with at least this much data are cut into fixed blocks. */
  fixedFrom: number;
  fixedBlockMin: number;
  fixedBlockMax: number;
  /** The block size is chosen so a file has at most this many blocks (within the bounds above). */
  fixedMaxBlocks: number;
}

export interface RepositoryConfig {
  version: typeof FORMAT_VERSION;
  id: string;
  created: string;
  aead: Aead;
  compression: { algorithm: 'zstd'; level: number };
  chunker: ChunkerParams;
  packSize: number;
}

export const DEFAULT_CHUNKER: ChunkerParams = {
  algorithm: 'fastcdc-gear32',
  min: 512 << 10,
  avg: 1 << 20,
  max: 8 << 20,
  fixedFrom: 256 << 20,
  fixedBlockMin: 16 << 10,
  fixedBlockMax: 1 << 20,
  fixedMaxBlocks: 1 << 18,
};

export const DEFAULT_PACK_SIZE = 16 << 20;
export const DEFAULT_COMPRESSION_LEVEL = 3;

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Refuses parameters no chunker or packer can work with (bounds the damage of a bad config). */
export function checkChunkerParams(c: ChunkerParams, what: string): void {
  const fail = (problem: string): never => {
    throw new RepositoryCorrupt(`${what}: ${problem}`);
  };
  if (c.algorithm !== 'fastcdc-gear32') fail(`unknown chunker ${String(c.algorithm)}`);
  for (const f of ['min', 'avg', 'max', 'fixedBlockMin', 'fixedBlockMax'] as const) if (!isPow2(c[f])) fail(`chunker.${f} must be a power of two`);
  if (!(c.min >= 64 && c.min < c.avg && c.avg < c.max && c.max <= 64 << 20)) fail('chunker sizes must satisfy 64 <= min < avg < max <= 64 MiB');
  if (!(c.fixedBlockMin >= 4096 && c.fixedBlockMin <= c.fixedBlockMax && c.fixedBlockMax <= c.max)) fail('fixed block sizes must satisfy 4 KiB <= min <= max <= chunker max');
  if (!(Number.isSafeInteger(c.fixedFrom) && c.fixedFrom >= c.max)) fail('chunker.fixedFrom must be at least chunker.max');
  if (!(Number.isSafeInteger(c.fixedMaxBlocks) && c.fixedMaxBlocks >= 1024)) fail('chunker.fixedMaxBlocks must be at least 1024');
}

export function encodeConfig(c: RepositoryConfig): Buffer {
  return Buffer.from(JSON.stringify(c));
}

export function decodeConfig(plaintext: Buffer): RepositoryConfig {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new RepositoryCorrupt('the repository config is corrupt: not JSON');
  }
  if (typeof d !== 'object' || d === null) throw new RepositoryCorrupt('the repository config is corrupt: not an object');
  if (typeof d.version !== 'number' || d.version > FORMAT_VERSION) {
    throw new RepositoryCorrupt(`repository format version ${String(d.version)} is newer than this berth supports (${FORMAT_VERSION})`);
  }
  if (d.version !== FORMAT_VERSION) throw new RepositoryCorrupt(`repository format version ${d.version} is not known`);
  const fail = (field: string): never => {
    throw new RepositoryCorrupt(`the repository config is corrupt: bad ${field}`);
  };
  if (typeof d.id !== 'string' || !/^[0-9a-f]{64}$/.test(d.id)) fail('id');
  if (typeof d.created !== 'string') fail('created');
  if (!AEADS.includes(d.aead as Aead)) fail('aead');
  const comp = d.compression as RepositoryConfig['compression'] | undefined;
  if (!comp || comp.algorithm !== 'zstd' || !Number.isInteger(comp.level) || comp.level < -7 || comp.level > 22) fail('compression');
  const chunker = d.chunker as ChunkerParams | undefined;
  if (typeof chunker !== 'object' || chunker === null) fail('chunker');
  checkChunkerParams(chunker!, 'the repository config is corrupt');
  if (typeof d.packSize !== 'number' || !Number.isInteger(d.packSize) || d.packSize < 1 << 16 || d.packSize > 1 << 30) fail('packSize');
  return {
    version: FORMAT_VERSION,
    id: d.id as string,
    created: d.created as string,
    aead: d.aead as Aead,
    compression: { algorithm: 'zstd', level: comp!.level },
    chunker: {
      algorithm: 'fastcdc-gear32',
      min: chunker!.min,
      avg: chunker!.avg,
      max: chunker!.max,
      fixedFrom: chunker!.fixedFrom,
      fixedBlockMin: chunker!.fixedBlockMin,
      fixedBlockMax: chunker!.fixedBlockMax,
      fixedMaxBlocks: chunker!.fixedMaxBlocks,
    },
    packSize: d.packSize as number,
  };
}
