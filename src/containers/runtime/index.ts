// The low-level container runtime layer: OCI spec generation, the runc
// wrapper, and the per-container shim (supervisor) with its client side.
export {
  buildSpec,
  writeSpec,
  resolveUser,
  resolveInRoot,
  buildEnv,
  defaultCgroupsPath,
  isCgroup2UnifiedHost,
  DEFAULT_CAPABILITIES,
  ALL_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  DEFAULT_PATH_ENV,
  OCI_VERSION,
  type SpecInput,
  type MountInput,
  type NetworkMode,
  type ResolvedUser,
  type OciSpec,
  type OciProcess,
  type OciMount,
  type OciUser,
} from './oci-spec.js';
export { Runc, readRuncLogError, type RuncOptions, type RuncState, type ExecOptions, type DetachedExec } from './runc.js';
export { spawnRuntime, ttySupported, signalName, signalNumber, type RuntimeProcess, type RuntimeExit } from './process-io.js';
export {
  spawnShim,
  connectShim,
  readExitStatus,
  isShimAlive,
  stopContainer,
  ShimHandle,
  type SpawnShimOptions,
  type AttachOptions,
  type Attachment,
  type StopOptions,
} from './shim-client.js';
export {
  readLogs,
  JsonLogWriter,
  formatRFC3339Nano,
  formatRFC3339NanoFixed,
  parseRFC3339Nano,
  toNs,
  type LogEntry,
  type ReadLogsOptions,
  type StreamName,
  type TimeBound,
} from './json-log.js';
export { frameHeader, FrameDecoder, type ExitStatus, type ShimStatus, type ShimState } from './protocol.js';
