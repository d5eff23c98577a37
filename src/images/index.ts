export { ImageStore } from './image-store.js';
export type { ImageStoreOptions, ImportOptions, RemoveOptions, ListOptions, LowerPath } from './image-store.js';
export type {
  ContainerConfig,
  DeleteResponseItem,
  HealthConfig,
  ImageConfigFile,
  ImageInspect,
  ImageRecord,
  ImageSummary,
  InspectConfig,
} from './types.js';
export { applyChanges } from './changes.js';
export { parseReference, normalizeTagRef, familiarName } from './reference.js';
export { resolveInRootfs } from './rootfs-path.js';
