// CLI-side parsing of `berth run` mount flags, as the docker CLI 28.2 does it
// before anything reaches the daemon (spec 5.1, 5.3, 5.4). Errors carry the
// CLI's own texts; the CLI face prints them as flag errors (exit 125).
import { InvalidParameter } from '../../errors.js';
import type { ApiMount } from '../../api/types/index.js';
import { cleanPath } from '../../go/path.js';
import { parseBool as goParseBool } from '../../go/strconv.js';
import { cut } from '../../go/strings.js';
import { ramInBytes } from '../../go/units.js';
import { newDict } from '../../util/dict.js';

// ---------------------------------------------------------------------------
// -v / --volume (5.1)

/** Where a `-v` value goes in the create request. */
export type VolumeFlagTarget =
  | { field: 'Binds'; value: string }
  | { field: 'Volumes'; value: string };

interface ComposeVolume {
  source: string;
  target: string;
  type: 'bind' | 'volume';
}

const END_OF_SPEC = '\u0000';

function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

function isWindowsDrive(buffer: string[], ch: string): boolean {
  return ch === ':' && buffer.length === 1 && isLetter(buffer[0]!);
}

function isFilePath(source: string): boolean {
  const first = source[0];
  if (first === '.' || first === '/' || first === '~') return true;
  const runes = [...source];
  if (runes.length === 1) return false;
  if (source.startsWith('\\\\')) return true;
  // the first rune followed by the next byte: a drive letter such as `c:`
  const firstRune = runes[0]!;
  const next = source.charAt(firstRune.length);
  return isWindowsDrive([firstRune], next);
}

/** The compose loader's ParseVolume, which the CLI uses to split `-v` values. */
function parseComposeVolume(spec: string): ComposeVolume {
  const len = Buffer.byteLength(spec);
  if (len === 0) throw new InvalidParameter('invalid empty volume spec');
  if (len <= 2) return { source: '', target: spec, type: 'volume' };

  const vol = { source: '', target: '' };
  let buffer: string[] = [];
  for (const ch of spec + END_OF_SPEC) {
    if (isWindowsDrive(buffer, ch)) {
      buffer.push(ch);
    } else if (ch === ':' || ch === END_OF_SPEC) {
      const text = buffer.join('');
      let err: string | null = null;
      if (buffer.length === 0) err = 'empty section between colons';
      else if (vol.source === '' && ch === END_OF_SPEC) vol.target = text;
      else if (vol.source === '') vol.source = text;
      else if (vol.target === '') vol.target = text;
      else if (ch === ':') err = 'too many colons';
      // a third section holds options the CLI does not need here
      if (err !== null) throw new InvalidParameter(`invalid spec: ${spec}: ${err}`);
      buffer = [];
    } else {
      buffer.push(ch);
    }
  }
  const type = vol.source !== '' && isFilePath(vol.source) ? 'bind' : 'volume';
  return { ...vol, type };
}

/**
 * Splits one `-v` value the way docker CLI 28.2 does: with a source it becomes
 * a HostConfig.Binds string (a source starting with `.` made absolute against
 * `cwd`; `~` is not expanded), without one the raw value is a Config.Volumes key.
 */
export function splitVolumeSpec(spec: string, cwd: string): VolumeFlagTarget {
  const parsed = parseComposeVolume(spec);
  if (parsed.source === '') return { field: 'Volumes', value: spec };
  let value = spec;
  if (parsed.type === 'bind') {
    const [hostPart, targetPath, ok] = cut(spec, ':');
    if (ok) {
      let host = hostPart;
      if (!host.startsWith('/') && host.startsWith('.')) host = cleanPath(`${cwd}/${host}`);
      value = `${host}:${targetPath}`;
    }
  }
  return { field: 'Binds', value };
}

// ---------------------------------------------------------------------------
// --tmpfs (5.4)

/** `--tmpfs /path[:opts]` → [destination, options] (split at the first ':'). */
export function parseTmpfsFlag(value: string): [string, string] {
  const [dest, opts] = cut(value, ':');
  return [dest, opts];
}

// ---------------------------------------------------------------------------
// CSV, as Go's encoding/csv reads the first record

const ERR_BARE_QUOTE = 'bare " in non-quoted-field';
const ERR_QUOTE = 'extraneous or missing " in quoted-field';

function csvError(recLine: number, line: number, col: number, msg: string): InvalidParameter {
  if (recLine !== line) {
    return new InvalidParameter(`record on line ${recLine}; parse error on line ${line}, column ${col}: ${msg}`);
  }
  return new InvalidParameter(`parse error on line ${line}, column ${col}: ${msg}`);
}

const bytes = (s: string): number => Buffer.byteLength(s);

/** Reads the first CSV record of `input` like Go's csv.Reader.Read (comma ',', strict quotes). */
export function readCsvRecord(input: string): string[] {
  let pos = 0;
  let lineNo = 0;
  const readLine = (): string | null => {
    if (pos >= input.length) return null;
    const nl = input.indexOf('\n', pos);
    let line = nl < 0 ? input.slice(pos) : input.slice(pos, nl + 1);
    pos += line.length;
    lineNo++;
    if (line.endsWith('\r\n')) line = line.slice(0, -2) + '\n';
    else if (nl < 0 && line.endsWith('\r')) line = line.slice(0, -1);
    return line;
  };

  let line: string;
  for (;;) {
    const l = readLine();
    if (l === null) throw new InvalidParameter('EOF');
    if (l === '\n') continue; // empty lines are skipped
    line = l;
    break;
  }
  const recLine = lineNo;
  let posLine = lineNo;
  let col = 1;
  const fields: string[] = [];

  for (;;) {
    if (line.length === 0 || line[0] !== '"') {
      const i = line.indexOf(',');
      let field = i >= 0 ? line.slice(0, i) : line;
      if (i < 0 && field.endsWith('\n')) field = field.slice(0, -1);
      const q = field.indexOf('"');
      if (q >= 0) throw csvError(recLine, posLine, col + bytes(field.slice(0, q)), ERR_BARE_QUOTE);
      fields.push(field);
      if (i < 0) break;
      col += bytes(line.slice(0, i + 1));
      line = line.slice(i + 1);
      continue;
    }
    // quoted field
    line = line.slice(1);
    col += 1;
    let buf = '';
    let done = false;
    for (;;) {
      const i = line.indexOf('"');
      if (i >= 0) {
        buf += line.slice(0, i);
        col += bytes(line.slice(0, i)) + 1;
        line = line.slice(i + 1);
        const next = line[0];
        if (next === '"') {
          buf += '"';
          line = line.slice(1);
          col += 1;
        } else if (next === ',') {
          line = line.slice(1);
          col += 1;
          fields.push(buf);
          break;
        } else if (line.length === 0 || line === '\n') {
          fields.push(buf);
          done = true;
          break;
        } else {
          throw csvError(recLine, posLine, col - 1, ERR_QUOTE);
        }
      } else if (line.length > 0) {
        buf += line;
        col += bytes(line);
        const l = readLine();
        line = l ?? '';
        if (line.length > 0) {
          posLine = lineNo;
          col = 1;
        }
      } else {
        throw csvError(recLine, posLine, col, ERR_QUOTE);
      }
    }
    if (done) break;
  }
  return fields;
}

// ---------------------------------------------------------------------------
// --mount (5.3)

interface MountDraft {
  Type: string;
  Source: string;
  Target: string;
  ReadOnly: boolean;
  Consistency: string;
  BindOptions?: { Propagation: string; NonRecursive: boolean; ReadOnlyNonRecursive: boolean; ReadOnlyForceRecursive: boolean };
  VolumeOptions?: { NoCopy: boolean; Labels?: Record<string, string>; Subpath: string; DriverConfig?: { Name: string; Options?: Record<string, string> } };
  ImageOptions?: { Subpath: string };
  TmpfsOptions?: { SizeBytes: number; Mode: number };
}

const BARE_KEYS = new Set(['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive']);

/**
 * One `--mount` value (CSV of key=value, keys case-insensitive) → the
 * HostConfig.Mounts entry docker CLI 28.2 sends, with its error texts.
 * A source starting with `.` is made absolute against `cwd`.
 */
export function parseMountFlag(csv: string, cwd: string, onWarning?: (msg: string) => void): ApiMount {
  const fields = readCsvRecord(csv);
  const d: MountDraft = { Type: 'volume', Source: '', Target: '', ReadOnly: false, Consistency: '' };
  const bindOptions = (): NonNullable<MountDraft['BindOptions']> =>
    (d.BindOptions ??= { Propagation: '', NonRecursive: false, ReadOnlyNonRecursive: false, ReadOnlyForceRecursive: false });
  const volumeOptions = (): NonNullable<MountDraft['VolumeOptions']> =>
    (d.VolumeOptions ??= { NoCopy: false, Subpath: '' });
  const volumeDriver = (): { Name: string; Options?: Record<string, string> } =>
    (volumeOptions().DriverConfig ??= { Name: '' });
  const tmpfsOptions = (): NonNullable<MountDraft['TmpfsOptions']> =>
    (d.TmpfsOptions ??= { SizeBytes: 0, Mode: 0 });
  const setOnMap = (map: Record<string, string> | undefined, value: string): Record<string, string> => {
    const out = map ?? newDict();
    const [k, v] = cut(value, '=');
    if (k !== '') out[k] = v;
    return out;
  };

  for (const field of fields) {
    const [rawKey, val, hasValue] = cut(field, '=');
    const key = rawKey.toLowerCase();
    if (!hasValue && !BARE_KEYS.has(key)) {
      throw new InvalidParameter(`invalid field '${field}' must be a key=value pair`);
    }
    const parseBool = (): boolean => {
      if (!hasValue) return true;
      const b = goParseBool(val);
      if (b === undefined) throw new InvalidParameter(`invalid value for ${key}: ${val}`);
      return b;
    };
    switch (key) {
      case 'type':
        d.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        d.Source = val;
        if (!val.startsWith('/') && val.startsWith('.')) d.Source = cleanPath(`${cwd}/${val}`);
        break;
      case 'target':
      case 'dst':
      case 'destination':
        d.Target = val;
        break;
      case 'readonly':
      case 'ro':
        d.ReadOnly = parseBool();
        break;
      case 'consistency':
        d.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = parseBool();
        onWarning?.('bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
        break;
      case 'bind-recursive':
        switch (val) {
          case 'enabled':
            break;
          case 'disabled':
            bindOptions().NonRecursive = true;
            break;
          case 'writable':
            bindOptions().ReadOnlyNonRecursive = true;
            break;
          case 'readonly':
            bindOptions().ReadOnlyForceRecursive = true;
            break;
          default:
            throw new InvalidParameter(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = parseBool();
        break;
      case 'volume-label': {
        const vo = volumeOptions();
        vo.Labels = setOnMap(vo.Labels, val);
        break;
      }
      case 'volume-driver':
        volumeDriver().Name = val;
        break;
      case 'volume-opt': {
        const dc = volumeDriver();
        dc.Options = setOnMap(dc.Options, val);
        break;
      }
      case 'image-subpath':
        (d.ImageOptions ??= { Subpath: '' }).Subpath = val;
        break;
      case 'tmpfs-size': {
        let n: number;
        try {
          n = ramInBytes(val);
        } catch {
          throw new InvalidParameter(`invalid value for ${key}: ${val}`);
        }
        tmpfsOptions().SizeBytes = n;
        break;
      }
      case 'tmpfs-mode': {
        const n = /^[0-7]+$/.test(val) ? Number.parseInt(val, 8) : Number.NaN;
        if (!Number.isFinite(n) || n > 0xffffffff) throw new InvalidParameter(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = n;
        break;
      }
      default:
        throw new InvalidParameter(`unexpected key '${key}' in '${field}'`);
    }
  }

  if (d.Type === '') throw new InvalidParameter('type is required');
  if (d.Target === '') throw new InvalidParameter('target is required');
  const mix = (what: string): InvalidParameter =>
    new InvalidParameter(`cannot mix '${what}-*' options with mount type '${d.Type}'`);
  if (d.VolumeOptions && d.Type !== 'volume') throw mix('volume');
  if (d.ImageOptions && d.Type !== 'image') throw mix('image');
  if (d.BindOptions && d.Type !== 'bind') throw mix('bind');
  if (d.TmpfsOptions && d.Type !== 'tmpfs') throw mix('tmpfs');
  if (d.BindOptions) {
    if (d.BindOptions.ReadOnlyNonRecursive && !d.ReadOnly) {
      throw new InvalidParameter("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
    }
    if (d.BindOptions.ReadOnlyForceRecursive) {
      if (!d.ReadOnly) {
        throw new InvalidParameter("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
      }
      if (d.BindOptions.Propagation !== 'rprivate') {
        throw new InvalidParameter("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
      }
    }
  }
  return toApiMount(d);
}

/** JSON as the CLI sends it: every field `omitempty`, option blocks present once touched. */
function toApiMount(d: MountDraft): ApiMount {
  const out: ApiMount = {};
  if (d.Type !== '') out.Type = d.Type;
  if (d.Source !== '') out.Source = d.Source;
  if (d.Target !== '') out.Target = d.Target;
  if (d.ReadOnly) out.ReadOnly = true;
  if (d.Consistency !== '') out.Consistency = d.Consistency;
  if (d.BindOptions) {
    const b = d.BindOptions;
    out.BindOptions = {};
    if (b.Propagation !== '') out.BindOptions.Propagation = b.Propagation;
    if (b.NonRecursive) out.BindOptions.NonRecursive = true;
    if (b.ReadOnlyNonRecursive) out.BindOptions.ReadOnlyNonRecursive = true;
    if (b.ReadOnlyForceRecursive) out.BindOptions.ReadOnlyForceRecursive = true;
  }
  if (d.VolumeOptions) {
    const v = d.VolumeOptions;
    out.VolumeOptions = {};
    if (v.NoCopy) out.VolumeOptions.NoCopy = true;
    if (v.Labels && Object.keys(v.Labels).length > 0) out.VolumeOptions.Labels = v.Labels;
    if (v.Subpath !== '') out.VolumeOptions.Subpath = v.Subpath;
    if (v.DriverConfig) {
      const dc: { Name?: string; Options?: Record<string, string> } = {};
      if (v.DriverConfig.Name !== '') dc.Name = v.DriverConfig.Name;
      if (v.DriverConfig.Options && Object.keys(v.DriverConfig.Options).length > 0) dc.Options = v.DriverConfig.Options;
      out.VolumeOptions.DriverConfig = dc;
    }
  }
  if (d.ImageOptions) {
    out.ImageOptions = d.ImageOptions.Subpath !== '' ? { Subpath: d.ImageOptions.Subpath } : {};
  }
  if (d.TmpfsOptions) {
    out.TmpfsOptions = {};
    if (d.TmpfsOptions.SizeBytes !== 0) out.TmpfsOptions.SizeBytes = d.TmpfsOptions.SizeBytes;
    if (d.TmpfsOptions.Mode !== 0) out.TmpfsOptions.Mode = d.TmpfsOptions.Mode;
  }
  return out;
}
