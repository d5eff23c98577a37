// `docker commit` (POST /commit) and the images of build steps: a writable
// layer (a container's overlay upper directory, or a build step's) becomes
// a layer on top of its image's, and the new image's config is built as
// moby builds it: for a commit the container's config with --change applied
// (and any config the request sends, completed from the container's),
// moby's NewChildImage fields with the top-level keys sorted, and a history
// entry for the container's command. An empty diff adds no layer, only an
// `empty_layer` history entry. The image records its parent, as moby's
// image store does for images made locally.
import type { ContainerConfig } from '../containers/types.js';
import { layerDiff, RUNTIME_PLACEHOLDERS } from './archive/layer-diff-writer.js';
import { applyChanges } from './changes.js';
import { fullContainerConfig, hostArchitecture, parseImageConfig } from './config-file.js';
import type { ImageService } from './service.js';
import type { HistoryEntry, ImageConfigFile, ImageRuntimeConfig } from './types.js';


export interface CommitRequest {
  containerId: string;
  /** The container's image: "sha256:<hex>". */
  imageId: string;
  /** The container's config, as docker inspect shows it. */
  containerConfig: ContainerConfig;
  /** The request's config (the body), completed from the container's; null to start from the container's. */
  config: ImageRuntimeConfig | null;
  changes: readonly string[];
  author: string;
  comment: string;
  /** A store tag key ("name:tag") to point at the new image, or null. */
  tag: string | null;
}

/** moby's merge(userConf, imageConf): what the new config leaves empty comes from the container's. */
function mergeConfig(user: ImageRuntimeConfig, base: ImageRuntimeConfig): ImageRuntimeConfig {
  const out: ImageRuntimeConfig = { ...user };
  if (!out.User) out.User = base.User ?? '';
  if (!out.ExposedPorts || Object.keys(out.ExposedPorts).length === 0) out.ExposedPorts = base.ExposedPorts;
  else out.ExposedPorts = { ...(base.ExposedPorts ?? {}), ...out.ExposedPorts };
  if (!out.Env || out.Env.length === 0) out.Env = base.Env ?? null;
  else {
    const keys = new Set(out.Env.map((kv) => kv.split('=')[0]));
    out.Env = [...out.Env, ...(base.Env ?? []).filter((kv) => !keys.has(kv.split('=')[0]))];
  }
  out.Labels = { ...(base.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) out.Cmd = base.Cmd ?? null;
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = base.Entrypoint ?? null;
  }
  if (base.Healthcheck && !out.Healthcheck) out.Healthcheck = base.Healthcheck;
  if (!out.WorkingDir) out.WorkingDir = base.WorkingDir ?? '';
  if (!out.Volumes || Object.keys(out.Volumes).length === 0) out.Volumes = base.Volumes ?? null;
  else out.Volumes = { ...out.Volumes, ...(base.Volumes ?? {}) };
  if (!out.StopSignal && base.StopSignal) out.StopSignal = base.StopSignal;
  return out;
}

/** Go's time.Now().UTC() in RFC 3339 with fractional seconds, as moby writes `created`. */
function now(): string {
  return new Date().toISOString();
}

/** The new image's config file: moby's Image marshalled with its top-level keys sorted. */
export function childImageConfig(parent: ImageConfigFile, opts: { containerId: string; containerConfig: ContainerConfig; config: ImageRuntimeConfig; author: string; comment: string; diffId: string | null }): ImageConfigFile {
  const created = now();
  const history: HistoryEntry = { created, created_by: (opts.containerConfig.Cmd ?? []).join(' ') };
  if (opts.author !== '') history.author = opts.author;
  if (opts.comment !== '') history.comment = opts.comment;
  if (opts.diffId === null) history.empty_layer = true;
  const doc: ImageConfigFile = {
    ...(parent.architecture ? { architecture: parent.architecture } : {}),
    ...(opts.author !== '' ? { author: opts.author } : {}),
    config: fullContainerConfig(opts.config),
    ...(opts.containerId !== '' ? { container: opts.containerId } : {}),
    container_config: fullContainerConfig(opts.containerConfig),
    created,
    history: [...(parent.history ?? []), history],
    ...(parent.os ? { os: parent.os } : {}),
    rootfs: { type: 'layers', diff_ids: [...parent.rootfs.diff_ids, ...(opts.diffId !== null ? [opts.diffId] : [])] },
    ...(parent.variant ? { variant: parent.variant } : {}),
  };
  return doc;
}

/** What making an image on another takes of the image store. */
export type ChildImageStore = Pick<ImageService, 'configBytes' | 'ingestArchive' | 'pinLayer' | 'createImage' | 'releaseLayers'>;

export interface ChildImageRequest {
  /** The image it is made on ("sha256:<hex>"), or null for nothing (FROM scratch). */
  parentId: string | null;
  /** The platform of an image made on nothing. */
  platform?: { os: string; architecture: string; variant?: string };
  /** A directory of changes (an overlay upper directory) to become its layer; null for none. */
  changes: { dir: string; runtimePlaceholders: boolean } | null;
  /** The container the changes were made in ("" for none). */
  containerId: string;
  containerConfig: ContainerConfig;
  config: ImageRuntimeConfig;
  author: string;
  comment: string;
  /** Store tag keys ("name:tag") to point at it. */
  tags: readonly string[];
}

/**
 * An image made here on another (a commit, a build step), as moby's
 * CommitImage makes one: the changes as a layer on top of the parent's (an
 * empty diff adds none), the child config, and the parent recorded. Returns
 * the image ID.
 */
export async function createChildImage(images: ChildImageStore, req: ChildImageRequest): Promise<string> {
  const parent: ImageConfigFile =
    req.parentId !== null
      ? parseImageConfig(await images.configBytes(req.parentId), `image ${req.parentId}`)
      : { ...(req.platform ?? { os: 'linux', architecture: hostArchitecture() }), rootfs: { type: 'layers', diff_ids: [] } };
  const diff = req.changes !== null ? layerDiff(req.changes.dir, { placeholders: req.changes.runtimePlaceholders ? RUNTIME_PLACEHOLDERS : new Set() }) : null;
  const pinned: string[] = [];
  try {
    let diffId: string | null = null;
    if (diff !== null && !diff.empty) {
      const hex = await images.ingestArchive(diff.chunks, null, req.containerId !== '' ? `commit of container ${req.containerId}` : 'build step');
      pinned.push(hex);
      diffId = `sha256:${hex}`;
    }
    for (const d of parent.rootfs.diff_ids) if (await images.pinLayer(d.slice('sha256:'.length))) pinned.push(d.slice('sha256:'.length));
    const doc = childImageConfig(parent, { containerId: req.containerId, containerConfig: req.containerConfig, config: req.config, author: req.author, comment: req.comment, diffId });
    const { hex } = await images.createImage(Buffer.from(JSON.stringify(doc)), doc, req.tags, { builtOn: req.parentId });
    return `sha256:${hex}`;
  } finally {
    await images.releaseLayers(pinned);
  }
}

/** Commits a container; returns the new image's ID. */
export async function commitContainer(images: ImageService, req: CommitRequest): Promise<string> {
  const base = req.config ?? req.containerConfig;
  const config = mergeConfig(applyChanges(req.changes, base), req.containerConfig);
  const upper = images.containerUpperDir(req.containerId);
  const id = await createChildImage(images, {
    parentId: req.imageId,
    changes: upper !== null ? { dir: upper, runtimePlaceholders: true } : null,
    containerId: req.containerId,
    containerConfig: req.containerConfig,
    config,
    author: req.author,
    comment: req.comment,
    tags: req.tag !== null ? [req.tag] : [],
  });
  images.imageEvent('create', id, id);
  if (req.tag !== null) images.imageEvent('tag', id, req.tag);
  return id;
}
