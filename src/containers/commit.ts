// docker commit from the container side: which container, whether it can be
// committed (not dead, not being removed), and the container's `commit`
// event. The image is made by the image store (src/images/commit.ts).
//
// --pause: moby pauses a running container for the commit. This container
// service has no pause yet, so a running container's writable layer is read
// while it runs (the commit is not a point-in-time copy); the flag is taken
// and has no effect until pause exists.
import { Conflict } from '../errors.js';
import type { EventSink } from '../events/bus.js';
import { commitContainer } from '../images/commit.js';
import type { ImageService } from '../images/service.js';
import type { ImageRuntimeConfig } from '../images/types.js';
import type { ContainerService } from './service.js';

export interface CommitOptions {
  /** A store tag key ("name:tag"), or null. */
  tag: string | null;
  /** The familiar reference as asked ("app:v1"), for the event; "" without one. */
  imageRef: string;
  author: string;
  comment: string;
  changes: string[];
  /** The request body's config, or null. */
  config: ImageRuntimeConfig | null;
  pause: boolean;
}

export class ContainerCommitter {
  constructor(
    private readonly containers: Pick<ContainerService, 'resolve'>,
    private readonly images: ImageService,
    private readonly events: EventSink,
  ) {}

  /** Returns the new image's ID. */
  async commit(ref: string, opts: CommitOptions): Promise<string> {
    const c = this.containers.resolve(ref);
    if (c.state.status === 'dead') throw new Conflict(`You cannot commit container ${c.id} which is Dead`);
    if (c.state.status === 'removing') throw new Conflict(`You cannot commit container ${c.id} which is being removed`);
    const id = await commitContainer(this.images, {
      containerId: c.id,
      imageId: c.imageId,
      containerConfig: c.config,
      config: opts.config,
      changes: opts.changes,
      author: opts.author,
      comment: opts.comment,
      tag: opts.tag,
    });
    this.events.publish('container', 'commit', c.id, {
      comment: opts.comment,
      imageID: id,
      imageRef: opts.imageRef,
      image: c.config.Image,
      name: c.name,
      ...(c.config.Labels ?? {}),
    });
    return id;
  }
}
