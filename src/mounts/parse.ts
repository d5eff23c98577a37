// Daemon-side parsing of the mount fields of POST /containers/create
// (spec 5.2–5.5, 6.1, 6.4–6.7). Pure functions: the only disk access goes
// through an injected FileProbe, and volumes are neither created nor looked up
// here. Error texts and classes follow dockerd:
//   * HostConfig.Binds errors are plain errors in dockerd, hence HTTP 500
//     (SystemError), e.g. `invalid volume specification: '/data:ro'`;
//   * HostConfig.Mounts, Tmpfs, VolumesFrom, duplicates and volume names are
//     InvalidParameter (HTTP 400).
import { statSync } from 'node:fs';
import { InvalidParameter, NotImplemented, SystemError } from '../errors.js';
import type { FileProbe, MountPoint, MountSpec, TmpfsOptionsSpec } from './types.js';
import { cleanPath, isLocalPath } from '../go/path.js';
import { quote as goQuote } from '../go/strconv.js';
import { cut, splitN } from '../go/strings.js';
import { versionLess } from '../util/version.js';
import { newDict } from '../util/dict.js';
import { localVolumeNameError } from '../volumes/names.js';

// ---------------------------------------------------------------------------
// Mode strings (5.2)

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATION_MODES = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const COPY_MODES = new Map([['nocopy', false]]); // token → copy enabled
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);

const DEFAULT_PROPAGATION = 'rprivate';
const LOCAL_DRIVER = 'local';

/** dockerd's linuxValidMountMode: known tokens, each group at most once; '' is valid. */
function isValidMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) counts[0]!++;
    else if (LABEL_MODES.has(o)) counts[1]!++;
    else if (PROPAGATION_MODES.has(o)) counts[2]!++;
    else if (COPY_MODES.has(o)) counts[3]!++;
    else if (CONSISTENCY_MODES.has(o)) counts[4]!++;
    else return false;
  }
  return counts.every((c) => c <= 1);
}

/** dockerd's ReadWrite(mode): false for an invalid mode or one containing `ro`. */
function modeIsReadWrite(mode: string): boolean {
  if (!isValidMountMode(mode)) return false;
  return !mode.split(',').includes('ro');
}

function modePropagation(mode: string): string | undefined {
  return mode.split(',').find((o) => PROPAGATION_MODES.has(o));
}

function modeCopy(mode: string): boolean | undefined {
  for (const o of mode.split(',')) {
    const v = COPY_MODES.get(o);
    if (v !== undefined) return v;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Local volume names (2.1), checked where dockerd's volume create would.

function checkLocalName(mp: MountPoint): void {
  if (mp.type !== 'volume' || mp.name === '') return;
  if (mp.driver !== '' && mp.driver !== LOCAL_DRIVER) return;
  const err = localVolumeNameError(mp.name);
  if (err !== null) throw new InvalidParameter(`create ${mp.name}: ${err}`);
}

// ---------------------------------------------------------------------------
// Validation shared by Binds and Mounts (dockerd validateMountConfigImpl)

const ROOT_TARGET_ERROR = "invalid specification: destination can't be '/'";

function notRootError(p: string): string | null {
  return cleanPath(p.replaceAll('\\', '/')) === '/' ? ROOT_TARGET_ERROR : null;
}

function absoluteError(p: string): string | null {
  const s = p.replaceAll('\\', '/');
  return s.startsWith('/') ? null : `invalid mount path: '${s}' mount path must be absolute`;
}

const extra = (f: string): string => `field ${f} must not be specified`;
const missing = (f: string): string => `field ${f} must not be empty`;

/** Returns the message after the `invalid mount config for type "<t>": ` prefix, or null. */
function validateMount(m: MountSpec, probe: FileProbe | null): string | null {
  if (m.Target === '') return missing('Target');
  const targetErr = notRootError(m.Target) ?? absoluteError(m.Target);
  if (targetErr) return targetErr;

  switch (m.Type) {
    case 'bind': {
      if (m.Source === '') return missing('Source');
      const prop = m.BindOptions?.Propagation ?? '';
      if (prop !== '' && !PROPAGATION_MODES.has(prop)) return `invalid propagation mode: ${prop}`;
      if (m.VolumeOptions) return extra('VolumeOptions');
      if (m.ImageOptions) return extra('ImageOptions');
      if (m.TmpfsOptions) return extra('TmpfsOptions');
      const srcErr = absoluteError(m.Source);
      if (srcErr) return srcErr;
      if (probe && !probe.exists(m.Source) && !(m.BindOptions?.CreateMountpoint ?? false)) {
        return `bind source path does not exist: ${m.Source}`;
      }
      return null;
    }
    case 'volume': {
      if (m.BindOptions) return extra('BindOptions');
      if (m.ImageOptions) return extra('ImageOptions');
      if (m.TmpfsOptions) return extra('TmpfsOptions');
      const anonymous = m.Source === '';
      const subpath = m.VolumeOptions?.Subpath ?? '';
      if (subpath !== '') {
        if (anonymous) return 'must not set Subpath when using anonymous volumes';
        if (!isLocalPath(subpath)) return 'subpath must be a relative path within the volume';
      }
      // Engines up to 28.x (API <= 1.51) refuse read-only anonymous volumes.
      if (m.ReadOnly && anonymous) return 'must not set ReadOnly mode when using anonymous volumes';
      return null;
    }
    case 'tmpfs': {
      if (m.BindOptions) return extra('BindOptions');
      if (m.VolumeOptions) return extra('VolumeOptions');
      if (m.ImageOptions) return extra('ImageOptions');
      if (m.Source !== '') return extra('Source');
      const conv = convertTmpfsOptions(m.TmpfsOptions, m.ReadOnly);
      return typeof conv === 'string' ? null : conv.error;
    }
    case 'image': {
      if (m.BindOptions) return extra('BindOptions');
      if (m.VolumeOptions) return extra('VolumeOptions');
      if (m.TmpfsOptions) return extra('TmpfsOptions');
      if (m.Source === '') return missing('Source');
      const sp = m.ImageOptions?.Subpath ?? '';
      if (sp !== '' && !isLocalPath(sp)) return 'subpath must be a relative path within the volume';
      return null;
    }
    default:
      return 'mount type unknown';
  }
}

function mountConfigError(type: string, msg: string): string {
  return `invalid mount config for type ${goQuote(type)}: ${msg}`;
}

// ---------------------------------------------------------------------------
// tmpfs options (5.4)

/** TmpfsOptions → the `data` string dockerd builds (ConvertTmpfsOptions). */
function convertTmpfsOptions(opt: TmpfsOptionsSpec | null, readOnly: boolean): string | { error: string } {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  if (opt && opt.Mode !== 0) raw.push(`mode=${opt.Mode.toString(8)}`);
  if (opt && opt.SizeBytes !== 0) raw.push(`size=${formatTmpfsSize(opt.SizeBytes)}`);
  if (opt && opt.Options && opt.Options.length > 0) {
    for (const o of opt.Options) {
      if (o.length < 1 || o.length > 2) return { error: 'invalid option array length' };
      const k = o[0]!;
      if (k !== 'exec' && k !== 'noexec') return { error: `invalid option: ${k}` };
      raw.push(o.length === 1 ? k : `${k}=${o[1]!}`);
    }
  }
  return raw.join(',');
}

/** Bytes → `<n>g|m|k` when it divides evenly, else plain bytes. */
function formatTmpfsSize(size: number): string {
  for (const [suffix, div] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
    if (size % div === 0) return `${size / div}${suffix}`;
  }
  return String(size);
}

const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20,
  MANDLOCK: 0x40, DIRSYNC: 0x80, NOATIME: 0x400, NODIRATIME: 0x800, BIND: 0x1000,
  REC: 0x4000, UNBINDABLE: 0x20000, PRIVATE: 0x40000, SLAVE: 0x80000, SHARED: 0x100000,
  RELATIME: 0x200000, STRICTATIME: 0x1000000,
} as const;

/** mount(8) flag tokens → the MS_* bit they set or clear (moby/sys/mount's table). */
const MOUNT_FLAGS = new Map<string, number>([
  ['defaults', 0],
  ['ro', MS.RDONLY], ['rw', MS.RDONLY],
  ['suid', MS.NOSUID], ['nosuid', MS.NOSUID],
  ['dev', MS.NODEV], ['nodev', MS.NODEV],
  ['exec', MS.NOEXEC], ['noexec', MS.NOEXEC],
  ['sync', MS.SYNCHRONOUS], ['async', MS.SYNCHRONOUS],
  ['dirsync', MS.DIRSYNC], ['remount', MS.REMOUNT],
  ['mand', MS.MANDLOCK], ['nomand', MS.MANDLOCK],
  ['atime', MS.NOATIME], ['noatime', MS.NOATIME],
  ['diratime', MS.NODIRATIME], ['nodiratime', MS.NODIRATIME],
  ['bind', MS.BIND], ['rbind', MS.BIND | MS.REC],
  ['unbindable', MS.UNBINDABLE], ['runbindable', MS.UNBINDABLE | MS.REC],
  ['private', MS.PRIVATE], ['rprivate', MS.PRIVATE | MS.REC],
  ['shared', MS.SHARED], ['rshared', MS.SHARED | MS.REC],
  ['slave', MS.SLAVE], ['rslave', MS.SLAVE | MS.REC],
  ['relatime', MS.RELATIME], ['norelatime', MS.RELATIME],
  ['strictatime', MS.STRICTATIME], ['nostrictatime', MS.STRICTATIME],
]);
const PROPAGATION_FLAG_TOKENS = new Set([
  'bind', 'rbind', 'unbindable', 'runbindable', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave',
]);
const TMPFS_DATA_KEYS = new Set(['', 'size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** Default options of every tmpfs dockerd mounts, before the user's. */
const TMPFS_DEFAULT_OPTIONS: readonly string[] = ['noexec', 'nosuid', 'nodev', DEFAULT_PROPAGATION];

/**
 * dockerd's MergeTmpfsOptions: later options win over earlier ones of the same
 * kind (one flag bit, one propagation mode, one value per data key); order kept.
 * Throws InvalidParameter `invalid tmpfs option "foo"` for unknown data options.
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const flagSeen = new Set<number>();
  const dataSeen = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const option = options[i]!;
    if (option === 'defaults') continue;
    const flag = MOUNT_FLAGS.get(option);
    if (flag !== undefined && flag !== 0) {
      const key = PROPAGATION_FLAG_TOKENS.has(option) ? -1 : flag;
      if (!flagSeen.has(key)) {
        out.unshift(option);
        flagSeen.add(key);
      }
      continue;
    }
    const [k, , hasValue] = cut(option, '=');
    if (!hasValue || !TMPFS_DATA_KEYS.has(k)) {
      throw new InvalidParameter(`invalid tmpfs option ${goQuote(k)}`);
    }
    if (!dataSeen.has(k)) {
      out.unshift(option);
      dataSeen.add(k);
    }
  }
  return out;
}

function tmpfsOptionList(data: string): string[] {
  const opts = [...TMPFS_DEFAULT_OPTIONS];
  if (data !== '') opts.push(...data.split(','));
  return mergeTmpfsOptions(opts);
}

/** dockerd's ValidateTmpfsMountDestination: not '/', then absolute. */
function tmpfsDestinationError(dest: string): string | null {
  return notRootError(dest) ?? absoluteError(dest);
}

/**
 * A HostConfig.Tmpfs entry (`{"/dest": "opts"}`). The result never appears in
 * inspect .Mounts; it carries the merged mount(8) options for the runtime.
 */
export function parseTmpfs(dest: string, opts: string): MountPoint {
  const err = tmpfsDestinationError(dest);
  if (err) throw new InvalidParameter(err);
  const tmpfsOptions = tmpfsOptionList(opts);
  return {
    type: 'tmpfs',
    name: '',
    source: '',
    destination: cleanPath(dest),
    driver: '',
    mode: '',
    rw: !tmpfsOptions.includes('ro'),
    propagation: '',
    copyData: false,
    anonymous: false,
    origin: 'tmpfs',
    tmpfsOptions,
  };
}

// ---------------------------------------------------------------------------
// Binds (5.2)

export interface ParseBindOptions {
  /** HostConfig.VolumeDriver ('' = default). */
  volumeDriver: string;
  /** Request API version; below 1.44 read-only binds stay non-recursive. Default: current. */
  apiVersion?: string;
  /** Daemon data root: binds of (or above) it default to rslave propagation. */
  daemonRoot?: string;
  /** Apply the local driver's name rule to volume names (default true). */
  checkLocalVolumeNames?: boolean;
}

function invalidSpec(raw: string): string {
  return `invalid volume specification: '${raw}'`;
}

/**
 * One HostConfig.Binds entry, `SRC:DST[:MODE]` or `DST`. Errors are
 * SystemError (dockerd answers 500) except the volume-name rule (400).
 */
export function parseBind(raw: string, opts: ParseBindOptions): MountPoint {
  const arr = splitN(raw, ':', 4);
  if (arr[0] === '') throw new SystemError(invalidSpec(raw));
  let source = '';
  let target = '';
  let mode = '';
  switch (arr.length) {
    case 1:
      target = arr[0]!;
      break;
    case 2:
      if (isValidMountMode(arr[1]!)) throw new SystemError(invalidSpec(raw));
      source = arr[0]!;
      target = arr[1]!;
      break;
    case 3:
      source = arr[0]!;
      target = arr[1]!;
      mode = arr[2]!;
      break;
    default:
      throw new SystemError(invalidSpec(raw));
  }
  if (!isValidMountMode(mode)) throw new SystemError(`invalid mode: ${mode}`);

  const isBind = source.startsWith('/');
  const m: MountSpec = {
    Type: isBind ? 'bind' : 'volume',
    Source: source,
    Target: target,
    ReadOnly: !modeIsReadWrite(mode),
    Consistency: '',
    BindOptions: null,
    VolumeOptions: null,
    TmpfsOptions: null,
    ImageOptions: null,
  };
  if (opts.volumeDriver !== '' && !isBind) {
    m.VolumeOptions = { NoCopy: false, Labels: null, Subpath: '', DriverConfig: { Name: opts.volumeDriver, Options: null } };
  }
  const copy = modeCopy(mode);
  if (copy !== undefined) {
    m.VolumeOptions ??= { NoCopy: false, Labels: null, Subpath: '', DriverConfig: null };
    m.VolumeOptions.NoCopy = !copy;
  }
  const prop = modePropagation(mode);
  if (prop !== undefined) {
    m.BindOptions = { Propagation: prop, NonRecursive: false, CreateMountpoint: false, ReadOnlyNonRecursive: false, ReadOnlyForceRecursive: false };
  }

  const err = validateMount(m, null);
  if (err) throw new SystemError(`${invalidSpec(raw)}: ${mountConfigError(m.Type, err)}`);

  const mp = buildMountPoint(m, 'binds', { daemonRoot: opts.daemonRoot, apiVersion: opts.apiVersion });
  mp.mode = mode;
  if (mp.type === 'bind') {
    mp.createMountpoint = true;
  } else {
    setDefaultVolumeMode(mp);
  }
  if (opts.checkLocalVolumeNames ?? true) checkLocalName(mp);
  return mp;
}

/** A local-driver volume from Binds/Mounts with no mode shows `z` (setBindModeIfNull). */
function setDefaultVolumeMode(mp: MountPoint): void {
  if (mp.mode === '' && (mp.driver === '' || mp.driver === LOCAL_DRIVER)) {
    mp.mode = 'z';
    mp.modeDefaulted = true;
  }
}

/** Where a bind source lies in (or above) the daemon root: default to rslave, refuse private modes. */
function needsSlavePropagation(m: MountSpec, daemonRoot: string | undefined): boolean {
  if (m.Type !== 'bind' || !daemonRoot) return false;
  if (!m.Source.startsWith(daemonRoot) && !daemonRoot.startsWith(m.Source)) return false;
  const prop = m.BindOptions?.Propagation ?? '';
  if (prop === '') return true;
  if (prop === 'rslave' || prop === 'rshared') return false;
  throw new InvalidParameter(
    `invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root, daemon root: ${goQuote(daemonRoot)}, bind mount source: ${goQuote(m.Source)}, propagation: ${goQuote(prop)}`,
  );
}

function buildMountPoint(
  m: MountSpec,
  origin: 'binds' | 'mounts',
  ctx: { daemonRoot: string | undefined; apiVersion: string | undefined },
): MountPoint {
  const mp: MountPoint = {
    type: m.Type as MountPoint['type'],
    name: '',
    source: '',
    destination: cleanPath(m.Target),
    driver: '',
    mode: '',
    rw: !m.ReadOnly,
    propagation: '',
    copyData: false,
    anonymous: false,
    origin,
  };
  switch (m.Type) {
    case 'volume': {
      mp.name = m.Source;
      mp.anonymous = m.Source === '';
      mp.copyData = !(m.VolumeOptions?.NoCopy ?? false);
      mp.driver = m.VolumeOptions?.DriverConfig?.Name ?? '';
      break;
    }
    case 'bind': {
      mp.source = cleanPath(m.Source);
      mp.propagation = m.BindOptions && m.BindOptions.Propagation !== '' ? m.BindOptions.Propagation : DEFAULT_PROPAGATION;
      if (needsSlavePropagation(m, ctx.daemonRoot)) mp.propagation = 'rslave';
      const bo = m.BindOptions;
      if (bo?.NonRecursive) mp.bindNonRecursive = true;
      if (bo?.ReadOnlyNonRecursive) mp.bindReadOnlyNonRecursive = true;
      if (bo?.ReadOnlyForceRecursive) mp.bindReadOnlyForceRecursive = true;
      // Clients below API 1.44 only knew non-recursive read-only binds.
      if (!mp.rw && ctx.apiVersion !== undefined && versionLess(ctx.apiVersion, '1.44')) {
        mp.bindReadOnlyNonRecursive = true;
      }
      break;
    }
    case 'tmpfs': {
      const conv = convertTmpfsOptions(m.TmpfsOptions, m.ReadOnly);
      mp.tmpfsOptions = tmpfsOptionList(typeof conv === 'string' ? conv : '');
      break;
    }
  }
  return mp;
}

// ---------------------------------------------------------------------------
// HostConfig.Mounts (5.3)

export interface ParseApiMountOptions {
  /** The request's API version (the `/vX.Y` prefix, or the daemon's own). */
  apiVersion: string;
  probe: FileProbe;
  daemonRoot?: string;
  /** Apply the local driver's name rule to volume names (default true). */
  checkLocalVolumeNames?: boolean;
}

function validateApiMount(m: MountSpec, probe: FileProbe): void {
  const err = validateMount(m, probe);
  if (err) throw new InvalidParameter(mountConfigError(m.Type, err));
  if (m.Type === 'image') {
    throw new NotImplemented(`mount type ${goQuote('image')} is not supported`);
  }
}

function apiMountPoint(m: MountSpec, opts: ParseApiMountOptions): MountPoint {
  const mp = buildMountPoint(m, 'mounts', { daemonRoot: opts.daemonRoot, apiVersion: opts.apiVersion });
  mp.apiMount = m.raw;
  if (mp.type === 'volume') {
    const vo = m.VolumeOptions;
    if (vo?.Labels) mp.volumeLabels = { ...vo.Labels };
    if (vo?.DriverConfig?.Options) mp.volumeDriverOpts = { ...vo.DriverConfig.Options };
    if (vo && vo.Subpath !== '') mp.subpath = vo.Subpath;
    setDefaultVolumeMode(mp);
  } else if (mp.type === 'bind') {
    mp.createMountpoint = m.BindOptions?.CreateMountpoint ?? false;
  }
  return mp;
}

/**
 * One decoded HostConfig.Mounts entry. Applies dockerd's validation (bind sources must exist unless
 * CreateMountpoint) and returns the mount point. Errors are InvalidParameter.
 */
export function parseApiMount(m: MountSpec, opts: ParseApiMountOptions): MountPoint {
  validateApiMount(m, opts.probe);
  const mp = apiMountPoint(m, opts);
  if (opts.checkLocalVolumeNames ?? true) checkLocalName(mp);
  return mp;
}

// ---------------------------------------------------------------------------
// VolumesFrom (5.5)

/** `C[:mode]`: mode '' means rw; propagation and nocopy are refused. InvalidParameter. */
export function parseVolumesFrom(spec: string): { container: string; mode: string; rw: boolean } {
  if (spec === '') throw new InvalidParameter('volumes-from specification cannot be an empty string');
  const [container, mode] = cut(spec, ':');
  if (mode === '') return { container, mode: 'rw', rw: true };
  if (!isValidMountMode(mode) || modePropagation(mode) !== undefined || modeCopy(mode) !== undefined) {
    throw new InvalidParameter(`invalid mode: ${mode}`);
  }
  return { container, mode, rw: modeIsReadWrite(mode) };
}

// ---------------------------------------------------------------------------
// Whole-container assembly (5.5, 6.1 steps 1–3)

export interface AssembleMountsInput {
  /** The request's API version. */
  apiVersion: string;
  probe: FileProbe;
  /** HostConfig.VolumeDriver ('' or absent = default). */
  volumeDriver?: string;
  volumesFrom?: readonly string[] | null;
  binds?: readonly string[] | null;
  /** HostConfig.Mounts, decoded (src/api/decode/mounts.ts). */
  mounts?: readonly MountSpec[] | null;
  tmpfs?: Readonly<Record<string, string>> | null;
  /** Config.Volumes of the request (`-v /path`). */
  configVolumes?: Readonly<Record<string, unknown>> | null;
  /** The image's Config.Volumes. */
  imageVolumes?: Readonly<Record<string, unknown>> | null;
  /** Mount points of another container for --volumes-from; undefined = no such container. */
  getContainerMounts?: (nameOrId: string) => readonly MountPoint[] | undefined;
  daemonRoot?: string;
  /** Apply the local driver's name rule to volume names (default true). */
  checkLocalVolumeNames?: boolean;
}

export interface AssembledMounts {
  /** What inspect shows in .Mounts (volumes-from copies, Binds, Mounts, then anonymous Config/image volumes). */
  mounts: MountPoint[];
  /** HostConfig.Tmpfs entries (not in .Mounts). */
  tmpfs: MountPoint[];
  /** Create-response warnings. */
  warnings: string[];
}

function duplicate(dest: string): InvalidParameter {
  return new InvalidParameter(`Duplicate mount point: ${dest}`);
}

/**
 * Assembles every mount of a new container the way dockerd does at create:
 * validate Mounts and Tmpfs; then volumes-from, Binds and Mounts (a later one
 * replaces an earlier one at the same destination, except bind/bind,
 * mount/bind, mount/mount and bind/tmpfs, which fail with
 * `Duplicate mount point: /x`); then every Config.Volumes / image volume whose
 * destination is still free becomes an anonymous volume (Mode '', copy-up on).
 */
export function assembleMounts(input: AssembleMountsInput): AssembledMounts {
  const checkNames = input.checkLocalVolumeNames ?? true;
  const volumeDriver = input.volumeDriver ?? '';
  const warnings: string[] = [];
  // HostConfig.Mounts, decoded and held to the API version's rules by the API layer.
  const decoded = input.mounts ?? [];

  // 1. verifyContainerSettings: every Mounts entry, then Tmpfs destinations.
  for (const m of decoded) validateApiMount(m, input.probe);
  const tmpfs: MountPoint[] = [];
  const tmpfsDests = new Set<string>();
  for (const [dest, opts] of Object.entries(input.tmpfs ?? {})) {
    const t = parseTmpfs(dest, opts);
    tmpfs.push(t);
    tmpfsDests.add(t.destination);
  }
  if (volumeDriver !== '' && !versionLess(input.apiVersion, '1.48')) {
    if (decoded.some((m) => m.Type === 'volume' && (m.VolumeOptions?.DriverConfig?.Name ?? '') === '')) {
      warnings.push("WARNING: the container-wide volume-driver configuration is ignored for volumes specified via 'mount'. Use '--mount type=volume,volume-driver=...' instead");
    }
  }

  const points = new Map<string, MountPoint>();
  const taken = new Set<string>(); // destinations claimed by Binds or Mounts
  const put = (mp: MountPoint): void => {
    points.delete(mp.destination);
    points.set(mp.destination, mp);
  };

  // 2. --volumes-from: copies of another container's mount points.
  for (const spec of input.volumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(spec);
    const theirs = input.getContainerMounts?.(container);
    if (theirs === undefined) throw new InvalidParameter(`No such container: ${container}`);
    for (const m of theirs) put(copyFromContainer(m, mode));
  }

  // 3. Binds.
  for (const raw of input.binds ?? []) {
    const mp = parseBind(raw, { volumeDriver, apiVersion: input.apiVersion, daemonRoot: input.daemonRoot, checkLocalVolumeNames: false });
    if (taken.has(mp.destination) || tmpfsDests.has(mp.destination)) throw duplicate(mp.destination);
    if (checkNames) checkLocalName(mp);
    taken.add(mp.destination);
    put(mp);
  }

  // 4. Mounts.
  const apiOpts: ParseApiMountOptions = { apiVersion: input.apiVersion, probe: input.probe, daemonRoot: input.daemonRoot };
  decoded.forEach((m, i) => {
    const mp = apiMountPoint(m, apiOpts);
    if (taken.has(mp.destination)) throw duplicate(m.Target);
    if (checkNames) checkLocalName(mp);
    taken.add(mp.destination);
    put(mp);
  });

  // 5. Config.Volumes merged with the image's: anonymous volumes where free.
  const anon = (key: string, origin: 'config-volumes' | 'image'): void => {
    const destination = cleanPath(key);
    if (points.has(destination) || tmpfsDests.has(destination)) return;
    points.set(destination, {
      type: 'volume',
      name: '',
      source: '',
      destination,
      driver: volumeDriver,
      mode: '',
      rw: true,
      propagation: '',
      copyData: true,
      anonymous: true,
      origin,
    });
  };
  for (const key of Object.keys(input.configVolumes ?? {})) anon(key, 'config-volumes');
  for (const key of Object.keys(input.imageVolumes ?? {})) anon(key, 'image');

  return { mounts: [...points.values()], tmpfs, warnings };
}

/** A --volumes-from copy: same identity, RW only if both allow it, no Mode, no copy-up. */
function copyFromContainer(m: MountPoint, mode: string): MountPoint {
  const cp: MountPoint = {
    ...m,
    rw: m.rw && modeIsReadWrite(mode),
    mode: '',
    copyData: false,
    origin: 'volumes-from',
  };
  delete cp.modeDefaulted;
  if (cp.type === 'bind') cp.createMountpoint = true;
  if (m.tmpfsOptions) cp.tmpfsOptions = [...m.tmpfsOptions];
  return cp;
}

// ---------------------------------------------------------------------------
// After the volume service resolved a volume

/**
 * Fills in what the volume service decided (name for anonymous volumes,
 * driver, Mountpoint) and fixes `mode`: the default `z` only applies to the
 * local driver.
 */
export function resolveVolumeMount(
  mp: MountPoint,
  volume: { name: string; driver: string; mountpoint: string },
): MountPoint {
  const out: MountPoint = { ...mp, name: volume.name, driver: volume.driver, source: volume.mountpoint };
  if (out.modeDefaulted && volume.driver !== LOCAL_DRIVER) {
    out.mode = '';
    delete out.modeDefaulted;
  }
  return out;
}

/** Mounts sorted so parents come before children (by number of '/' in the cleaned destination; stable). */
export function sortByDepth<T extends { destination: string }>(mounts: readonly T[]): T[] {
  const depth = (d: string): number => cleanPath(d).split('/').length - 1;
  return mounts
    .map((m, i) => ({ m, i, d: depth(m.destination) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.m);
}

/** A FileProbe on the real filesystem (stat follows symlinks, like os.Stat). */
export const nodeFileProbe: FileProbe = {
  exists(path: string): boolean {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  isDirectory(path: string): boolean {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
};
