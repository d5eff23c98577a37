// The Engine API views of a store's images, as the routes build them.
import type { ImageService } from '../../src/images/service.js';
import { toImageInspect, toImageSummary, type SummaryOptions } from '../../src/api/views/images.js';
import type { ApiImageInspect as ImageInspect, ApiImageSummary as ImageSummary } from '../../src/api/types/index.js';

export function inspectJson(store: ImageService, ref: string): ImageInspect {
  return toImageInspect(store.resolve(ref));
}

export function summaries(store: ImageService, opts: SummaryOptions = {}): ImageSummary[] {
  return store.list().map((rec) => toImageSummary(rec, opts));
}
