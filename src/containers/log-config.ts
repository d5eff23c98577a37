// A container's logging driver and its options (HostConfig.LogConfig), as
// dockerd checks them: names and option keys at create, values when the
// container starts ("failed to initialize logging driver: ..."). berth has
// json-file and local (both kept as conmon's k8s-file log, read back in
// Docker's format, rotated by size into numbered generations) and none (no
// log; `docker logs` refuses, attach still works). Docker's other built-in
// drivers ship logs to services berth does not talk to: refused at create
// with a clear error rather than accepted and never used.
import { InvalidParameter, SystemError } from '../errors.js';
import { parseBool } from '../go/strconv.js';
import { fromHumanSize } from '../go/units.js';

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

/** What the daemon uses when a container names no driver (dockerd's default). */
export const DEFAULT_LOG_DRIVER = 'json-file';

/** Docker's built-in drivers berth does not have (it would ship the logs elsewhere). */
const OTHER_DOCKER_DRIVERS = ['journald', 'syslog', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries'];

/** Option keys each driver takes (moby's ValidateLogOpt lists). */
const DRIVER_OPTIONS: Record<string, readonly string[]> = {
  'json-file': ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'],
  local: ['max-file', 'max-size', 'compress'],
};

/** The LogConfig a create request gets: the default driver when none is named; 400 for what cannot work. */
export function checkLogConfig(asked: Partial<LogConfig> | null | undefined): LogConfig {
  const type = asked?.Type || DEFAULT_LOG_DRIVER;
  const config = { ...(asked?.Config ?? {}) };
  if (type === 'none') return { Type: type, Config: config };
  const keys = DRIVER_OPTIONS[type];
  if (!keys) {
    if (OTHER_DOCKER_DRIVERS.includes(type)) {
      throw new InvalidParameter(`logging driver "${type}" is not supported by berth: use json-file, local or none`);
    }
    throw new InvalidParameter(`error looking up logging plugin ${type}: plugin "${type}" not found`);
  }
  for (const key of Object.keys(config)) {
    if (keys.includes(key)) continue;
    throw new InvalidParameter(type === 'json-file' ? `unknown log opt '${key}' for json-file log driver` : `unknown log opt '${key}' for log driver ${type}`);
  }
  return { Type: type, Config: config };
}

/** How berth keeps a container's log. */
export interface LogSettings {
  /** false: the none driver, nothing is kept. */
  kept: boolean;
  /** Rotate once the log reaches this many bytes; null: never. */
  maxSize: number | null;
  /** How many files are kept, the one being written included. */
  maxFile: number;
  /** Rotated generations are gzip-compressed. */
  compress: boolean;
}

/** dockerd answers these at start with a 500. */
export class LogDriverError extends SystemError {
  constructor(reason: string) {
    super(`failed to initialize logging driver: ${reason}`);
  }
}

/**
 * The settings of a container's log at its start, with dockerd's errors for
 * bad values; `local` has its own defaults (20 MB, 5 files, compressed).
 */
export function logSettings(cfg: LogConfig): LogSettings {
  if (cfg.Type === 'none') return { kept: false, maxSize: null, maxFile: 1, compress: false };
  const local = cfg.Type === 'local';
  const o = cfg.Config ?? {};
  let maxSize: number | null = local ? 20 * 1024 * 1024 : null;
  if (o['max-size'] !== undefined) {
    try {
      maxSize = fromHumanSize(o['max-size']);
    } catch (e) {
      throw new LogDriverError((e as Error).message);
    }
    if (maxSize <= 0) throw new LogDriverError('max-size must be a positive number');
  }
  let maxFile = local ? 5 : 1;
  if (o['max-file'] !== undefined) {
    const text = o['max-file'];
    maxFile = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(maxFile)) throw new LogDriverError(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
    if (maxFile < 1) throw new LogDriverError('max-file cannot be less than 1');
  }
  let compress = local;
  if (o.compress !== undefined) {
    const b = parseBool(o.compress);
    if (b === undefined) throw new LogDriverError(`strconv.ParseBool: parsing ${JSON.stringify(o.compress)}: invalid syntax`);
    compress = b;
    if (compress && (maxFile === 1 || maxSize === null)) throw new LogDriverError('compress cannot be true when max-file is less than 2 or max-size is not set');
  }
  return { kept: true, maxSize, maxFile, compress };
}
