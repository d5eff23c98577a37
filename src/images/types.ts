// Shapes of the image store: the image config file (as in `docker save` and
// the OCI image spec) and the store's own record. The Engine API views are in
// src/api/views/images.ts.
import type { ContainerConfig } from '../containers/types.js';

/** The `config` of an image config file: any subset of container.Config. */
export type ImageRuntimeConfig = Partial<ContainerConfig>;

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image config JSON; its sha256 is the image ID. */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  comment?: string;
  docker_version?: string;
  config?: ImageRuntimeConfig;
  container_config?: ImageRuntimeConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

/** What the store knows about one image. */
export interface ImageRecord {
  /** "sha256:<64 hex>" — the sha256 of the config file bytes. */
  id: string;
  /** Familiar "name:tag" references, sorted. */
  repoTags: string[];
  /** Familiar "name@sha256:<manifest digest>" references (pulled or pushed), sorted. */
  repoDigests: string[];
  /** The image it was built or committed on here ("sha256:<hex>"), or "". */
  parent: string;
  /** Parsed config file. */
  config: ImageConfigFile;
  /** Layer diff_ids, bottom (first applied) to top. */
  layers: string[];
  /** Host directory of each layer, in the order of `layers`. */
  layerDirs: string[];
  /** Sum of the unpacked layer sizes in bytes. */
  size: number;
  /** config.created, or "" when the config has none. */
  created: string;
  /** When a tag last moved onto this image (RFC 3339), or null. */
  lastTagTime: string | null;
}

/** One step of an image removal, as DELETE /images/{name} reports it. */
export interface DeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}
