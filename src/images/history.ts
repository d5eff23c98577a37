// `docker history` (GET /images/{name}/history) as moby's ImageHistory
// computes it: the config's history entries newest first, each non-empty one
// sized by the layer it made. The top entry carries the image's ID and tags;
// berth keeps no parent chain, so older entries are "<missing>", as for
// any pulled image in Docker.
import { SystemError } from '../errors.js';
import type { ImageService } from './service.js';

export interface HistoryItem {
  id: string;
  /** Unix seconds; 0 when unknown. */
  created: number;
  createdBy: string;
  tags: string[] | null;
  size: number;
  comment: string;
}

export function imageHistory(images: Pick<ImageService, 'resolve' | 'layerSize'>, ref: string): HistoryItem[] {
  const rec = images.resolve(ref);
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const h of rec.config.history ?? []) {
    let size = 0;
    if (h.empty_layer !== true) {
      const diffId = rec.layers[layer];
      if (diffId === undefined) throw new SystemError('too many non-empty layers in History section');
      size = images.layerSize(diffId);
      layer++;
    }
    const created = h.created !== undefined ? Date.parse(h.created) : NaN;
    items.unshift({
      id: '<missing>',
      created: Number.isNaN(created) ? 0 : Math.floor(created / 1000),
      createdBy: h.created_by ?? '',
      tags: null,
      size,
      comment: h.comment ?? '',
    });
  }
  if (items[0] !== undefined) {
    items[0].id = rec.id;
    items[0].tags = rec.repoTags.length > 0 ? rec.repoTags : null;
  }
  return items;
}
