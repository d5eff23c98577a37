// `docker history` (GET /images/{name}/history) as moby's ImageHistory
// computes it: the config's history entries newest first, each non-empty one
// sized by the layer it made. The top entry carries the image's ID and tags,
// and each entry below it those of the image's parent, as far as the parent
// chain of images built here goes; the rest are "<missing>", as for any
// pulled image in Docker.
import { SystemError } from '../errors.js';
import type { ImageService } from './service.js';
import type { ImageRecord } from './types.js';

export interface HistoryItem {
  id: string;
  /** Unix seconds; 0 when unknown. */
  created: number;
  createdBy: string;
  tags: string[] | null;
  size: number;
  comment: string;
}

export function imageHistory(images: Pick<ImageService, 'resolve' | 'find' | 'layerSize'>, ref: string): HistoryItem[] {
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
  let image: ImageRecord | null = rec;
  for (const item of items) {
    if (image === null) break;
    item.id = image.id;
    item.tags = image.repoTags.length > 0 ? image.repoTags : null;
    image = image.parent !== '' ? images.find(image.parent) : null;
  }
  return items;
}
