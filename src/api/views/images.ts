// Engine API JSON for images (GET /images/json, GET /images/{name}/json),
// built from the image service's records. API-version rules are the
// caller's: the route decides `legacyNone`.
import type { ImageRecord } from '../../images/types.js';
import type { ApiImageInspect, ApiImageSummary } from '../types/images.js';
import { fullContainerConfig } from '../../images/config-file.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface SummaryOptions {
  /** Containers using the image; -1 when not computed (Docker's default). */
  containers?: number;
  /**
   * API < 1.43 shape: images without references get RepoTags ["<none>:<none>"] and
   * RepoDigests ["<none>@<none>"]. Default: empty arrays.
   */
  legacyNone?: boolean;
}

export function toImageSummary(rec: ImageRecord, opts: SummaryOptions = {}): ApiImageSummary {
  const noReferences = rec.repoTags.length === 0 && rec.repoDigests.length === 0;
  const created = Date.parse(rec.created);
  const labels = rec.config.config?.Labels;
  return {
    Id: rec.id,
    ParentId: rec.parent,
    RepoTags: noReferences && opts.legacyNone ? ['<none>:<none>'] : [...rec.repoTags],
    RepoDigests: noReferences && opts.legacyNone ? ['<none>@<none>'] : [...rec.repoDigests],
    Created: Number.isNaN(created) ? 0 : Math.floor(created / 1000),
    Size: rec.size,
    SharedSize: -1,
    Labels: labels && Object.keys(labels).length > 0 ? { ...labels } : null,
    Containers: opts.containers ?? -1,
  };
}

/** overlay2 GraphDriver data: the top layer is UpperDir, the others (each once, top first) LowerDir. */
function graphDriverData(rec: ImageRecord): Record<string, string> | null {
  const dirByLayer = new Map(rec.layers.map((l, i) => [l, rec.layerDirs[i]!]));
  const topFirst = [...new Set([...rec.layers].reverse())];
  const top = topFirst[0];
  if (top === undefined) return null;
  return {
    ...(topFirst.length > 1 ? { LowerDir: topFirst.slice(1).map((l) => dirByLayer.get(l)!).join(':') } : {}),
    UpperDir: dirByLayer.get(top)!,
  };
}

export function toImageInspect(rec: ImageRecord): ApiImageInspect {
  const c = rec.config;
  const out: ApiImageInspect = {
    Id: rec.id,
    RepoTags: [...rec.repoTags],
    RepoDigests: [...rec.repoDigests],
    Parent: rec.parent,
    Comment: c.comment ?? '',
    Created: c.created ?? '',
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: fullContainerConfig(c.config),
    // docker-compose 1.29 reads ContainerConfig.Volumes (the image's volumes) to carry anonymous volumes over a recreate.
    Container: '',
    ContainerConfig: fullContainerConfig(c.container_config ?? c.config),
    Architecture: c.architecture ?? '',
    Os: c.os ?? '',
    Size: rec.size,
    GraphDriver: { Name: 'overlay2', Data: graphDriverData(rec) },
    RootFS: { Type: 'layers', Layers: [...rec.layers] },
    Metadata: { LastTagTime: rec.lastTagTime ?? ZERO_TIME },
  };
  if (c.variant) out.Variant = c.variant;
  return out;
}
