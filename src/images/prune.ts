// `docker image prune` (POST /images/prune) as moby's ImagePrune: dangling
// images (no tag; digest references do not count), or with dangling=false
// every image no container uses; narrowed by `until` and `label`/`label!`.
// Images a container uses are skipped, as a removal without force refuses
// them. One prune at a time.
import { Conflict, errorText, NotFound } from '../errors.js';
import type { Logger } from 'pino';
import type { EventSink } from '../events/bus.js';
import { matchesPruneLabels } from '../volumes/filters.js';
import type { ImageService } from './service.js';
import type { DeleteResponseItem } from './types.js';

export interface ImagePruneFilters {
  danglingOnly: boolean;
  /** Only images created before this time (ms since the epoch). */
  until?: number;
  label: string[];
  notLabel: string[];
}

export interface ImagePruneReport {
  deleted: DeleteResponseItem[];
  spaceReclaimed: number;
}

export class ImagePruner {
  private running = false;

  constructor(
    private readonly images: Pick<ImageService, 'list' | 'remove' | 'layerSize'>,
    private readonly inUse: (imageId: string) => string[],
    private readonly events: EventSink,
    private readonly log: Logger,
  ) {}

  async prune(filters: ImagePruneFilters): Promise<ImagePruneReport> {
    if (this.running) throw new Conflict('a prune operation is already running');
    this.running = true;
    try {
      const report: ImagePruneReport = { deleted: [], spaceReclaimed: 0 };
      for (const rec of this.images.list({ hideIntermediate: true })) {
        if (filters.danglingOnly && rec.repoTags.length > 0) continue;
        const created = Date.parse(rec.created);
        if (filters.until !== undefined && (Number.isNaN(created) || created > filters.until)) continue;
        const labels = rec.config.config?.Labels ?? null;
        if (!matchesPruneLabels(labels, filters.label, filters.notLabel)) continue;
        if (this.inUse(rec.id).length > 0) continue;
        // Sizes before the layers go.
        const sizes = new Map(rec.layers.map((l) => [l, this.images.layerSize(l)]));
        const refs = [...rec.repoTags, ...rec.repoDigests];
        for (const ref of refs.length > 0 ? refs : [rec.id]) {
          try {
            const items = await this.images.remove(ref, { inUse: this.inUse });
            report.deleted.push(...items);
            for (const item of items) report.spaceReclaimed += item.Deleted !== undefined ? (sizes.get(item.Deleted) ?? 0) : 0;
          } catch (e) {
            // Gone meanwhile, or refused (in use): moby skips it too.
            if (!(e instanceof Conflict) && !(e instanceof NotFound)) this.log.warn({ image: rec.id, ref, err: errorText(e) }, 'prune: could not remove image');
          }
        }
      }
      this.events.publish('image', 'prune', '', { reclaimed: String(report.spaceReclaimed) });
      return report;
    } finally {
      this.running = false;
    }
  }
}
