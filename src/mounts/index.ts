// Mount specifications of containers: parsing (CLI and daemon side), assembly,
// copy-up and safe path resolution. See the individual modules.
export type * from './types.js';
export {
  assembleMounts,
  formatTmpfsSize,
  isValidMountMode,
  localVolumeNameError,
  mergeTmpfsOptions,
  modeIsReadWrite,
  nodeFileProbe,
  parseApiMount,
  parseBind,
  parseTmpfs,
  parseVolumesFrom,
  resolveVolumeMount,
  sortByDepth,
  DEFAULT_PROPAGATION,
  TMPFS_DEFAULT_OPTIONS,
  type AssembleMountsInput,
  type AssembledMounts,
  type ParseApiMountOptions,
  type ParseBindOptions,
} from './parse.js';
export { parseMountFlag, parseTmpfsFlag, readCsvRecord, ramInBytes, splitVolumeSpec, type VolumeFlagTarget } from './cli-parse.js';
export { assertNotExistingFile, copyUp, imageVolumePath } from './copy-up.js';
export { resolveInScope, resolveInside, type ResolveInsideOptions } from './safe-path.js';
