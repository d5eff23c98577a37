// HostConfig.Mounts from a create request into the services' MountSpec:
// Go's encoding/json rules for mount.Mount (wrong types are dockerd's 400
// messages, field names match case-insensitively), then the checks and
// rewrites dockerd's container-create router applies for the request's API
// version. The services never see API versions of mounts.
import { InvalidParameter } from '../../errors.js';
import { quote as goQuote } from '../../go/strconv.js';
import type { MountSpec, VolumeOptionsSpec } from '../../mounts/types.js';
import { newDict } from '../../util/dict.js';
import { versionLess } from '../../util/version.js';

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number, object
}

function typeError(v: unknown, field: string, goType: string): InvalidParameter {
  const what = typeof v === 'number' ? `number ${v}` : jsonKind(v);
  return new InvalidParameter(`json: cannot unmarshal ${what} into Go struct field ${field} of type ${goType}`);
}

/** Go's encoding/json field lookup: exact key first, then case-insensitive. */
function getField(obj: Record<string, unknown>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) {
    if (k.toLowerCase() === lower) return obj[k];
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(obj: Record<string, unknown>, name: string, path: string): string {
  const v = getField(obj, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw typeError(v, `${path}.${name}`, 'string');
  return v;
}

function bool(obj: Record<string, unknown>, name: string, path: string): boolean {
  const v = getField(obj, name);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw typeError(v, `${path}.${name}`, 'bool');
  return v;
}

function int(obj: Record<string, unknown>, name: string, path: string, goType: string, min: number, max: number): number {
  const v = getField(obj, name);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw typeError(v, `${path}.${name}`, goType);
  return v;
}

function strMap(obj: Record<string, unknown>, name: string, path: string): Record<string, string> | null {
  const v = getField(obj, name);
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw typeError(v, `${path}.${name}`, 'map[string]string');
  const out = newDict();
  for (const [k, val] of Object.entries(v)) {
    if (val === null) { out[k] = ''; continue; }
    if (typeof val !== 'string') throw typeError(val, `${path}.${name}`, 'string');
    out[k] = val;
  }
  return out;
}

function sub(obj: Record<string, unknown>, name: string, path: string, goType: string): Record<string, unknown> | null {
  const v = getField(obj, name);
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw typeError(v, `${path}.${name}`, goType);
  return v;
}

const FIELD = 'Mount';

function decodeMount(m: unknown): MountSpec {
  if (!isObject(m)) {
    throw new InvalidParameter(`json: cannot unmarshal ${m === null ? 'null' : jsonKind(m)} into Go value of type mount.Mount`);
  }
  const bo = sub(m, 'BindOptions', FIELD, 'mount.BindOptions');
  const vo = sub(m, 'VolumeOptions', FIELD, 'mount.VolumeOptions');
  const to = sub(m, 'TmpfsOptions', FIELD, 'mount.TmpfsOptions');
  const io = sub(m, 'ImageOptions', FIELD, 'mount.ImageOptions');
  let driverConfig: VolumeOptionsSpec['DriverConfig'] = null;
  if (vo) {
    const dc = sub(vo, 'DriverConfig', `${FIELD}.VolumeOptions`, 'mount.Driver');
    if (dc) {
      const p = `${FIELD}.VolumeOptions.DriverConfig`;
      driverConfig = { Name: str(dc, 'Name', p), Options: strMap(dc, 'Options', p) };
    }
  }
  let tmpfsOpts: string[][] | null = null;
  if (to) {
    const raw = getField(to, 'Options');
    if (raw !== undefined && raw !== null) {
      const p = `${FIELD}.TmpfsOptions.Options`;
      if (!Array.isArray(raw)) throw typeError(raw, p, '[][]string');
      tmpfsOpts = raw.map((row: unknown) => {
        if (row === null) return [];
        if (!Array.isArray(row)) throw typeError(row, p, '[]string');
        return row.map((s: unknown) => {
          if (typeof s !== 'string') throw typeError(s, p, 'string');
          return s;
        });
      });
    }
  }
  const bp = `${FIELD}.BindOptions`;
  const vp = `${FIELD}.VolumeOptions`;
  const tp = `${FIELD}.TmpfsOptions`;
  return {
    Type: str(m, 'Type', FIELD),
    Source: str(m, 'Source', FIELD),
    Target: str(m, 'Target', FIELD),
    ReadOnly: bool(m, 'ReadOnly', FIELD),
    Consistency: str(m, 'Consistency', FIELD),
    BindOptions: bo && {
      Propagation: str(bo, 'Propagation', bp),
      NonRecursive: bool(bo, 'NonRecursive', bp),
      CreateMountpoint: bool(bo, 'CreateMountpoint', bp),
      ReadOnlyNonRecursive: bool(bo, 'ReadOnlyNonRecursive', bp),
      ReadOnlyForceRecursive: bool(bo, 'ReadOnlyForceRecursive', bp),
    },
    VolumeOptions: vo && {
      NoCopy: bool(vo, 'NoCopy', vp),
      Labels: strMap(vo, 'Labels', vp),
      Subpath: str(vo, 'Subpath', vp),
      DriverConfig: driverConfig,
    },
    TmpfsOptions: to && {
      SizeBytes: int(to, 'SizeBytes', tp, 'int64', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
      Mode: int(to, 'Mode', tp, 'fs.FileMode', 0, 0xffffffff),
      Options: tmpfsOpts,
    },
    ImageOptions: io && { Subpath: str(io, 'Subpath', `${FIELD}.ImageOptions`) },
    raw: m,
  };
}

/**
 * The checks and rewrites the container-create router applies to the whole
 * Mounts list before the daemon sees it (in dockerd's order).
 */
function applyRouterRules(list: MountSpec[], apiVersion: string): void {
  if (versionLess(apiVersion, '1.42')) {
    for (const m of list) {
      if (m.BindOptions) m.BindOptions.CreateMountpoint = false;
      if (m.VolumeOptions && m.Type !== 'volume') m.VolumeOptions = null;
      if (m.TmpfsOptions && m.Type !== 'tmpfs') m.TmpfsOptions = null;
    }
  } else {
    for (const m of list) {
      if (m.VolumeOptions && m.Type !== 'volume') {
        throw new InvalidParameter(`VolumeOptions must not be specified on mount type ${goQuote(m.Type)}`);
      }
      if (m.BindOptions && m.Type !== 'bind') {
        throw new InvalidParameter(`BindOptions must not be specified on mount type ${goQuote(m.Type)}`);
      }
      if (m.TmpfsOptions && m.Type !== 'tmpfs') {
        throw new InvalidParameter(`TmpfsOptions must not be specified on mount type ${goQuote(m.Type)}`);
      }
    }
  }
  if (versionLess(apiVersion, '1.44')) {
    for (const m of list) {
      if (m.Type === 'bind' && m.BindOptions?.ReadOnlyForceRecursive) {
        throw new InvalidParameter('BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer');
      }
    }
  }
  if (versionLess(apiVersion, '1.45')) {
    for (const m of list) {
      if (m.VolumeOptions && m.VolumeOptions.Subpath !== '') {
        throw new InvalidParameter('VolumeOptions.Subpath needs API v1.45 or newer');
      }
    }
  }
  if (versionLess(apiVersion, '1.46')) {
    // TmpfsOptions.Options did not exist yet: ignore it.
    for (const m of list) if (m.TmpfsOptions) m.TmpfsOptions.Options = null;
  }
}

/** Decodes a create request's HostConfig.Mounts and applies the API-version rules; InvalidParameter on bad input. */
export function decodeMounts(list: readonly unknown[] | null | undefined, apiVersion: string): MountSpec[] {
  const decoded = (list ?? []).map((m) => decodeMount(m));
  applyRouterRules(decoded, apiVersion);
  return decoded;
}
